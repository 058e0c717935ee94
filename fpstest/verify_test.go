package fpstest_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

func vstatus(t *testing.T) func(int, string) string {
	return func(status int, body string) string { t.Helper(); return verificationStatus(t, status, body) }
}

func verificationStatus(t *testing.T, status int, body string) string {
	t.Helper()
	require.Equal(t, 200, status, body)
	var d struct {
		V string `xml:"VerifySignatureResult>VerificationStatus"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &d))
	return d.V
}

func TestVerifySignatureAction(t *testing.T) {
	s := newServer(t)
	u, err := s.Buy(context.Background(), pipelineURL(t, s, singleUse("vs")), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	endpoint := "http://127.0.0.1:9/shop/return"

	unsigned := func(ep, hp string) (int, string) {
		v := url.Values{"Action": {"VerifySignature"}, "Version": {"2008-09-17"}, "UrlEndPoint": {ep}, "HttpParameters": {hp}}
		return send(t, s, http.MethodGet, v)
	}
	require.Equal(t, "Success", vstatus(t)(unsigned(endpoint, u.RawQuery)))
	// Signed, like the SDKs, and with %20 instead of + for spaces.
	require.Equal(t, "Success", vstatus(t)(call(t, s, "VerifySignature", map[string]string{
		"UrlEndPoint": endpoint, "HttpParameters": strings.ReplaceAll(u.RawQuery, "+", "%20")})))

	require.Equal(t, "Failure", vstatus(t)(unsigned(endpoint+"/", u.RawQuery)), "trailing slash")
	require.Equal(t, "Failure", vstatus(t)(unsigned(endpoint, u.RawQuery+"&id=1")), "extra parameter")
	require.Equal(t, "Failure", vstatus(t)(unsigned(endpoint, strings.Replace(u.RawQuery, "order=42", "order=43", 1))), "changed value")

	q := u.Query()
	q.Del("certificateUrl")
	status, body := unsigned(endpoint, q.Encode())
	requireError(t, status, body, 400, "InvalidParams", "certificateUrl is missing in 'HttpParameters'.")
	status, body = unsigned("not a url", u.RawQuery)
	requireError(t, status, body, 400, "InvalidParams", "is an invalid URL")
	status, body = unsigned("", u.RawQuery)
	requireError(t, status, body, 400, "InvalidParams", "UrlEndPoint")
}

func TestVerifySignatureForIPN(t *testing.T) {
	k := newSink(t, 0)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL + "/ipn"
	s := newServer(t, func(c *fpstest.Config) { c.Accounts = []fpstest.Account{acct} })
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "vs-ipn"))
	waitFor(t, func() bool { return len(s.Deliveries()) == 1 })
	body := s.Deliveries()[0].Body
	require.Equal(t, "Success", vstatus(t)(call(t, s, "VerifySignature", map[string]string{"UrlEndPoint": acct.IPNURL, "HttpParameters": body})))
	require.Equal(t, "Failure", vstatus(t)(call(t, s, "VerifySignature", map[string]string{"UrlEndPoint": k.srv.URL + "/other", "HttpParameters": body})))
}
