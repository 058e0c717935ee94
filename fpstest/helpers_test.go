package fpstest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// testKey is shared by every simulator of the tests (RSA key generation is
// slow under -race).
var testKey *rsa.PrivateKey

func TestMain(m *testing.M) {
	var err error
	if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func newServer(t testing.TB, optFns ...func(*fpstest.Config)) *fpstest.Server {
	return fpstest.NewServer(t, append([]func(*fpstest.Config){func(c *fpstest.Config) { c.SigningKey = testKey }}, optFns...)...)
}

// signed returns the API form for action with params, signed for method
// with the account's secret through package fps's canonicaliser.
func signed(t testing.TB, s *fpstest.Server, method, action string, params map[string]string, opts ...func(url.Values)) url.Values {
	t.Helper()
	return signedAs(t, s, fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey, method, action, params, opts...)
}

func signedAs(t testing.TB, s *fpstest.Server, key, secret, method, action string, params map[string]string, opts ...func(url.Values)) url.Values {
	t.Helper()
	v := url.Values{}
	v.Set("Action", action)
	v.Set("AWSAccessKeyId", key)
	v.Set("SignatureVersion", "2")
	v.Set("SignatureMethod", "HmacSHA256")
	v.Set("Version", "2008-09-17")
	v.Set("Timestamp", s.Clock().Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	for k, x := range params {
		v.Set(k, x)
	}
	for _, o := range opts {
		o(v)
	}
	endpoint, err := url.Parse(s.APIEndpoint())
	require.NoError(t, err)
	sig, err := fps.SignHMAC(fps.SignatureMethod(v.Get("SignatureMethod")), secret, fps.StringToSign(method, endpoint, v))
	require.NoError(t, err)
	v.Set("Signature", sig)
	return v
}

// send sends form to the API with method and returns the status and body.
func send(t testing.TB, s *fpstest.Server, method string, form url.Values) (int, string) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, s.APIEndpoint()+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, s.APIEndpoint(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	require.NoError(t, err)
	return sendReq(t, s, req)
}

// sendReq sends req with the simulator's client and returns the status
// and body.
func sendReq(t testing.TB, s *fpstest.Server, req *http.Request) (int, string) {
	t.Helper()
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// call POSTs a signed action and returns status and body.
func call(t testing.TB, s *fpstest.Server, action string, params map[string]string) (int, string) {
	t.Helper()
	return send(t, s, http.MethodPost, signed(t, s, http.MethodPost, action, params))
}

// callIn POSTs a signed action of API version and returns status and
// body.
func callIn(t testing.TB, s *fpstest.Server, version, action string, params map[string]string) (int, string) {
	t.Helper()
	return send(t, s, http.MethodPost, signed(t, s, http.MethodPost, action, params, func(v url.Values) { v.Set("Version", version) }))
}

// subscribe creates a monthly subscription of 9.99 of the default
// account and returns its id.
func subscribe(t testing.TB, s *fpstest.Server) string {
	t.Helper()
	id, err := s.Ledger().Subscribe(fpstest.DefaultAccessKeyID, fpstest.Subscription{
		Description: "Monthly box", Amount: decimal.RequireFromString("9.99"),
		Frequency: fps.Duration{Value: 1, TimeUnit: fps.TimeUnitMonth},
	})
	require.NoError(t, err)
	return id
}

type errorDoc struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

// requireError checks an error answer: HTTP status, code, and that the
// message contains each of contains.
func requireError(t testing.TB, status int, body string, wantStatus int, code string, contains ...string) {
	t.Helper()
	require.Equal(t, wantStatus, status, body)
	var e errorDoc
	require.NoError(t, xml.Unmarshal([]byte(body), &e), body)
	require.Equal(t, code, e.Code, body)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, e.RequestID)
	for _, c := range contains {
		require.Contains(t, e.Message, c)
	}
}

// txDoc reads the Result of Pay/Reserve/Settle/Refund/Cancel.
type txDoc struct {
	XMLName xml.Name
	Result  struct {
		XMLName       xml.Name
		TransactionID string `xml:"TransactionId"`
		Status        string `xml:"TransactionStatus"`
	} `xml:",any"`
	RequestID     string `xml:"ResponseMetadata>RequestId"`
	TransactionID string `xml:"-"`
	Status        string `xml:"-"`
}

// okTxFn returns okTx bound to t, to take a (status, body) call result
// directly.
func okTxFn(t testing.TB) func(int, string) txDoc {
	return func(status int, body string) txDoc { t.Helper(); return okTx(t, status, body) }
}

func okTx(t testing.TB, status int, body string) txDoc {
	t.Helper()
	require.Equal(t, http.StatusOK, status, body)
	var d txDoc
	require.NoError(t, xml.Unmarshal([]byte(body), &d), body)
	d.TransactionID, d.Status = d.Result.TransactionID, d.Result.Status
	require.Contains(t, []string{fps.Namespace(fps.APIVersion20080917), fps.Namespace(fps.APIVersion20100828), fps.Namespace(fps.APIVersion20110920)}, d.XMLName.Space)
	require.Equal(t, strings.TrimSuffix(d.XMLName.Local, "Response")+"Result", d.Result.XMLName.Local)
	require.Regexp(t, `^[A-Z0-9]{35}$`, d.TransactionID)
	require.Regexp(t, `:0$`, d.RequestID)
	return d
}

func pay(t testing.TB, s *fpstest.Server, action, token, amount, ref string) (int, string) {
	t.Helper()
	return call(t, s, action, map[string]string{
		"SenderTokenId": token, "TransactionAmount.Value": amount,
		"TransactionAmount.CurrencyCode": "USD", "CallerReference": ref,
	})
}

func install(t testing.TB, s *fpstest.Server, method, typ string) string {
	t.Helper()
	id, err := s.Ledger().InstallToken(fpstest.DefaultAccessKeyID, typ, method, "tok-"+method+typ+time.Now().Format("150405.000000000"), decimal.Zero)
	require.NoError(t, err)
	return id
}

// setupPrepaid approves a SetupPrepaid pipeline (callerReference ref,
// paid by ABT) and returns its return parameters: prepaidInstrumentID,
// prepaidSenderTokenID, fundingTokenID.
func setupPrepaid(t testing.TB, s *fpstest.Server, ref string) url.Values {
	t.Helper()
	u, err := s.Buy(context.Background(), pipelineURL(t, s, map[string]string{"pipelineName": "SetupPrepaid", "callerReference": ref,
		"returnURL": "http://127.0.0.1:9/r", "callerReferenceSender": ref + "-s", "callerReferenceFunding": ref + "-f", "fundingAmount": "50"}),
		fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	return u.Query()
}

// setupPostpaid approves a SetupPostpaid pipeline (callerReference ref,
// credit limit 100, paid by method) and returns its return parameters:
// creditInstrumentID, creditSenderTokenID, settlementTokenID.
func setupPostpaid(t testing.TB, s *fpstest.Server, ref, method string) url.Values {
	t.Helper()
	u, err := s.Buy(context.Background(), pipelineURL(t, s, map[string]string{"pipelineName": "SetupPostpaid", "callerReference": ref,
		"returnURL": "http://127.0.0.1:9/r", "callerReferenceSender": ref + "-s", "callerReferenceSettlement": ref + "-st",
		"creditLimit": "100", "globalAmountLimit": "100"}), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	require.NoError(t, err)
	return u.Query()
}
