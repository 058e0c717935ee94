package integration_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/stretchr/testify/require"
)

// BenchmarkIPNHandler measures the IPN handler of AmazonFPS end to end,
// each IPN a new one: received over loopback HTTP, verified locally (the
// certificate cached), confirmed with GetTransaction against the
// in-process simulator (over https), and stored with its order's change
// in SQLite (ns/op). After each IPN it measures the floor of that work:
// the RSA verification of the same body, one bare HTTP round trip to a
// trivial handler over the same loopback, and one INSERT of the same
// notification row into SQLite. It reports the floor (floor-ns/op, the
// sum of rsa-, roundtrip- and insert-ns/op) and the handler's multiple
// of it (x-floor). Run with a fixed count, e.g. -benchtime=300x: each IPN
// needs a payment made before the clock starts.
func BenchmarkIPNHandler(b *testing.B) {
	ctx := context.Background()
	sim := newSim(b)
	orders, err := store.Open(ctx, filepath.Join(b.TempDir(), "shop.db"))
	require.NoError(b, err)
	defer orders.Close()

	var (
		mu      sync.Mutex
		holding = true
		held    []string
		shop    *integration.AmazonFPS
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hold := holding
		mu.Unlock()
		if hold {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			held = append(held, string(body))
			mu.Unlock()
			return
		}
		shop.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	shop, err = integration.New(integration.Config{
		AccessKey: shopAccount.AccessKeyID, SecretKey: shopAccount.SecretAccessKey, TestMode: true,
		BaseURL:     srv.URL + "/",
		APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(), HTTPClient: sim.HTTPClient(), RootCAs: sim.CAPool(),
		Store: orders,
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
	})
	require.NoError(b, err)
	require.NoError(b, sim.SetIPNURL(shopAccount.AccessKeyID, shop.NotifyURL()))

	// One paid order per IPN, and one more to fetch the certificate
	// before the clock starts; their IPNs are held.
	n := b.N + 1
	for i := range n {
		ref := fmt.Sprintf("bench-%d-%d", b.N, i)
		token, err := sim.Ledger().InstallToken(shopAccount.AccessKeyID, fpstest.TokenSingleUse, "ABT", ref, usd("0"))
		require.NoError(b, err)
		_, err = shop.Purchase(ctx, usd("1.00"), fps.PurchaseOptions{TokenID: token, CallerReference: ref})
		require.NoError(b, err)
	}
	require.Eventually(b, func() bool { mu.Lock(); defer mu.Unlock(); return len(held) == n }, 30*time.Second, time.Millisecond)
	mu.Lock()
	holding = false
	bodies := held
	mu.Unlock()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	send := func(u, body string) {
		resp, err := client.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("answered %s", resp.Status)
		}
	}
	// The floor of the same work.
	local := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{sim.CertificateURL(): sim.PublicKey()}
	})
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer bare.Close()
	rows, err := store.Open(ctx, filepath.Join(b.TempDir(), "floor.db"))
	require.NoError(b, err)
	defer rows.Close()
	notes := make([]*integration.StoredNotification, b.N)
	for i := range b.N {
		p, err := url.ParseQuery(bodies[i])
		require.NoError(b, err)
		n, err := fps.ParseNotification(p)
		require.NoError(b, err)
		notes[i] = &integration.StoredNotification{Key: n.Key(), Notification: *n, RawBody: bodies[i], ReceivedAt: time.Now()}
	}

	send(shop.NotifyURL(), bodies[b.N]) // fetches the certificate
	send(bare.URL, bodies[b.N])         // opens the connection, as the handler's was
	// Each IPN, then its floor, one after the other: what slows the
	// machine meanwhile slows both alike.
	var handler, verify, roundTrip, insert time.Duration
	timed := func(d *time.Duration, f func()) {
		start := time.Now()
		f()
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		timed(&handler, func() { send(shop.NotifyURL(), bodies[i]) })
		timed(&verify, func() {
			if _, err := local.Verify(ctx, http.MethodPost, shop.NotifyURL(), bodies[i]); err != nil {
				b.Fatal(err)
			}
		})
		timed(&roundTrip, func() { send(bare.URL, bodies[i]) })
		timed(&insert, func() {
			if _, err := rows.Save(ctx, notes[i]); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.StopTimer()

	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	floor := per(verify) + per(roundTrip) + per(insert)
	b.ReportMetric(per(verify), "rsa-ns/op")
	b.ReportMetric(per(roundTrip), "roundtrip-ns/op")
	b.ReportMetric(per(insert), "insert-ns/op")
	b.ReportMetric(per(handler), "ns/op") // the handler alone
	b.ReportMetric(floor, "floor-ns/op")
	b.ReportMetric(per(handler)/floor, "x-floor")
}
