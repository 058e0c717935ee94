// Package sigv2 is Amazon's Signature Version 2 as FPS uses it: the one
// canonicaliser of parameters, hosts and paths, the HMAC that callers sign
// requests and pipeline URLs with, and the RSA-SHA1 that Amazon signed
// return URLs and IPNs with. The client and the simulator both use it, so
// that what one signs the other checks byte for byte.
package sigv2

import (
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

// Param is one request parameter: a name and its decoded value. Names are
// case-sensitive: "CallerReference" and "callerReference" are two
// parameters.
type Param struct {
	Name, Value string
}

// HMAC method names, as sent in SignatureMethod (API) or signatureMethod
// (CBUI).
const (
	HmacSHA256 = "HmacSHA256"
	HmacSHA1   = "HmacSHA1"
)

// ErrSignatureMismatch is returned when a signature does not verify.
var ErrSignatureMismatch = errors.New("fps: signature does not match")

// unreserved marks the bytes that escaping keeps (RFC 3986).
var unreserved = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// Escape percent-encodes s as Signature Version 2 canonicalises names and
// values (RFC 3986): A-Z a-z 0-9 - _ . ~ stay as they are, every other
// byte of the UTF-8 encoding becomes %XX with upper-case hex, so a space
// is %20.
func Escape(s string) string {
	return string(AppendEscaped(nil, s))
}

// AppendEscaped appends s, escaped as Escape does, to b.
func AppendEscaped[T string | []byte](b []byte, s T) []byte {
	kept := 0 // s[kept:i] is unreserved, not yet appended
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved[c] {
			b = append(b, s[kept:i]...)
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
			kept = i + 1
		}
	}
	return append(b, s[kept:]...)
}

// Params flattens v into a Param list, every value of a repeated name
// kept.
func Params(v url.Values) []Param {
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

// ParseForm decodes a query string or form body, as received, into the
// list of its parameters and the same as url.Values. It refuses what
// url.ParseQuery refuses: a bad escape or a ";" separator.
func ParseForm(raw string) ([]Param, url.Values, error) {
	list := make([]Param, 0, strings.Count(raw, "&")+1)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		if strings.Contains(piece, ";") {
			return nil, nil, errors.New("invalid semicolon separator in query")
		}
		name, value, _ := strings.Cut(piece, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, nil, err
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return nil, nil, err
		}
		list = append(list, Param{Name: name, Value: value})
	}
	// One backing array holds every value; a name's first value takes a
	// slice of it with no room to grow, so a repeated name copies.
	values := make(url.Values, len(list))
	backing := make([]string, len(list))
	for i, p := range list {
		if vs, ok := values[p.Name]; ok {
			values[p.Name] = append(vs, p.Value)
			continue
		}
		backing[i] = p.Value
		values[p.Name] = backing[i : i+1 : i+1]
	}
	return list, values, nil
}

// Sort orders params as the canonical query requires: by name in byte
// order, then by value.
func Sort(params []Param) {
	slices.SortFunc(params, compare)
}

// compare orders two parameters by name, then value. Names of one request
// nearly always differ in their first byte, which decides without a call.
func compare(a, b Param) int {
	if a.Name != "" && b.Name != "" && a.Name[0] != b.Name[0] {
		return int(a.Name[0]) - int(b.Name[0])
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// AppendQuery appends the canonical query of params, given in any order:
// sorted by name in byte order (then by value), names and values escaped,
// joined with "=" and "&". params is not modified.
func AppendQuery(b []byte, params []Param) []byte {
	// The positions of the parameters are sorted rather than the
	// parameters: moving an int32 costs no write barrier, where moving a
	// parameter writes two pointers.
	var stack [32]int32
	order := stack[:0]
	if len(params) > len(stack) {
		order = make([]int32, 0, len(params))
	}
	for i := range params {
		order = append(order, int32(i))
	}
	// The order is total, so a stable sort sorts the same; for the twenty
	// or so parameters of a request it is the standard library's plain
	// insertion sort, a little cheaper than its pattern-defeating one.
	slices.SortStableFunc(order, func(i, j int32) int { return compare(params[i], params[j]) })
	for n, i := range order {
		if n > 0 {
			b = append(b, '&')
		}
		b = AppendEscaped(b, params[i].Name)
		b = append(b, '=')
		b = AppendEscaped(b, params[i].Value)
	}
	return b
}

// CanonicalQuery returns the canonical query of params: sorted by name in
// byte order, names and values escaped, joined with "=" and "&". params is
// not modified; the caller leaves the signature parameter out.
func CanonicalQuery(params []Param) string {
	return string(AppendQuery(nil, params))
}

// Host returns the host line of the string to sign for u: the host
// lower-cased, with ":port" only when the port is not the scheme's default
// (80 for http, 443 for https).
func Host(u *url.URL) string {
	host := BareHost(u)
	port := u.Port()
	if port == "" || (port == "80" && u.Scheme == "http") || (port == "443" && u.Scheme == "https") {
		return host
	}
	return host + ":" + port
}

// BareHost returns the host of u lower-cased, without any port: the host
// line that every known FPS client library signs, whatever port it sends
// the request to.
func BareHost(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	return host
}

// Path returns the path line of the string to sign: each "/"-separated
// segment of the decoded path escaped, "/" when the path is empty.
func Path(path string) string {
	if path == "" {
		return "/"
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = Escape(s)
	}
	return strings.Join(segments, "/")
}

// AppendPrefix appends the first three lines of the string to sign, each
// followed by "\n": method, the canonical host of endpoint and its
// canonical path.
func AppendPrefix(b []byte, method string, endpoint *url.URL) []byte {
	return AppendPrefixHost(b, method, Host(endpoint), endpoint.Path)
}

// AppendPrefixHost is AppendPrefix with the host line given.
func AppendPrefixHost(b []byte, method, host, path string) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, host...)
	b = append(b, '\n')
	b = append(b, Path(path)...)
	return append(b, '\n')
}

// StringToSign returns the string to sign: the HTTP method, the canonical
// host and path of endpoint and the canonical query of params, joined by
// "\n". It is the string callers sign (HMAC) for API calls and CBUI URLs,
// and the one Amazon signed (RSA) for return URLs and IPNs. params is not
// modified; the caller leaves the signature parameter out.
func StringToSign(method string, endpoint *url.URL, params []Param) string {
	return string(AppendQuery(AppendPrefix(nil, method, endpoint), params))
}

// AppendOutboundQuery appends the canonical query Amazon signed for the
// received params of a return URL or an IPN: every parameter but
// "signature". The "signature" parameters of params are removed.
func AppendOutboundQuery(b []byte, params []Param) []byte {
	return AppendQuery(b, slices.DeleteFunc(params, func(p Param) bool { return p.Name == "signature" }))
}

// OutboundStringToSign returns the string Amazon signed for a return URL
// (method GET) or an IPN (method POST) received at endpoint: every
// received parameter but "signature", under the host and path of endpoint.
func OutboundStringToSign(method string, endpoint *url.URL, received url.Values) string {
	return string(AppendOutboundQuery(AppendPrefix(nil, method, endpoint), Params(received)))
}

// NewHMAC returns a new HMAC keyed with secret, with the hash that method
// (HmacSHA256 or HmacSHA1) names.
func NewHMAC(method, secret string) (hash.Hash, error) {
	switch method {
	case HmacSHA256:
		return hmac.New(sha256.New, []byte(secret)), nil
	case HmacSHA1:
		return hmac.New(sha1.New, []byte(secret)), nil
	default:
		return nil, fmt.Errorf("fps: signature method %q is not HmacSHA256 or HmacSHA1", method)
	}
}

// SignHMAC returns the base64 HMAC of stringToSign keyed with secret, with
// the hash that method names.
func SignHMAC(method, secret, stringToSign string) (string, error) {
	mac, err := NewHMAC(method, secret)
	if err != nil {
		return "", err
	}
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SignRSASHA1 returns the base64 PKCS#1 v1.5 RSA-SHA1 signature of
// stringToSign: what Amazon put in the "signature" parameter of return
// URLs and IPNs.
func SignRSASHA1(priv *rsa.PrivateKey, stringToSign string) (string, error) {
	digest := sha1.Sum([]byte(stringToSign))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA1, digest[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyRSASHA1 checks signature, base64 that may hold line breaks, as a
// PKCS#1 v1.5 RSA-SHA1 signature of stringToSign under pub. It returns nil
// or an error wrapping ErrSignatureMismatch.
func VerifyRSASHA1(pub *rsa.PublicKey, stringToSign []byte, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64: %v", ErrSignatureMismatch, err)
	}
	digest := sha1.Sum(stringToSign)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest[:], sig); err != nil {
		return ErrSignatureMismatch
	}
	return nil
}
