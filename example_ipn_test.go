package fps_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

func ExampleParseNotification() {
	body := "notificationType=TransactionStatus&transactionId=14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM" +
		"&callerReference=order-1&operation=PAY&transactionAmount=USD+12.50&transactionDate=1254096159" +
		"&transactionStatus=SUCCESS&statusCode=Success&paymentMethod=CC"
	params, _ := url.ParseQuery(body)
	n, err := fps.ParseNotification(params)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.CallerReference, n.TransactionAmount, n.TransactionStatus, n.TransactionDate.Format("2006-01-02"))
	fmt.Println(n.Key())
	// Output:
	// order-1 USD 12.50 Success 2009-09-28
	// TransactionStatus/14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM/PAY/SUCCESS
}

func ExampleIPNHandler() {
	orders := func(ctx context.Context, ref string) (fps.Order, error) {
		if ref == "order-1" {
			return fps.Order{CallerReference: ref, Amount: fps.USD(decimal.RequireFromString("12.50"))}, nil
		}
		return fps.Order{}, fps.ErrUnknownOrder
	}
	mux := http.NewServeMux()
	mux.Handle("/fps/ipn", &fps.IPNHandler{
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
