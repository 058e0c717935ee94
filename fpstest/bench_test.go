package fpstest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/fpstest/statefile"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The two benchmarks below do the same client work per call (sign a Pay
// form with a fresh CallerReference, POST it over TLS on loopback with the
// simulator's HTTP client, read the answer): BenchmarkSimulatorPay against
// the simulator, BenchmarkBareHTTP against a bare net/http handler that
// reads the body and answers a Pay answer of the same size. Run them in
// one invocation: go test -run '^$' -bench 'SimulatorPay|BareHTTP' ./fpstest

// benchCallers are the concurrent callers of the round-trip benchmarks.
var benchCallers = []int{1, 8}

// payAnswer is a Pay answer as the simulator writes it.
const payAnswer = `<?xml version="1.0"?>` + "\n" + `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>14GK6BGKA7U6OU6SUTNLBI5SBBV9PGDJ6UL</TransactionId><TransactionStatus>Success</TransactionStatus></PayResult><ResponseMetadata><RequestId>c21e7735-9c08-4cd8-99bf-535a848c79b4</RequestId></ResponseMetadata></PayResponse>`

func BenchmarkSimulatorPay(b *testing.B) {
	for _, callers := range benchCallers {
		b.Run("callers-"+strconv.Itoa(callers), func(b *testing.B) {
			// Payments of 1.00 (more than their FPS fee) from a balance
			// that lasts.
			s := newServer(b, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(1_000_000_000) })
			tok := install(b, s, "ABT", fpstest.TokenUnrestricted)
			roundTrips(b, s, s.APIEndpoint(), tok, callers)
		})
	}
}

// BenchmarkSimulatorPayState is BenchmarkSimulatorPay with the ledger
// kept in a SQLite state file, as `fps sandbox` runs it.
func BenchmarkSimulatorPayState(b *testing.B) {
	for _, callers := range benchCallers {
		b.Run("callers-"+strconv.Itoa(callers), func(b *testing.B) {
			state, err := statefile.Open(filepath.Join(b.TempDir(), "state.db"))
			require.NoError(b, err)
			b.Cleanup(func() { state.Close() })
			s := newServer(b, func(c *fpstest.Config) { c.BuyerBalance, c.State = decimal.NewFromInt(1_000_000_000), state })
			tok := install(b, s, "ABT", fpstest.TokenUnrestricted)
			roundTrips(b, s, s.APIEndpoint(), tok, callers)
		})
	}
}

func BenchmarkBareHTTP(b *testing.B) {
	for _, callers := range benchCallers {
		b.Run("callers-"+strconv.Itoa(callers), func(b *testing.B) {
			s := newServer(b) // for its TLS configuration and CA-trusting client
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				_, _ = io.WriteString(w, payAnswer)
			}))
			srv.TLS = s.ServerTLSConfig()
			srv.StartTLS()
			b.Cleanup(srv.Close)
			roundTrips(b, s, srv.URL+"/", "T", callers)
		})
	}
}

// roundTrips runs b.N signed Pay round trips to endpoint from exactly
// callers goroutines, and reports calls/s and the answer size.
func roundTrips(b *testing.B, s *fpstest.Server, endpoint, token string, callers int) {
	client := s.HTTPClient()
	var next atomic.Int64
	var answerSize atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				form := signed(b, s, http.MethodPost, "Pay", map[string]string{
					"SenderTokenId": token, "TransactionAmount.Value": "1.00",
					"TransactionAmount.CurrencyCode": "USD", "CallerReference": "bench-" + strconv.FormatInt(i, 10),
				})
				resp, err := client.Post(endpoint, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form.Encode()))
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				answerSize.Store(n)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(answerSize.Load()), "answer-bytes")
}
