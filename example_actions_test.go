package fps_test

import (
	"context"
	"fmt"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
)

// Purchase, authorize then capture, and credit (the seed's calls) against
// the simulator. The token and callerReference come from the pipeline's
// signed return URL; here the simulator plays the buyer who approves.
func ExampleClient_Purchase() {
	sim, err := fpstest.Start(fpstest.Config{})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	client, err := fps.New(fps.Options{
		Environment:  fps.Sandbox,
		Credentials:  fps.StaticCredentials(fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey),
		APIEndpoint:  sim.APIEndpoint(),
		CBUIEndpoint: sim.CBUIEndpoint(),
		HTTPClient:   sim.HTTPClient(),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// The buyer authorizes up to 70.00 on the Co-Branded UI.
	link, err := client.PipelineURL(ctx, &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/return", CallerReference: "buyer-42"},
		GlobalAmountLimit: decimal.RequireFromString("70"),
	})
	if err != nil {
		panic(err)
	}
	returned, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	if err != nil {
		panic(err)
	}
	ret, err := fps.ParsePipelineReturn(returned.Query())
	if err != nil {
		panic(err)
	}
	fmt.Println("pipeline:", ret.Status, ret.CallerReference)

	// Charge at once.
	paid, err := client.Purchase(ctx, decimal.RequireFromString("19.99"), fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: "order-1001"})
	if err != nil {
		panic(err)
	}
	fmt.Println("purchase:", paid.Status, paid.TransactionStatus)

	// Reserve, then capture less than reserved.
	auth, err := client.Authorize(ctx, decimal.RequireFromString("50"), fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: "order-1002"})
	if err != nil {
		panic(err)
	}
	captured, err := client.Capture(ctx, decimal.RequireFromString("45"), fps.CaptureOptions{TransactionID: auth.TransactionID})
	if err != nil {
		panic(err)
	}
	fmt.Println("authorize:", auth.TransactionStatus, "capture:", captured.TransactionStatus)

	// Refund part of the purchase.
	refund, err := client.Credit(ctx, decimal.RequireFromString("5"), fps.CreditOptions{
		TransactionID: paid.TransactionID, CallerReference: "order-1001-refund-1", Description: "damaged box",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("credit:", refund.Status, refund.TransactionStatus)

	bal, err := client.GetAccountBalance(ctx, &fps.GetAccountBalanceInput{})
	if err != nil {
		panic(err)
	}
	// 19.99 + 45.00 - 5.00, less the simulator's FPS fees (0.88 + 1.61 - 0.22).
	fmt.Println("balance:", bal.AccountBalance.TotalBalance)
	// Output:
	// pipeline: SA buyer-42
	// purchase: SUCCESS Success
	// authorize: Reserved capture: Success
	// credit: SUCCESS Success
	// balance: USD 57.72
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
