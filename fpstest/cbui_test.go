package fpstest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

// pipelineURL builds a signed pipeline start URL (lower-camel CBUI names,
// GET, the account secret).
func pipelineURL(t testing.TB, s *fpstest.Server, params map[string]string) string {
	t.Helper()
	v := url.Values{}
	v.Set("callerKey", fpstest.DefaultAccessKeyID)
	v.Set("signatureMethod", "HmacSHA256")
	v.Set("signatureVersion", "2")
	v.Set("version", "2009-01-09")
	for k, x := range params {
		if x == "" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	endpoint, err := url.Parse(s.CBUIEndpoint())
	require.NoError(t, err)
	sig, err := fps.SignHMAC(fps.HmacSHA256, fpstest.DefaultSecretAccessKey, fps.StringToSign("GET", endpoint, v))
	require.NoError(t, err)
	v.Set("signature", sig)
	return s.CBUIEndpoint() + "?" + v.Encode()
}

func singleUse(ref string) map[string]string {
	return map[string]string{
		"pipelineName": "SingleUse", "callerReference": ref, "transactionAmount": "5",
		"returnURL": "http://127.0.0.1:9/shop/return?order=42&note=a b", "paymentReason": "HarryPotter 1-5 DVD set",
	}
}

// verifyReturn runs the merchant-side check of a return URL.
func verifyReturn(s *fpstest.Server, u *url.URL, method string) error {
	endpoint := *u
	endpoint.RawQuery = ""
	params := u.Query()
	return sigv2.VerifyRSASHA1(s.PublicKey(), []byte(fps.OutboundStringToSign(method, &endpoint, params)), params.Get("signature"))
}

func TestScriptedBuyerSingleUse(t *testing.T) {
	s := newServer(t)
	u, err := s.Buy(context.Background(), pipelineURL(t, s, singleUse("su-buyer")), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	require.Equal(t, "/shop/return", u.Path)
	q := u.Query()
	require.Equal(t, "42", q.Get("order"), "the merchant's own parameters are kept")
	require.Equal(t, "a b", q.Get("note"))
	require.Equal(t, "SC", q.Get("status"))
	require.Equal(t, "su-buyer", q.Get("callerReference"))
	require.Regexp(t, `^[A-Z0-9]{64}$`, q.Get("tokenID"))
	require.Regexp(t, `^\d\d/\d{4}$`, q.Get("expiry"))
	require.Equal(t, "2", q.Get("signatureVersion"))
	require.Equal(t, "RSA-SHA1", q.Get("signatureMethod"))
	require.Equal(t, s.CertificateURL(), q.Get("certificateUrl"))
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	require.ElementsMatch(t, []string{"order", "note", "status", "callerReference", "tokenID", "expiry",
		"signatureVersion", "signatureMethod", "certificateUrl", "signature"}, names)
	require.NoError(t, verifyReturn(s, u, "GET"))

	ret, err := fps.ParsePipelineReturn(q)
	require.NoError(t, err)
	require.Equal(t, fps.PipelineStatusSuccessCC, ret.Status)

	// The token pays, once.
	okTxFn(t)(pay(t, s, "Pay", q.Get("tokenID"), "5", "su-buyer-pay"))
	status, body := pay(t, s, "Pay", q.Get("tokenID"), "5", "su-buyer-pay-2")
	requireError(t, status, body, 400, "TokenUsageError")
}

func TestReturnSignatureFailsWhenAnythingChanges(t *testing.T) {
	s := newServer(t)
	u, err := s.Buy(context.Background(), pipelineURL(t, s, singleUse("tamper")), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	require.NoError(t, verifyReturn(s, u, "GET"))
	require.True(t, errors.Is(verifyReturn(s, u, "POST"), fps.ErrSignatureMismatch), "method")
	for name := range u.Query() {
		if name == "signature" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c := *u
			q := c.Query()
			q.Set(name, q.Get(name)+"x")
			c.RawQuery = q.Encode()
			require.ErrorIs(t, verifyReturn(s, &c, "GET"), fps.ErrSignatureMismatch)
			q = u.Query()
			q.Del(name)
			c.RawQuery = q.Encode()
			require.ErrorIs(t, verifyReturn(s, &c, "GET"), fps.ErrSignatureMismatch)
		})
	}
	for _, ep := range []string{"http://127.0.0.1:9/shop/return/", "http://127.0.0.1:8/shop/return", "http://127.0.0.1/shop/return", "http://localhost:9/shop/return", "http://127.0.0.1:9/shop/Return"} {
		c, _ := url.Parse(ep)
		c.RawQuery = u.RawQuery
		require.ErrorIs(t, verifyReturn(s, c, "GET"), fps.ErrSignatureMismatch, ep)
	}
	extra := *u
	extra.RawQuery += "&id=7"
	require.ErrorIs(t, verifyReturn(s, &extra, "GET"), fps.ErrSignatureMismatch, "extra parameter")
}

func TestPipelineCallerException(t *testing.T) {
	s := newServer(t)
	cases := map[string]map[string]string{
		"[callerReference]":   {"callerReference": ""},
		"[transactionAmount]": {"transactionAmount": "abc"},
		"[paymentMethod]":     {"paymentMethod": "CC,BTC"},
	}
	for want, change := range cases {
		p := singleUse("ce")
		for k, v := range change {
			p[k] = v
		}
		u, err := s.Buy(context.Background(), pipelineURL(t, s, p), fpstest.BuyerChoice{Action: fpstest.Approve})
		require.NoError(t, err)
		q := u.Query()
		require.Equal(t, "CE", q.Get("status"), want)
		require.Equal(t, "The following input(s) are not well formed: "+want, q.Get("errorMessage"))
		require.NoError(t, verifyReturn(s, u, "GET"))
		require.Empty(t, q.Get("tokenID"))
	}
	// A tampered signature is a CE on [signature].
	raw := pipelineURL(t, s, singleUse("sig")) + "&paymentReason=changed"
	raw = strings.Replace(raw, "paymentReason=HarryPotter", "paymentReasonX=HarryPotter", 1)
	u, err := s.Buy(context.Background(), raw, fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	require.Equal(t, "CE", u.Query().Get("status"))
	require.Contains(t, u.Query().Get("errorMessage"), "signature")

	// SetupPostpaid without callerReferenceSettlement, as captured.
	u, err = s.Buy(context.Background(), pipelineURL(t, s, map[string]string{
		"pipelineName": "SetupPostpaid", "callerReference": "pp", "returnURL": "http://127.0.0.1:9/r",
		"callerReferenceSender": "pps", "creditLimit": "100", "globalAmountLimit": "100",
	}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	require.Equal(t, "The following input(s) are not well formed: [callerReferenceSettlement]", u.Query().Get("errorMessage"))

	// Without a usable returnURL there is nowhere to go back to.
	_, err = s.Buy(context.Background(), pipelineURL(t, s, map[string]string{"pipelineName": "SingleUse", "callerReference": "x", "transactionAmount": "1"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.Error(t, err)
}

func TestPipelineOutcomes(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	u, err := s.Buy(ctx, pipelineURL(t, s, singleUse("ab")), fpstest.BuyerChoice{Action: fpstest.Abandon})
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "A", q.Get("status"))
	require.Empty(t, q.Get("tokenID"))
	require.NoError(t, verifyReturn(s, u, "GET"))

	u, err = s.Buy(ctx, pipelineURL(t, s, singleUse("dn")), fpstest.BuyerChoice{Action: fpstest.Decline})
	require.NoError(t, err)
	require.Equal(t, "NP", u.Query().Get("status"))

	// paymentMethod limits the buyer's choice.
	p := singleUse("m")
	p["paymentMethod"] = "ABT"
	_, err = s.Buy(ctx, pipelineURL(t, s, p), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.Error(t, err)

	// Recipient.
	u, err = s.Buy(ctx, pipelineURL(t, s, map[string]string{"pipelineName": "Recipient", "callerReference": "rc",
		"returnURL": "http://127.0.0.1:9/r", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	q = u.Query()
	require.Equal(t, "SR", q.Get("status"))
	require.Regexp(t, `^[A-Z0-9]{64}$`, q.Get("refundTokenID"))
	require.NotEqual(t, q.Get("tokenID"), q.Get("refundTokenID"))
	require.NoError(t, verifyReturn(s, u, "GET"))

	// SetupPrepaid and SetupPostpaid.
	q = setupPrepaid(t, s, "pre")
	for _, k := range []string{"prepaidInstrumentID", "prepaidSenderTokenID", "fundingTokenID"} {
		require.Regexp(t, `^[A-Z0-9]{64}$`, q.Get(k), k)
	}
	fund := okTxFn(t)(call(t, s, "FundPrepaid", map[string]string{"SenderTokenId": q.Get("fundingTokenID"),
		"PrepaidInstrumentId": q.Get("prepaidInstrumentID"), "FundingAmount.Value": "20", "CallerReference": "fund-1"}))
	require.Equal(t, "Success", fund.Status)
	status, body := call(t, s, "GetPrepaidBalance", map[string]string{"PrepaidInstrumentId": q.Get("prepaidInstrumentID")})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<AvailableBalance><CurrencyCode>USD</CurrencyCode><Value>20.000000</Value></AvailableBalance>")
	okTxFn(t)(pay(t, s, "Pay", q.Get("prepaidSenderTokenID"), "15", "from-prepaid"))
	status, body = pay(t, s, "Pay", q.Get("prepaidSenderTokenID"), "15", "from-prepaid-2")
	requireError(t, status, body, 400, "InsufficientBalance")

	q = setupPostpaid(t, s, "post", "CC")
	okTxFn(t)(pay(t, s, "Pay", q.Get("creditSenderTokenID"), "30", "on-credit"))
	status, body = call(t, s, "GetDebtBalance", map[string]string{"CreditInstrumentId": q.Get("creditInstrumentID")})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<AvailableBalance><CurrencyCode>USD</CurrencyCode><Value>30.000000</Value></AvailableBalance>")
	status, body = call(t, s, "SettleDebt", map[string]string{"SenderTokenId": q.Get("settlementTokenID"),
		"CreditInstrumentId": q.Get("creditInstrumentID"), "SettlementAmount.Value": "31", "CallerReference": "sd-1"})
	requireError(t, status, body, 400, "SettleAmountGreaterThanDebt")
	okTxFn(t)(call(t, s, "WriteOffDebt", map[string]string{"CreditInstrumentId": q.Get("creditInstrumentID"),
		"AdjustmentAmount.Value": "10", "CallerReference": "wo-1"}))
}

func TestDuplicateCallerReferenceReturnsSameToken(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	u1, err := s.Buy(ctx, pipelineURL(t, s, singleUse("dup")), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	u2, err := s.Buy(ctx, pipelineURL(t, s, singleUse("dup")), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	require.Equal(t, u1.Query().Get("tokenID"), u2.Query().Get("tokenID"))
	require.NoError(t, verifyReturn(s, u2, "GET"))
	status, body := call(t, s, "GetTokenByCaller", map[string]string{"CallerReference": "dup"})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, u1.Query().Get("tokenID"))
}

func noRedirect(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

func TestPipelinePagesOverHTTP(t *testing.T) {
	s := newServer(t)
	hc := noRedirect(s.HTTPClient())
	p := singleUse("html")
	p["paymentReason"] = "<script>alert(1)</script>"
	resp, err := hc.Get(pipelineURL(t, s, p))
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.NotContains(t, string(page), "<script>alert")
	require.Contains(t, string(page), "&lt;script&gt;")
	m := regexp.MustCompile(`name="session" value="([A-Z0-9]+)"`).FindStringSubmatch(string(page))
	require.Len(t, m, 2, string(page))
	require.Contains(t, string(page), `value="ACH"`)

	resp, err = hc.PostForm(s.URL+"/cobranded-ui/actions/decide", url.Values{"session": {m[1]}, "action": {"approve"}, "paymentMethod": {"ACH"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "SB", loc.Query().Get("status"))
	require.NoError(t, verifyReturn(s, loc, "GET"))

	// The headless form: url + action + paymentMethod, answered with 302.
	resp, err = hc.PostForm(s.BuyEndpoint(), url.Values{"url": {pipelineURL(t, s, singleUse("form"))}, "action": {"approve"}, "paymentMethod": {"CC"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err = url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "SC", loc.Query().Get("status"))
	require.NoError(t, verifyReturn(s, loc, "GET"))

	// A bad pipeline redirects with CE; no returnURL shows an error page.
	resp, err = hc.Get(pipelineURL(t, s, map[string]string{"pipelineName": "SingleUse", "callerReference": "x", "transactionAmount": "1"}))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")

	// The signing certificate is served and holds the public key.
	resp, err = s.HTTPClient().Get(s.CertificateURL())
	require.NoError(t, err)
	pemBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, string(pemBytes), "BEGIN CERTIFICATE")
}

// TestEditTokenPipeline: EditToken changes the payment method of one of
// the caller's sender tokens (SU when it stays the same); any other token
// is a CE on tokenId.
func TestEditTokenPipeline(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	ctx := context.Background()
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	edit := func(ref, tokenID, method string) url.Values {
		t.Helper()
		u, err := s.Buy(ctx, pipelineURL(t, s, map[string]string{"pipelineName": "EditToken", "callerReference": ref,
			"returnURL": "http://127.0.0.1:9/r", "tokenId": tokenID}), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
		require.NoError(t, err)
		require.NoError(t, verifyReturn(s, u, "GET"))
		return u.Query()
	}
	q := edit("edit-same", tok, "ABT")
	require.Equal(t, "SU", q.Get("status"))
	require.Equal(t, tok, q.Get("tokenID"))
	q = edit("edit-cc", tok, "CC")
	require.Equal(t, "SC", q.Get("status"))
	require.Equal(t, "Pending", okTxFn(t)(pay(t, s, "Pay", tok, "1", "after-edit")).Status, "the token now pays by card")

	recipient, err := s.Buy(ctx, pipelineURL(t, s, map[string]string{"pipelineName": "Recipient", "callerReference": "edit-rcp",
		"returnURL": "http://127.0.0.1:9/r", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	for _, other := range []string{strings.Repeat("X", 64), recipient.Query().Get("tokenID")} {
		q = edit("edit-other", other, "CC")
		require.Equal(t, "CE", q.Get("status"))
		require.Equal(t, "The following input(s) are not well formed: [tokenId]", q.Get("errorMessage"))
	}
}
