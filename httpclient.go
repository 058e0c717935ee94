package fps

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// HTTPClientOptions configures NewHTTPClient.
type HTTPClientOptions struct {
	// Timeout bounds one request, answer included; DefaultHTTPTimeout
	// when zero.
	Timeout time.Duration

	// RootCAs are the certificate authorities trusted for https. Nil
	// means the system roots, unless CAFile is set.
	RootCAs *x509.CertPool

	// CAFile names a PEM file of CA certificates to trust, for example
	// the one `fps sandbox` writes. Its certificates are added to RootCAs
	// (to an empty pool when RootCAs is nil): with a CA file alone the
	// system roots are not trusted, so a sandbox CA file left in a
	// production configuration fails loudly instead of quietly widening
	// what is trusted.
	CAFile string
}

// WithCAFile returns an option of NewHTTPClient that trusts the CA
// certificates of the PEM file at path (see HTTPClientOptions.CAFile).
// An empty path changes nothing.
func WithCAFile(path string) func(*HTTPClientOptions) {
	return func(o *HTTPClientOptions) { o.CAFile = path }
}

// WithRootCAs returns an option of NewHTTPClient that trusts the
// certificate authorities of pool, for example fpstest's
// Server.CAPool().
func WithRootCAs(pool *x509.CertPool) func(*HTTPClientOptions) {
	return func(o *HTTPClientOptions) { o.RootCAs = pool }
}

// NewHTTPClient returns an HTTP client for FPS, configured by optFns: the
// client New uses when Options.HTTPClient is nil. It has a timeout
// (DefaultHTTPTimeout by default) and does not follow redirects: a 3xx
// answer is returned as it is, so a signed request is never resent to
// another host. With RootCAs or CAFile it trusts those authorities for
// https, with at least TLS 1.2. Trusting `fps sandbox` is one line:
//
//	hc, err := fps.NewHTTPClient(fps.WithCAFile("/tmp/fps-ca.pem"))
//
// The error names a CA file that cannot be read or holds no certificate.
func NewHTTPClient(optFns ...func(*HTTPClientOptions)) (*http.Client, error) {
	var o HTTPClientOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("fps: HTTPClientOptions.Timeout %v must not be negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultHTTPTimeout
	}
	hc := &http.Client{Timeout: o.Timeout, CheckRedirect: refuseRedirect}
	roots := o.RootCAs
	if o.CAFile != "" {
		var err error
		if roots, err = appendCAFile(roots, o.CAFile); err != nil {
			return nil, err
		}
	}
	if roots != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	return hc, nil
}

// LoadCAFile returns a pool holding the CA certificates of the PEM file at
// path and nothing else, for LocalVerifierOptions.RootCAs for example.
// The error names a file that cannot be read or holds no certificate.
func LoadCAFile(path string) (*x509.CertPool, error) { return appendCAFile(nil, path) }

// appendCAFile returns a copy of pool (an empty pool when nil) with the
// certificates of the PEM file at path added.
func appendCAFile(pool *x509.CertPool, path string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fps: CA file: %w", err)
	}
	if pool == nil {
		pool = x509.NewCertPool()
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("fps: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// noRetryCertificateError refuses to retry a failed certificate check
// (an unknown authority, another host's certificate, an expired one):
// trying again gives the same answer, and the fix is configuration.
var noRetryCertificateError = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
})
