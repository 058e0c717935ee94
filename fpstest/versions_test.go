package fpstest_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestNamespaceIsTheDefaultVersions(t *testing.T) {
	require.Equal(t, fps.Namespace(fps.DefaultAPIVersion), fpstest.Namespace)
}

// TestUnknownVersionListsTheVersions: a Version the simulator does not
// speak is InvalidParameterValue naming the three it does.
func TestUnknownVersionListsTheVersions(t *testing.T) {
	s := newServer(t)
	for _, v := range []string{"2007-01-08", "2009-01-09", "2010-08-28 "} {
		form := signed(t, s, http.MethodPost, "GetAccountBalance", nil, func(f url.Values) { f.Set("Version", v) })
		status, body := send(t, s, http.MethodPost, form)
		requireError(t, status, body, http.StatusBadRequest, "InvalidParameterValue",
			"Value ("+v+") for parameter Version is invalid. Must be one of 2008-09-17, 2010-08-28, 2011-09-20.")
	}
}

// TestOverrideIPNURLByVersion: OverrideIPNURL is InvalidParams under
// 2008-09-17, InvalidParameterValue when it is not an absolute http(s)
// URL, and taken otherwise; an action that has no such parameter ignores
// it as it ignores any parameter it does not know.
func TestOverrideIPNURLByVersion(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	payWith := func(version, ref, ipn string) (int, string) {
		return callIn(t, s, version, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "1",
			"CallerReference": ref, "OverrideIPNURL": ipn})
	}
	status, body := payWith(fps.APIVersion20080917, "o-1", "https://shop.example/ipn")
	requireError(t, status, body, http.StatusBadRequest, "InvalidParams",
		"OverrideIPNURL is not a parameter of Pay in version 2008-09-17", "2010-08-28, 2011-09-20")
	require.Zero(t, s.Ledger().ChargeCount("o-1"))
	status, body = payWith(fps.APIVersion20100828, "o-2", "/ipn")
	requireError(t, status, body, http.StatusBadRequest, "InvalidParameterValue", "Value (/ipn) for parameter OverrideIPNURL is invalid.")
	require.Zero(t, s.Ledger().ChargeCount("o-2"))
	for _, v := range []string{fps.APIVersion20100828, fps.APIVersion20110920} {
		okTxFn(t)(payWith(v, "o-"+v, "https://shop.example/ipn"))
	}
	status, body = callIn(t, s, fps.APIVersion20080917, "GetAccountBalance", map[string]string{"OverrideIPNURL": "https://shop.example/ipn"})
	require.Equal(t, http.StatusOK, status, body)
}

// TestOverrideIPNURLReceivesTheIPNs: the IPNs of a transaction made with
// OverrideIPNURL, its later ones included, go there and not to the
// account's IPN URL, signed for that URL; a token cancelled with one
// sends its TokenCancellation there.
func TestOverrideIPNURLReceivesTheIPNs(t *testing.T) {
	account, override := newSink(t, 0), newSink(t, 0)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = account.srv.URL + "/ipn"
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.PendingDelay = -1
	})
	tok := install(t, s, "CC", fpstest.TokenMultiUse)
	okTxFn(t)(callIn(t, s, fps.APIVersion20100828, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "1",
		"CallerReference": "ovr-1", "OverrideIPNURL": override.srv.URL + "/mine"}))
	waitFor(t, func() bool { return len(override.received()) == 1 })
	require.NoError(t, s.CompletePending(t.Context()))
	waitFor(t, func() bool { return len(override.received()) == 2 })
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "plain-1")) // no override: the account's URL
	waitFor(t, func() bool { return len(account.received()) == 1 })
	require.Equal(t, "plain-1", account.received()[0].Get("callerReference"))
	for i, v := range override.received() {
		require.Equal(t, "ovr-1", v.Get("callerReference"))
		require.NoError(t, verifyIPN(s, override.srv.URL+"/mine", v, http.MethodPost), "IPN %d", i)
	}
	require.Equal(t, []string{"PENDING", "SUCCESS"}, []string{override.received()[0].Get("transactionStatus"), override.received()[1].Get("transactionStatus")})

	status, body := callIn(t, s, fps.APIVersion20110920, "CancelToken", map[string]string{"TokenId": tok, "OverrideIPNURL": override.srv.URL + "/mine"})
	require.Equal(t, http.StatusOK, status, body)
	waitFor(t, func() bool { return len(override.received()) == 3 })
	require.Equal(t, "TokenCancellation", override.received()[2].Get("notificationType"))
	require.Len(t, account.received(), 1)
}

// TestRecipientVerificationStatusByVersion: a verified recipient is
// VerificationComplete under 2008-09-17 and 2010-08-28, Active under
// 2011-09-20: a value of the request's version.
func TestRecipientVerificationStatusByVersion(t *testing.T) {
	s := newServer(t)
	u, err := s.Buy(t.Context(), pipelineURL(t, s, map[string]string{"pipelineName": "Recipient", "callerReference": "rv",
		"returnURL": "http://127.0.0.1:9/r", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	for v, want := range map[string]string{"2008-09-17": "VerificationComplete", "2010-08-28": "VerificationComplete", "2011-09-20": "Active"} {
		status, body := callIn(t, s, v, "GetRecipientVerificationStatus", map[string]string{"RecipientTokenId": u.Query().Get("tokenID")})
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "<RecipientVerificationStatus>"+want+"</RecipientVerificationStatus>")
		require.Contains(t, fps.RecipientVerificationStatuses(v), fpstest.RecipientVerificationStatus(v))
	}
}

type subscriptionDoc struct {
	Details struct {
		ID                  string `xml:"SubscriptionId"`
		Description         string
		Amount              string `xml:"SubscriptionAmount>Value"`
		NextAmount          string `xml:"NextTransactionAmount>Value"`
		PromotionalAmount   string `xml:"PromotionalAmount>Value"`
		Promotional         int    `xml:"NumberOfPromotionalTransactions"`
		StartDate           string
		EndDate             string
		PeriodValue         string `xml:"SubscriptionPeriod>Value"`
		PeriodUnit          string `xml:"SubscriptionPeriod>TimeUnit"`
		FrequencyValue      string `xml:"SubscriptionFrequency>Value"`
		FrequencyUnit       string `xml:"SubscriptionFrequency>TimeUnit"`
		OverrideIPNUrl      string
		Status              string `xml:"SubscriptionStatus"`
		Processed           int    `xml:"NumberOfTransactionsProcessed"`
		RecipientName       string
		SenderName          string
		NextTransactionDate string
		OverrideIPNURLWrong string `xml:"OverrideIPNURL"`
	} `xml:"GetSubscriptionDetailsResult>SubscriptionDetails"`
}

type subscriptionTxDoc struct {
	Transactions []struct {
		ID     string `xml:"TransactionId"`
		Date   string `xml:"TransactionDate"`
		Serial int    `xml:"TransactionSerialNumber"`
		Amount string `xml:"TransactionAmount>Value"`
		Desc   string `xml:"Description"`
		Status string `xml:"TransactionStatus"`
	} `xml:"GetTransactionsForSubscriptionResult>SubscriptionTransaction"`
}

// subscriptionQuery answers action (API 2010-08-28) for subscription id
// into out.
func subscriptionQuery(t *testing.T, s *fpstest.Server, action, id string, out any) {
	t.Helper()
	status, body := callIn(t, s, fps.APIVersion20100828, action, map[string]string{"SubscriptionId": id})
	require.Equal(t, http.StatusOK, status, body)
	require.NoError(t, xml.Unmarshal([]byte(body), out), body)
}

func subscriptionDetails(t *testing.T, s *fpstest.Server, id string) (d subscriptionDoc) {
	subscriptionQuery(t, s, "GetSubscriptionDetails", id, &d)
	return d
}

func subscriptionTransactions(t *testing.T, s *fpstest.Server, id string) (d subscriptionTxDoc) {
	subscriptionQuery(t, s, "GetTransactionsForSubscription", id, &d)
	return d
}

// TestSubscriptionLifecycle: a subscription pays at once, then each
// period as the clock reaches it, at its promotional amount first, and
// completes when its period is over; the two queries report it.
func TestSubscriptionLifecycle(t *testing.T) {
	start := time.Date(2011, 1, 31, 12, 0, 0, 0, time.UTC)
	s := newServer(t, func(c *fpstest.Config) {
		c.Clock = func() time.Time { return start }
		c.PlainHTTP = true // the certificate would not be valid yet
	})
	before := s.Ledger().Balance(fpstest.DefaultAccessKeyID)
	id, err := s.Ledger().Subscribe(fpstest.DefaultAccessKeyID, fpstest.Subscription{
		Description: "Wine club", Amount: decimal.RequireFromString("20"),
		PromotionalAmount: decimal.RequireFromString("5"), PromotionalPayments: 1,
		Frequency: fps.Duration{Value: 1, TimeUnit: fps.TimeUnitMonth},
		Period:    fps.Duration{Value: 3, TimeUnit: fps.TimeUnitMonth},
	})
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)

	d := subscriptionDetails(t, s, id).Details
	require.Equal(t, id, d.ID)
	require.Equal(t, "Wine club", d.Description)
	require.Equal(t, "20.000000", d.Amount)
	require.Equal(t, "20.000000", d.NextAmount)
	require.Equal(t, "5.000000", d.PromotionalAmount)
	require.Equal(t, 1, d.Promotional)
	require.Equal(t, "2011-01-31T04:00:00.000-08:00", d.StartDate)
	require.Equal(t, "2011-04-30T05:00:00.000-07:00", d.EndDate, "3 months after 31 January is the last day of April")
	require.Equal(t, []string{"3", "month", "1", "month"}, []string{d.PeriodValue, d.PeriodUnit, d.FrequencyValue, d.FrequencyUnit})
	require.Equal(t, "Active", d.Status)
	require.Equal(t, 1, d.Processed)
	require.Equal(t, "Test Merchant", d.RecipientName)
	require.Equal(t, "Test Buyer", d.SenderName)
	require.Equal(t, "2011-02-28T04:00:00.000-08:00", d.NextTransactionDate, "a month after 31 January is the last day of February")
	require.True(t, s.Ledger().Balance(fpstest.DefaultAccessKeyID).Equal(before.Add(decimal.NewFromInt(5))))

	s.Clock().Advance(70 * 24 * time.Hour) // past the second and third payments
	d = subscriptionDetails(t, s, id).Details
	require.Equal(t, "Completed", d.Status)
	require.Equal(t, 3, d.Processed)
	require.Empty(t, d.NextTransactionDate)
	require.Empty(t, d.NextAmount)
	require.True(t, s.Ledger().Balance(fpstest.DefaultAccessKeyID).Equal(before.Add(decimal.NewFromInt(45))))

	txs := subscriptionTransactions(t, s, id).Transactions
	require.Len(t, txs, 3)
	for i, tx := range txs {
		require.Equal(t, i+1, tx.Serial)
		require.Equal(t, "Wine club", tx.Desc)
		require.Equal(t, "Success", tx.Status)
		got, ok := s.Ledger().Transaction(tx.ID)
		require.True(t, ok)
		require.Equal(t, "Pay", got.Operation)
	}
	require.Equal(t, []string{"5.000000", "20.000000", "20.000000"}, []string{txs[0].Amount, txs[1].Amount, txs[2].Amount})
	s.Clock().Advance(365 * 24 * time.Hour)
	require.Len(t, subscriptionTransactions(t, s, id).Transactions, 3, "a completed subscription pays no more")
}

// TestCancelSubscription: CancelSubscriptionAndRefund cancels a
// subscription, whose payments stop; cancelling it again without a
// refund is InvalidSubscriptionState, with one the refund runs.
func TestCancelSubscription(t *testing.T) {
	s := newServer(t) // refunded after 40 days
	id := subscribe(t, s)
	status, body := call(t, s, "CancelSubscriptionAndRefund", map[string]string{"SubscriptionId": id})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "Cancelled", subscriptionDetails(t, s, id).Details.Status)
	require.Empty(t, subscriptionDetails(t, s, id).Details.NextTransactionDate)
	s.Clock().Advance(40 * 24 * time.Hour)
	require.Len(t, subscriptionTransactions(t, s, id).Transactions, 1)

	status, body = call(t, s, "CancelSubscriptionAndRefund", map[string]string{"SubscriptionId": id})
	requireError(t, status, body, http.StatusBadRequest, "InvalidSubscriptionState", "Cancelled")
	status, body = call(t, s, "CancelSubscriptionAndRefund", map[string]string{"SubscriptionId": id, "RefundAmount.Value": "9.99", "CallerReference": "sub-refund"})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, 1, s.Ledger().ChargeCount("sub-refund"))
}

// TestUnknownSubscription: an id that is no subscription of the caller
// (none, another account's, a token's) is InvalidParams.
func TestUnknownSubscription(t *testing.T) {
	other := fpstest.Account{AccessKeyID: "AKIAOTHER", SecretAccessKey: "other-secret", Name: "Other"}
	s := newServer(t, func(c *fpstest.Config) { c.Accounts = []fpstest.Account{fpstest.DefaultAccount(), other} })
	mine := subscribe(t, s)
	tok := install(t, s, "ABT", fpstest.TokenRecurring)
	for _, action := range []string{"GetSubscriptionDetails", "GetTransactionsForSubscription"} {
		for _, id := range []string{"0d0f4b8e-0000-4000-8000-000000000000", tok} {
			status, body := callIn(t, s, fps.APIVersion20100828, action, map[string]string{"SubscriptionId": id})
			requireError(t, status, body, http.StatusBadRequest, "InvalidParams", "SubscriptionId "+id+" is not a valid subscription.")
		}
		form := signedAs(t, s, other.AccessKeyID, other.SecretAccessKey, http.MethodPost, action, map[string]string{"SubscriptionId": mine},
			func(v url.Values) { v.Set("Version", fps.APIVersion20100828) })
		status, body := send(t, s, http.MethodPost, form)
		requireError(t, status, body, http.StatusBadRequest, "InvalidParams")
		status, body = callIn(t, s, fps.APIVersion20100828, action, nil)
		requireError(t, status, body, http.StatusBadRequest, "InvalidParams", "SubscriptionId is required")
	}
}

// TestSubscribeForm: the Simple Pay form creates a subscription (answer:
// its id); a bad field is a 400 naming it.
func TestSubscribeForm(t *testing.T) {
	s := newServer(t)
	post := func(form url.Values) (int, string) {
		req, err := http.NewRequest(http.MethodPost, s.SubscribeEndpoint(), strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return sendReq(t, s, req)
	}
	status, body := post(url.Values{"accessKey": {fpstest.DefaultAccessKeyID}, "amount": {"USD 12.50"}, "recurringFrequency": {"2 weeks"},
		"subscriptionPeriod": {"6 months"}, "description": {"Coffee"}, "paymentMethod": {"CC"}, "ipnUrl": {"https://shop.example/sub-ipn"}})
	require.Equal(t, http.StatusCreated, status, body)
	d := subscriptionDetails(t, s, strings.TrimSpace(body)).Details
	require.Equal(t, "12.500000", d.Amount)
	require.Equal(t, []string{"2", "week", "6", "month"}, []string{d.FrequencyValue, d.FrequencyUnit, d.PeriodValue, d.PeriodUnit})
	require.Equal(t, "https://shop.example/sub-ipn", d.OverrideIPNUrl)
	require.Empty(t, d.OverrideIPNURLWrong, "the element is spelled OverrideIPNUrl")

	for field, bad := range map[string]url.Values{
		"amount":             {"accessKey": {fpstest.DefaultAccessKeyID}, "amount": {"twelve"}, "recurringFrequency": {"1 month"}},
		"recurringFrequency": {"accessKey": {fpstest.DefaultAccessKeyID}, "amount": {"USD 1"}, "recurringFrequency": {"1 fortnight"}},
		"access key":         {"accessKey": {"AKIANOBODY"}, "amount": {"USD 1"}, "recurringFrequency": {"1 month"}},
	} {
		status, body := post(bad)
		require.Equal(t, http.StatusBadRequest, status, field)
		require.Contains(t, body, field)
	}
}
