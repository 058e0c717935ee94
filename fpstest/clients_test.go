package fpstest_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// The requests of the FPS clients known (fps-api-versions §8), signed and
// encoded as each one does, with a signer written here (indepSign), on a
// simulator listening on a random, so non-default, port.

// wireEscape is how a client writes one name or value on the wire.
type wireEscape func(string) string

// rfc3986 is the escaping of Amazon's 2008-09-17 PHP library,
// amazon_flex_pay and remit.
var rfc3986 wireEscape = indepEscape

// formEscape escapes s as an HTML form does: letters, digits and the
// bytes of keep as they are, a space as "+", every other byte %XX.
func formEscape(s, keep string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// phpQuery is PHP's http_build_query (urlencode): "-_." kept, so "~" is
// %7E.
func phpQuery(s string) string { return formEscape(s, "-_.") }

// javaForm is java.net.URLEncoder (Apache's UrlEncodedFormEntity): ".-*_"
// kept.
func javaForm(s string) string { return formEscape(s, ".-*_") }

// botoQuote is Python's quote(s, safe='-_~'): letters, digits and "_.-~"
// kept, everything else %XX, a space %20.
var botoQuote wireEscape = indepEscape

// pythonQuotePlus is quote_plus(s), boto's escaping of the Signature it
// appends last: "/" %2F, "+" %2B, "=" %3D, a space "+".
func pythonQuotePlus(s string) string { return strings.ReplaceAll(indepEscape(s), "%20", "+") }

// client is how one FPS client library signs and sends an API call.
type client struct {
	name, method string
	// hostWithPort: the Host header carries the port (cURL, rest-client,
	// Apache HttpClient); otherwise the bare host, as PHP08's sockets and
	// boto send it.
	hostWithPort bool
	escape       wireEscape
	// sigEscape writes the Signature; escape when nil.
	sigEscape   wireEscape
	sorted      bool   // parameters sent sorted by name
	contentType string // POST only
	timestamp   string // layout
	version     string
}

var knownClients = []client{
	{name: "PHP08", method: http.MethodPost, escape: rfc3986, sorted: true,
		contentType: "application/x-www-form-urlencoded; charset=utf-8", timestamp: "2006-01-02T15:04:05.000Z", version: "2008-09-17"},
	{name: "PHP10", method: http.MethodPost, hostWithPort: true, escape: phpQuery, sorted: true,
		contentType: "application/x-www-form-urlencoded", timestamp: "2006-01-02T15:04:05.000Z", version: "2010-08-28"},
	{name: "JAVA10", method: http.MethodPost, hostWithPort: true, escape: javaForm,
		contentType: "application/x-www-form-urlencoded; charset=UTF-8", timestamp: "2006-01-02T15:04:05.000Z", version: "2010-08-28"},
	{name: "boto", method: http.MethodGet, escape: botoQuote, sigEscape: pythonQuotePlus, sorted: true,
		timestamp: "2006-01-02T15:04:05Z", version: "2010-08-28"},
	{name: "amazon_flex_pay", method: http.MethodGet, hostWithPort: true, escape: rfc3986,
		timestamp: "2006-01-02T15:04:05Z", version: "2011-09-20"},
	{name: "remit", method: http.MethodGet, hostWithPort: true, escape: rfc3986, sorted: true,
		timestamp: "2006-01-02T15:04:05Z", version: "2008-09-17"},
}

// signedCall is one API call as a client would send it: pairs signed over
// signedHost, method and path.
type signedCall struct {
	c          client
	pairs      [][2]string
	secret     string
	signedHost string
	signedFor  string // the method signed
	path       string // the path signed
	// onWire replaces values after signing.
	onWire map[string]string
}

// request writes the call to the simulator at s the client's way.
func (sc signedCall) request(t *testing.T, s *fpstest.Server) *http.Request {
	t.Helper()
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	sig := indepSign("HmacSHA256", sc.secret, sc.signedFor, sc.signedHost, sc.path, sc.pairs)
	pairs := slices.Clone(sc.pairs)
	for i, p := range pairs {
		if v, ok := sc.onWire[p[0]]; ok {
			pairs[i][1] = v
		}
	}
	if sc.c.sorted {
		slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	} else {
		slices.Reverse(pairs) // any order but the canonical one
	}
	var parts []string
	for _, p := range pairs {
		parts = append(parts, sc.c.escape(p[0])+"="+sc.c.escape(p[1]))
	}
	sigEscape := sc.c.sigEscape
	if sigEscape == nil {
		sigEscape = sc.c.escape
	}
	raw := strings.Join(parts, "&") + "&Signature=" + sigEscape(sig)
	var req *http.Request
	if sc.c.method == http.MethodGet {
		req, err = http.NewRequest(http.MethodGet, s.URL+"/?"+raw, nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(raw))
		req.Header.Set("Content-Type", sc.c.contentType)
	}
	require.NoError(t, err)
	if !sc.c.hostWithPort {
		req.Host = u.Hostname()
	}
	return req
}

// payCall is a Pay of token as client c signs it: the bare host, as every
// client known signs it.
func payCall(t *testing.T, s *fpstest.Server, c client, token, ref string) signedCall {
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(u.Host)
	require.NotContains(t, []string{"", "80", "443"}, port, "the simulator must listen on a non-default port")
	pairs := [][2]string{
		{"Action", "Pay"}, {"AWSAccessKeyId", fpstest.DefaultAccessKeyID},
		{"SignatureVersion", "2"}, {"SignatureMethod", "HmacSHA256"}, {"Version", c.version},
		{"Timestamp", s.Clock().Now().UTC().Format(c.timestamp)},
		{"SenderTokenId", token}, {"TransactionAmount.Value", "1.50"}, {"TransactionAmount.CurrencyCode", "USD"},
		{"CallerReference", ref}, {"CallerDescription", "Order 7: a~b c*d+e/f (ünï)"},
	}
	return signedCall{c: c, pairs: pairs, secret: fpstest.DefaultSecretAccessKey,
		signedHost: u.Hostname(), signedFor: c.method, path: "/"}
}

// TestKnownClientsAreAccepted sends a Pay signed and encoded the way each
// known client does (the host signed without the port, GET or POST, "+"
// or %20 for a space, "~" kept or %7E, sorted or not, Content-Type with
// or without charset), over http and https on a non-default port: each is
// accepted and charges once.
func TestKnownClientsAreAccepted(t *testing.T) {
	for _, plain := range []bool{true, false} {
		s := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = plain })
		for _, c := range knownClients {
			t.Run(strings.SplitN(s.URL, ":", 2)[0]+"/"+c.name, func(t *testing.T) {
				tok := install(t, s, "ABT", fpstest.TokenMultiUse)
				ref := "client " + c.name + " " + s.URL
				status, body := sendReq(t, s, payCall(t, s, c, tok, ref).request(t, s))
				okTx(t, status, body)
				require.Contains(t, body, `xmlns="http://fps.amazonaws.com/doc/`+c.version+`/"`)
				require.Equal(t, 1, s.Ledger().ChargeCount(ref))
			})
		}
	}
}

// TestTamperedClientCallsAreRefused changes one thing of a call signed as
// PHP10 signs (POST, bare host, http_build_query): a parameter's value,
// the method, the path, the key or the host signed. Each is
// SignatureDoesNotMatch, and nothing is charged.
func TestTamperedClientCallsAreRefused(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
	php10 := knownClients[1]
	require.Equal(t, "PHP10", php10.name)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	for name, tamper := range map[string]func(*signedCall){
		"another value":  func(sc *signedCall) { sc.onWire = map[string]string{"TransactionAmount.Value": "15.00"} },
		"another method": func(sc *signedCall) { sc.signedFor = http.MethodGet },
		"another path":   func(sc *signedCall) { sc.path = "/fps/" },
		"another key":    func(sc *signedCall) { sc.secret = "not the account's secret" },
		"another host":   func(sc *signedCall) { sc.signedHost = "fps.sandbox.amazonaws.com" },
	} {
		t.Run(name, func(t *testing.T) {
			ref := "tampered " + name
			sc := payCall(t, s, php10, tok, ref)
			tamper(&sc)
			status, body := sendReq(t, s, sc.request(t, s))
			requireError(t, status, body, http.StatusBadRequest, "SignatureDoesNotMatch")
			require.Zero(t, s.Ledger().ChargeCount(ref))
		})
	}
	// Untampered, the same call is accepted.
	okTxFn(t)(sendReq(t, s, payCall(t, s, php10, tok, "untampered").request(t, s)))
}

// TestPipelineURLsWithAndWithoutPort opens a pipeline URL signed over the
// host with its port (Amazon's PHP and Java pipeline classes) and without
// it (amazon_flex_pay, remit) at a simulator on a non-default port: both
// open the buyer's page. A changed value, another key or another path
// sends the buyer back with an error naming the signature.
func TestPipelineURLsWithAndWithoutPort(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	open := func(t *testing.T, signedHost, path, secret string, tamper func(url.Values)) *http.Response {
		t.Helper()
		pairs := [][2]string{
			{"callerKey", fpstest.DefaultAccessKeyID}, {"signatureMethod", "HmacSHA256"}, {"signatureVersion", "2"},
			{"version", "2009-01-09"}, {"pipelineName", "SingleUse"}, {"callerReference", "cbui " + signedHost + path},
			{"transactionAmount", "5.00"}, {"returnURL", "http://127.0.0.1:9/shop/return"}, {"paymentReason", "a~b c"},
		}
		q := url.Values{}
		for _, p := range pairs {
			q.Set(p[0], p[1])
		}
		q.Set("signature", indepSign("HmacSHA256", secret, http.MethodGet, signedHost, path, pairs))
		if tamper != nil {
			tamper(q)
		}
		resp, err := noRedirect.Get(s.CBUIEndpoint() + "?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	const path = "/cobranded-ui/actions/start"
	for _, host := range []string{u.Host, u.Hostname()} {
		t.Run("signed "+host, func(t *testing.T) {
			resp := open(t, host, path, fpstest.DefaultSecretAccessKey, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, "the buyer's page opens")

			for name, bad := range map[string]*http.Response{
				"another value": open(t, host, path, fpstest.DefaultSecretAccessKey, func(q url.Values) { q.Set("transactionAmount", "50.00") }),
				"another key":   open(t, host, path, "not the secret", nil),
				"another path":  open(t, host, "/cobranded-ui/actions/other", fpstest.DefaultSecretAccessKey, nil),
				"another host":  open(t, "authorize.payments-sandbox.amazon.com", path, fpstest.DefaultSecretAccessKey, nil),
			} {
				require.Equal(t, http.StatusFound, bad.StatusCode, name)
				ret, err := url.Parse(bad.Header.Get("Location"))
				require.NoError(t, err, name)
				require.Equal(t, "CE", ret.Query().Get("status"), name)
				require.Contains(t, ret.Query().Get("errorMessage"), "signature", name)
			}
		})
	}
}
