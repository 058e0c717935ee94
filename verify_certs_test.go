package fps_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/stretchr/testify/require"
)

// testClock is a LocalVerifier's Clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forged is an IPN naming certURL with a signature nobody made: what an
// attacker sends to make the verifier download certificates.
func forged(certURL string) string {
	p := payParams("order-1", "USD 12.50")
	p.Set("signatureVersion", fps.OutboundSignatureVersion)
	p.Set("signatureMethod", fps.OutboundSignatureMethod)
	p.Set("certificateUrl", certURL)
	p.Set("signature", "Zm9yZ2Vk")
	return p.Encode()
}

// verifyForged verifies n forged messages, the i-th naming certURL(i),
// from workers goroutines at once, and returns their errors.
func verifyForged(v *fps.LocalVerifier, n, workers int, certURL func(i int) string) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				_, errs[i] = v.Verify(context.Background(), "POST", ipnEndpoint, forged(certURL(i)))
			}
		}()
	}
	wg.Wait()
	return errs
}

func TestCertificateMustBeIssuedToItsHost(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	attacker := testKey2(t)
	// Issued by the trusted CA to attacker.example, served from an
	// allowed host, the attacker's message signed with its key.
	misnamed := strings.Replace(p.CertURL("misnamed"), p.Host(), p.LocalHost(), 1)
	raw := signIPN(t, attacker, ipnEndpoint, misnamed, payParams("order-1", "USD 12.50"))

	v := p.Verifier()
	before := p.Requests.Load()
	_, err := v.Verify(ctx, "POST", ipnEndpoint, raw)
	require.ErrorIs(t, err, fps.ErrCertificateURLNotAllowed)
	require.ErrorContains(t, err, "not issued to its host")
	require.ErrorContains(t, err, "valid for attacker.example, not localhost")
	require.Equal(t, before+1, p.Requests.Load())

	// The same from the host's address.
	_, err = v.Verify(ctx, "POST", ipnEndpoint, signIPN(t, attacker, ipnEndpoint, p.CertURL("misnamed"), payParams("order-1", "USD 12.50")))
	require.ErrorIs(t, err, fps.ErrCertificateURLNotAllowed)
	require.ErrorContains(t, err, "not issued to its host")
	require.Equal(t, before+2, p.Requests.Load())

	_, err = v.Verify(ctx, "POST", ipnEndpoint, raw)
	require.ErrorIs(t, err, fps.ErrCertificateURLNotAllowed, "remembered, with the same reason")
	require.Equal(t, before+2, p.Requests.Load(), "not fetched again")

	// The genuine certificate is issued to the host it is served from,
	// by address and by name.
	for _, certURL := range []string{p.CertURL("good"), strings.Replace(p.CertURL("good"), p.Host(), p.LocalHost(), 1)} {
		_, err = v.Verify(ctx, "POST", ipnEndpoint, signIPN(t, p.Key, ipnEndpoint, certURL, payParams("order-1", "USD 12.50")))
		require.NoError(t, err, certURL)
	}

	// A key the caller pins is used as it is.
	pinned := p.Verifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{misnamed: &attacker.PublicKey}
	})
	before = p.Requests.Load()
	_, err = pinned.Verify(ctx, "POST", ipnEndpoint, raw)
	require.NoError(t, err)
	require.Equal(t, before, p.Requests.Load())
}

// spelling returns s with each byte kept or percent-encoded in upper or
// lower case at random.
func spelling(r *rand.Rand, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch r.IntN(3) {
		case 0:
			b.WriteByte(s[i])
		case 1:
			fmt.Fprintf(&b, "%%%02X", s[i])
		default:
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
	}
	return b.String()
}

// randomCase returns s with each letter upper- or lower-cased at random.
func randomCase(r *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if r.IntN(2) == 0 {
			b[i] = strings.ToUpper(string(c))[0]
		}
	}
	return string(b)
}

func TestCertificateURLSpellingsShareOneDownload(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	_, port, _ := strings.Cut(p.LocalHost(), ":")
	r := rand.New(rand.NewPCG(8, 2000))
	const n = 2000
	seen := map[string]bool{}
	var spellings []string
	for len(spellings) < n {
		u := "https://" + randomCase(r, "localhost") + ":" + port +
			"/" + spelling(r, "certs") + "/" + spelling(r, "good") + "/" + spelling(r, "PKICert.pem")
		switch r.IntN(3) {
		case 1:
			u += fmt.Sprintf("?requestId=%d", r.IntN(1000))
		case 2:
			u += "#" + spelling(r, "top")
		}
		if !seen[u] {
			seen[u] = true
			spellings = append(spellings, u)
		}
	}

	v := p.Verifier()
	before, fetches := p.Requests.Load(), p.Fetches.Load()
	for _, err := range verifyForged(v, n, 8, func(i int) string { return spellings[i] }) {
		require.ErrorIs(t, err, fps.ErrSignatureMismatch, "the key was found, the forged signature refused")
	}
	require.Equal(t, int64(1), p.Requests.Load()-before, "one download")
	require.Equal(t, int64(1), p.Fetches.Load()-fetches)
	good, failed := fps.CertificateCacheLen(v)
	require.Equal(t, 1, good, "one cache entry")
	require.Zero(t, failed)

	// A genuine message naming one more spelling verifies from the cache.
	_, err := v.Verify(ctx, "POST", ipnEndpoint, signIPN(t, p.Key, ipnEndpoint,
		"https://LOCALHOST:"+port+"/certs/%67ood/PKICert.pem?requestId=genuine", payParams("order-1", "USD 12.50")))
	require.NoError(t, err)
	require.Equal(t, int64(1), p.Requests.Load()-before)

	// Dot segments are refused before any download.
	for _, dotted := range []string{
		"https://localhost:" + port + "/certs/./good/PKICert.pem",
		"https://localhost:" + port + "/certs/x/../good/PKICert.pem",
		"https://localhost:" + port + "/certs/%2e%2E/certs/good/PKICert.pem",
	} {
		_, err := v.Verify(ctx, "POST", ipnEndpoint, forged(dotted))
		require.ErrorIs(t, err, fps.ErrCertificateURLNotAllowed, dotted)
	}
	require.Equal(t, int64(1), p.Requests.Load()-before)
	good, failed = fps.CertificateCacheLen(v)
	require.Equal(t, 1, good)
	require.Zero(t, failed)
}

func TestCertificateDownloadFlood(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	clock := newTestClock()
	v := p.Verifier(func(o *fps.LocalVerifierOptions) { o.Clock = clock.Now })

	// Two spellings of the genuine URL, used in turn, so that each message
	// looks its key up in the cache.
	genuine := []string{
		signIPN(t, p.Key, ipnEndpoint, p.CertURL("good"), payParams("order-1", "USD 12.50")),
		signIPN(t, p.Key, ipnEndpoint, p.CertURL("good")+"?requestId=2", payParams("order-2", "USD 12.50")),
	}
	before := p.Requests.Load()
	_, err := v.Verify(ctx, "POST", ipnEndpoint, genuine[0])
	require.NoError(t, err)
	require.Equal(t, before+1, p.Requests.Load())

	const n = 500
	made := func(i int) string { return p.Srv.URL + fmt.Sprintf("/certs/%06d/PKICert.pem", i) }
	before = p.Requests.Load()
	// Genuine messages go on verifying meanwhile.
	stop := make(chan struct{})
	genuineErrs := make(chan error, 1)
	verified := 0
	go func() {
		defer close(genuineErrs)
		for i := 0; ; i++ {
			if _, err := v.Verify(ctx, "POST", ipnEndpoint, genuine[i%2]); err != nil {
				genuineErrs <- err
				return
			}
			verified++
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	floodErrs := verifyForged(v, n, 10, made)
	close(stop)
	require.NoError(t, <-genuineErrs)
	require.Positive(t, verified)
	limited := 0
	for _, err := range floodErrs {
		require.ErrorIs(t, err, fps.ErrCertificateUnusable)
		if strings.Contains(err.Error(), "try again later") {
			limited++
		} else {
			require.ErrorContains(t, err, "HTTP 404")
		}
	}
	// The genuine download took one of the host's downloads.
	downloads := fps.DefaultMaxCertificateDownloadsPerHost - 1
	require.Equal(t, int64(downloads), p.Requests.Load()-before, "outbound requests bounded")
	require.Equal(t, n-downloads, limited)
	good, failed := fps.CertificateCacheLen(v)
	require.Equal(t, 1, good)
	require.Equal(t, downloads, failed)

	// Once FailureTTL has passed, the host gets its downloads back, and
	// a failed URL is fetched again.
	clock.Advance(fps.DefaultCertificateFailureTTL)
	before = p.Requests.Load()
	_, err = v.Verify(ctx, "POST", ipnEndpoint, forged(made(0)))
	require.ErrorContains(t, err, "HTTP 404")
	require.Equal(t, before+1, p.Requests.Load())
	_, err = v.Verify(ctx, "POST", ipnEndpoint, genuine[1])
	require.NoError(t, err)

	t.Run("failures never push out a cached certificate", func(t *testing.T) {
		v := p.Verifier(func(o *fps.LocalVerifierOptions) {
			o.CacheSize = 4
			o.MaxDownloadsPerHost = 1000
		})
		_, err := v.Verify(ctx, "POST", ipnEndpoint, genuine[0])
		require.NoError(t, err)
		before := p.Requests.Load()
		for i := 0; i < 50; i++ {
			_, err := v.Verify(ctx, "POST", ipnEndpoint, forged(made(i)))
			require.ErrorContains(t, err, "HTTP 404")
		}
		require.Equal(t, before+50, p.Requests.Load())
		good, failed := fps.CertificateCacheLen(v)
		require.Equal(t, 1, good)
		require.Equal(t, 4, failed, "bounded by CacheSize")
		_, err = v.Verify(ctx, "POST", ipnEndpoint, genuine[1])
		require.NoError(t, err)
		require.Equal(t, before+50, p.Requests.Load(), "the genuine certificate is still cached")
	})
}

func TestFailedDownloadRemembered(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	clock := newTestClock()
	v := p.Verifier(func(o *fps.LocalVerifierOptions) { o.Clock = clock.Now })
	missing := p.CertURL("none")

	before := p.Requests.Load()
	_, err := v.Verify(ctx, "POST", ipnEndpoint, forged(missing))
	require.ErrorIs(t, err, fps.ErrCertificateUnusable)
	require.ErrorContains(t, err, "HTTP 404")
	require.Equal(t, before+1, p.Requests.Load())

	clock.Advance(fps.DefaultCertificateFailureTTL - time.Second)
	for _, certURL := range []string{missing, strings.Replace(missing, "none", "%6Eone", 1) + "?requestId=1"} {
		_, err = v.Verify(ctx, "POST", ipnEndpoint, forged(certURL))
		require.ErrorIs(t, err, fps.ErrCertificateUnusable)
		require.ErrorContains(t, err, "HTTP 404", "the reason is kept")
		require.ErrorContains(t, err, "not fetched again")
	}
	require.Equal(t, before+1, p.Requests.Load(), "not fetched again within FailureTTL")

	clock.Advance(time.Second)
	_, err = v.Verify(ctx, "POST", ipnEndpoint, forged(missing))
	require.ErrorContains(t, err, "HTTP 404")
	require.NotContains(t, err.Error(), "not fetched again")
	require.Equal(t, before+2, p.Requests.Load(), "fetched again after FailureTTL")
}

func TestPinnedKeysSkipEveryFetch(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	// Pinned in one spelling, named in others; the URL itself answers 404.
	_, port, _ := strings.Cut(p.LocalHost(), ":")
	v := p.Verifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{"HTTPS://LocalHost:" + port + "/certs/%6Eone/PKICert.pem": &p.Key.PublicKey}
	})
	before := p.Requests.Load()
	for _, certURL := range []string{
		"https://localhost:" + port + "/certs/none/PKICert.pem",
		"https://LOCALHOST:" + port + "/%63erts/n%6f%6Ee/PKICert.pem?requestId=7",
	} {
		_, err := v.Verify(ctx, "POST", ipnEndpoint, signIPN(t, p.Key, ipnEndpoint, certURL, payParams("order-1", "USD 12.50")))
		require.NoError(t, err, certURL)
		for i := 0; i < 20; i++ {
			_, err := v.Verify(ctx, "POST", ipnEndpoint, forged(certURL))
			require.ErrorIs(t, err, fps.ErrSignatureMismatch)
		}
	}
	// Not pinned: downloaded (and missing).
	_, err := v.Verify(ctx, "POST", ipnEndpoint, forged(p.CertURL("none")))
	require.ErrorContains(t, err, "HTTP 404")
	require.Equal(t, before+1, p.Requests.Load())
	before = p.Requests.Load()
	require.Equal(t, before, p.Requests.Load(), "nothing downloaded")
}
