package fpstest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

// signForm adds the version 2 API signature of the default account to
// params, as a client would send them to the simulator at endpoint.
func signForm(tb testing.TB, s *Server, params url.Values) string {
	params.Set("AWSAccessKeyId", DefaultAccessKeyID)
	params.Set("SignatureVersion", "2")
	params.Set("SignatureMethod", "HmacSHA256")
	if params.Get("Timestamp") == "" {
		params.Set("Timestamp", s.Clock().Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	params.Del("Signature")
	endpoint, err := url.Parse(s.APIEndpoint())
	require.NoError(tb, err)
	sig, err := fps.SignHMAC(fps.HmacSHA256, DefaultSecretAccessKey, fps.StringToSign("POST", endpoint, params))
	require.NoError(tb, err)
	return sigv2.CanonicalQuery(sigv2.Params(params)) + "&Signature=" + url.QueryEscape(sig)
}

// FuzzSimulatorRequest serves any request to the simulator's handler in
// process: a raw method, path, query and body, or (signed) the query's
// parameters signed by the default account and posted to the API, so that
// the actions themselves see arbitrary parameters. No request may panic
// or be answered 500 when no fault is configured.
func FuzzSimulatorRequest(f *testing.F) {
	f.Add("POST", "/", "", []byte("Action=Pay&SenderTokenId=T&TransactionAmount.Value=1&TransactionAmount.CurrencyCode=USD&CallerReference=r"), true)
	f.Add("POST", "/", "", []byte("Action=Reserve&SenderTokenId=T&TransactionAmount.Value=1.00&TransactionAmount.CurrencyCode=USD&CallerReference=r"), true)
	f.Add("POST", "/", "", []byte("Action=GetTransactionStatus&TransactionId=X"), true)
	f.Add("POST", "/", "", []byte("Action=GetTokenByCaller&CallerReference=r"), true)
	f.Add("POST", "/", "", []byte("Action=Refund&TransactionId=X&CallerReference=r2&RefundAmount.Value=1&RefundAmount.CurrencyCode=USD"), true)
	f.Add("POST", "/", "", []byte("Action=Settle&ReserveTransactionId=X&TransactionAmount.Value=1&TransactionAmount.CurrencyCode=USD"), true)
	f.Add("POST", "/", "", []byte("Action=GetAccountActivity&StartDate=2009-01-01T00:00:00Z&MaxBatchSize=2"), true)
	f.Add("POST", "/", "", []byte("Action=VerifySignature&UrlEndPoint=http%3A%2F%2Fwww.mysite.com%2Fipn.jsp&HttpParameters=a%3Db"), true)
	f.Add("GET", "/cobranded-ui/actions/start", "callerKey=AKIAFPSTESTDEFAULT00&callerReference=callerReferenceSingleUse&currencyCode=USD&paymentReason=HarryPotter%201-5%20DVD%20set&pipelineName=SingleUse&returnURL=http%3A%2F%2Fwww.mysite.com%2Fcall_back.jsp&signatureMethod=HmacSHA256&signatureVersion=2&transactionAmount=5&version=2009-01-09&signature=x", []byte(nil), false)
	f.Add("POST", "/cobranded-ui/actions/decide", "", []byte("session=1&action=approve&paymentMethod=CC"), false)
	f.Add("POST", "/cobranded-ui/actions/buy", "", []byte("url=%2Fcobranded-ui%2Factions%2Fstart%3FpipelineName%3DSingleUse&action=approve"), false)
	f.Add("GET", "/certs/x/PKICert.pem", "", []byte(nil), false)
	f.Add("GET", "/", "Action=Pay&Signature=%ZZ", []byte(nil), false)
	s := NewServer(f, func(c *Config) { c.PlainHTTP = true })
	h := s.routes()
	f.Fuzz(func(t *testing.T, method, path, rawQuery string, body []byte, signed bool) {
		if signed {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return
			}
			method, path, rawQuery, body = http.MethodPost, "/", "", []byte(signForm(t, s, form))
		}
		r := httptest.NewRequest(http.MethodGet, "/", bytes.NewReader(body))
		r.Method = method
		r.URL = &url.URL{Path: path, RawQuery: rawQuery}
		r.RequestURI = r.URL.RequestURI()
		if method == http.MethodPost || len(body) > 0 {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, rawQuery, body, w.Code, w.Body)
		}
	})
}

// TestRequestBodyCapped checks that the API and every Co-Branded UI form
// refuse a body over MaxRequestBody, and take one just under it.
func TestRequestBodyCapped(t *testing.T) {
	s := NewServer(t, func(c *Config) { c.PlainHTTP = true })
	h := s.routes()
	for _, path := range []string{"/", cbuiDecidePath, cbuiBuyPath} {
		for _, tc := range []struct {
			size    int
			tooLong bool
		}{{MaxRequestBody - 64, false}, {MaxRequestBody + 1, true}} {
			body := "a=" + strings.Repeat("x", tc.size-2)
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusBadRequest, w.Code, path)
			require.Equal(t, tc.tooLong, strings.Contains(w.Body.String(), "too large"), "%s %d: %s", path, tc.size, w.Body)
		}
	}
}
