package fps_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
)

// payResponse is a Pay answer of the size the simulator sends.
const payResponse = `<?xml version="1.0"?>
<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM</TransactionId><TransactionStatus>Success</TransactionStatus></PayResult><ResponseMetadata><RequestId>b3ed7b1b-6d36-4f5f-9d1b-0a5e7e1b2c3d:0</RequestId></ResponseMetadata></PayResponse>`

// BenchmarkPay is a Pay round trip to an in-process simulator over
// loopback HTTPS: validate, sign, POST, the simulator's authentication and
// ledger, decode. "serial" is one caller; "parallel8" eight concurrent
// callers sharing one Client. "https-floor" is the transport alone: a POST
// of the same body to a TLS server that answers a fixed Pay response.
func BenchmarkPay(b *testing.B) {
	s := fpstest.NewServer(b, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(1_000_000_000) })
	token, err := s.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenMultiUse, "ABT", "bench-token", decimal.Zero)
	if err != nil {
		b.Fatal(err)
	}
	c := s.Client(b)
	ctx := context.Background()
	amount := fps.USD(decimal.RequireFromString("0.01"))
	pay := func(b *testing.B) {
		out, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: amount, CallerReference: fps.NewCallerReference()})
		if err != nil {
			b.Fatal(err)
		}
		if out.TransactionStatus != fps.TransactionStatusSuccess {
			b.Fatalf("status %s", out.TransactionStatus)
		}
	}

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pay(b)
		}
	})
	b.Run("parallel8", func(b *testing.B) {
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((8 + procs - 1) / procs)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				pay(b)
			}
		})
	})
	b.Run("https-floor", func(b *testing.B) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, payResponse)
		}))
		defer srv.Close()
		hc := srv.Client()
		body := strings.Repeat("x", 420) // about the size of a signed Pay body
		b.ReportAllocs()
		for b.Loop() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
