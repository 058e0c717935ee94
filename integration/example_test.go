package integration_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

// Example walks the seed's documented flow against the simulator: the
// product page's link, the buyer's approval, the verified return whose
// TransactionHook charges the token, the IPNs stored, and a partial
// refund.
func Example() {
	ctx := context.Background()
	sim, err := fpstest.Start(fpstest.Config{PlainHTTP: true, PendingDelay: -1}) // Pending until CompletePending
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
	notified := make(chan *fps.Notification, 8)
	notifications := store.NewMemory()
	shop, err := integration.New(integration.Config{
		AccessKey: fpstest.DefaultAccessKeyID, SecretKey: fpstest.DefaultSecretAccessKey, TestMode: true,
		BaseURL:     srv.URL + "/",
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(),
		Store: notifications,
		// The seed's transaction method: charge the token for the order.
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			fmt.Println("return:", ret.Status, "for", order.Amount)
			res, err := a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
			if err != nil {
				http.Error(w, "payment failed", http.StatusBadGateway)
				return
			}
			paid <- res
			fmt.Fprintln(w, "thank you")
		},
		NotificationCallback: func(ctx context.Context, n *fps.Notification) error {
			notified <- n
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
	waitFor := func(operation fps.NotificationOperation, status fps.NotificationStatus) {
		for n := range notified {
			if n.Operation == operation && n.Status == status {
				fmt.Println("IPN:", n.Operation, n.Status, n.TransactionAmount)
				return
			}
		}
	}
	waitFor("PAY", "PENDING")
	if err := sim.CompletePending(ctx); err != nil {
		fmt.Println(err)
		return
	}
	waitFor("PAY", "SUCCESS")

	// A partial refund.
	credit, err := shop.Credit(ctx, decimal.NewFromInt(10), fps.CreditOptions{
		TransactionID: res.TransactionID, CallerReference: fps.NewCallerReference(), Description: "one item returned",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("credit:", credit.Status, credit.TransactionStatus)
	waitFor("REFUND", "PENDING")
	if err := sim.CompletePending(ctx); err != nil {
		fmt.Println(err)
		return
	}
	waitFor("REFUND", "SUCCESS")

	stored, _ := notifications.List(ctx)
	fmt.Println("stored:", len(stored))
	// Output:
	// return: SC for USD 30.00
	// purchase: SUCCESS Pending
	// IPN: PAY PENDING USD 30.00
	// IPN: PAY SUCCESS USD 30.00
	// credit: SUCCESS Pending
	// IPN: REFUND PENDING USD 10.00
	// IPN: REFUND SUCCESS USD 10.00
	// stored: 4
}

// ExampleAmazonFPS_Button is the product page: the button for one
// order's fields, rendered by an html/template where the seed's template
// said {% render_integration fps %}.
func ExampleAmazonFPS_Button() {
	shop, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true,
		BaseURL: "https://shop.example/",
		Store:   store.NewMemory(), // store.NewSQL(ctx, db, store.PostgreSQL) in a shop
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
	}).Button(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	var b strings.Builder
	_ = page.Execute(&b, map[string]any{"FPS": button})
	fmt.Print(strings.ReplaceAll(b.String(), "&amp;", "\n  &amp;"))
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
}

// ExampleAmazonFPS_Handler mounts the seed's amazon_fps/ routes. A
// notification that is not signed is refused before anything is stored.
func ExampleAmazonFPS_Handler() {
	shop, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true,
		BaseURL: "https://shop.example/",
		Store:   store.NewMemory(), // store.NewSQL(ctx, db, store.PostgreSQL) in a shop
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
// seed read MERCHANT_SETTINGS and MERCHANT_TEST_MODE.
func ExampleConfigFromEnv() {
	// As a shell would: export AWS_ACCESS_KEY_ID=... FPS_BASE_URL=...
	os.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	os.Setenv("FPS_BASE_URL", "https://shop.example/")
	os.Unsetenv("FPS_TEST_MODE") // test mode unless it says false
	defer func() {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "FPS_BASE_URL"} {
			os.Unsetenv(k)
		}
	}()

	cfg, err := integration.ConfigFromEnv()
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Store = store.NewMemory() // store.NewSQL(ctx, db, store.PostgreSQL) in a shop
	cfg.TransactionHook = func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	shop, err := integration.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.TestMode, shop.ServiceURL())
	// Output: true https://fps.sandbox.amazonaws.com/
}

func ExampleIPNHandler() {
	orders := func(ctx context.Context, ref string) (integration.Order, error) {
		if ref == "order-1" {
			return integration.Order{CallerReference: ref, Amount: fps.USD(decimal.RequireFromString("12.50"))}, nil
		}
		return integration.Order{}, integration.ErrUnknownOrder
	}
	mux := http.NewServeMux()
	mux.Handle("/fps/ipn", &integration.IPNHandler{
		Verifier: fps.NewLocalVerifier(), // or fps.NewRemoteVerifier(client)
		Endpoint: "https://shop.example/fps/ipn",
		Store:    store.NewMemory(), // or store.NewSQL(ctx, db, store.PostgreSQL)
		Orders:   orders,
		Callback: func(ctx context.Context, n *fps.Notification) error {
			// Fulfil the order when n.TransactionStatus.MoneyMoved().
			return nil
		},
	})

	// A forged notification without a signature is refused.
	req := httptest.NewRequest(http.MethodPost, "/fps/ipn",
		strings.NewReader("notificationType=TransactionStatus&callerReference=order-1&transactionAmount=USD+12.50"))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())
	// Output:
	// 403 fps: message is not signed
}
