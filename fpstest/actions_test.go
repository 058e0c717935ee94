package fpstest_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// TestEveryActionAnswers calls each action the simulator serves (spec
// §3.1) with valid parameters in each API version, and checks the
// envelope: <{Op}Response> in the namespace of the request's version,
// <{Op}Result> (none for CancelToken) and a "uuid:0" RequestId; an action
// the version lacks is InvalidAction.
func TestEveryActionAnswers(t *testing.T) {
	for _, version := range fps.APIVersions() {
		t.Run(version, func(t *testing.T) {
			s := newServer(t)
			calls := everyActionCall(t, s, version)
			require.Len(t, calls, len(fpstest.Actions()), "a call for each action served, and no more")
			for _, action := range fpstest.Actions() {
				t.Run(action, func(t *testing.T) {
					params, ok := calls[action]
					require.True(t, ok, "no call for %s", action)
					status, body := callIn(t, s, version, action, params)
					if !slices.Contains(fps.ActionVersions(action), version) {
						requireError(t, status, body, http.StatusBadRequest, "InvalidAction", action, version)
						return
					}
					require.Equal(t, http.StatusOK, status, body)
					var env struct {
						XMLName xml.Name
						Results []struct {
							XMLName xml.Name
						} `xml:",any"`
						RequestID string `xml:"ResponseMetadata>RequestId"`
					}
					require.NoError(t, xml.Unmarshal([]byte(body), &env), body)
					require.Equal(t, "http://fps.amazonaws.com/doc/"+version+"/", env.XMLName.Space)
					require.Equal(t, action+"Response", env.XMLName.Local)
					require.Regexp(t, `^[0-9a-f-]{36}:0$`, env.RequestID)
					if action == "CancelToken" {
						require.Empty(t, env.Results)
					} else {
						require.Len(t, env.Results, 1, body)
						require.Equal(t, action+"Result", env.Results[0].XMLName.Local)
						require.Equal(t, env.XMLName.Space, env.Results[0].XMLName.Space)
					}
				})
			}
		})
	}
}

// everyActionCall returns, for each action the simulator serves, valid
// parameters for a call of it in version.
func everyActionCall(t *testing.T, s *fpstest.Server, version string) map[string]map[string]string {
	ctx := context.Background()
	abt := install(t, s, "ABT", fpstest.TokenMultiUse)
	recurring := install(t, s, "ABT", fpstest.TokenRecurring)
	paid := okTxFn(t)(pay(t, s, "Pay", abt, "5", "all-pay"))
	okTxFn(t)(pay(t, s, "Pay", recurring, "5", "all-sub-pay"))
	reserved := okTxFn(t)(pay(t, s, "Reserve", abt, "5", "all-res"))
	pre := setupPrepaid(t, s, "all-pre")
	post := setupPostpaid(t, s, "all-post", "ABT")
	okTxFn(t)(pay(t, s, "Pay", post.Get("creditSenderTokenID"), "20", "all-debt"))
	rcp, err := s.Buy(ctx, pipelineURL(t, s, map[string]string{"pipelineName": "Recipient", "callerReference": "all-rcp",
		"returnURL": "http://127.0.0.1:9/r", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	ret, _ := s.Buy(ctx, pipelineURL(t, s, singleUse("all-vs")), fpstest.BuyerChoice{Action: fpstest.Approve})
	sub := subscribe(t, s)
	override := map[string]string{}
	if slices.Contains(fps.ParameterVersions("Pay", "OverrideIPNURL"), version) {
		override["OverrideIPNURL"] = "http://127.0.0.1:9/ipn-override"
	}
	with := func(params map[string]string) map[string]string {
		for k, v := range override {
			params[k] = v
		}
		return params
	}
	return map[string]map[string]string{
		"Pay":                            with(map[string]string{"SenderTokenId": abt, "TransactionAmount.Value": "1", "CallerReference": "all-1"}),
		"Reserve":                        with(map[string]string{"SenderTokenId": abt, "TransactionAmount.Value": "1", "CallerReference": "all-2"}),
		"Settle":                         with(map[string]string{"ReserveTransactionId": reserved.TransactionID, "TransactionAmount.Value": "5"}),
		"Refund":                         with(map[string]string{"TransactionId": paid.TransactionID, "CallerReference": "all-3", "RefundAmount.Value": "1"}),
		"Cancel":                         with(map[string]string{"TransactionId": okTxFn(t)(pay(t, s, "Reserve", abt, "1", "all-4")).TransactionID}),
		"CancelToken":                    with(map[string]string{"TokenId": install(t, s, "ABT", fpstest.TokenMultiUse)}),
		"GetTransactionStatus":           {"TransactionId": paid.TransactionID},
		"GetTransaction":                 {"TransactionId": paid.TransactionID},
		"GetTokens":                      {},
		"GetTokenByCaller":               {"TokenId": abt},
		"GetTokenUsage":                  {"TokenId": abt},
		"GetAccountActivity":             {"StartDate": s.Clock().Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		"GetAccountBalance":              {},
		"VerifySignature":                {"UrlEndPoint": "http://127.0.0.1:9/shop/return", "HttpParameters": ret.RawQuery},
		"FundPrepaid":                    with(map[string]string{"SenderTokenId": pre.Get("fundingTokenID"), "PrepaidInstrumentId": pre.Get("prepaidInstrumentID"), "FundingAmount.Value": "10", "CallerReference": "all-5"}),
		"GetPrepaidBalance":              {"PrepaidInstrumentId": pre.Get("prepaidInstrumentID")},
		"GetTotalPrepaidLiability":       {},
		"SettleDebt":                     with(map[string]string{"SenderTokenId": post.Get("settlementTokenID"), "CreditInstrumentId": post.Get("creditInstrumentID"), "SettlementAmount.Value": "5", "CallerReference": "all-6"}),
		"WriteOffDebt":                   {"CreditInstrumentId": post.Get("creditInstrumentID"), "AdjustmentAmount.Value": "5", "CallerReference": "all-7"},
		"GetDebtBalance":                 {"CreditInstrumentId": post.Get("creditInstrumentID")},
		"GetOutstandingDebtBalance":      {},
		"InstallPaymentInstruction":      {"PaymentInstruction": "MyRole == 'Caller';", "CallerReference": "all-8", "TokenType": "Unrestricted"},
		"GetPaymentInstruction":          {"TokenId": abt},
		"CancelSubscriptionAndRefund":    {"SubscriptionId": recurring, "RefundAmount.Value": "1", "CallerReference": "all-9"},
		"GetRecipientVerificationStatus": {"RecipientTokenId": rcp.Query().Get("tokenID")},
		"GetSubscriptionDetails":         {"SubscriptionId": sub},
		"GetTransactionsForSubscription": {"SubscriptionId": sub},
	}
}

func TestTokenExpiryFollowsClock(t *testing.T) {
	s := newServer(t)
	expiry := s.Clock().Now().Add(48 * time.Hour).Unix()
	u, err := s.Buy(context.Background(), pipelineURL(t, s, map[string]string{"pipelineName": "MultiUse", "callerReference": "exp",
		"returnURL": "http://127.0.0.1:9/r", "globalAmountLimit": "100", "validityExpiry": strconv.FormatInt(expiry, 10)}),
		fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	tok := u.Query().Get("tokenID")
	okTxFn(t)(pay(t, s, "Pay", tok, "60", "exp-1"))
	status, body := pay(t, s, "Pay", tok, "41", "exp-2")
	requireError(t, status, body, 400, "InsufficientBalance")

	status, body = call(t, s, "GetTokenUsage", map[string]string{"TokenId": tok})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<TokenUsageLimits><Amount><CurrencyCode>USD</CurrencyCode><Value>60.000000</Value></Amount><LastResetAmount><CurrencyCode>USD</CurrencyCode><Value>0.000000</Value></LastResetAmount><LastResetTimestamp>")

	s.Clock().Advance(49 * time.Hour)
	status, body = pay(t, s, "Pay", tok, "1", "exp-3")
	requireError(t, status, body, 400, "TokenNotActive_Sender")

	su := install(t, s, "ABT", fpstest.TokenSingleUse)
	status, body = call(t, s, "GetTokenUsage", map[string]string{"TokenId": su})
	requireError(t, status, body, 400, "InvalidTokenType")
}

func TestClientPointsAtSimulator(t *testing.T) {
	s := newServer(t)
	c := s.Client(t)
	require.Equal(t, s.APIEndpoint(), c.ServiceURL())
	require.Equal(t, s.CBUIEndpoint(), c.CBUIEndpoint())
	require.Equal(t, fps.Sandbox, c.Environment())
	s.Clock().Advance(time.Hour)
	require.WithinDuration(t, s.Clock().Now(), c.Options().Clock(), time.Second, "the client signs with the simulator's time")
	plain := newServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, plain.URL)
	require.Nil(t, plain.ServerTLSConfig())
	require.Regexp(t, `^https://127\.0\.0\.1:\d+/certs/\d{6}/PKICert\.pem$`, s.CertificateURL())
}

func TestMethodNotAllowedAndUnknownPath(t *testing.T) {
	s := newServer(t)
	req, _ := http.NewRequest(http.MethodPut, s.APIEndpoint(), nil)
	resp, err := s.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = s.HTTPClient().Get(s.URL + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestMultiUseAmountType(t *testing.T) {
	s := newServer(t)
	buy := func(ref, amountType string) string {
		p := map[string]string{"pipelineName": "MultiUse", "callerReference": ref, "returnURL": "http://127.0.0.1:9/r",
			"globalAmountLimit": "100", "transactionAmount": "10", "amountType": amountType}
		u, err := s.Buy(context.Background(), pipelineURL(t, s, p), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
		require.NoError(t, err)
		require.Equal(t, "SA", u.Query().Get("status"))
		return u.Query().Get("tokenID")
	}
	exact := buy("mu-exact", "") // Exact is the default
	status, body := pay(t, s, "Pay", exact, "9", "mu-1")
	requireError(t, status, body, 400, "TransactionDenied")
	okTxFn(t)(pay(t, s, "Pay", exact, "10", "mu-2"))
	maximum := buy("mu-max", "Maximum")
	okTxFn(t)(pay(t, s, "Pay", maximum, "9", "mu-3"))
	status, body = pay(t, s, "Pay", maximum, "11", "mu-4")
	requireError(t, status, body, 400, "InsufficientBalance")
}

// TestInstrumentActionsKeepDescriptions: FundPrepaid and SettleDebt take
// CallerDescription and SenderDescription, WriteOffDebt CallerDescription
// (spec §3.2); GetTransaction gives back what the caller sent.
func TestInstrumentActionsKeepDescriptions(t *testing.T) {
	s := newServer(t)
	pre := setupPrepaid(t, s, "d-pre")
	post := setupPostpaid(t, s, "d-post", "ABT")
	okTxFn(t)(pay(t, s, "Pay", post.Get("creditSenderTokenID"), "30", "d-credit"))

	for _, c := range []struct {
		action     string
		params     map[string]string
		withSender bool
	}{
		{"FundPrepaid", map[string]string{"SenderTokenId": pre.Get("fundingTokenID"),
			"PrepaidInstrumentId": pre.Get("prepaidInstrumentID"), "FundingAmount.Value": "10"}, true},
		{"SettleDebt", map[string]string{"SenderTokenId": post.Get("settlementTokenID"),
			"CreditInstrumentId": post.Get("creditInstrumentID"), "SettlementAmount.Value": "5"}, true},
		{"WriteOffDebt", map[string]string{"CreditInstrumentId": post.Get("creditInstrumentID"),
			"AdjustmentAmount.Value": "5"}, false},
	} {
		t.Run(c.action, func(t *testing.T) {
			c.params["CallerReference"] = "d-" + c.action
			c.params["CallerDescription"] = "caller says " + c.action
			if c.withSender {
				c.params["SenderDescription"] = "sender sees " + c.action
			}
			tx := okTxFn(t)(call(t, s, c.action, c.params))
			status, body := call(t, s, "GetTransaction", map[string]string{"TransactionId": tx.TransactionID})
			require.Equal(t, http.StatusOK, status, body)
			require.Contains(t, body, "<CallerDescription>caller says "+c.action+"</CallerDescription>")
			if c.withSender {
				require.Contains(t, body, "<SenderDescription>sender sees "+c.action+"</SenderDescription>")
			}
		})
	}
}
