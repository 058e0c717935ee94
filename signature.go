package fps

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// SignatureMethod names the HMAC of Signature Version 2.
type SignatureMethod string

const (
	// HmacSHA256 is the recommended Signature Version 2 method.
	HmacSHA256 SignatureMethod = "HmacSHA256"
	// HmacSHA1 is the older Signature Version 2 method, still accepted.
	HmacSHA1 SignatureMethod = "HmacSHA1"
)

// Param is one request parameter: a name and its decoded value. Names are
// case-sensitive: "CallerReference" and "callerReference" are two
// parameters.
type Param struct {
	Name, Value string
}

// Escape percent-encodes s the way Signature Version 2 canonicalises names
// and values (RFC 3986): A-Z a-z 0-9 - _ . ~ stay as they are, every other
// byte of the UTF-8 encoding becomes %XX with upper-case hex, so a space is
// %20.
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s))
		}
	}
	return s
}

func unreserved(c byte) bool { return unreservedTable[c] }

// unreservedTable marks the bytes Escape keeps. It is read only.
var unreservedTable = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func appendEscaped[T string | []byte](b []byte, s T) []byte {
	// Values are mostly unreserved: copy each run of kept bytes at once.
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreservedTable[c] {
			continue
		}
		b = append(b, s[run:i]...)
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		run = i + 1
	}
	return append(b, s[run:]...)
}

// sortParams orders params by name in byte order, then by value, as the
// canonical query requires. A request has a few dozen parameters at most:
// an insertion sort that shifts rather than swaps is the cheapest.
func sortParams(params []Param) {
	if len(params) > 64 {
		slices.SortFunc(params, func(a, b Param) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
		return
	}
	for i := 1; i < len(params); i++ {
		x := params[i]
		j := i
		for ; j > 0 && paramLess(x, params[j-1]); j-- {
		}
		if j < i {
			copy(params[j+1:i+1], params[j:i])
			params[j] = x
		}
	}
}

func paramLess(a, b Param) bool {
	// Names mostly differ in their first byte: decide that without a
	// string comparison.
	if a.Name != "" && b.Name != "" && a.Name[0] != b.Name[0] {
		return a.Name[0] < b.Name[0]
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Value < b.Value
}

// appendCanonicalQuery is the one canonicaliser: it appends the sorted
// params, names and values escaped, joined with "=" and "&".
func appendCanonicalQuery(b []byte, sorted []Param) []byte {
	for i, p := range sorted {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendEscaped(b, p.Name)
		b = append(b, '=')
		b = appendEscaped(b, p.Value)
	}
	return b
}

// ParamsFromValues flattens v into a Param list, every value of a repeated
// name kept.
func ParamsFromValues(v url.Values) []Param {
	n := 0
	for _, vs := range v {
		n += len(vs)
	}
	params := make([]Param, 0, n)
	for name, vs := range v {
		for _, value := range vs {
			params = append(params, Param{name, value})
		}
	}
	return params
}

// CanonicalQuery returns the Signature Version 2 canonical query of params:
// sorted by name in byte order, names and values escaped with Escape,
// joined with "=" and "&". params is not modified. The caller leaves the
// signature parameter out.
func CanonicalQuery(params []Param) string {
	sorted := slices.Clone(params)
	sortParams(sorted)
	return string(appendCanonicalQuery(nil, sorted))
}

// CanonicalHost returns the host line of the string to sign for u: the
// host lower-cased, with ":port" only when the port is not the scheme's
// default (80 for http, 443 for https).
func CanonicalHost(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || (port == "80" && u.Scheme == "http") || (port == "443" && u.Scheme == "https") {
		return host
	}
	return host + ":" + port
}

// CanonicalPath returns the path line of the string to sign: each
// "/"-separated segment of the decoded path escaped with Escape, "/" when
// the path is empty.
func CanonicalPath(path string) string {
	return string(appendCanonicalPath(nil, path))
}

// appendCanonicalPath escapes every byte of path but the "/" separators,
// which is escaping each segment and joining them with "/".
func appendCanonicalPath(b []byte, path string) []byte {
	if path == "" {
		return append(b, '/')
	}
	for {
		i := strings.IndexByte(path, '/')
		if i < 0 {
			return appendEscaped(b, path)
		}
		b = append(appendEscaped(b, path[:i]), '/')
		path = path[i+1:]
	}
}

func appendStringToSignPrefix(b []byte, method string, endpoint *url.URL) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, CanonicalHost(endpoint)...)
	b = append(b, '\n')
	b = appendCanonicalPath(b, endpoint.Path)
	return append(b, '\n')
}

// StringToSign returns the Signature Version 2 string to sign: the HTTP
// method, the canonical host, the canonical path and the canonical query
// of params, joined by "\n". It is the string signed for API calls and CBUI
// URLs (HMAC) and the one Amazon signed for return URLs and IPNs (RSA).
func StringToSign(method string, endpoint *url.URL, params []Param) string {
	sorted := slices.Clone(params)
	sortParams(sorted)
	b := appendStringToSignPrefix(make([]byte, 0, 256), method, endpoint)
	return string(appendCanonicalQuery(b, sorted))
}

// SignHMAC returns the base64 HMAC of stringToSign keyed with secret, with
// the hash that method names.
func SignHMAC(method SignatureMethod, secret, stringToSign string) (string, error) {
	var sig [base64HMACSize]byte
	b, err := appendHMAC(sig[:0], method, secret, []byte(stringToSign))
	return string(b), err
}

// base64HMACSize is the length of a base64 HMAC-SHA256 (and more than that
// of HMAC-SHA1).
const base64HMACSize = (sha256.Size + 2) / 3 * 4

// newMAC returns a new HMAC keyed with secret, with the hash that method
// names.
func newMAC(method SignatureMethod, secret string) (hash.Hash, error) {
	switch method {
	case HmacSHA256:
		return hmac.New(sha256.New, []byte(secret)), nil
	case HmacSHA1:
		return hmac.New(sha1.New, []byte(secret)), nil
	default:
		return nil, fmt.Errorf("fps: signature method %q is not HmacSHA256 or HmacSHA1", string(method))
	}
}

// appendHMAC appends to b the base64 HMAC, keyed with secret, of the
// message made of parts.
func appendHMAC(b []byte, method SignatureMethod, secret string, parts ...[]byte) ([]byte, error) {
	mac, err := newMAC(method, secret)
	if err != nil {
		return b, err
	}
	return (&keyedMAC{h: mac}).append(b, parts...), nil
}

// keyedMAC is an HMAC in its keyed state with room for its sum, which
// would otherwise escape to the heap through the hash.Hash interface on
// every call.
type keyedMAC struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// append appends to b the base64 of the HMAC over parts. The HMAC is left
// dirty.
func (k *keyedMAC) append(b []byte, parts ...[]byte) []byte {
	for _, p := range parts {
		k.h.Write(p)
	}
	return base64.StdEncoding.AppendEncode(b, k.h.Sum(k.sum[:0]))
}

// macCache keeps keyed HMACs for reuse by a client and the per-call
// clients made from it: hmac.New derives the inner and outer keys and
// allocates each time, while Reset returns an HMAC to its keyed state.
// Credentials can rotate, so the pool is keyed by secret and method, and
// replaced whole when either changes.
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
	if _, err := newMAC(method, secret); err != nil {
		return nil, err
	}
	p := &macPool{method: method, secret: secret}
	p.pool.New = func() any {
		mac, _ := newMAC(method, secret)
		return &keyedMAC{h: mac}
	}
	m.cur.Store(p)
	return p, nil
}

// appendHMAC is appendHMAC with a keyed HMAC from m.
func (m *macCache) appendHMAC(b []byte, method SignatureMethod, secret string, parts ...[]byte) ([]byte, error) {
	if m == nil {
		return appendHMAC(b, method, secret, parts...)
	}
	p, err := m.get(method, secret)
	if err != nil {
		return b, err
	}
	k := p.pool.Get().(*keyedMAC)
	b = k.append(b, parts...)
	k.h.Reset()
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

// signedQuery adds the dialect's key, method and version parameters to
// params, signs them for httpMethod and endpoint, and returns the query to
// send: exactly the canonical query that was signed, followed by the
// signature. params is reordered.
func (c *Client) signedQuery(ctx context.Context, httpMethod string, endpoint *url.URL, d dialect, params []Param) (string, error) {
	b, err := c.appendSignedQuery(ctx, make([]byte, 0, signedQuerySize(params)), httpMethod, endpoint, d, params)
	if err != nil {
		return "", err
	}
	return ownedString(b), nil
}

// ownedString returns b as a string without copying it, as
// strings.Builder does: b must not be written to afterwards.
func ownedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// signedQuerySize is room enough, in most cases, for the signed query of
// params: names, values with some escaping, and the signature parameters.
func signedQuerySize(params []Param) int {
	n := 160
	for _, p := range params {
		n += len(p.Name) + 2 + len(p.Value) + len(p.Value)/4
	}
	return n
}

// appendSignedQuery is signedQuery appending the query to dst, so that a
// caller can put the URL before it without copying the query again.
func (c *Client) appendSignedQuery(ctx context.Context, dst []byte, httpMethod string, endpoint *url.URL, d dialect, params []Param) ([]byte, error) {
	creds, err := c.credentials(ctx)
	if err != nil {
		return dst, err
	}
	params = append(params,
		Param{d.key, creds.AccessKeyID},
		Param{d.method, string(c.options.SignatureMethod)},
		Param{d.version, "2"},
	)
	sortParams(params)
	start := len(dst)
	dst = appendCanonicalQuery(dst, params)
	// The string to sign is the prefix, then the query just written. An
	// endpoint's prefix other than the client's own goes into dst's spare
	// room after the query, a buffer the HMAC may see (one on the stack
	// would escape through hash.Hash), and is cut off again.
	end := len(dst)
	prefix := c.stringToSignPrefix(httpMethod, endpoint)
	if prefix == nil {
		dst = appendStringToSignPrefix(dst, httpMethod, endpoint)
		prefix = dst[end:]
	}
	query := dst[start:end]
	var sigBuf [base64HMACSize]byte
	sig, err := c.macs.appendHMAC(sigBuf[:0], c.options.SignatureMethod, creds.SecretAccessKey, prefix, query)
	if err != nil {
		return dst[:start], err
	}
	if c.options.LogStringToSign && c.options.Logger != nil {
		c.options.Logger.DebugContext(ctx, "fps: string to sign",
			"string_to_sign", strings.ReplaceAll(string(prefix)+string(query), Escape(creds.AccessKeyID), "REDACTED"))
	}
	dst = append(dst[:end], '&')
	dst = append(dst, d.signature...)
	dst = append(dst, '=')
	return appendEscaped(dst, sig), nil
}

// stringToSignPrefix returns the first lines of the string to sign for
// method and endpoint when they are those of the client's API calls or
// pipeline URLs, computed once by New; nil otherwise.
func (c *Client) stringToSignPrefix(method string, endpoint *url.URL) []byte {
	switch {
	case endpoint == c.api && method == http.MethodPost:
		return c.apiPrefix
	case endpoint == c.cbui && method == http.MethodGet:
		return c.cbuiPrefix
	}
	return nil
}

// Outbound signatures: Amazon signed return URLs and IPNs with RSA-SHA1
// under Signature Version 2.

// Outbound signature parameter values.
const (
	OutboundSignatureVersion = "2"
	OutboundSignatureMethod  = "RSA-SHA1"
)

// ErrSignatureMismatch is returned when a signature does not verify.
var ErrSignatureMismatch = errors.New("fps: signature does not match")

// OutboundStringToSign returns the string Amazon signed for a return URL
// (method GET) or an IPN (method POST) received at endpoint: every
// received parameter but "signature", canonicalised as in StringToSign,
// under the host and path of endpoint (the URL the merchant registered,
// its query ignored).
func OutboundStringToSign(method string, endpoint *url.URL, received url.Values) string {
	b := appendStringToSignPrefix(make([]byte, 0, 512), method, endpoint)
	return string(appendOutboundQuery(b, ParamsFromValues(received)))
}

// appendOutboundQuery appends the canonical query Amazon signed for the
// received params, the last line of the string to sign (see
// OutboundStringToSign). params is reordered and its "signature"
// parameters dropped.
func appendOutboundQuery(b []byte, params []Param) []byte {
	params = slices.DeleteFunc(params, func(p Param) bool { return p.Name == "signature" })
	sortParams(params)
	return appendCanonicalQuery(b, params)
}

// parseForm is url.ParseQuery that also returns the parameters as a list,
// in the order received, for the string to sign: one pass over raw.
func parseForm(raw string) ([]Param, url.Values, error) {
	n := strings.Count(raw, "&") + 1
	if n > 1000 || strings.IndexByte(raw, ';') >= 0 {
		// Rare shapes (and ParseQuery's limits and errors) are left to it.
		v, err := url.ParseQuery(raw)
		return ParamsFromValues(v), v, err
	}
	params := make([]Param, 0, n)
	// Escaped names and values are decoded into one buffer, never longer
	// than raw, that the strings returned share.
	var decoded []byte
	for rest := raw; rest != ""; {
		var piece string
		piece, rest, _ = strings.Cut(rest, "&")
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		var ok1, ok2 bool
		k, decoded, ok1 = queryUnescape(k, decoded, len(raw))
		v, decoded, ok2 = queryUnescape(v, decoded, len(raw))
		if !ok1 || !ok2 {
			v, err := url.ParseQuery(raw)
			return ParamsFromValues(v), v, err
		}
		params = append(params, Param{k, v})
	}
	values := make(url.Values, len(params))
	backing := make([]string, len(params))
	for i, p := range params {
		if vs, ok := values[p.Name]; ok {
			values[p.Name] = append(vs, p.Value)
			continue
		}
		backing[i] = p.Value
		values[p.Name] = backing[i : i+1 : i+1]
	}
	return params, values, nil
}

// queryUnescape is url.QueryUnescape ("+" is a space, "%XX" a byte), s
// itself when there is nothing to decode, else decoded at the end of buf,
// made with room for size bytes the first time. ok is false for a "%"
// not followed by two hex digits; the caller leaves those to url.
func queryUnescape(s string, buf []byte, size int) (_ string, _ []byte, ok bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, buf, true
	}
	if buf == nil {
		buf = make([]byte, 0, size)
	}
	start := len(buf)
	run := 0 // start of the bytes not yet copied
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '+':
			buf = append(append(buf, s[run:i]...), ' ')
			run = i + 1
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return "", buf[:start], false
			}
			buf = append(append(buf, s[run:i]...), unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			run = i + 1
		}
	}
	buf = append(buf, s[run:]...)
	// buf has room for all of raw and is only appended to: the bytes
	// under this string are never written again.
	return unsafe.String(&buf[start], len(buf)-start), buf, true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// VerifyRSASHA1 checks signature, base64 that may hold line breaks, as a
// PKCS#1 v1.5 RSA-SHA1 signature of stringToSign under pub. It returns nil
// or an error wrapping ErrSignatureMismatch.
func VerifyRSASHA1(pub *rsa.PublicKey, stringToSign, signature string) error {
	return verifyRSASHA1(pub, []byte(stringToSign), signature)
}

func verifyRSASHA1(pub *rsa.PublicKey, stringToSign []byte, signature string) error {
	var buf [512]byte
	sig, err := base64.StdEncoding.AppendDecode(buf[:0], []byte(signature))
	if err != nil {
		return fmt.Errorf("%w: signature is not base64: %v", ErrSignatureMismatch, err)
	}
	digest := sha1.Sum(stringToSign)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest[:], sig); err != nil {
		return ErrSignatureMismatch
	}
	return nil
}

// SignRSASHA1 returns the base64 PKCS#1 v1.5 RSA-SHA1 signature of
// stringToSign: what Amazon put in the "signature" parameter of return
// URLs and IPNs. The simulator signs with it.
func SignRSASHA1(priv *rsa.PrivateKey, stringToSign string) (string, error) {
	digest := sha1.Sum([]byte(stringToSign))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA1, digest[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
