package fps_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestNewHTTPClientRefusesRedirects: a client built by the helper, with or
// without a CA, answers a redirect as it is and never visits its target.
func TestNewHTTPClientRefusesRedirects(t *testing.T) {
	var visited atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { visited.Add(1) }))
	defer target.Close()
	redirect := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, target.URL, http.StatusFound) }
	plain := httptest.NewServer(http.HandlerFunc(redirect))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(redirect))
	defer tlsSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())

	def, err := fps.NewHTTPClient()
	require.NoError(t, err)
	withCA, err := fps.NewHTTPClient(fps.WithRootCAs(pool))
	require.NoError(t, err)
	for name, c := range map[string]struct {
		hc  *http.Client
		url string
	}{"default": {def, plain.URL}, "with a CA": {withCA, tlsSrv.URL}} {
		t.Run(name, func(t *testing.T) {
			resp, err := c.hc.Get(c.url)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusFound, resp.StatusCode)
			require.Equal(t, target.URL, resp.Header.Get("Location"))
			require.Zero(t, visited.Load(), "the redirect was followed")
			require.Equal(t, fps.DefaultHTTPTimeout, c.hc.Timeout)
		})
	}
}

// TestNewHTTPClientTimeout: the timeout bounds a request to a server that
// does not answer.
func TestNewHTTPClientTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	hc, err := fps.NewHTTPClient(func(o *fps.HTTPClientOptions) { o.Timeout = 50 * time.Millisecond })
	require.NoError(t, err)
	start := time.Now()
	_, err = hc.Get(slow.URL)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "want a timeout, got %v", err)
	require.Less(t, time.Since(start), 5*time.Second)

	_, err = fps.NewHTTPClient(func(o *fps.HTTPClientOptions) { o.Timeout = -time.Second })
	require.EqualError(t, err, "fps: HTTPClientOptions.Timeout -1s must not be negative")
}

// TestNewHTTPClientCAFile: the CA file of a simulator is trusted, and it
// alone: another authority's server is refused.
func TestNewHTTPClientCAFile(t *testing.T) {
	sim := fpstest.NewServer(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, sim.CAPEM(), 0o600))

	hc, err := fps.NewHTTPClient(fps.WithCAFile(ca))
	require.NoError(t, err)
	resp, err := hc.Get(sim.CertificateURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	other := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer other.Close()
	_, err = hc.Get(other.URL)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown, "a server of another authority is not trusted")

	// The same for a running simulator, from its pool.
	hc, err = fps.NewHTTPClient(fps.WithRootCAs(sim.CAPool()))
	require.NoError(t, err)
	resp, err = hc.Get(sim.CertificateURL())
	require.NoError(t, err)
	resp.Body.Close()

	def, err := fps.NewHTTPClient()
	require.NoError(t, err)
	_, err = def.Get(sim.CertificateURL())
	require.ErrorAs(t, err, &unknown, "without the CA file the simulator is not trusted")

	pool, err := fps.LoadCAFile(ca)
	require.NoError(t, err)
	hc, err = fps.NewHTTPClient(fps.WithRootCAs(pool))
	require.NoError(t, err)
	resp, err = hc.Get(sim.CertificateURL())
	require.NoError(t, err, "the pool of LoadCAFile trusts the simulator")
	resp.Body.Close()

	bad := filepath.Join(dir, "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = fps.NewHTTPClient(fps.WithCAFile(bad))
	require.EqualError(t, err, "fps: CA file "+bad+" holds no PEM certificate")
	_, err = fps.LoadCAFile(filepath.Join(dir, "missing.pem"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "fps: CA file: ")
}

// TestCertificateErrorIsNotRetried: an API endpoint whose certificate is
// not trusted is tried once (the answer would not change), and the error
// says why.
func TestCertificateErrorIsNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()

	c, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(testKeyID, testSecret),
		APIEndpoint: srv.URL + "/",
	})
	require.NoError(t, err)
	_, err = c.GetAccountBalance(context.Background(), &fps.GetAccountBalanceInput{})
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)
	require.Equal(t, int32(1), conns.Load(), "a certificate error was retried")
}

// TestReadmeSandboxSnippet is the README's Go set-up for an app pointed at
// fps sandbox, against a simulator with the variables fps sandbox
// --detach prints: the client pays, the verifier checks a return.
func TestReadmeSandboxSnippet(t *testing.T) {
	ctx := context.Background()
	sim := fpstest.NewServer(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, sim.CAPEM(), 0o600))
	t.Setenv("FPS_CA_FILE", ca)
	t.Setenv("FPS_API_ENDPOINT", sim.APIEndpoint())
	t.Setenv("FPS_CBUI_ENDPOINT", sim.CBUIEndpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", fpstest.DefaultAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", fpstest.DefaultSecretAccessKey)

	hc, err := fps.NewHTTPClient(fps.WithCAFile(os.Getenv("FPS_CA_FILE")))
	require.NoError(t, err)
	client, err := fps.New(fps.Options{
		Environment:  fps.Sandbox,
		Credentials:  fps.StaticCredentials(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")),
		APIEndpoint:  os.Getenv("FPS_API_ENDPOINT"),
		CBUIEndpoint: os.Getenv("FPS_CBUI_ENDPOINT"),
		HTTPClient:   hc,
	})
	require.NoError(t, err)
	roots, err := fps.LoadCAFile(os.Getenv("FPS_CA_FILE"))
	require.NoError(t, err)
	verifier := fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = roots })

	link, err := client.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/fps/return", CallerReference: "order-snippet"},
		TransactionAmount: decimal.RequireFromString("3.00"),
	})
	require.NoError(t, err)
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	ret, err := fps.VerifyReturn(ctx, verifier, "https://shop.example/fps/return", back.RawQuery)
	require.NoError(t, err)
	_, err = client.Purchase(ctx, decimal.RequireFromString("3.00"),
		fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
	require.NoError(t, err)
	require.Equal(t, 1, sim.Ledger().ChargeCount("order-snippet"))
}
