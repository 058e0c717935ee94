package fps

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

// Verification errors; test with errors.Is. Each says whether the message
// is refused (the sender cannot make it pass by trying again) or could not
// be checked now: package integration answers 403 to the first kind and
// 503 to ErrCertificateUnusable and to errors of the VerifySignature call,
// so that Amazon delivers the IPN again later.
var (
	// ErrNoSignature: the message carries no signature parameter. Refused.
	ErrNoSignature = errors.New("fps: message is not signed")
	// ErrUnsupportedSignatureVersion: signatureVersion is not 2 (or is
	// missing, meaning version 1, which was not opted in). Refused.
	ErrUnsupportedSignatureVersion = errors.New("fps: unsupported signature version")
	// ErrUnsupportedSignatureMethod: signatureMethod is not RSA-SHA1.
	// Refused.
	ErrUnsupportedSignatureMethod = errors.New("fps: unsupported signature method")
	// ErrCertificateURLNotAllowed: certificateUrl is missing, not a URL,
	// not plain https (user info, opaque), has a "." or ".." path segment,
	// is on a host that is not allowed, or serves a certificate that is
	// not issued to its host (LocalVerifier). Refused.
	ErrCertificateURLNotAllowed = errors.New("fps: certificate URL not allowed")
	// ErrCertificateUnusable: the LocalVerifier has no usable key for
	// certificateUrl now: the download failed (network, timeout, HTTP
	// status, redirect, size), what it got is not a certificate chaining
	// to a trusted CA or holds no RSA key, the same URL failed less than
	// LocalVerifierOptions.FailureTTL ago, or too many downloads from its
	// host were made recently (LocalVerifierOptions.MaxDownloadsPerHost).
	// The message could not be checked now; a genuine sender tries again.
	ErrCertificateUnusable = errors.New("fps: certificate unusable")
	// ErrVerificationFailed: the VerifySignature action answered Failure.
	// Refused.
	ErrVerificationFailed = errors.New("fps: VerifySignature answered Failure")
	// ErrMalformed: the parameters are not form-encoded, or (after the
	// signature was checked) a field does not parse. Refused.
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
	// DefaultCertificateCacheSize is how many certificates a LocalVerifier
	// keeps, and how many failed downloads it remembers. Amazon signed
	// with a handful of certificates over the years (spec §8.2).
	DefaultCertificateCacheSize = 32
	// DefaultCertificateFailureTTL is how long a LocalVerifier remembers a
	// failed download, and the window of its per-host download limit.
	DefaultCertificateFailureTTL = time.Minute
	// DefaultMaxCertificateDownloadsPerHost is how many downloads a
	// LocalVerifier makes from one host in any
	// DefaultCertificateFailureTTL: far more than the one download per
	// certificate that genuine messages need.
	DefaultMaxCertificateDownloadsPerHost = 8
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
//
// A downloaded certificate must chain to RootCAs and be issued to the
// host it was downloaded from: one of its DNS names or IP addresses (the
// subject alternative names x509.Certificate.VerifyHostname checks; the
// common name is not used). A certificate issued to any other name is
// refused with ErrCertificateURLNotAllowed. A certificate names a host,
// not a port: every port allowed on a host serves that host's
// certificates. Pinned keys are used as they are, without these checks.
//
// Certificate URLs are compared in a normalised form, which keys the
// cache and PinnedKeys and is the URL downloaded: the scheme; the host
// lower-cased, with its port unless it is 443; the path split at "/",
// each segment percent-decoded and encoded again with A-Z a-z 0-9 - _ . ~
// kept and every other byte as %XX in upper case ("/" when empty); no
// query, no fragment. So "https://FPS.amazonaws.com:443/certs/%30%39/PKICert%2epem?requestId=1"
// and "https://fps.amazonaws.com/certs/09/PKICert.pem" are the same URL,
// downloaded once. "%2F" inside a segment stays distinct from "/", and
// empty segments ("//") and a trailing "/" are kept: those name other
// URLs. A path with a "." or ".." segment (also spelled "%2E") is refused
// with ErrCertificateURLNotAllowed: Amazon's certificate URLs have none.
//
// Downloads are bounded. Messages naming one URL at the same time share
// one download. A usable certificate is kept until it expires, up to
// CacheSize of them (the least recently used dropped first). A failed
// download is remembered for FailureTTL, up to CacheSize failures: the URL
// is answered the same error without a download until then. Each host
// gets at most MaxDownloadsPerHost downloads (in flight, succeeded or
// failed) in any FailureTTL; past that, a URL not in the cache is answered
// ErrCertificateUnusable without a download. So made-up certificate URLs
// on an allowed host cause at most MaxDownloadsPerHost requests to it per
// FailureTTL, and failures never push out a cached certificate: messages
// whose certificate is cached keep verifying. The limit: while such a
// flood goes on, a genuine message whose certificate is not cached yet
// may be answered ErrCertificateUnusable (503 in package integration)
// until a download is free again; Amazon delivers an IPN again for a day,
// and PinnedKeys needs no download at all.
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
	// download. A URL is matched in its normalised form, so a pin for
	// ".../PKICert.pem" covers ".../PKICert.pem?requestId=...".
	PinnedKeys map[string]*rsa.PublicKey

	// FetchTimeout bounds one certificate download;
	// DefaultCertificateFetchTimeout by default.
	FetchTimeout time.Duration

	// MaxCertificateSize caps the downloaded PEM in bytes;
	// DefaultMaxCertificateSize by default.
	MaxCertificateSize int64

	// CacheSize is how many certificates are kept, and how many failed
	// downloads are remembered; DefaultCertificateCacheSize by default.
	CacheSize int

	// FailureTTL is how long a failed download is remembered, and the
	// window of MaxDownloadsPerHost; DefaultCertificateFailureTTL by
	// default.
	FailureTTL time.Duration

	// MaxDownloadsPerHost bounds the downloads from one host in any
	// FailureTTL; DefaultMaxCertificateDownloadsPerHost by default.
	MaxDownloadsPerHost int

	// SignatureVersion1Secret, when set, opts in to signature version 1:
	// messages without signatureVersion are checked as HMAC-SHA1 keyed with
	// this secret access key. Amazon withdrew version 1; leave it empty
	// unless old notifications must be checked.
	SignatureVersion1Secret string

	// Clock returns the time the certificate chain is checked at and the
	// cache's entries expire by; time.Now by default.
	Clock func() time.Time
}

// LocalVerifier checks RSA-SHA1 signatures itself, with the public key of
// the certificate at certificateUrl: fetched over https from an allowed
// host only, without redirects, size-capped, its chain verified, issued
// to that host, and cached under the normalised URL within the bounds
// LocalVerifierOptions describes; or pinned by the caller. It checks the
// signature over the HTTP method the message arrived with, which
// RemoteVerifier cannot: it is the verifier to use by default. It is safe
// for concurrent use.
type LocalVerifier struct {
	options LocalVerifierOptions
	allowed map[string]bool
	pinned  map[string]*rsa.PublicKey
	http    *http.Client
	certs   certCache

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
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCertificateCacheSize
	}
	if o.FailureTTL <= 0 {
		o.FailureTTL = DefaultCertificateFailureTTL
	}
	if o.MaxDownloadsPerHost <= 0 {
		o.MaxDownloadsPerHost = DefaultMaxCertificateDownloadsPerHost
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	v := &LocalVerifier{
		options: o,
		allowed: make(map[string]bool, len(o.AllowedHosts)),
		pinned:  make(map[string]*rsa.PublicKey, len(o.PinnedKeys)),
		certs:   newCertCache(o.CacheSize),
	}
	for _, h := range o.AllowedHosts {
		v.allowed[sigv2.Host(&url.URL{Scheme: "https", Host: h})] = true
	}
	for raw, pub := range o.PinnedKeys {
		if u, err := url.Parse(raw); err == nil {
			if key, err := certificateKey(u); err == nil {
				raw = key
			}
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
//
// VerifySignature cannot tell two things, so neither can RemoteVerifier:
//
//   - The HTTP method. The action takes none, so a message signed for GET
//     passes as one signed for POST: the query of a return URL, moved into
//     a POST body and sent to an IPN URL, passes as an IPN. A caller that
//     uses RemoteVerifier for IPNs must check the notification's fields
//     against FPS (GetTransaction) before acting on it.
//   - Whose account the message concerns. Amazon signed the messages of
//     every merchant with the same key, so a genuine message about another
//     merchant's payment or token passes. The same holds for LocalVerifier:
//     a verified message says only that Amazon sent it.
//
// LocalVerifier checks the signature over the method the message arrived
// with and needs no call per message: it is the verifier to use by
// default. RemoteVerifier is for when the service itself must decide.
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
