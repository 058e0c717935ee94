package fps

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
)

func benchPayInput() *PayInput {
	return &PayInput{
		SenderTokenID:     "A3DN8JRJRAGHD7LIEMN6LIRDM3XH7LPNV5H5QIPUK6D65CCZ3IMR3SR4Q1D8KPRF",
		TransactionAmount: USD(dec("19.99")),
		CallerReference:   "order-2026-000123",
		CallerDescription: "Order 123 at Example Books",
	}
}

func benchClient(b *testing.B) *Client {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials(testAccessKey, testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkPayRequestSign checks, encodes and signs one Pay request: what
// Pay does before it sends its first attempt, the input built as
// invokeAction builds it.
func BenchmarkPayRequestSign(b *testing.B) {
	c := benchClient(b)
	in := benchPayInput()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		bl := c.build(in)
		if err := invalidParams(bl.errs); err != nil {
			b.Fatal(err)
		}
		if _, err := c.requestBody(ctx, &c.options, c.api, "Pay", bl.params()); err != nil {
			b.Fatal(err)
		}
		c.release(bl)
	}
}

// BenchmarkPayHMACFloor is the floor of BenchmarkPayRequestSign: one
// HMAC-SHA256 and base64 over a string to sign of the same length.
func BenchmarkPayHMACFloor(b *testing.B) {
	c := benchClient(b)
	var bl builder
	benchPayInput().build(&bl)
	body, err := c.requestBody(context.Background(), &c.options, c.api, "Pay", bl.params())
	if err != nil {
		b.Fatal(err)
	}
	sts := []byte(http.MethodPost + "\nfps.sandbox.amazonaws.com\n/\n" + string(body[:bytes.LastIndex(body, []byte("&Signature="))]))
	key := []byte(testSecret)
	b.SetBytes(int64(len(sts)))
	b.ReportAllocs()
	for b.Loop() {
		mac := hmac.New(sha256.New, key)
		mac.Write(sts)
		_ = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
}
