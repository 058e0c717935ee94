package fps_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// fakeAPI answers every call with a Pay-like body for the action sent.
func fakeAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		a := form.Get("Action")
		status := map[string]string{"Pay": "Pending", "Reserve": "Reserved", "Settle": "Success", "Refund": "Success"}[a]
		fmt.Fprintf(w, `<%[1]sResponse><%[1]sResult><TransactionId>TX-%[1]s</TransactionId><TransactionStatus>%[2]s</TransactionStatus></%[1]sResult><ResponseMetadata><RequestId>req-1:0</RequestId></ResponseMetadata></%[1]sResponse>`, a, status)
	}))
}

// Purchase, authorize then capture, and credit: the seed's calls. The token
// and callerReference come from the pipeline's return URL.
func ExampleClient_Purchase() {
	srv := fakeAPI()
	defer srv.Close()
	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials("AKIDEXAMPLE", "example-secret"),
		APIEndpoint: srv.URL + "/",
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	paid, err := client.Purchase(ctx, decimal.RequireFromString("19.99"), fps.PurchaseOptions{
		TokenID:         "SENDER-TOKEN-FROM-RETURN-URL",
		CallerReference: "order-1001",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(paid.Status, paid.TransactionID, paid.TransactionStatus)

	auth, _ := client.Authorize(ctx, decimal.RequireFromString("50"), fps.PurchaseOptions{TokenID: "T2", CallerReference: "order-1002"})
	captured, _ := client.Capture(ctx, decimal.RequireFromString("50"), fps.CaptureOptions{TransactionID: auth.TransactionID})
	fmt.Println(auth.TransactionStatus, captured.TransactionStatus)

	refund, _ := client.Credit(ctx, decimal.RequireFromString("5"), fps.CreditOptions{
		TransactionID: paid.TransactionID, CallerReference: "order-1001-refund-1",
	})
	fmt.Println(refund.Status, refund.TransactionID)
	// Output:
	// SUCCESS TX-Pay Pending
	// Reserved Success
	// SUCCESS TX-Refund
}

// MayHaveMoved and ErrOutcomeUnknown tell a failed call that may still
// have charged the buyer from one that certainly did not.
func ExampleMayHaveMoved() {
	client, _ := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials("AKIDEXAMPLE", "example-secret"),
	})
	// No CallerReference: refused before anything is sent.
	_, err := client.Pay(context.Background(), &fps.PayInput{
		SenderTokenID:     "T",
		TransactionAmount: fps.USD(decimal.RequireFromString("10")),
	})
	fmt.Println(err)
	fmt.Println(fps.MayHaveMoved(err))
	// Output:
	// operation error FPS: Pay, fps: invalid CallerReference: is required
	// false
}
