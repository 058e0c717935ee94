package fps_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/fpskit/fps"
)

// benchPipeline is a SingleUse pipeline with five fields.
func benchPipeline() *fps.SingleUsePipeline {
	return &fps.SingleUsePipeline{
		PipelineCommon: fps.PipelineCommon{
			ReturnURL:       "https://shop.example.com/fps/return",
			CallerReference: "order-20261127-0001",
		},
		TransactionAmount: dec("19.99"),
		PaymentReason:     "Order 1 from the example shop",
		CurrencyCode:      "USD",
	}
}

func BenchmarkPipelineURL(b *testing.B) {
	c := newTestClient(b)
	ctx := context.Background()
	p := benchPipeline()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PipelineURL(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHMACSHA256Floor is the floor of BenchmarkPipelineURL: only the
// HMAC-SHA256 and base64 of a string as long as that URL's string to sign.
func BenchmarkHMACSHA256Floor(b *testing.B) {
	c := newTestClient(b)
	link, err := c.PipelineURL(context.Background(), benchPipeline())
	if err != nil {
		b.Fatal(err)
	}
	base, query, _ := strings.Cut(link, "?")
	unsigned, _, _ := strings.Cut(query, "&signature=")
	n := len("GET\nauthorize.payments-sandbox.amazon.com\n/cobranded-ui/actions/start\n") + len(unsigned)
	if !strings.HasSuffix(base, "/cobranded-ui/actions/start") {
		b.Fatal(base)
	}
	sts := strings.Repeat("x", n)
	key := []byte(testSecret)
	b.ReportMetric(float64(n), "bytes-signed")
	b.ReportAllocs()
	for b.Loop() {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(sts))
		_ = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
}
