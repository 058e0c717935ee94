package integration_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

// Example walks the seed's documented flow against the simulator: the
// product page's link, the buyer's approval, the return verified and
// confirmed with FPS before the TransactionHook charges the token, the
// IPNs verified, confirmed and moving the order, and a partial refund.
func Example() {
	ctx := context.Background()
	sim, err := fpstest.Start(fpstest.Config{PendingDelay: -1}) // https; Pending until CompletePending
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	// The shop: its handler on loopback, its base URL the server's.
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()

	paid := make(chan *fps.Result, 1)
	changes := make(chan integration.OrderChange, 8)
	shop, err := integration.New(integration.Config{
		AccessKey: fpstest.DefaultAccessKeyID, SecretKey: fpstest.DefaultSecretAccessKey, TestMode: true,
		BaseURL:     srv.URL + "/",
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(),
		RootCAs: sim.CAPool(),      // the simulator's CA, for its signing certificate
		Store:   store.NewMemory(), // store.Open(ctx, "fps.db") in a shop
		// The seed's transaction method: charge the token for the order.
		// It runs once the return is verified and FPS confirmed its token.
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			fmt.Println("return:", ret.Status, "for", order.Amount, "- order", order.Status)
			res, err := a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: order.CallerReference})
			if err != nil {
				http.Error(w, "payment failed", http.StatusBadGateway)
				return
			}
			paid <- res
			fmt.Fprintln(w, "thank you")
		},
		// Once per change of an order, after the IPN was verified,
		// confirmed with FPS and stored.
		NotificationCallback: func(ctx context.Context, ch integration.OrderChange) error {
			changes <- ch
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	handler = shop.Handler()
	if err := sim.SetIPNURL(fpstest.DefaultAccessKeyID, shop.NotifyURL()); err != nil {
		fmt.Println(err)
		return
	}

	// The product page's link; the simulator plays the buyer.
	link, err := shop.WithFields(map[string]string{
		"pipelineName": "SingleUse", "transactionAmount": "30", "paymentReason": "Digital Download",
	}).LinkURL(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Get(back.String()) // the buyer's browser comes back
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	res := <-paid
	fmt.Println("purchase:", res.Status, res.TransactionStatus)

	// Amazon completes the payment and notifies the shop.
	waitFor := func(to integration.OrderStatus) {
		for ch := range changes {
			fmt.Println("order:", ch.Entry.From, "->", ch.Entry.To, "by", ch.Notification.Operation, ch.Notification.Status, ch.Notification.TransactionAmount)
			if ch.Entry.To == to {
				return
			}
		}
	}
	waitFor(integration.OrderPending)
	if err := sim.CompletePending(ctx); err != nil {
		fmt.Println(err)
		return
	}
	waitFor(integration.OrderPaid)

	// A partial refund.
	credit, err := shop.Credit(ctx, decimal.NewFromInt(10), fps.CreditOptions{
		TransactionID: res.TransactionID, CallerReference: fps.NewCallerReference(), Description: "one item returned",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("credit:", credit.Status, credit.TransactionStatus)
	if err := sim.CompletePending(ctx); err != nil {
		fmt.Println(err)
		return
	}
	waitFor(integration.OrderPartlyRefunded)

	order, err := shop.Store().OrderByTransaction(ctx, credit.TransactionID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored:", order.Status, "paid", order.Paid, "refunded", order.Refunded)
	// Output:
	// return: SC for USD 30.00 - order approved
	// purchase: SUCCESS Pending
	// order: approved -> pending by PAY PENDING USD 30.00
	// order: pending -> paid by PAY SUCCESS USD 30.00
	// credit: SUCCESS Pending
	// order: paid -> partly-refunded by REFUND SUCCESS USD 10.00
	// stored: partly-refunded paid 30 refunded 10
}

// ExampleAmazonFPS_Button is the product page: the button for one
// order's fields, rendered by an html/template where the seed's template
// said {% render_integration fps %}. The order is in the store before the
// link is handed out.
func ExampleAmazonFPS_Button() {
	ctx := context.Background()
	shop, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true,
		BaseURL: "https://shop.example/",
		Store:   store.NewMemory(), // store.Open(ctx, "fps.db") in a shop
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	page := template.Must(template.New("product").Parse("<p>{{.FPS}}</p>\n"))

	button, err := shop.WithFields(map[string]string{
		"pipelineName":      "SingleUse",
		"transactionAmount": "100",
		"paymentReason":     "Merchant Test",
		"callerReference":   "order-100", // generated when left out
	}).Button(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	var b strings.Builder
	_ = page.Execute(&b, map[string]any{"FPS": button})
	fmt.Print(strings.ReplaceAll(b.String(), "&amp;", "\n  &amp;"))
	order, err := shop.Store().Order(ctx, "order-100")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("order", order.CallerReference, order.Status, order.Amount)
	// Output:
	// <p><a href="https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start?callerKey=AKIAEXAMPLE
	//   &amp;callerReference=order-100
	//   &amp;paymentReason=Merchant%20Test
	//   &amp;pipelineName=SingleUse
	//   &amp;returnURL=https%3A%2F%2Fshop.example%2Famazon_fps%2Ffps-return-url%2F
	//   &amp;signatureMethod=HmacSHA256
	//   &amp;signatureVersion=2
	//   &amp;transactionAmount=100
	//   &amp;version=2009-01-09
	//   &amp;signature=HCiQZuXFzBfaDJoW8RNWJL0xWt%2FlPtPEy7LZAjZEdJE%3D"><img src="https://g-ecx.images-amazon.com/images/G/01/cba/b/p3.gif" alt="Amazon Payments" /></a></p>
	// order order-100 created USD 100.00
}

// ExampleAmazonFPS_Handler mounts the seed's amazon_fps/ routes. A
// notification that is not signed is refused before anything is stored.
func ExampleAmazonFPS_Handler() {
	shop, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true,
		BaseURL: "https://shop.example/",
		Store:   store.NewMemory(), // store.Open(ctx, "fps.db") in a shop
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/amazon_fps/", shop.Handler())
	fmt.Println("return URL:", shop.ReturnURL())
	fmt.Println("IPN URL:   ", shop.NotifyURL())

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/amazon_fps/fps-notify-handler/",
		strings.NewReader("notificationType=TransactionStatus&callerReference=order-1&transactionAmount=USD+100.00")))
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// return URL: https://shop.example/amazon_fps/fps-return-url/
	// IPN URL:    https://shop.example/amazon_fps/fps-notify-handler/
	// 403 fps: message is not signed
}

// ExampleConfigFromEnv reads the settings from the environment, as the
// seed read MERCHANT_SETTINGS and MERCHANT_TEST_MODE, and names every
// variable that is missing.
func ExampleConfigFromEnv() {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "FPS_BASE_URL", "FPS_TEST_MODE", "FPS_DATABASE"} {
		os.Unsetenv(k)
	}
	_, err := integration.ConfigFromEnv()
	fmt.Println(err)

	// As a shell would: export AWS_ACCESS_KEY=... FPS_BASE_URL=...
	os.Setenv("AWS_ACCESS_KEY", "AKIAEXAMPLE") // the seed's name; AWS_ACCESS_KEY_ID works too
	os.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	os.Setenv("FPS_BASE_URL", "https://shop.example/")
	defer func() {
		for _, k := range []string{"AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "FPS_BASE_URL"} {
			os.Unsetenv(k)
		}
	}()
	cfg, err := integration.ConfigFromEnv()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Store = store.NewMemory() // store.Open(ctx, cfg.Database) in a shop
	cfg.TransactionHook = func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	shop, err := integration.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.TestMode, shop.ServiceURL(), cfg.Database)
	// Output:
	// integration: environment variables not set: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY, FPS_BASE_URL (the shop's public URL, e.g. https://shop.example/)
	// true https://fps.sandbox.amazonaws.com/ fps.db
}

// ExampleReturnHandler serves a return URL on its own: the return is
// verified, its token confirmed with FPS under the order's
// callerReference, and only then does Transaction run, once; a second
// visit shows the order as it stands, and an altered return is refused.
func ExampleReturnHandler() {
	ctx := context.Background()
	sim, err := fpstest.Start(fpstest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox, Credentials: fps.StaticCredentials(fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey),
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	orders := store.NewMemory() // store.Open(ctx, "fps.db") in a shop
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.Handle("/fps/return", &integration.ReturnHandler{
		Verifier: fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = sim.CAPool() }),
		Endpoint: srv.URL + "/fps/return",
		FPS:      client,
		Store:    orders,
		Transaction: func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			fmt.Println("confirmed return of order", order.CallerReference, "- now", order.Status)
			fmt.Fprintln(w, "thank you") // charge ret.TokenID here
		},
	})

	if err := orders.CreateOrder(ctx, integration.Order{CallerReference: "order-7", Amount: fps.USD(decimal.NewFromInt(25))}); err != nil {
		fmt.Println(err)
		return
	}
	link, err := client.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: srv.URL + "/fps/return", CallerReference: "order-7"},
		TransactionAmount: decimal.NewFromInt(25),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve})
	if err != nil {
		fmt.Println(err)
		return
	}
	altered := strings.Replace(back.String(), "tokenID=", "tokenID=X", 1)
	for _, u := range []string{back.String(), back.String(), altered} {
		resp, err := http.Get(u)
		if err != nil {
			fmt.Println(err)
			return
		}
		var b strings.Builder
		_, _ = fmt.Fprint(&b, resp.Status)
		resp.Body.Close()
		fmt.Println("answered", b.String())
	}
	// Output:
	// confirmed return of order order-7 - now approved
	// answered 200 OK
	// answered 200 OK
	// answered 403 Forbidden
}

// ExampleIPNHandler serves an IPN URL on its own: each notification is
// verified, confirmed with FPS (the transaction is the shop's and went
// through what the notification says), stored with the change it makes
// to its order, and only then handed to Callback; a forged one is
// refused.
func ExampleIPNHandler() {
	ctx := context.Background()
	sim, err := fpstest.Start(fpstest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox, Credentials: fps.StaticCredentials(fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey),
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	orders := store.NewMemory() // store.Open(ctx, "fps.db") in a shop
	changed := make(chan integration.OrderChange, 1)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.Handle("/fps/ipn", &integration.IPNHandler{
		Verifier: fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = sim.CAPool() }),
		Endpoint: srv.URL + "/fps/ipn",
		FPS:      client,
		Store:    orders,
		Callback: func(ctx context.Context, ch integration.OrderChange) error {
			changed <- ch // fulfil the order when ch.Entry.To is integration.OrderPaid
			return nil
		},
	})
	if err := sim.SetIPNURL(fpstest.DefaultAccessKeyID, srv.URL+"/fps/ipn"); err != nil {
		fmt.Println(err)
		return
	}

	// An order, paid by a buyer's Amazon Payments balance (at once).
	if err := orders.CreateOrder(ctx, integration.Order{CallerReference: "order-8", Amount: fps.USD(decimal.NewFromInt(12))}); err != nil {
		fmt.Println(err)
		return
	}
	token, err := sim.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenSingleUse, "ABT", "order-8", decimal.Zero)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := client.Purchase(ctx, decimal.NewFromInt(12), fps.PurchaseOptions{TokenID: token, CallerReference: "order-8"}); err != nil {
		fmt.Println(err)
		return
	}
	ch := <-changed
	fmt.Println(ch.Notification.Operation, ch.Notification.Status, ch.Notification.TransactionAmount, "- order", ch.Entry.From, "->", ch.Entry.To)

	// Once the first delivery is answered (a delivery that comes while
	// the callback runs is answered 503), the same notification delivered
	// again is stored once; altered, it is refused.
	for sim.DeliveryCounts().Delivered == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.PostForm(srv.URL+"/fps/ipn", ch.Notification.Params)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("again:", resp.Status)
	forged := ch.Notification.Params
	forged.Set("transactionAmount", "USD 1.00")
	resp, err = http.PostForm(srv.URL+"/fps/ipn", forged)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("altered:", resp.Status)
	// Output:
	// PAY SUCCESS USD 12.00 - order created -> paid
	// again: 200 OK
	// altered: 403 Forbidden
}
