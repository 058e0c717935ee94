// Package msgtest makes return URLs and IPNs signed the way Amazon signed
// them, with test keys, and serves test certificates over https: what the
// tests of the verifiers (package fps) and of the handlers (package
// integration) share.
package msgtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

// keys are generated once per test binary.
var (
	keysOnce sync.Once
	keys     [4]*rsa.PrivateKey
	keysErr  error
)

// Key returns test key i (0 to 3): 0 signs messages, 1 is another
// party's (an attacker's) key, 2 and 3 are CA keys.
func Key(tb testing.TB, i int) *rsa.PrivateKey {
	tb.Helper()
	keysOnce.Do(func() {
		for j := range keys {
			if keys[j], keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
				return
			}
		}
	})
	require.NoError(tb, keysErr)
	return keys[i]
}

// PinnedCertURL is where the certificate of key 0 would be; the tests pin
// its key instead of fetching it.
const PinnedCertURL = "https://fps.amazonaws.com/certs/test/PKICert.pem"

// PinnedVerifier is a local verifier that trusts key 0 at PinnedCertURL.
func PinnedVerifier(tb testing.TB) *fps.LocalVerifier {
	key := Key(tb, 0)
	return fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{PinnedCertURL: &key.PublicKey}
	})
}

// Sign adds the version 2 signature fields to params, signs them as Amazon
// did for method at endpoint, and returns the form encoding (spaces as
// "+", as a browser or Amazon would send it). params is not changed.
func Sign(tb testing.TB, key *rsa.PrivateKey, method, endpoint, certURL string, params url.Values) string {
	tb.Helper()
	p := url.Values{}
	for k, vs := range params {
		p[k] = append([]string(nil), vs...)
	}
	p.Set("signatureVersion", fps.OutboundSignatureVersion)
	p.Set("signatureMethod", fps.OutboundSignatureMethod)
	p.Set("certificateUrl", certURL)
	u, err := url.Parse(endpoint)
	require.NoError(tb, err)
	sig, err := sigv2.SignRSASHA1(key, sigv2.OutboundStringToSign(method, u, p))
	require.NoError(tb, err)
	p.Set("signature", sig)
	return p.Encode()
}

// SignReturn signs the query of a return URL (GET).
func SignReturn(tb testing.TB, key *rsa.PrivateKey, endpoint, certURL string, params url.Values) string {
	return Sign(tb, key, "GET", endpoint, certURL, params)
}

// SignIPN signs the body of an IPN (POST).
func SignIPN(tb testing.TB, key *rsa.PrivateKey, endpoint, certURL string, params url.Values) string {
	return Sign(tb, key, "POST", endpoint, certURL, params)
}

// PayParams is a TransactionStatus IPN for a successful PAY of amount
// ("USD 12.50") under callerReference, paid to shop@example.com.
func PayParams(callerReference, amount string) url.Values {
	return url.Values{
		"notificationType":  {"TransactionStatus"},
		"transactionId":     {"14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM"},
		"callerReference":   {callerReference},
		"operation":         {"PAY"},
		"transactionAmount": {amount},
		"transactionDate":   {"1254096159"},
		"transactionStatus": {"SUCCESS"},
		"statusCode":        {"Success"},
		"statusMessage":     {"The transaction was successful and the payment instrument was charged."},
		"paymentMethod":     {"CC"},
		"buyerName":         {"Test Buyer"},
		"recipientName":     {"Test Shop"},
		"recipientEmail":    {"shop@example.com"},
	}
}

// NewCA returns a self-signed CA certificate of key, named name.
func NewCA(tb testing.TB, name string, key *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(tb, err)
	return cert, key
}

func issue(tb testing.TB, ca *x509.Certificate, caKey *rsa.PrivateKey, pub *rsa.PublicKey, serial int64, tmpl *x509.Certificate) []byte {
	tb.Helper()
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	require.NoError(tb, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// PKI is a test CA with a leaf certificate for key 0, and a TLS server
// serving it (and bad variants) from 127.0.0.1, also named localhost;
// both certificates are issued to both names. The certificate ids of
// CertURL: "good" (the leaf), "stranger" (key 0 under another CA), "big"
// (over 64 KiB), "moved" (a redirect to another host), "local-redirect"
// (a redirect to "good"), "slow" (never answers), "misnamed" (key 1,
// the attacker's, issued by the CA to attacker.example). Any other path
// is answered 404.
type PKI struct {
	Key  *rsa.PrivateKey // key 0, the leaf's
	Pool *x509.CertPool  // holds the CA
	Srv  *httptest.Server
	// Fetches counts the fetches of "good".
	Fetches atomic.Int64
	// Requests counts every request the server answered.
	Requests atomic.Int64
	// Delay holds back the answer to a fetch of "good".
	Delay time.Duration
}

// NewPKI starts a PKI, closed when tb ends.
func NewPKI(tb testing.TB) *PKI {
	tb.Helper()
	p := &PKI{Key: Key(tb, 0)}
	ca, caPriv := NewCA(tb, "fps test CA", Key(tb, 2))
	p.Pool = x509.NewCertPool()
	p.Pool.AddCert(ca)
	leaf := issue(tb, ca, caPriv, &p.Key.PublicKey, 2, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "fps test signer"},
		DNSNames:    []string{"localhost"}, // the host it is served from
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	})
	misnamed := issue(tb, ca, caPriv, &Key(tb, 1).PublicKey, 5, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "attacker.example"},
		DNSNames: []string{"attacker.example"},
	})
	other, otherPriv := NewCA(tb, "someone else's CA", Key(tb, 3))
	stranger := issue(tb, other, otherPriv, &p.Key.PublicKey, 3, &x509.Certificate{Subject: pkix.Name{CommonName: "stranger"}})
	serverKey := Key(tb, 1)
	serverPEM := issue(tb, ca, caPriv, &serverKey.PublicKey, 4, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	serverCert, err := tls.X509KeyPair(serverPEM, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(serverKey)}))
	require.NoError(tb, err)

	mux := http.NewServeMux()
	mux.HandleFunc("/certs/good/PKICert.pem", func(w http.ResponseWriter, r *http.Request) {
		p.Fetches.Add(1)
		time.Sleep(p.Delay)
		w.Write(leaf)
	})
	mux.HandleFunc("/certs/misnamed/PKICert.pem", func(w http.ResponseWriter, r *http.Request) { w.Write(misnamed) })
	mux.HandleFunc("/certs/stranger/PKICert.pem", func(w http.ResponseWriter, r *http.Request) { w.Write(stranger) })
	mux.HandleFunc("/certs/big/PKICert.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("#", 70<<10)))
		w.Write(leaf)
	})
	mux.HandleFunc("/certs/moved/PKICert.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://attacker.example/PKICert.pem", http.StatusFound)
	})
	mux.HandleFunc("/certs/local-redirect/PKICert.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/certs/good/PKICert.pem", http.StatusMovedPermanently)
	})
	stopped := make(chan struct{})
	mux.HandleFunc("/certs/slow/PKICert.pem", func(w http.ResponseWriter, r *http.Request) {
		<-stopped // never answers: the fetch must give up on its own
	})
	p.Srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	p.Srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	p.Srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-server case fails handshakes on purpose
	p.Srv.StartTLS()
	tb.Cleanup(func() {
		close(stopped)
		p.Srv.Close()
	})
	return p
}

// Host is the host:port of the server.
func (p *PKI) Host() string { return p.Srv.Listener.Addr().String() }

// LocalHost is Host with the name localhost in place of 127.0.0.1.
func (p *PKI) LocalHost() string {
	_, port, _ := net.SplitHostPort(p.Host())
	return net.JoinHostPort("localhost", port)
}

// CertURL is the URL of certificate id on the server.
func (p *PKI) CertURL(id string) string { return p.Srv.URL + "/certs/" + id + "/PKICert.pem" }

// Verifier is a local verifier that fetches from the server (as Host and
// as LocalHost) and trusts the CA; optFns run after.
func (p *PKI) Verifier(optFns ...func(*fps.LocalVerifierOptions)) *fps.LocalVerifier {
	return fps.NewLocalVerifier(append([]func(*fps.LocalVerifierOptions){func(o *fps.LocalVerifierOptions) {
		o.AllowedHosts = append(o.AllowedHosts, p.Host(), p.LocalHost())
		o.RootCAs = p.Pool
	}}, optFns...)...)
}

// FakeVerifySignature stands in for the VerifySignature action of a
// client: it records what it was asked and answers Status, or Err.
type FakeVerifySignature struct {
	Calls  []fps.VerifySignatureInput
	Status fps.VerificationStatus
	Err    error
}

// VerifySignature implements the interface fps.NewRemoteVerifier takes.
func (f *FakeVerifySignature) VerifySignature(ctx context.Context, in *fps.VerifySignatureInput, optFns ...func(*fps.Options)) (*fps.VerifySignatureOutput, error) {
	f.Calls = append(f.Calls, *in)
	if f.Err != nil {
		return nil, f.Err
	}
	return &fps.VerifySignatureOutput{VerificationStatus: f.Status, RequestID: "req-1"}, nil
}
