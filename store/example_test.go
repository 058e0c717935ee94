package store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

// ExampleOpen keeps a shop's orders in an SQLite file: the integration
// records the order and its Pay before the call, and the IPN, verified
// and confirmed with FPS, moves it to paid; the store then answers for
// the order by its callerReference and by its transaction's id. Another
// program opening the same file (a restarted shop, a second app server)
// finds it all.
func ExampleOpen() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fps-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	orders, err := store.Open(ctx, filepath.Join(dir, "fps.db")) // or a "postgres://..." DSN
	if err != nil {
		fmt.Println(err)
		return
	}
	defer orders.Close()

	sim, err := fpstest.Start(fpstest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer srv.Close()
	shop, err := integration.New(integration.Config{
		AccessKey: fpstest.DefaultAccessKeyID, SecretKey: fpstest.DefaultSecretAccessKey, TestMode: true,
		BaseURL:     srv.URL + "/",
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(), RootCAs: sim.CAPool(),
		Store: orders,
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
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

	// A token the buyer approved (by his Amazon Payments balance, which
	// pays at once), charged for order-9.
	token, err := sim.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenSingleUse, "ABT", "order-9", decimal.Zero)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := shop.Purchase(ctx, decimal.RequireFromString("42.00"), fps.PurchaseOptions{TokenID: token, CallerReference: "order-9"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		o, err := orders.Order(ctx, "order-9")
		if err != nil || o.Status == integration.OrderPaid || time.Now().After(deadline) {
			break
		}
	}

	byRef, err := orders.Order(ctx, "order-9")
	if err != nil {
		fmt.Println(err)
		return
	}
	byTx, err := orders.OrderByTransaction(ctx, res.TransactionID)
	if err != nil {
		fmt.Println(err)
		return
	}
	txs, err := orders.Transactions(ctx, "order-9")
	if err != nil {
		fmt.Println(err)
		return
	}
	history, err := orders.History(ctx, "order-9")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("order:", byRef.CallerReference, byRef.Status, byRef.Amount, "- by its transaction:", byTx.CallerReference)
	for _, t := range txs {
		fmt.Println("transaction:", t.Operation, t.Amount, t.Step, t.Status)
	}
	for _, e := range history {
		fmt.Println("history:", e.From, "->", e.To, "on", e.Event)
	}
	// Output:
	// order: order-9 paid USD 42.00 - by its transaction: order-9
	// transaction: Pay USD 42.00 PAY Success
	// history: created -> paid on paid
}
