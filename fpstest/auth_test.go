package fpstest_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// indepEscape is RFC 3986 escaping written apart from package fps: the
// vectors README's rule (unreserved kept, the rest %XX upper case).
func indepEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// indepSign signs pairs for method, host and path the way the vectors
// README describes, without package fps, and returns the signature.
func indepSign(alg, secret, method, host, path string, pairs [][2]string) string {
	sorted := append([][2]string(nil), pairs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i][0] < sorted[j][0] })
	var q []string
	for _, p := range sorted {
		q = append(q, indepEscape(p[0])+"="+indepEscape(p[1]))
	}
	sts := method + "\n" + strings.ToLower(host) + "\n" + path + "\n" + strings.Join(q, "&")
	h := sha256.New
	if alg == "HmacSHA1" {
		h = func() hash.Hash { return sha1.New() }
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestIndependentlySignedRequestAccepted(t *testing.T) {
	for _, tc := range []struct {
		name, method, alg string
		plusSpaces        bool
	}{
		{"GET-SHA256", http.MethodGet, "HmacSHA256", false},
		{"POST-SHA256-plus", http.MethodPost, "HmacSHA256", true},
		{"POST-SHA1", http.MethodPost, "HmacSHA1", false},
		{"GET-SHA1-plus", http.MethodGet, "HmacSHA1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
			tok := install(t, s, "ABT", fpstest.TokenMultiUse)
			u, _ := url.Parse(s.URL)
			pairs := [][2]string{
				{"Action", "Pay"}, {"AWSAccessKeyId", fpstest.DefaultAccessKeyID},
				{"SignatureVersion", "2"}, {"SignatureMethod", tc.alg}, {"Version", "2008-09-17"},
				{"Timestamp", time.Now().UTC().Format("2006-01-02T15:04:05Z")},
				{"SenderTokenId", tok}, {"TransactionAmount.Value", "1.50"}, {"TransactionAmount.CurrencyCode", "USD"},
				{"CallerReference", "indep " + tc.name}, {"CallerDescription", "a~b c*d+e/f"},
			}
			sig := indepSign(tc.alg, fpstest.DefaultSecretAccessKey, tc.method, u.Host, "/", pairs)
			var parts []string
			for _, p := range append(pairs, [2]string{"Signature", sig}) {
				v := indepEscape(p[1])
				if tc.plusSpaces {
					v = strings.ReplaceAll(v, "%20", "+")
				}
				parts = append(parts, indepEscape(p[0])+"="+v)
			}
			raw := strings.Join(parts, "&")
			var req *http.Request
			if tc.method == http.MethodGet {
				req, _ = http.NewRequest(http.MethodGet, s.URL+"/?"+raw, nil)
			} else {
				req, _ = http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(raw))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}
			resp, err := s.HTTPClient().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, 1, s.Ledger().ChargeCount("indep "+tc.name))
		})
	}
}

func TestHostWithoutPortVerifies(t *testing.T) {
	// A client that signs the host without the port (boto) and sends a
	// Host header without it verifies too: the Host header is the truth.
	s := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
	u, _ := url.Parse(s.URL)
	pairs := [][2]string{
		{"Action", "GetAccountBalance"}, {"AWSAccessKeyId", fpstest.DefaultAccessKeyID},
		{"SignatureVersion", "2"}, {"SignatureMethod", "HmacSHA256"}, {"Version", "2008-09-17"},
		{"Timestamp", time.Now().UTC().Format(time.RFC3339)},
	}
	sig := indepSign("HmacSHA256", fpstest.DefaultSecretAccessKey, "GET", "LocalHost", "/", pairs)
	v := url.Values{}
	for _, p := range pairs {
		v.Set(p[0], p[1])
	}
	v.Set("Signature", sig)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/?"+v.Encode(), nil)
	req.Host = "LocalHost"
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_ = u
}

func TestAuthenticationErrors(t *testing.T) {
	s := newServer(t)
	old := s.Clock().Now().Add(-16 * time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
	cases := []struct {
		name     string
		form     url.Values
		status   int
		code     string
		contains []string
	}{
		{"unknown key", signedAs(t, s, "AKIANOBODY", "secret", "POST", "GetAccountBalance", nil), 400, "InvalidClientTokenId", nil},
		{"wrong secret", signedAs(t, s, fpstest.DefaultAccessKeyID, "wrong", "POST", "GetAccountBalance", nil), 400, "SignatureDoesNotMatch", nil},
		{"signed for GET sent by POST", signed(t, s, "GET", "GetAccountBalance", nil), 400, "SignatureDoesNotMatch", nil},
		{"tampered value", func() url.Values {
			v := signed(t, s, "POST", "GetTransactionStatus", map[string]string{"TransactionId": strings.Repeat("A", 35)})
			v.Set("TransactionId", strings.Repeat("B", 35))
			return v
		}(), 400, "SignatureDoesNotMatch", nil},
		{"malformed timestamp", signed(t, s, "POST", "GetAccountBalance", nil, func(v url.Values) { v.Set("Timestamp", "2010-02-26 T19:48:05.000Z") }),
			400, "InvalidParameterValue", []string{"Value (2010-02-26 T19:48:05.000Z) for parameter Timestamp is invalid. Must be in ISO8601 format."}},
		{"expired", signed(t, s, "POST", "GetAccountBalance", nil, func(v url.Values) { v.Set("Timestamp", old) }),
			400, "RequestExpired", []string{"Request has expired. Timestamp date is " + old}},
		{"missing timestamp", signed(t, s, "POST", "GetAccountBalance", nil, func(v url.Values) { v.Del("Timestamp") }), 400, "InvalidParams", []string{"Timestamp"}},
		{"bad signature method", func() url.Values {
			v := signed(t, s, "POST", "GetAccountBalance", nil)
			v.Set("SignatureMethod", "HmacMD5")
			return v
		}(), 400, "InvalidParameterValue", []string{"SignatureMethod"}},
		{"bad signature version", signed(t, s, "POST", "GetAccountBalance", nil, func(v url.Values) { v.Set("SignatureVersion", "1") }), 400, "InvalidParameterValue", []string{"SignatureVersion"}},
		{"missing key", signed(t, s, "POST", "GetAccountBalance", nil, func(v url.Values) { v.Del("AWSAccessKeyId") }), 400, "InvalidParams", []string{"AWSAccessKeyId"}},
		{"unknown action", signed(t, s, "POST", "GetSubscriptionDetails", nil), 400, "InvalidAction", []string{"GetSubscriptionDetails"}},
		{"missing required parameter", signed(t, s, "POST", "GetTransactionStatus", nil), 400, "InvalidParams", []string{"TransactionId"}},
		{"malformed transaction id", signed(t, s, "POST", "GetTransactionStatus", map[string]string{"TransactionId": "FAKE"}),
			400, "InvalidParams", []string{"transaction ID. Specified value: FAKE"}},
		{"unknown transaction", signed(t, s, "POST", "GetTransactionStatus", map[string]string{"TransactionId": strings.Repeat("Z", 35)}), 400, "InvalidTransactionId", nil},
		{"malformed amount", signed(t, s, "POST", "Pay", map[string]string{"SenderTokenId": "X", "TransactionAmount.Value": "1e3", "CallerReference": "r"}),
			400, "InvalidParameterValue", []string{"TransactionAmount.Value"}},
		{"bad currency", signed(t, s, "POST", "Pay", map[string]string{"SenderTokenId": "X", "TransactionAmount.Value": "1", "TransactionAmount.CurrencyCode": "EUR", "CallerReference": "r"}),
			400, "InvalidParameterValue", []string{"TransactionAmount.CurrencyCode"}},
		{"amount out of range", signed(t, s, "POST", "Pay", map[string]string{"SenderTokenId": "X", "TransactionAmount.Value": "0.00", "CallerReference": "r"}),
			400, "AmountOutOfRange", nil},
		{"long caller reference", signed(t, s, "POST", "Pay", map[string]string{"SenderTokenId": "X", "TransactionAmount.Value": "1", "CallerReference": strings.Repeat("r", 129)}),
			400, "InvalidParameterValue", []string{"CallerReference"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := send(t, s, http.MethodPost, tc.form)
			requireError(t, status, body, tc.status, tc.code, tc.contains...)
		})
	}
}

func TestClockAdvanceExpiresRequest(t *testing.T) {
	s := newServer(t)
	form := signed(t, s, "POST", "GetAccountBalance", nil)
	status, body := send(t, s, http.MethodPost, form)
	require.Equal(t, 200, status, body)
	s.Clock().Advance(20 * time.Minute)
	status, body = send(t, s, http.MethodPost, form)
	requireError(t, status, body, 400, "RequestExpired")
}

func TestSecondAccount(t *testing.T) {
	other := fpstest.Account{AccessKeyID: "AKIAOTHER", SecretAccessKey: "other-secret", Name: "Other"}
	s := newServer(t, func(c *fpstest.Config) { c.Accounts = []fpstest.Account{fpstest.DefaultAccount(), other} })
	status, body := send(t, s, "POST", signedAs(t, s, other.AccessKeyID, other.SecretAccessKey, "POST", "GetAccountBalance", nil))
	require.Equal(t, 200, status, body)
	// A token of the default account is not the other account's.
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	status, body = send(t, s, "POST", signedAs(t, s, other.AccessKeyID, other.SecretAccessKey, "POST", "Pay",
		map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "1", "CallerReference": "x"}))
	requireError(t, status, body, 400, "InvalidTokenId_Sender")
}
