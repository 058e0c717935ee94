package fpstest_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/url"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
)

// ExampleStart runs a simulator outside a test, as `fps sandbox` does.
func ExampleStart() {
	s, err := fpstest.Start(fpstest.Config{PlainHTTP: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	u, _ := url.Parse(s.APIEndpoint())
	fmt.Println(u.Scheme, u.Hostname(), u.Path)
	fmt.Println(s.Accounts()[0].AccessKeyID == fpstest.DefaultAccessKeyID)
	// Output:
	// http 127.0.0.1 /
	// true
}

// ExampleServer_Buy plays the buyer of a SingleUse pipeline and checks
// the signed return the merchant would receive.
func ExampleServer_Buy() {
	s, err := fpstest.Start(fpstest.Config{PlainHTTP: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// A pipeline URL, signed with the caller's secret (GET, lower camel).
	q := url.Values{
		"callerKey": {fpstest.DefaultAccessKeyID}, "signatureMethod": {"HmacSHA256"}, "signatureVersion": {"2"},
		"version": {"2009-01-09"}, "pipelineName": {"SingleUse"}, "callerReference": {"order-1"},
		"transactionAmount": {"5"}, "returnURL": {"https://shop.example/return"},
	}
	start, _ := url.Parse(s.CBUIEndpoint())
	sig, _ := fps.SignHMAC(fps.HmacSHA256, fpstest.DefaultSecretAccessKey, fps.StringToSign("GET", start, q))
	q.Set("signature", sig)

	ret, err := s.Buy(context.Background(), s.CBUIEndpoint()+"?"+q.Encode(), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The merchant checks the return with the simulator's key pinned.
	v := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{s.CertificateURL(): s.PublicKey()}
	})
	back, err := fps.VerifyReturn(context.Background(), v, "https://shop.example/return", ret.RawQuery)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Status, back.CallerReference, len(back.TokenID))
	// Output: SC order-1 64
}
