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
	"net/url"
	"slices"
	"strings"
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

func unreserved(c byte) bool { return unreservedBytes[c] }

// unreservedBytes is the constant RFC 3986 unreserved set, as a table.
var unreservedBytes = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func appendEscaped[T ~string | ~[]byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// sortParams orders params by name in byte order, then by value, as the
// canonical query requires. Requests hold a few dozen parameters at most,
// so an insertion sort is the fast one.
func sortParams(params []Param) {
	if len(params) > 32 {
		slices.SortFunc(params, func(a, b Param) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
		return
	}
	for i := 1; i < len(params); i++ {
		for j := i; j > 0 && paramLess(params[j], params[j-1]); j-- {
			params[j], params[j-1] = params[j-1], params[j]
		}
	}
}

func paramLess(a, b Param) bool {
	return a.Name < b.Name || a.Name == b.Name && a.Value < b.Value
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
func CanonicalHost(u *url.URL) string { return string(appendCanonicalHost(nil, u)) }

func appendCanonicalHost(b []byte, u *url.URL) []byte {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		b = append(append(append(b, '['), host...), ']')
	} else {
		b = append(b, host...)
	}
	port := u.Port()
	if port == "" || (port == "80" && u.Scheme == "http") || (port == "443" && u.Scheme == "https") {
		return b
	}
	return append(append(b, ':'), port...)
}

// CanonicalPath returns the path line of the string to sign: each
// "/"-separated segment of the decoded path escaped with Escape, "/" when
// the path is empty.
func CanonicalPath(path string) string { return string(appendCanonicalPath(nil, path)) }

func appendCanonicalPath(b []byte, path string) []byte {
	if path == "" {
		return append(b, '/')
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' || unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

func appendStringToSignPrefix(b []byte, method string, endpoint *url.URL) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = appendCanonicalHost(b, endpoint)
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
	var buf [base64HMACMax]byte
	sig, err := appendHMAC(buf[:0], method, secret, []byte(stringToSign))
	return string(sig), err
}

// base64HMACMax is the length of a base64 HMAC-SHA256.
const base64HMACMax = 44

// appendHMAC appends the base64 HMAC of msg keyed with secret to dst.
func appendHMAC(dst []byte, method SignatureMethod, secret string, msg []byte) ([]byte, error) {
	var h func() hash.Hash
	switch method {
	case HmacSHA256:
		h = sha256.New
	case HmacSHA1:
		h = sha1.New
	default:
		return dst, fmt.Errorf("fps: signature method %q is not HmacSHA256 or HmacSHA1", string(method))
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(msg)
	var sum [sha256.Size]byte
	return base64.StdEncoding.AppendEncode(dst, mac.Sum(sum[:0])), nil
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
	creds, err := c.credentials(ctx)
	if err != nil {
		return "", err
	}
	params = append(params,
		Param{d.key, creds.AccessKeyID},
		Param{d.method, string(c.options.SignatureMethod)},
		Param{d.version, "2"},
	)
	sortParams(params)
	b := appendStringToSignPrefix(make([]byte, 0, 512), httpMethod, endpoint)
	prefix := len(b)
	b = appendCanonicalQuery(b, params)
	var buf [base64HMACMax]byte
	sig, err := appendHMAC(buf[:0], c.options.SignatureMethod, creds.SecretAccessKey, b)
	if err != nil {
		return "", err
	}
	if c.options.LogStringToSign && c.options.Logger != nil {
		c.options.Logger.DebugContext(ctx, "fps: string to sign",
			"string_to_sign", strings.ReplaceAll(string(b), Escape(creds.AccessKeyID), "REDACTED"))
	}
	b = append(b, '&')
	b = append(b, d.signature...)
	b = append(b, '=')
	b = appendEscaped(b, sig)
	return string(b[prefix:]), nil
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
	params := ParamsFromValues(received)
	params = slices.DeleteFunc(params, func(p Param) bool { return p.Name == "signature" })
	return StringToSign(method, endpoint, params)
}

// VerifyRSASHA1 checks signature, base64 that may hold line breaks, as a
// PKCS#1 v1.5 RSA-SHA1 signature of stringToSign under pub. It returns nil
// or an error wrapping ErrSignatureMismatch.
func VerifyRSASHA1(pub *rsa.PublicKey, stringToSign, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64: %v", ErrSignatureMismatch, err)
	}
	digest := sha1.Sum([]byte(stringToSign))
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
