package fps

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fpskit/fps/internal/sigv2"
)

// Verifier checks that a return URL or an IPN was signed by Amazon.
type Verifier interface {
	// Verify checks one message: method is "GET" for a return URL and
	// "POST" for an IPN; endpoint is the public URL the merchant
	// registered (from configuration, never rebuilt from the request's
	// Host); raw is the query string (without "?") or the form body exactly
	// as received. It returns the decoded parameters of raw, or an error
	// saying why the message is refused.
	Verify(ctx context.Context, method, endpoint, raw string) (url.Values, error)
}

// Verification errors; test with errors.Is.
var (
	// ErrNoSignature: the message carries no signature parameter.
	ErrNoSignature = errors.New("fps: message is not signed")
	// ErrUnsupportedSignatureVersion: signatureVersion is not 2 (or is
	// missing, meaning version 1, which was not opted in).
	ErrUnsupportedSignatureVersion = errors.New("fps: unsupported signature version")
	// ErrUnsupportedSignatureMethod: signatureMethod is not RSA-SHA1.
	ErrUnsupportedSignatureMethod = errors.New("fps: unsupported signature method")
	// ErrCertificateURLNotAllowed: certificateUrl is missing, not https, or
	// on a host that is not allowed.
	ErrCertificateURLNotAllowed = errors.New("fps: certificate URL not allowed")
	// ErrCertificateUnusable: the certificate could not be fetched, was
	// redirected, too large, not a certificate, not issued by a trusted CA,
	// or holds no RSA key.
	ErrCertificateUnusable = errors.New("fps: certificate unusable")
	// ErrVerificationFailed: the VerifySignature action answered Failure.
	ErrVerificationFailed = errors.New("fps: VerifySignature answered Failure")
	// ErrMalformed: the parameters are not form-encoded, or (after the
	// signature was checked) a field does not parse.
	ErrMalformed = errors.New("fps: malformed message")
)

// outbound is a received message after the checks every verifier makes
// before any key is fetched or any call is sent.
type outbound struct {
	*outboundEndpoint
	params    url.Values
	list      []param // the same parameters
	signature string
	version   string // "2", or "" for signature version 1
	certURL   string
}

// outboundEndpoint is the method and endpoint messages are received with,
// checked and parsed, with the first lines of their string to sign.
type outboundEndpoint struct {
	method   string
	raw      string   // the endpoint as given
	endpoint *url.URL // query and fragment removed
	bare     string   // the endpoint as configured, query and fragment cut off
	prefix   []byte   // method, canonical host and path, each followed by "\n"
}

func parseEndpoint(method, endpoint string) (*outboundEndpoint, error) {
	if method != http.MethodGet && method != http.MethodPost {
		return nil, invalid("method", "must be GET (return URL) or POST (IPN), got %q", method)
	}
	bare, _, _ := strings.Cut(endpoint, "#")
	bare, _, _ = strings.Cut(bare, "?")
	u, err := url.Parse(bare)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("endpoint", "must be the absolute http(s) URL registered with Amazon, got %q", endpoint)
	}
	return &outboundEndpoint{method: method, raw: endpoint, endpoint: u, bare: bare,
		prefix: sigv2.AppendPrefix(nil, method, u)}, nil
}

// parseOutbound checks and parses a message received at ep.
func parseOutbound(ep *outboundEndpoint, raw string) (outbound, error) {
	list, params, err := sigv2.ParseForm(raw)
	if err != nil {
		return outbound{}, fmt.Errorf("%w: the parameters are not form-encoded: %v", ErrMalformed, err)
	}
	o := outbound{outboundEndpoint: ep, params: params, list: list}
	switch sigs := params["signature"]; {
	case len(sigs) == 0 || sigs[0] == "":
		return outbound{}, ErrNoSignature
	case len(sigs) > 1:
		return outbound{}, fmt.Errorf("%w: more than one signature parameter", ErrSignatureMismatch)
	default:
		o.signature = sigs[0]
	}
	if _, ok := params["signatureVersion"]; !ok {
		return o, nil // version 1: only "signature"
	}
	o.version = params.Get("signatureVersion")
	if o.version != OutboundSignatureVersion {
		return outbound{}, fmt.Errorf("%w: signatureVersion %q, want %s", ErrUnsupportedSignatureVersion, o.version, OutboundSignatureVersion)
	}
	if m := params.Get("signatureMethod"); m != OutboundSignatureMethod {
		return outbound{}, fmt.Errorf("%w: signatureMethod %q, want %s", ErrUnsupportedSignatureMethod, m, OutboundSignatureMethod)
	}
	if o.certURL = params.Get("certificateUrl"); o.certURL == "" {
		return outbound{}, fmt.Errorf("%w: certificateUrl is missing", ErrCertificateURLNotAllowed)
	}
	return o, nil
}

// Default limits of certificate fetching.
const (
	// DefaultCertificateFetchTimeout bounds one certificate download.
	DefaultCertificateFetchTimeout = 10 * time.Second
	// DefaultMaxCertificateSize caps a downloaded certificate, in bytes.
	DefaultMaxCertificateSize = 64 << 10
)

// DefaultCertificateHosts returns the hosts a LocalVerifier fetches
// certificates from by default: the API hosts of Production and Sandbox,
// fps.amazonaws.com and fps.sandbox.amazonaws.com.
func DefaultCertificateHosts() []string {
	hosts := make([]string, 0, len(endpoints))
	for _, env := range []Environment{Production, Sandbox} {
		u, _ := url.Parse(endpoints[env].API)
		hosts = append(hosts, u.Host)
	}
	return hosts
}

// LocalVerifierOptions configures a LocalVerifier.
type LocalVerifierOptions struct {
	// AllowedHosts are the hosts ("host" or "host:port", matched exactly,
	// case-insensitively; no port means 443) certificates may be fetched
	// from, over https only. It starts as DefaultCertificateHosts; append
	// to allow more.
	AllowedHosts []string

	// RootCAs verifies the certificate chain and the TLS connection of the
	// fetch. Nil means the system roots.
	RootCAs *x509.CertPool

	// PinnedKeys maps certificate URLs to public keys used in place of a
	// download. A URL is matched without its query, so a pin for
	// ".../PKICert.pem" covers ".../PKICert.pem?requestId=...".
	PinnedKeys map[string]*rsa.PublicKey

	// FetchTimeout bounds one certificate download;
	// DefaultCertificateFetchTimeout by default.
	FetchTimeout time.Duration

	// MaxCertificateSize caps the downloaded PEM in bytes;
	// DefaultMaxCertificateSize by default.
	MaxCertificateSize int64

	// SignatureVersion1Secret, when set, opts in to signature version 1:
	// messages without signatureVersion are checked as HMAC-SHA1 keyed with
	// this secret access key. Amazon withdrew version 1; leave it empty
	// unless old notifications must be checked.
	SignatureVersion1Secret string

	// Clock returns the time the certificate chain is checked at; time.Now
	// by default.
	Clock func() time.Time
}

// LocalVerifier checks RSA-SHA1 signatures itself, with the public key of
// the certificate at certificateUrl: fetched over https from an allowed
// host only, without redirects, size-capped, its chain verified, and
// cached by URL (concurrent first requests fetch once); or pinned by the
// caller. It is safe for concurrent use.
type LocalVerifier struct {
	options LocalVerifierOptions
	allowed map[string]bool
	pinned  map[string]*rsa.PublicKey
	http    *http.Client

	mu    sync.Mutex
	cache map[string]*certEntry

	// endpoint is the last endpoint messages were received at: the same
	// one, nearly always.
	endpoint atomic.Pointer[outboundEndpoint]

	// last is the key of the last certificate URL that gave one, so that
	// messages signed with the same certificate, nearly all of them, skip
	// parsing its URL and the cache's lock.
	last atomic.Pointer[lastKey]
}

// lastKey is a certificate URL as received and its key, good until
// notAfter (forever when pinned).
type lastKey struct {
	certURL  string
	pub      *rsa.PublicKey
	pinned   bool
	notAfter time.Time
}

type certEntry struct {
	done     chan struct{} // closed once the fetch ended
	pub      *rsa.PublicKey
	notAfter time.Time
	err      error
}

// NewLocalVerifier returns a LocalVerifier configured by optFns, applied
// in order to LocalVerifierOptions whose AllowedHosts are
// DefaultCertificateHosts.
func NewLocalVerifier(optFns ...func(*LocalVerifierOptions)) *LocalVerifier {
	o := LocalVerifierOptions{AllowedHosts: DefaultCertificateHosts()}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultCertificateFetchTimeout
	}
	if o.MaxCertificateSize <= 0 {
		o.MaxCertificateSize = DefaultMaxCertificateSize
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	v := &LocalVerifier{
		options: o,
		allowed: make(map[string]bool, len(o.AllowedHosts)),
		pinned:  make(map[string]*rsa.PublicKey, len(o.PinnedKeys)),
		cache:   make(map[string]*certEntry),
	}
	for _, h := range o.AllowedHosts {
		v.allowed[sigv2.Host(&url.URL{Scheme: "https", Host: h})] = true
	}
	for raw, pub := range o.PinnedKeys {
		if u, err := url.Parse(raw); err == nil {
			raw = certificateKey(u)
		}
		v.pinned[raw] = pub
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	v.http = &http.Client{
		Transport: transport,
		Timeout:   o.FetchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return v
}

// NewLocalVerifierForClient returns a LocalVerifier that also allows the
// host of c's API endpoint when it is not one of Amazon's (a client
// pointed at the simulator), and checks chains with c's clock. The
// simulator's CA still has to be given as RootCAs.
func NewLocalVerifierForClient(c *Client, optFns ...func(*LocalVerifierOptions)) *LocalVerifier {
	return NewLocalVerifier(append([]func(*LocalVerifierOptions){func(o *LocalVerifierOptions) {
		o.AllowedHosts = append(o.AllowedHosts, c.api.Host) // a no-op for Amazon's own hosts
		o.Clock = c.options.Clock
	}}, optFns...)...)
}

// certificateKey names a certificate URL in the cache and the pins: scheme,
// canonical host and path, without the query.
func certificateKey(u *url.URL) string {
	return u.Scheme + "://" + sigv2.Host(u) + u.EscapedPath()
}

// Verify implements Verifier.
func (v *LocalVerifier) Verify(ctx context.Context, method, endpoint, raw string) (url.Values, error) {
	ep := v.endpoint.Load()
	if ep == nil || ep.raw != endpoint || ep.method != method {
		var err error
		if ep, err = parseEndpoint(method, endpoint); err != nil {
			return nil, err
		}
		v.endpoint.Store(ep)
	}
	o, err := parseOutbound(ep, raw)
	if err != nil {
		return nil, err
	}
	if o.version == "" {
		if v.options.SignatureVersion1Secret == "" {
			return nil, fmt.Errorf("%w: signatureVersion is missing (version 1 is not accepted)", ErrUnsupportedSignatureVersion)
		}
		if err := verifyV1(v.options.SignatureVersion1Secret, o.params, o.signature); err != nil {
			return nil, err
		}
		return o.params, nil
	}
	pub, err := v.publicKey(ctx, o.certURL)
	if err != nil {
		return nil, err
	}
	var buf [1024]byte // room for most strings to sign, on the stack
	sts := sigv2.AppendOutboundQuery(append(buf[:0], ep.prefix...), o.list)
	if err := sigv2.VerifyRSASHA1(pub, sts, o.signature); err != nil {
		return nil, err
	}
	return o.params, nil
}

// publicKey returns the pinned or (cached) fetched key of certURL.
func (v *LocalVerifier) publicKey(ctx context.Context, certURL string) (*rsa.PublicKey, error) {
	if l := v.last.Load(); l != nil && l.certURL == certURL && (l.pinned || v.options.Clock().Before(l.notAfter)) {
		return l.pub, nil
	}
	u, err := url.Parse(certURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL", ErrCertificateURLNotAllowed, certURL)
	}
	key := certificateKey(u)
	if pub, ok := v.pinned[key]; ok {
		v.last.Store(&lastKey{certURL: certURL, pub: pub, pinned: true})
		return pub, nil
	}
	if u.Scheme != "https" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q is not a plain https URL", ErrCertificateURLNotAllowed, certURL)
	}
	if host := sigv2.Host(u); !v.allowed[host] {
		return nil, fmt.Errorf("%w: host %q is not allowed", ErrCertificateURLNotAllowed, host)
	}
	for {
		v.mu.Lock()
		e, ok := v.cache[key]
		if !ok {
			e = &certEntry{done: make(chan struct{})}
			v.cache[key] = e
			v.mu.Unlock()
			v.fill(ctx, e, key, u)
		} else {
			v.mu.Unlock()
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if e.err != nil {
			return nil, e.err
		}
		if v.options.Clock().Before(e.notAfter) {
			v.last.Store(&lastKey{certURL: certURL, pub: e.pub, notAfter: e.notAfter})
			return e.pub, nil
		}
		// Expired since it was cached: forget it and fetch again.
		v.mu.Lock()
		if v.cache[key] == e {
			delete(v.cache, key)
		}
		v.mu.Unlock()
	}
}

// fill fetches the certificate of e, then wakes the waiters. A failed
// fetch is not cached. The fetch is not cancelled with ctx, since others
// may wait for it; FetchTimeout bounds it.
func (v *LocalVerifier) fill(ctx context.Context, e *certEntry, key string, u *url.URL) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.options.FetchTimeout)
	defer cancel()
	e.pub, e.notAfter, e.err = v.fetch(ctx, u)
	if e.err != nil {
		v.mu.Lock()
		if v.cache[key] == e {
			delete(v.cache, key)
		}
		v.mu.Unlock()
	}
	close(e.done)
}

func (v *LocalVerifier) fetch(ctx context.Context, u *url.URL) (*rsa.PublicKey, time.Time, error) {
	var never time.Time
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, never, fmt.Errorf("%w: %v", ErrCertificateUnusable, err)
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return nil, never, fmt.Errorf("%w: fetching %s: %v", ErrCertificateUnusable, u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, never, fmt.Errorf("%w: %s answered a redirect (HTTP %d), which is not followed", ErrCertificateUnusable, u.Redacted(), resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, never, fmt.Errorf("%w: %s answered HTTP %d", ErrCertificateUnusable, u.Redacted(), resp.StatusCode)
	}
	max := v.options.MaxCertificateSize
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, never, fmt.Errorf("%w: reading %s: %v", ErrCertificateUnusable, u.Redacted(), err)
	}
	if int64(len(body)) > max {
		return nil, never, fmt.Errorf("%w: %s is larger than %d bytes", ErrCertificateUnusable, u.Redacted(), max)
	}
	var certs []*x509.Certificate
	for rest := body; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, never, fmt.Errorf("%w: %s: %v", ErrCertificateUnusable, u.Redacted(), err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, never, fmt.Errorf("%w: %s holds no PEM certificate", ErrCertificateUnusable, u.Redacted())
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.options.RootCAs,
		Intermediates: intermediates,
		CurrentTime:   v.options.Clock(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, never, fmt.Errorf("%w: %s: %v", ErrCertificateUnusable, u.Redacted(), err)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, never, fmt.Errorf("%w: %s holds no RSA public key", ErrCertificateUnusable, u.Redacted())
	}
	return pub, leaf.NotAfter, nil
}

// verifyV1 checks a signature version 1 message (spec §8.1): every
// parameter but signature, sorted by name case-insensitively, name and
// value concatenated without separators, HMAC-SHA1 keyed with secret.
func verifyV1(secret string, params url.Values, signature string) error {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != "signature" {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var b strings.Builder
	for _, name := range names {
		for _, value := range params[name] {
			b.WriteString(name)
			b.WriteString(value)
		}
	}
	want, err := sigv2.SignHMAC(sigv2.HmacSHA1, secret, b.String())
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrSignatureMismatch
	}
	return nil
}

// SignatureVerifierAPI is the VerifySignature action; *Client implements
// it.
type SignatureVerifierAPI interface {
	VerifySignature(ctx context.Context, in *VerifySignatureInput, optFns ...func(*Options)) (*VerifySignatureOutput, error)
}

// RemoteVerifier asks FPS through the VerifySignature action, as Amazon
// required from 2010 on: UrlEndPoint is the endpoint without its query,
// HttpParameters the raw query or body as received.
type RemoteVerifier struct {
	api SignatureVerifierAPI
}

// NewRemoteVerifier returns a RemoteVerifier that calls api (usually a
// *Client).
func NewRemoteVerifier(api SignatureVerifierAPI) *RemoteVerifier {
	return &RemoteVerifier{api: api}
}

// Verify implements Verifier. The message is checked for the signature
// fields before the call; version 1 messages are refused.
func (v *RemoteVerifier) Verify(ctx context.Context, method, endpoint, raw string) (url.Values, error) {
	ep, err := parseEndpoint(method, endpoint)
	if err != nil {
		return nil, err
	}
	o, err := parseOutbound(ep, raw)
	if err != nil {
		return nil, err
	}
	if o.version == "" {
		return nil, fmt.Errorf("%w: signatureVersion is missing (VerifySignature checks version 2 only)", ErrUnsupportedSignatureVersion)
	}
	out, err := v.api.VerifySignature(ctx, &VerifySignatureInput{URLEndPoint: o.bare, HTTPParameters: raw})
	if err != nil {
		return nil, fmt.Errorf("fps: VerifySignature: %w", err)
	}
	switch out.VerificationStatus {
	case VerificationStatusSuccess:
		return o.params, nil
	case VerificationStatusFailure:
		return nil, ErrVerificationFailed
	default:
		return nil, fmt.Errorf("%w: unexpected VerificationStatus %q", ErrVerificationFailed, string(out.VerificationStatus))
	}
}
