package fpstest_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// multiUseToken approves a MultiUse pipeline with params (callerReference
// ref, paid by method) and returns its token id.
func multiUseToken(t *testing.T, s *fpstest.Server, ref, method string, params map[string]string) string {
	t.Helper()
	p := map[string]string{"pipelineName": "MultiUse", "callerReference": ref, "returnURL": "http://127.0.0.1:9/r"}
	for k, v := range params {
		p[k] = v
	}
	u, err := s.Buy(context.Background(), pipelineURL(t, s, p), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	require.NoError(t, err)
	require.Equal(t, statusOfMethod[method], u.Query().Get("status"), u.String())
	return u.Query().Get("tokenID")
}

var statusOfMethod = map[string]string{"ABT": "SA", "ACH": "SB", "CC": "SC"}

// A Reserve holds its amount on the token; cancelling it gives the amount
// back, so a MultiUse token limited to 10.00 can then pay 10.00.
func TestCancelOfReserveReleasesTokenLimit(t *testing.T) {
	s := newServer(t)
	tok := multiUseToken(t, s, "hold-10", "CC", map[string]string{"globalAmountLimit": "10"})
	r := okTxFn(t)(pay(t, s, "Reserve", tok, "10", "reserve-10"))
	status, body := pay(t, s, "Pay", tok, "1", "while-reserved")
	requireError(t, status, body, 400, "InsufficientBalance")
	require.Equal(t, "Cancelled", okTxFn(t)(call(t, s, "Cancel", map[string]string{"TransactionId": r.TransactionID})).Status)
	okTxFn(t)(pay(t, s, "Pay", tok, "10", "pay-10"))

	// A Pending Pay cancelled gives back its amount and its use.
	slow := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	counted := multiUseToken(t, slow, "hold-count", "CC", map[string]string{"globalAmountLimit": "100",
		"usageLimitType1": "Count", "usageLimitValue1": "1", "usageLimitPeriod1": "1 Month"})
	p := okTxFn(t)(pay(t, slow, "Pay", counted, "60", "count-pending"))
	require.Equal(t, "Pending", p.Status)
	okTxFn(t)(call(t, slow, "Cancel", map[string]string{"TransactionId": p.TransactionID}))
	okTxFn(t)(pay(t, slow, "Pay", counted, "100", "count-pay"))
}

// Settling part of a Reserve gives the rest back to the token's limit.
func TestPartialSettleReleasesTheRest(t *testing.T) {
	s := newServer(t)
	tok := multiUseToken(t, s, "settle-part", "ABT", map[string]string{"globalAmountLimit": "10"})
	r := okTxFn(t)(pay(t, s, "Reserve", tok, "10", "part-reserve"))
	okTxFn(t)(call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID, "TransactionAmount.Value": "4"}))
	okTxFn(t)(pay(t, s, "Pay", tok, "6", "part-rest"))
	status, body := pay(t, s, "Pay", tok, "1", "part-over")
	requireError(t, status, body, 400, "InsufficientBalance")
}

func TestUsageLimitCountPerMonth(t *testing.T) {
	s := newServer(t)
	tok := multiUseToken(t, s, "count-month", "ABT", map[string]string{"globalAmountLimit": "100",
		"usageLimitType1": "Count", "usageLimitValue1": "1", "usageLimitPeriod1": "1 Month"})
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "cm-1"))
	for _, ref := range []string{"cm-2", "cm-3"} {
		status, body := pay(t, s, "Pay", tok, "1", ref)
		requireError(t, status, body, 400, "TokenUsageError")
	}
	s.Clock().Advance(27 * 24 * time.Hour)
	status, body := pay(t, s, "Pay", tok, "1", "cm-4")
	requireError(t, status, body, 400, "TokenUsageError")
	s.Clock().Advance(5 * 24 * time.Hour) // past a month after the install
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "cm-5"))
	status, body = pay(t, s, "Pay", tok, "1", "cm-6")
	requireError(t, status, body, 400, "TokenUsageError")
}

func TestUsageLimitAmountPerTwoWeeks(t *testing.T) {
	s := newServer(t)
	tok := multiUseToken(t, s, "amount-weeks", "ABT", map[string]string{"globalAmountLimit": "1000",
		"usageLimitType1": "Amount", "usageLimitValue1": "25", "usageLimitPeriod1": "2 Weeks",
		"usageLimitType2": "Count", "usageLimitValue2": "10"})
	okTxFn(t)(pay(t, s, "Pay", tok, "20", "aw-1"))
	status, body := pay(t, s, "Pay", tok, "5.01", "aw-2")
	requireError(t, status, body, 400, "TokenUsageError")
	okTxFn(t)(pay(t, s, "Pay", tok, "5", "aw-3"))
	s.Clock().Advance(13 * 24 * time.Hour)
	status, body = pay(t, s, "Pay", tok, "1", "aw-4")
	requireError(t, status, body, 400, "TokenUsageError")
	s.Clock().Advance(24 * time.Hour)
	okTxFn(t)(pay(t, s, "Pay", tok, "25", "aw-5"))
	// The count limit has no period: 10 payments over the token's life.
	for i := range 7 {
		s.Clock().Advance(14 * 24 * time.Hour)
		okTxFn(t)(pay(t, s, "Pay", tok, "1", "aw-more-"+string(rune('a'+i))))
	}
	s.Clock().Advance(14 * 24 * time.Hour)
	status, body = pay(t, s, "Pay", tok, "1", "aw-11")
	requireError(t, status, body, 400, "TokenUsageError")
}

// usageDoc reads a GetTokenUsage answer, keeping the order of the
// elements of each TokenUsageLimits.
type usageDoc struct {
	Limits []struct {
		Elems []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
			Value   string `xml:"Value"`
		} `xml:",any"`
	} `xml:"GetTokenUsageResult>TokenUsageLimits"`
}

// entry renders one TokenUsageLimits as "Name=value" in document order.
func (d usageDoc) entry(i int) []string {
	var out []string
	for _, e := range d.Limits[i].Elems {
		v := e.Text
		if e.Value != "" {
			v = e.Value
		}
		if e.XMLName.Local == "LastResetTimestamp" {
			v = "T"
		}
		out = append(out, e.XMLName.Local+"="+v)
	}
	return out
}

func tokenUsage(t *testing.T, s *fpstest.Server, tok string) (usageDoc, string) {
	t.Helper()
	status, body := call(t, s, "GetTokenUsage", map[string]string{"TokenId": tok})
	require.Equal(t, http.StatusOK, status, body)
	var d usageDoc
	require.NoError(t, xml.Unmarshal([]byte(body), &d), body)
	return d, body
}

// TestGetTokenUsageShape checks GetTokenUsage against the shape of
// Amazon's documented sample: an amount limit and a count limit are two
// TokenUsageLimits, the first Amount, LastResetAmount (0.00 when the
// window before saw no payment), LastResetTimestamp, the second Count,
// LastResetCount, LastResetTimestamp; the global amount limit comes
// first, as an amount limit over the token's life.
func TestGetTokenUsageShape(t *testing.T) {
	s := newServer(t)
	installed := s.Clock().Now()
	tok := multiUseToken(t, s, "usage-shape", "ABT", map[string]string{"globalAmountLimit": "100",
		"usageLimitType1": "Amount", "usageLimitValue1": "50", "usageLimitPeriod1": "1 Month",
		"usageLimitType2": "Count", "usageLimitValue2": "5", "usageLimitPeriod2": "1 Week"})
	d, body := tokenUsage(t, s, tok)
	require.Len(t, d.Limits, 3, body)
	require.Equal(t, []string{"Amount=0.000000", "LastResetAmount=0.000000", "LastResetTimestamp=T"}, d.entry(0))
	require.Equal(t, []string{"Amount=0.000000", "LastResetAmount=0.000000", "LastResetTimestamp=T"}, d.entry(1))
	require.Equal(t, []string{"Count=0", "LastResetCount=0", "LastResetTimestamp=T"}, d.entry(2))

	okTxFn(t)(pay(t, s, "Pay", tok, "10", "us-1"))
	d, _ = tokenUsage(t, s, tok)
	require.Equal(t, []string{"Amount=10.000000", "LastResetAmount=0.000000", "LastResetTimestamp=T"}, d.entry(1))
	require.Equal(t, []string{"Count=1", "LastResetCount=0", "LastResetTimestamp=T"}, d.entry(2))

	// Eight days on, the week's window has moved: its count is the
	// window before's; the month's has not.
	s.Clock().Advance(8 * 24 * time.Hour)
	okTxFn(t)(pay(t, s, "Pay", tok, "7", "us-2"))
	d, body = tokenUsage(t, s, tok)
	require.Equal(t, []string{"Amount=17.000000", "LastResetAmount=0.000000", "LastResetTimestamp=T"}, d.entry(0))
	require.Equal(t, []string{"Amount=17.000000", "LastResetAmount=0.000000", "LastResetTimestamp=T"}, d.entry(1))
	require.Equal(t, []string{"Count=1", "LastResetCount=1", "LastResetTimestamp=T"}, d.entry(2))
	var stamps struct {
		At []string `xml:"GetTokenUsageResult>TokenUsageLimits>LastResetTimestamp"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &stamps))
	at := func(i int) time.Time {
		ts, err := time.Parse("2006-01-02T15:04:05.000-07:00", stamps.At[i])
		require.NoError(t, err, stamps.At[i])
		return ts
	}
	require.WithinDuration(t, installed, at(0), time.Minute, "the global limit counts from the install")
	require.WithinDuration(t, installed, at(1), time.Minute, "the month's window started at the install")
	require.WithinDuration(t, installed.Add(7*24*time.Hour), at(2), time.Minute, "the week's second window")

	// A month on, the amount paid in the month before is LastResetAmount.
	s.Clock().Advance(30 * 24 * time.Hour)
	d, _ = tokenUsage(t, s, tok)
	require.Equal(t, []string{"Amount=0.000000", "LastResetAmount=17.000000", "LastResetTimestamp=T"}, d.entry(1))
	require.Equal(t, []string{"Count=0", "LastResetCount=0", "LastResetTimestamp=T"}, d.entry(2), "the week before saw no payment")
}
