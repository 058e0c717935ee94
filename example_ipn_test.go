package fps_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
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

// VerifyReturn checks the query Amazon appended to the return URL before
// anything in it is used. Here the simulator plays Amazon and the buyer,
// and its signing key is pinned in the verifier.
func ExampleVerifyReturn() {
	sim, client := startSimulator(fpstest.Config{PlainHTTP: true})
	defer sim.Close()
	ctx := context.Background()
	const returnURL = "https://shop.example/fps/return"
	link, err := client.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: returnURL, CallerReference: "order-1002"},
		TransactionAmount: decimal.RequireFromString("8.00"),
	})
	if err != nil {
		panic(err)
	}
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	if err != nil {
		panic(err)
	}

	// The return handler at returnURL receives back.RawQuery.
	verifier := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{sim.CertificateURL(): sim.PublicKey()}
	})
	ret, err := fps.VerifyReturn(ctx, verifier, returnURL, back.RawQuery)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(ret.CallerReference, ret.Status, ret.Status.Meaning())

	// A return whose token was swapped is refused, and nothing in it used.
	forged := strings.Replace(back.RawQuery, ret.TokenID, "SOMEONEELSESTOKEN", 1)
	_, err = fps.VerifyReturn(ctx, verifier, returnURL, forged)
	fmt.Println("forged:", errors.Is(err, fps.ErrSignatureMismatch))
	// Output:
	// order-1002 SC success: the buyer chose a credit card
	// forged: true
}

// VerifyIPN checks a notification against the URL it was posted to before
// anything in it is used. Here the simulator posts it to a test server,
// after a purchase, and the verifier fetches the simulator's certificate
// as it would Amazon's.
func ExampleVerifyIPN() {
	ipns := make(chan []byte, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ipns <- body
	}))
	defer shop.Close()
	ipnURL := shop.URL + "/fps/ipn"

	sim, client := startSimulator(fpstest.Config{})
	defer sim.Close()
	if err := sim.SetIPNURL(fpstest.DefaultAccessKeyID, ipnURL); err != nil {
		panic(err)
	}
	ctx := context.Background()
	paid := purchased(ctx, sim, client, decimal.RequireFromString("5.00"), "ABT", "order-1003")

	var body []byte
	select {
	case body = <-ipns: // what the IPN handler at ipnURL receives
	case <-time.After(10 * time.Second):
		panic("no IPN")
	}
	verifier := fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = sim.CAPool() })
	n, err := fps.VerifyIPN(ctx, verifier, ipnURL, body)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(n.CallerReference, n.Operation, n.Status, n.TransactionAmount, n.TransactionID == paid.TransactionID)

	// The same body received at another URL was not meant for it.
	_, err = fps.VerifyIPN(ctx, verifier, shop.URL+"/other/ipn", body)
	fmt.Println("elsewhere:", errors.Is(err, fps.ErrSignatureMismatch))
	// Output:
	// order-1003 PAY SUCCESS USD 5.00 true
	// elsewhere: true
}
