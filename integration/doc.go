// Package integration takes Amazon Flexible Payments Service (FPS)
// payments in a Go web shop: it is the Go form of django-merchant's
// AmazonFpsIntegration, built over package fps.
//
// FPS is part gateway, part off-site processor. The buyer is sent to
// Amazon's Co-Branded UI to authorize the payment, Amazon sends the buyer
// back to the shop's return URL with a token, and the shop charges the
// token (Pay), or reserves on it (Reserve) and settles later. Amazon then
// reports each step of the transaction to the shop's IPN URL. AmazonFPS
// bundles the four parts a shop needs: the signed link and its button,
// the payment calls, the two handlers, and the order book that ties the
// return and the notifications to the shop's orders.
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
//
// and what a Go shop wires in itself: APIEndpoint, CBUIEndpoint and
// HTTPClient (to reach a simulator), Verifier (the VerifySignature action
// by default, as the seed did; fps.NewLocalVerifier checks the RSA
// signature locally), Store (where verified IPNs are kept; required:
// store.NewSQL for a database, store.NewMemory in tests), Orders (the
// order book; in memory by default), TransactionHook and
// NotificationCallback.
//
// ConfigFromEnv reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// FPS_TEST_MODE and FPS_BASE_URL.
//
// # Methods
//
//   - ServiceURL: the FPS API endpoint of the environment (the seed's
//     service_url).
//   - AddFields, WithFields, LinkURL: the pipeline's fields and its signed
//     Co-Branded UI link (the seed's add_fields and link_url). returnURL
//     defaults to BaseURL + "amazon_fps/fps-return-url/"; a callerReference
//     is generated when none is given; either way it is recorded in the
//     order book with transactionAmount before the link is handed out.
//     AddFields changes the integration for every later link, as the seed
//     did; WithFields derives an integration for one buyer, which a shop
//     serving concurrent buyers should use.
//   - Button: the link as the "Amazon Payments" button (what the seed's
//     render_integration template tag printed), as template.HTML.
//   - Purchase (Pay), Authorize (Reserve), Capture (Settle), Credit
//     (Refund), Void (Cancel): the seed's payment methods. Each answers an
//     *fps.Result with Status fps.ResultSuccess or fps.ResultFailure, the
//     TransactionID and the TransactionStatus. Purchase, Authorize and
//     Credit record their CallerReference with their amount first, so that
//     their IPNs are matched. Unlike the seed (whose capture, credit and
//     void fail with current boto), all five send valid requests.
//   - Handler: one http.Handler serving the seed's routes under
//     amazon_fps/: fps-return-url/ (GET; the return is verified, matched
//     to its order, then handed to TransactionHook, the seed's
//     transaction method) and fps-notify-handler/ (POST; the IPN is
//     verified, matched to its order, stored once, then
//     NotificationCallback runs). A message that fails a check is
//     answered 403 with the reason, and no hook runs.
//   - Client: the fps.Client underneath, for every other FPS action.
//
// # The parts on their own
//
// AmazonFPS is built from parts a shop may also use alone: ReturnHandler
// and IPNHandler, the http.Handlers of the return URL and the IPN URL
// (each message verified, then matched to its Order through an
// OrderLookup, and an IPN stored in a NotificationStore before any
// callback runs); Order, OrderLookup and the order checks they share
// (ErrUnknownOrder, ErrOrderMismatch); OrderBook, where AmazonFPS records
// the orders it starts; and Button, the HTML of the "Amazon Payments"
// button for any signed pipeline URL. Package fps underneath holds the
// protocol alone: the client, the signatures, VerifyReturn and VerifyIPN.
// Package github.com/fpskit/fps/store holds the NotificationStores.
//
// # A shop's handlers
//
// The product page gives each buyer a button for the order's fields; the
// TransactionHook charges the token when the buyer comes back:
//
//	shop, err := integration.New(integration.Config{
//		AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"),
//		SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
//		TestMode:  true,
//		BaseURL:   "https://shop.example/",
//		Store:     notifications, // store.NewSQL(ctx, db, store.PostgreSQL)
//		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
//			if !ret.Status.Success() {
//				http.Redirect(w, r, "/failure/", http.StatusSeeOther)
//				return
//			}
//			res, err := a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{
//				TokenID: ret.TokenID, CallerReference: ret.CallerReference,
//			})
//			if err != nil || res.Status != fps.ResultSuccess {
//				http.Redirect(w, r, "/failure/", http.StatusSeeOther)
//				return
//			}
//			http.Redirect(w, r, "/success/", http.StatusSeeOther)
//		},
//	})
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
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, FPS_TEST_MODE and
// FPS_BASE_URL in the environment.
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
// Package fpstest simulates FPS: point APIEndpoint, CBUIEndpoint and
// HTTPClient at it, send its IPNs to NotifyURL with SetIPNURL, and play
// the buyer with its Buy method. The command in examples/checkout walks
// a whole purchase that way.
package integration
