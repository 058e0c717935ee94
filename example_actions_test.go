package fps_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
)

// Purchase, authorize then capture, and credit (the seed's calls) against
// the simulator. The token comes from the pipeline's return URL, verified
// first: the verifier fetches the simulator's certificate as it would
// Amazon's. Here the simulator plays the buyer who approves.
func ExampleClient_Purchase() {
	sim, client := startSimulator(fpstest.Config{})
	defer sim.Close()
	verifier := fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = sim.CAPool() })
	ctx := context.Background()

	// The buyer authorizes up to 70.00 on the Co-Branded UI, and comes
	// back to the return URL.
	const returnURL = "https://shop.example/return"
	link, err := client.PipelineURL(ctx, &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: returnURL, CallerReference: "buyer-42"},
		GlobalAmountLimit: decimal.RequireFromString("70"),
	})
	if err != nil {
		panic(err)
	}
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	if err != nil {
		panic(err)
	}
	ret, err := fps.VerifyReturn(ctx, verifier, returnURL, back.RawQuery)
	if err != nil {
		panic(err) // a return that does not verify is never used
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

// The paginator follows StartTimeForNextTransaction from page to page.
func ExampleGetAccountActivityPaginator() {
	sim, client := startSimulator(fpstest.Config{PlainHTTP: true})
	defer sim.Close()
	ctx := context.Background()
	since := sim.Clock().Now()
	token := approvedToken(ctx, sim, client, &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/return", CallerReference: "buyer-1"},
		GlobalAmountLimit: decimal.RequireFromString("100"),
	}, "ABT")
	for i := 1; i <= 5; i++ {
		_, err := client.Purchase(ctx, decimal.NewFromInt(int64(i)), fps.PurchaseOptions{TokenID: token, CallerReference: fmt.Sprintf("order-%d", i)})
		if err != nil {
			panic(err)
		}
		sim.Clock().Advance(time.Second)
	}

	p := fps.NewGetAccountActivityPaginator(client, &fps.GetAccountActivityInput{
		StartDate: since, SortOrderByDate: fps.SortAscending, MaxBatchSize: 2,
	})
	for page := 1; p.HasMorePages(); page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Print("page ", page, ":")
		for _, tx := range out.Transactions {
			fmt.Print(" ", tx.FPSOperation, " ", tx.TransactionAmount)
		}
		fmt.Println()
	}
	// Output:
	// page 1: Pay USD 1.00 Pay USD 2.00
	// page 2: Pay USD 3.00 Pay USD 4.00
	// page 3: Pay USD 5.00
}

// A card payment is Pending until the card's bank answers; the waiter
// polls its status until it is not. Against FPS it waits on the real
// clock, with the default delays; against the simulator, a test moves
// the simulator's clock instead of sleeping.
func ExampleTransactionCompletedWaiter_Wait() {
	sim, client := startSimulator(fpstest.Config{PlainHTTP: true, PendingDelay: time.Minute})
	defer sim.Close()
	ctx := context.Background()
	paid := purchased(ctx, sim, client, decimal.RequireFromString("12.50"), "CC", "order-7")
	fmt.Println("purchase:", paid.TransactionStatus)

	waiter := fps.NewTransactionCompletedWaiter(client, func(o *fps.TransactionCompletedWaiterOptions) {
		o.Clock = sim.Clock().Now
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			sim.Clock().Advance(d)
			return ctx.Err()
		}
	})
	status, err := waiter.Wait(ctx, paid.TransactionID, time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println("after waiting:", status, status.MoneyMoved())
	// Output:
	// purchase: Pending
	// after waiting: Success true
}

// startSimulator starts a simulator configured by cfg, and returns it
// with a client of its default account: both endpoints pointed at it, its
// HTTP client (which trusts its CA) and its clock.
func startSimulator(cfg fpstest.Config) (*fpstest.Server, *fps.Client) {
	sim, err := fpstest.Start(cfg)
	if err != nil {
		panic(err)
	}
	client, err := fps.New(fps.Options{
		Environment:  fps.Sandbox,
		Credentials:  fps.StaticCredentials(fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey),
		APIEndpoint:  sim.APIEndpoint(),
		CBUIEndpoint: sim.CBUIEndpoint(),
		HTTPClient:   sim.HTTPClient(),
		Clock:        sim.Clock().Now,
	})
	if err != nil {
		panic(err)
	}
	return sim, client
}

// approvedToken sends a buyer through the Co-Branded UI of pipeline p on
// the simulator, approving with method, and returns the token of the
// return URL once verified (see ExampleVerifyReturn).
func approvedToken(ctx context.Context, sim *fpstest.Server, client *fps.Client, p fps.Pipeline, method string) string {
	link, err := client.PipelineURL(ctx, p)
	if err != nil {
		panic(err)
	}
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	if err != nil {
		panic(err)
	}
	verifier := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{sim.CertificateURL(): sim.PublicKey()}
	})
	ret, err := fps.VerifyReturn(ctx, verifier, back.String(), back.RawQuery)
	if err != nil {
		panic(err)
	}
	return ret.TokenID
}

// purchased has a buyer approve a SingleUse pipeline of amount, paying
// with method, and charges its token under callerReference.
func purchased(ctx context.Context, sim *fpstest.Server, client *fps.Client, amount decimal.Decimal, method, callerReference string) *fps.PurchaseOutput {
	token := approvedToken(ctx, sim, client, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/fps/return", CallerReference: callerReference},
		TransactionAmount: amount,
	}, method)
	paid, err := client.Purchase(ctx, amount, fps.PurchaseOptions{TokenID: token, CallerReference: callerReference})
	if err != nil {
		panic(err)
	}
	return paid
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
