package integration_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/fpskit/fps/store"
	"github.com/stretchr/testify/require"
)

// TestCertificateAttacksStoreNothing sends an AmazonFPS shop, which checks
// messages locally against the simulator's certificate, what an attacker
// can make of certificate URLs: a certificate issued by a trusted CA to
// another name, served from an allowed host; 2,000 spellings of the
// simulator's genuine certificate URL; 500 made-up certificate paths on
// the simulator's host. Each IPN and return is answered 403 (refused) or
// 503 (not checked now), nothing is stored, no hook or callback runs, the
// made-up paths cost a bounded number of downloads, and a genuine return
// still goes through afterwards.
func TestCertificateAttacksStoreNothing(t *testing.T) {
	ctx := context.Background()
	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	simURL, err := url.Parse(s.URL)
	require.NoError(t, err)

	// The attacker's https server, trusted as a public CA's would be,
	// serves a certificate for the attacker's key that a CA the shop
	// trusts issued to attacker.example; its host is allowed.
	attacker := msgtest.Key(t, 1)
	publicCA, publicCAKey := msgtest.NewCA(t, "a public CA", msgtest.Key(t, 3))
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "attacker.example"},
		DNSNames:     []string{"attacker.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}, publicCA, &attacker.PublicKey, publicCAKey)
	require.NoError(t, err)
	misnamed := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	evil := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(misnamed) }))
	evil.TLS = s.ServerTLSConfig()
	evil.StartTLS()
	t.Cleanup(evil.Close)
	roots := s.CAPool().Clone()
	roots.AddCert(publicCA)

	var hooks, callbacks atomic.Int32
	logs := &lockedBuffer{}
	st := store.NewMemory()
	var handler http.Handler = http.NotFoundHandler()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(shop.Close)
	a, err := integration.New(integration.Config{
		AccessKey:    fpstest.DefaultAccessKeyID,
		SecretKey:    fpstest.DefaultSecretAccessKey,
		TestMode:     true,
		BaseURL:      shop.URL + "/",
		APIEndpoint:  s.APIEndpoint(),
		CBUIEndpoint: s.CBUIEndpoint(),
		HTTPClient:   s.HTTPClient(),
		Verifier: fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
			o.AllowedHosts = append(o.AllowedHosts, simURL.Host, evil.Listener.Addr().String())
			o.RootCAs = roots
		}),
		Store: st,
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			hooks.Add(1)
			fmt.Fprintln(w, "thank you")
		},
		NotificationCallback: func(ctx context.Context, ch integration.OrderChange) error {
			callbacks.Add(1)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)
	handler = a.Handler()

	// The order under attack, as the shop's pipeline URL started it.
	link, err := a.WithFields(map[string]string{"pipelineName": "SingleUse", "transactionAmount": "12.50"}).LinkURL(ctx)
	require.NoError(t, err)
	linked, err := url.Parse(link)
	require.NoError(t, err)
	ref := linked.Query().Get("callerReference")
	payment := msgtest.PayParams(ref, "USD 12.50")
	ret := url.Values{"status": {"SC"}, "tokenID": {"ATTACKERS-OWN-TOKEN"}, "callerReference": {ref}, "expiry": {"10/2030"}}

	// send delivers an IPN (i even) or a return (i odd) and returns the
	// status the shop answered.
	send := func(i int, raw string) int {
		var resp *http.Response
		var err error
		if i%2 == 0 {
			resp, err = http.Post(a.NotifyURL(), "application/x-www-form-urlencoded", strings.NewReader(raw))
		} else {
			resp, err = http.Get(a.ReturnURL() + "?" + raw)
		}
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// unsigned is the IPN (i even) or return (i odd) naming certURL with
	// a signature nobody made.
	unsigned := func(i int, certURL string) string {
		p := maps.Clone(payment)
		if i%2 == 1 {
			p = maps.Clone(ret)
		}
		p.Set("signatureVersion", fps.OutboundSignatureVersion)
		p.Set("signatureMethod", fps.OutboundSignatureMethod)
		p.Set("certificateUrl", certURL)
		p.Set("signature", "Zm9yZ2Vk")
		return p.Encode()
	}
	// flood sends n messages at once and counts the statuses answered.
	flood := func(n int, raw func(i int) string) map[int]int {
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					status := send(i, raw(i))
					mu.Lock()
					statuses[status]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return statuses
	}

	// A certificate of another name on an allowed host: refused.
	evilCert := evil.URL + "/certs/090909/PKICert.pem"
	require.Equal(t, http.StatusForbidden, send(0, msgtest.SignIPN(t, attacker, a.NotifyURL(), evilCert, payment)))
	require.Equal(t, http.StatusForbidden, send(1, msgtest.SignReturn(t, attacker, a.ReturnURL(), evilCert, ret)))
	require.Contains(t, logs.String(), "not issued to its host")

	// 2,000 spellings of the genuine URL: the certificate is found (one
	// download), the signatures are refused.
	genuine, err := url.Parse(s.CertificateURL())
	require.NoError(t, err)
	// Spelling i percent-encodes the k-th character of the path (slashes
	// aside) when bit k%11 of i is set, in upper- or lower-case hex.
	spell := func(i int) string {
		var b strings.Builder
		k := 0
		for _, c := range []byte(genuine.Path) {
			if c != '/' && i>>(k%11)&1 == 1 {
				fmt.Fprintf(&b, []string{"%%%02X", "%%%02x"}[i%2], c)
			} else {
				b.WriteByte(c)
			}
			if c != '/' {
				k++
			}
		}
		u := "https://" + genuine.Host + b.String()
		if i%5 == 0 {
			u += fmt.Sprintf("?requestId=%d", i)
		}
		return u
	}
	distinct := map[string]bool{}
	for i := 0; i < 2000; i++ {
		distinct[spell(i)] = true
	}
	require.Len(t, distinct, 2000)
	require.Equal(t, map[int]int{http.StatusForbidden: 2000}, flood(2000, func(i int) string { return unsigned(i, spell(i)) }))

	// 500 made-up paths on the simulator's host: not checked now (503),
	// and only a few downloads made.
	madeUp := func(i int) string { return fmt.Sprintf("%s/certs/%06d/PKICert.pem", s.URL, 100000+i) }
	require.Equal(t, map[int]int{http.StatusServiceUnavailable: 500}, flood(500, func(i int) string { return unsigned(i, madeUp(i)) }))
	downloads := strings.Count(logs.String(), "answered HTTP 404")
	require.Positive(t, downloads)
	require.LessOrEqual(t, downloads, fps.DefaultMaxCertificateDownloadsPerHost)

	require.Zero(t, hooks.Load(), "no return hook ran")
	require.Zero(t, callbacks.Load(), "no notification callback ran")
	stored, err := st.List(ctx)
	require.NoError(t, err)
	require.Empty(t, stored, "nothing stored")
	o, err := st.Order(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, integration.OrderCreated, o.Status, "the order did not move")

	// The real buyer still pays for the order: the certificate is cached.
	back, err := s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	resp, err := http.Get(back.String())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, int32(1), hooks.Load())
}
