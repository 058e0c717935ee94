// Package integration takes Amazon Flexible Payments Service (FPS)
// payments in a Go web shop: it is the Go form of django-merchant's
// AmazonFpsIntegration, built over package fps, with the shop's orders
// kept as a state machine in the shop's database.
//
// FPS is part gateway, part off-site processor. The buyer is sent to
// Amazon's Co-Branded UI to authorize the payment, Amazon sends the buyer
// back to the shop's return URL with a token, and the shop charges the
// token (Pay), or reserves on it (Reserve) and settles later. Amazon then
// reports each step of the transaction to the shop's IPN URL. AmazonFPS
// bundles what a shop needs: the signed link and its button, the payment
// calls, the two handlers, and the order Store that ties the return and
// the notifications to the shop's orders.
//
// # Nothing moves an order on the word of a message alone
//
// A return or an IPN is first verified (its RSA signature, checked
// locally by default), then confirmed with FPS with the shop's own keys:
// the return's token must be the one FPS holds for the shop under the
// order's callerReference, and Active (GetTokenByCaller); a notification's
// transaction must be the shop's and must have gone through what the
// notification says, for its callerReference, amount and currency
// (GetTransaction); a TokenCancellation's token must be the shop's. FPS
// answers for another account's transaction or token as for none, so a
// genuinely signed message of another merchant's payment under the
// order's callerReference is refused (403), with nothing stored and no
// hook run. When FPS cannot be reached, the handler answers 503 and Amazon
// delivers the message again; it never guesses. No setting turns this
// off.
//
// # Orders
//
// An order (its callerReference, amount, description, the token of its
// return, every transaction with its id, callerReference and amount, its
// status and its history) lives in the Store, with the notifications that
// moved it: an SQLite file by default, PostgreSQL for several app servers
// (package github.com/fpskit/fps/store, store.Open). Its status moves
// forward only, along Transitions:
//
//	created ─returned→ approved ─payment pending→ pending ─reserved→ authorized ─capture pending→ capturing ─captured→ paid
//	                                                      └─paid→ paid ─refunded in part→ partly-refunded ─refunded in full→ refunded
//	(failed and cancelled end a payment or a reservation early)
//
// Notifications may arrive late, twice, or out of order: an event skips
// the statuses before its own, and one that would move the order back is
// kept in its history and moves nothing. The Store finds an order by its
// callerReference, by any callerReference the integration issued for it
// (each refund's), by the id of any of its transactions, and gives its
// transactions and history.
//
// Exactly once: an order's charge runs once, claimed in the database
// (two app servers receiving the same return at once run it once; a
// reloaded return shows the order as it stands). The claim is a lease of
// twice HookTimeout, which bounds a run: when the app server charging
// dies before the charge ended, the claim expires and the next load of
// the return URL, or Recover, charges again under the order's
// CallerReference, which FPS answers as it did the first time, so money
// moves once. The NotificationCallback runs once per change of an order:
// when it fails, the IPN is answered 500 so that Amazon delivers it again
// and it runs again (and Recover runs it too once it has not succeeded
// for CallbackGrace, an hour by default, as Amazon stops delivering after
// a day); once it succeeded, never again (but for an app
// server dying between its success and the record of it: make it
// idempotent on the order and ch.Entry.Key). A refused return takes
// nothing from the order, so the real buyer can still pay.
//
// # Orders whose buyer never came back
//
// A buyer who approved the payment may never reach the return URL (his
// browser closed, the network failed), yet FPS holds his token under the
// order's callerReference. Give Config.Charge (what to charge for an
// approved order; the TransactionHook then writes the page alone) and
// call Recover from a ticker: it asks FPS about the orders left created
// past a grace time (GetTokenByCaller, with the shop's keys), approves
// those it holds a token for and charges them through Charge, charges
// again the approved orders whose charge never ended, and runs again the
// NotificationCallbacks that have not succeeded for an hour. The
// buyer who comes back later is shown his order as it stands:
//
//	cfg.Charge = func(ctx context.Context, a *integration.AmazonFPS, order integration.Order) error {
//		_, err := a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{
//			TokenID: order.TokenID, CallerReference: order.CallerReference,
//		})
//		return err
//	}
//	...
//	go func() {
//		for range time.Tick(time.Minute) {
//			if _, err := shop.Recover(ctx, integration.RecoverOptions{}); err != nil {
//				log.Print(err)
//			}
//		}
//	}()
//
// # Settings
//
// A Config holds what django-merchant read from its settings:
//
//   - AccessKey, SecretKey: the caller's AWS keys (the seed's
//     AWS_ACCESS_KEY and AWS_SECRET_ACCESS_KEY). The secret key is never
//     logged and never sent; it signs links and API calls.
//   - TestMode: true picks the FPS sandbox (the seed's MERCHANT_TEST_MODE,
//     true by default there and in ConfigFromEnv); false is production.
//   - BaseURL: the shop's public URL, e.g. "https://shop.example/". The
//     return URL and the IPN URL are built from it, never from a
//     request's Host header.
//   - Database: the name store.Open takes ("fps.db", or a postgres://
//     DSN).
//
// and what a Go shop wires in itself: Store (required: store.Open),
// TransactionHook (required), Charge, NotificationCallback, OrderPage,
// HookTimeout, Logger;
// APIEndpoint, CBUIEndpoint, HTTPClient and RootCAs to reach a simulator;
// Verifier to check signatures otherwise than locally (fps.NewRemoteVerifier
// asks the VerifySignature action). New names every required setting that
// is missing, and where to get it.
//
// ConfigFromEnv reads AWS_ACCESS_KEY_ID (or the seed's AWS_ACCESS_KEY),
// AWS_SECRET_ACCESS_KEY, FPS_BASE_URL, FPS_TEST_MODE and FPS_DATABASE,
// and names every required variable that is not set.
//
// # Methods
//
//   - ServiceURL: the FPS API endpoint of the environment (the seed's
//     service_url).
//   - AddFields, WithFields, LinkURL: the pipeline's fields and its signed
//     Co-Branded UI link (the seed's add_fields and link_url). returnURL
//     defaults to BaseURL + "amazon_fps/fps-return-url/"; a callerReference
//     is generated when none is given; either way the order is recorded in
//     the Store before the link is handed out. AddFields changes the
//     integration for every later link, as the seed did; WithFields
//     derives an integration for one buyer, which a shop serving
//     concurrent buyers should use.
//   - Button: the link as the "Amazon Payments" button (what the seed's
//     render_integration template tag printed), as template.HTML.
//   - Purchase (Pay), Authorize (Reserve), Capture (Settle), Credit
//     (Refund), Void (Cancel): the seed's payment methods, each taking
//     per-call option functions (func(*fps.Options)). Each answers an
//     *fps.Result with Status fps.ResultSuccess or fps.ResultFailure, the
//     TransactionID and the TransactionStatus. Purchase, Authorize and
//     Credit record their CallerReference with the order first, so that
//     their IPNs are matched even before the answer; the answer's
//     transaction id is recorded too. The order's status comes from the
//     confirmed IPNs, not from the answers.
//   - Handler: one http.Handler serving the seed's routes under
//     amazon_fps/: fps-return-url/ (GET; the return is verified,
//     confirmed, the order claimed, then TransactionHook runs, the seed's
//     transaction method) and fps-notify-handler/ (POST; the IPN is
//     verified, confirmed, stored with the change it makes to its order,
//     then NotificationCallback runs).
//   - Recover: the orders whose buyer approved but whose return never
//     came, or whose charge never ended, charged through Config.Charge;
//     the callbacks that have not succeeded for CallbackGrace.
//   - Store: the orders; Client: the fps.Client underneath, for every
//     other FPS action.
//
// # The parts on their own
//
// AmazonFPS is built from parts a shop may also use alone: ReturnHandler
// and IPNHandler, the http.Handlers of the return URL and the IPN URL
// (each needs a Verifier, the shop's FPSAPI for the confirmations, and a
// Store); Store, Order, Transaction, HistoryEntry and Change, what the
// handlers read and commit; Transitions and NextStatus, the life cycle;
// and Button, the HTML of the "Amazon Payments" button for any signed
// pipeline URL. Package fps underneath holds the protocol alone: the
// client, the signatures, VerifyReturn and VerifyIPN.
//
// # A shop's handlers
//
// The product page gives each buyer a button for the order's fields; the
// TransactionHook charges the token when the buyer comes back:
//
//	cfg, err := integration.ConfigFromEnv()
//	if err != nil {
//		log.Fatal(err)
//	}
//	orders, err := store.Open(ctx, cfg.Database)
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg.Store = orders
//	cfg.TransactionHook = func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
//		if !ret.Status.Success() {
//			http.Redirect(w, r, "/failure/", http.StatusSeeOther)
//			return
//		}
//		res, err := a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{
//			TokenID: ret.TokenID, CallerReference: order.CallerReference,
//		})
//		if err != nil || res.Status != fps.ResultSuccess {
//			http.Redirect(w, r, "/failure/", http.StatusSeeOther)
//			return
//		}
//		http.Redirect(w, r, "/orders/"+order.CallerReference, http.StatusSeeOther)
//	}
//	cfg.NotificationCallback = func(ctx context.Context, ch integration.OrderChange) error {
//		if ch.Entry.To == integration.OrderPaid {
//			return ship(ctx, ch.Order) // an error: delivered again later
//		}
//		return nil
//	}
//	shop, err := integration.New(cfg)
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("/amazon_fps/", shop.Handler())
//	mux.HandleFunc("GET /product", func(w http.ResponseWriter, r *http.Request) {
//		button, err := shop.WithFields(map[string]string{
//			"pipelineName":      "SingleUse",
//			"transactionAmount": "100",
//			"paymentReason":     "Merchant Test",
//		}).Button(r.Context())
//		if err != nil {
//			http.Error(w, "could not start the payment", http.StatusInternalServerError)
//			return
//		}
//		page.Execute(w, map[string]any{"FPS": button}) // {{.FPS}} in the template
//	})
//
// Register NotifyURL() (here https://shop.example/amazon_fps/fps-notify-handler/)
// as the account's IPN URL with Amazon.
//
// # What the template shows
//
// Button renders a link to the signed Co-Branded UI URL around Amazon's
// button image, escaped for HTML:
//
//	<a href="https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start?callerKey=…&amp;callerReference=…&amp;paymentReason=Merchant%20Test&amp;pipelineName=SingleUse&amp;returnURL=https%3A%2F%2Fshop.example%2Famazon_fps%2Ffps-return-url%2F&amp;signatureMethod=HmacSHA256&amp;signatureVersion=2&amp;transactionAmount=100&amp;version=2009-01-09&amp;signature=…"><img src="https://g-ecx.images-amazon.com/images/G/01/cba/b/p3.gif" alt="Amazon Payments" /></a>
//
// Unlike the seed's link it carries version=2009-01-09 and one
// callerReference (boto added a second, capitalised CallerReference).
//
// # From django-merchant to Go, side by side
//
// Settings. The seed: MERCHANT_TEST_MODE and the "amazon_fps" entry of
// MERCHANT_SETTINGS, with AWS_ACCESS_KEY and AWS_SECRET_ACCESS_KEY, in
// settings.py. Go: an integration.Config, or ConfigFromEnv with
// AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY,
// FPS_TEST_MODE, FPS_BASE_URL and FPS_DATABASE in the environment.
//
// The models. The seed: AmazonFPSResponse rows, one per IPN, in the
// Django database. Go: the Store, in the shop's database: the orders,
// their transactions and history, and every IPN that moved them.
//
// get_integration("fps"). The seed: a subclass of AmazonFpsIntegration in
// <app>/integrations/fps_integration.py, implementing transaction, found
// by name and built anew on each call. Go: integration.New(cfg) once at
// start-up, with the transaction method given as Config.TransactionHook;
// the one *AmazonFPS serves every request.
//
// The product page view. The seed: get the integration, add_fields with
// transactionAmount, pipelineName, paymentReason, paymentPage and a
// returnURL built from the request, then render a template with the
// integration in its context. Go: shop.WithFields(fields).Button(ctx) in
// the handler, the returnURL coming from BaseURL (paymentPage is dropped,
// as the seed's link_url dropped it), and the template.HTML passed to the
// template.
//
// The template tag. The seed: load render_integration from billing_tags
// and write {% render_integration fps %}. Go: {{.FPS}} in an
// html/template, where .FPS is the template.HTML from Button.
//
// The urls. The seed: include the integration's urls under ^amazon_fps/ in
// urls.py, and register /amazon_fps/fps-notify-handler/ with Amazon. Go:
// mux.Handle("/amazon_fps/", shop.Handler()), and register
// shop.NotifyURL().
//
// # Testing
//
// Package fpstest simulates FPS: point APIEndpoint, CBUIEndpoint,
// HTTPClient and RootCAs at it, send its IPNs to NotifyURL with
// SetIPNURL, and play the buyer with its Buy method. The command in
// examples/checkout walks a whole purchase that way.
package integration
