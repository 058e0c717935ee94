package fps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fpskit/fps/internal/sigv2"
)

// SignatureMethod names the HMAC of Signature Version 2.
type SignatureMethod string

const (
	// HmacSHA256 is the recommended Signature Version 2 method.
	HmacSHA256 SignatureMethod = sigv2.HmacSHA256
	// HmacSHA1 is the older Signature Version 2 method, still accepted.
	HmacSHA1 SignatureMethod = sigv2.HmacSHA1
)

// param is one request parameter: a name and its decoded value.
type param = sigv2.Param

// Checking a signature by hand. The client signs every API call and
// pipeline URL itself, and the verifiers check return URLs and IPNs; these
// functions show what was (or should have been) signed, for example to
// diagnose SignatureDoesNotMatch.

// StringToSign returns the Signature Version 2 string to sign for a
// request to endpoint with params (the signature parameter left out): the
// HTTP method, the lower-cased host (with ":port" when not the scheme's
// default), the path with each segment RFC 3986-escaped, and the
// canonical query (names sorted in byte order, names and values
// RFC 3986-escaped, joined with "=" and "&"), separated by "\n". Callers
// sign it with HMAC for API calls (POST) and pipeline URLs (GET); see
// SignHMAC.
func StringToSign(method string, endpoint *url.URL, params url.Values) string {
	return sigv2.StringToSign(method, endpoint, sigv2.Params(params))
}

// SignHMAC returns the base64 HMAC of stringToSign keyed with secret, with
// the hash that method names: the Signature (or signature) parameter of a
// request.
func SignHMAC(method SignatureMethod, secret, stringToSign string) (string, error) {
	return sigv2.SignHMAC(string(method), secret, stringToSign)
}

// Outbound signatures: Amazon signed return URLs and IPNs with RSA-SHA1
// under Signature Version 2.

// Outbound signature parameter values.
const (
	OutboundSignatureVersion = "2"
	OutboundSignatureMethod  = "RSA-SHA1"
)

// ErrSignatureMismatch is returned when a signature does not verify.
var ErrSignatureMismatch = sigv2.ErrSignatureMismatch

// OutboundStringToSign returns the string Amazon signed for a return URL
// (method GET) or an IPN (method POST) received at endpoint: every
// received parameter but "signature", canonicalised as in StringToSign,
// under the host and path of endpoint (the URL the merchant registered,
// its query ignored). The signature is PKCS#1 v1.5 RSA-SHA1 under the key
// of the certificate named in certificateUrl.
func OutboundStringToSign(method string, endpoint *url.URL, received url.Values) string {
	return sigv2.OutboundStringToSign(method, endpoint, received)
}

// keyedMAC is an HMAC in its keyed state with room for its sum, which
// would otherwise escape to the heap through the hash.Hash interface on
// every call.
type keyedMAC struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// base64HMACSize is the length of a base64 HMAC-SHA256 (and more than that
// of HMAC-SHA1).
const base64HMACSize = (sha256.Size + 2) / 3 * 4

// append appends to b the base64 of the HMAC over parts, and resets the
// HMAC to its keyed state.
func (k *keyedMAC) append(b []byte, parts ...[]byte) []byte {
	for _, p := range parts {
		k.h.Write(p)
	}
	b = base64.StdEncoding.AppendEncode(b, k.h.Sum(k.sum[:0]))
	k.h.Reset()
	return b
}

// macCache keeps keyed HMACs of one client for reuse: hmac.New derives the
// inner and outer keys and allocates each time, while Reset returns an
// HMAC to its keyed state. Credentials can rotate, so the pool is keyed by
// secret and method, and replaced whole when either changes.
type macCache struct {
	cur atomic.Pointer[macPool]
}

type macPool struct {
	method SignatureMethod
	secret string
	pool   sync.Pool // of *keyedMAC
}

// get returns the pool for method and secret, making it if the current
// one is for other keys.
func (m *macCache) get(method SignatureMethod, secret string) (*macPool, error) {
	if p := m.cur.Load(); p != nil && p.secret == secret && p.method == method {
		return p, nil
	}
	if _, err := sigv2.NewHMAC(string(method), secret); err != nil {
		return nil, err
	}
	p := &macPool{method: method, secret: secret}
	p.pool.New = func() any {
		mac, _ := sigv2.NewHMAC(string(method), secret)
		return &keyedMAC{h: mac}
	}
	m.cur.Store(p)
	return p, nil
}

// appendHMAC appends to b the base64 HMAC, keyed with secret, of the
// message made of parts.
func (m *macCache) appendHMAC(b []byte, method SignatureMethod, secret string, parts ...[]byte) ([]byte, error) {
	p, err := m.get(method, secret)
	if err != nil {
		return b, err
	}
	k := p.pool.Get().(*keyedMAC)
	b = k.append(b, parts...)
	p.pool.Put(k)
	return b, nil
}

// dialect names the signature parameters of one protocol: the API uses
// upper camel case, the CBUI lower camel case.
type dialect struct {
	key, method, version, signature string
}

var (
	apiDialect  = dialect{"AWSAccessKeyId", "SignatureMethod", "SignatureVersion", "Signature"}
	cbuiDialect = dialect{"callerKey", "signatureMethod", "signatureVersion", "signature"}
)

// appendSignedQuery adds the dialect's key, method and version parameters
// to params, signs them for httpMethod and endpoint with the credentials
// and method of o, and appends to dst the query to send: exactly the
// canonical query that was signed, followed by the signature.
func (c *Client) appendSignedQuery(ctx context.Context, o *Options, dst []byte, httpMethod string, endpoint *url.URL, d dialect, params []param) ([]byte, error) {
	creds, err := o.credentials(ctx)
	if err != nil {
		return dst, err
	}
	params = append(params,
		param{Name: d.key, Value: creds.AccessKeyID},
		param{Name: d.method, Value: string(o.SignatureMethod)},
		param{Name: d.version, Value: "2"},
	)
	start := len(dst)
	dst = sigv2.AppendQuery(dst, params)
	query := dst[start:]
	prefix := c.stringToSignPrefix(httpMethod, endpoint)
	var sigBuf [base64HMACSize]byte
	sig, err := c.macs.appendHMAC(sigBuf[:0], o.SignatureMethod, creds.SecretAccessKey, prefix, query)
	if err != nil {
		return dst[:start], err
	}
	if o.LogStringToSign && o.Logger != nil {
		o.Logger.DebugContext(ctx, "fps: string to sign",
			"string_to_sign", strings.ReplaceAll(string(prefix)+string(query), sigv2.Escape(creds.AccessKeyID), "REDACTED"))
	}
	dst = append(dst, '&')
	dst = append(dst, d.signature...)
	dst = append(dst, '=')
	return sigv2.AppendEscaped(dst, sig), nil
}

// stringToSignPrefix returns the first lines of the string to sign for
// method and endpoint: those of the client's API calls and pipeline URLs
// are computed once, by New.
func (c *Client) stringToSignPrefix(method string, endpoint *url.URL) []byte {
	switch {
	case endpoint == c.api && method == http.MethodPost:
		return c.apiPrefix
	case endpoint == c.cbui && method == http.MethodGet:
		return c.cbuiPrefix
	}
	return sigv2.AppendPrefix(nil, method, endpoint)
}
