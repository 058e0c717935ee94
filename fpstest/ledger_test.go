package fpstest_test

import (
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func txStatus(t *testing.T, s *fpstest.Server, id string) string {
	t.Helper()
	status, body := call(t, s, "GetTransactionStatus", map[string]string{"TransactionId": id})
	require.Equal(t, 200, status, body)
	var d struct {
		ID     string `xml:"GetTransactionStatusResult>TransactionId"`
		Status string `xml:"GetTransactionStatusResult>TransactionStatus"`
		Ref    string `xml:"GetTransactionStatusResult>CallerReference"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &d))
	require.Equal(t, id, d.ID)
	return d.Status
}

type balanceDoc struct {
	Total      string `xml:"GetAccountBalanceResult>AccountBalance>TotalBalance>Value"`
	PendingIn  string `xml:"GetAccountBalanceResult>AccountBalance>PendingInBalance>Value"`
	PendingOut string `xml:"GetAccountBalanceResult>AccountBalance>PendingOutBalance>Value"`
}

func balance(t *testing.T, s *fpstest.Server) balanceDoc {
	t.Helper()
	status, body := call(t, s, "GetAccountBalance", nil)
	require.Equal(t, 200, status, body)
	var d balanceDoc
	require.NoError(t, xml.Unmarshal([]byte(body), &d))
	return d
}

func TestABTPaySucceedsAtOnceAndMovesBalance(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	d := okTxFn(t)(pay(t, s, "Pay", tok, "12.5", "abt-1"))
	require.Equal(t, "PayResponse", d.XMLName.Local)
	require.Equal(t, "Success", d.Status)
	require.Equal(t, "Success", txStatus(t, s, d.TransactionID))
	b := balance(t, s)
	require.Equal(t, "11.840000", b.Total, "12.50 less the FPS fee of 2.9% + 0.30")
	require.Equal(t, "0.000000", b.PendingIn)
}

func TestCCPayIsPendingUntilDelayOrCompletePending(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = time.Hour })
	tok := install(t, s, "CC", fpstest.TokenMultiUse)
	d := okTxFn(t)(pay(t, s, "Pay", tok, "3", "cc-1"))
	require.Equal(t, "Pending", d.Status)
	require.Equal(t, "3.000000", balance(t, s).PendingIn)
	s.Clock().Advance(59 * time.Minute)
	require.Equal(t, "Pending", txStatus(t, s, d.TransactionID))
	s.Clock().Advance(2 * time.Minute)
	require.Equal(t, "Success", txStatus(t, s, d.TransactionID))
	require.Equal(t, "2.800000", balance(t, s).Total, "3.00 less the FPS fee of 5% + 0.05")

	d2 := okTxFn(t)(pay(t, s, "Pay", tok, "4", "cc-2"))
	require.Equal(t, "Pending", d2.Status)
	require.NoError(t, s.CompletePending(t.Context()))
	require.Equal(t, "Success", txStatus(t, s, d2.TransactionID))
	tx, ok := s.Ledger().Transaction(d2.TransactionID)
	require.True(t, ok)
	require.Equal(t, fps.TransactionStatusSuccess, tx.Status)
	require.Equal(t, "CC", tx.PaymentMethod)
}

func TestReserveSettle(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	r := okTxFn(t)(pay(t, s, "Reserve", tok, "10", "res-1"))
	require.Equal(t, "Reserved", r.Status)

	status, body := call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID, "TransactionAmount.Value": "10.01"})
	requireError(t, status, body, 400, "SettleAmountGreaterThanReserveAmount")

	st := okTxFn(t)(call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID, "TransactionAmount.Value": "7"}))
	require.Equal(t, r.TransactionID, st.TransactionID, "Settle answers the Reserve's TransactionId")
	require.Equal(t, "Success", st.Status)
	require.Equal(t, 1, s.Ledger().SettleCount(r.TransactionID))
	require.Equal(t, "6.600000", balance(t, s).Total, "7.00 settled less the FPS fee of 0.40")

	// The same Settle again is answered as before; a different one is refused.
	again := okTxFn(t)(call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID, "TransactionAmount.Value": "7"}))
	require.Equal(t, st.TransactionID, again.TransactionID)
	status, body = call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID, "TransactionAmount.Value": "2"})
	requireError(t, status, body, 400, "InvalidTransactionState")
	require.Equal(t, 1, s.Ledger().SettleCount(r.TransactionID))

	// Settling a Pay is refused.
	p := okTxFn(t)(pay(t, s, "Pay", tok, "1", "pay-not-reserve"))
	status, body = call(t, s, "Settle", map[string]string{"ReserveTransactionId": p.TransactionID})
	requireError(t, status, body, 400, "InvalidTransactionId")
}

func TestSettleBeforeReservedIsInvalidState(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	tok := install(t, s, "CC", fpstest.TokenMultiUse)
	r := okTxFn(t)(pay(t, s, "Reserve", tok, "10", "res-cc"))
	require.Equal(t, "Pending", r.Status)
	status, body := call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID})
	requireError(t, status, body, 400, "InvalidTransactionState")
	require.NoError(t, s.CompletePending(t.Context()))
	require.Equal(t, "Reserved", txStatus(t, s, r.TransactionID))
	st := okTxFn(t)(call(t, s, "Settle", map[string]string{"ReserveTransactionId": r.TransactionID}))
	require.Equal(t, "Pending", st.Status)
	require.NoError(t, s.CompletePending(t.Context()))
	require.Equal(t, "Success", txStatus(t, s, r.TransactionID))
	tx, _ := s.Ledger().Transaction(r.TransactionID)
	require.True(t, tx.SettledAmount.Equal(decimal.NewFromInt(10)), "omitted amount settles the whole reserve")
}

func TestRefunds(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	p := okTxFn(t)(pay(t, s, "Pay", tok, "10", "refund-parent"))
	refund := func(ref, amount string) (int, string) {
		params := map[string]string{"TransactionId": p.TransactionID, "CallerReference": ref}
		if amount != "" {
			params["RefundAmount.Value"] = amount
			params["RefundAmount.CurrencyCode"] = "USD"
		}
		return call(t, s, "Refund", params)
	}
	r1 := okTxFn(t)(refund("rf-1", "4"))
	require.Equal(t, "RefundResponse", r1.XMLName.Local)
	require.Equal(t, "Success", r1.Status)
	require.NotEqual(t, p.TransactionID, r1.TransactionID)
	status, body := refund("rf-2", "6.01")
	requireError(t, status, body, 400, "RefundAmountExceeded")
	r2 := okTxFn(t)(refund("rf-3", "")) // the rest
	tx, _ := s.Ledger().Transaction(r2.TransactionID)
	require.True(t, tx.Amount.Equal(decimal.NewFromInt(6)), tx.Amount.String())
	require.Equal(t, p.TransactionID, tx.ParentID)
	status, body = refund("rf-4", "1")
	requireError(t, status, body, 400, "TransactionFullyRefundedAlready")
	require.Equal(t, "0.000000", balance(t, s).Total)

	// A refund of a refund is refused; so is a refund of a pending payment.
	status, body = call(t, s, "Refund", map[string]string{"TransactionId": r1.TransactionID, "CallerReference": "rf-5"})
	requireError(t, status, body, 400, "TransactionTypeNotRefundable")
}

func TestRefundOfPendingIsInvalidState(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	tok := install(t, s, "CC", fpstest.TokenMultiUse)
	p := okTxFn(t)(pay(t, s, "Pay", tok, "10", "pend"))
	status, body := call(t, s, "Refund", map[string]string{"TransactionId": p.TransactionID, "CallerReference": "rf"})
	requireError(t, status, body, 400, "InvalidTransactionState")
}

func TestCancel(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	cc := install(t, s, "CC", fpstest.TokenMultiUse)
	abt := install(t, s, "ABT", fpstest.TokenMultiUse)
	pending := okTxFn(t)(pay(t, s, "Pay", cc, "5", "c-1"))
	c := okTxFn(t)(call(t, s, "Cancel", map[string]string{"TransactionId": pending.TransactionID}))
	require.Equal(t, "Cancelled", c.Status)
	require.Equal(t, "Cancelled", txStatus(t, s, pending.TransactionID))

	reserved := okTxFn(t)(pay(t, s, "Reserve", abt, "5", "c-2"))
	require.Equal(t, "Cancelled", okTxFn(t)(call(t, s, "Cancel", map[string]string{"TransactionId": reserved.TransactionID})).Status)
	status, body := call(t, s, "Settle", map[string]string{"ReserveTransactionId": reserved.TransactionID})
	requireError(t, status, body, 400, "InvalidTransactionState")

	done := okTxFn(t)(pay(t, s, "Pay", abt, "5", "c-3"))
	status, body = call(t, s, "Cancel", map[string]string{"TransactionId": done.TransactionID})
	requireError(t, status, body, 400, "InvalidTransactionState")
	require.Equal(t, "4.700000", balance(t, s).Total, "5.00 paid less the FPS fee of 0.30")
}

func TestCancelledTokenCannotPay(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	status, body := call(t, s, "CancelToken", map[string]string{"TokenId": tok})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<CancelTokenResponse")
	require.NotContains(t, body, "CancelTokenResult")
	st, _ := s.Ledger().TokenStatus(tok)
	require.Equal(t, "Inactive", st)
	status, body = pay(t, s, "Pay", tok, "1", "after-cancel")
	requireError(t, status, body, 400, "TokenNotActive_Sender")
	status, body = pay(t, s, "Pay", "NOSUCHTOKEN", "1", "no-token")
	requireError(t, status, body, 400, "InvalidTokenId_Sender")
	status, body = call(t, s, "CancelToken", map[string]string{"TokenId": "NOSUCHTOKEN"})
	requireError(t, status, body, 400, "InvalidTokenId")
}

func TestSingleUseTokenOnce(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenSingleUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "su-1"))
	status, body := pay(t, s, "Pay", tok, "1", "su-2")
	requireError(t, status, body, 400, "TokenUsageError")
}

func TestInsufficientBalance(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(5) })
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "4", "ib-1"))
	status, body := pay(t, s, "Pay", tok, "2", "ib-2")
	requireError(t, status, body, 400, "InsufficientBalance", "The transaction exceeds the account/instrument limits.")
	require.Equal(t, 1, s.Ledger().ChargeCount("ib-1"))
	require.Equal(t, 0, s.Ledger().ChargeCount("ib-2"))
}

func TestIdempotentReplayAndDuplicateRequest(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	status1, body1 := pay(t, s, "Pay", tok, "2", "idem-1")
	first := okTxFn(t)(status1, body1)
	// A new signature and Timestamp, the same request: the same answer.
	s.Clock().Advance(time.Second)
	status2, body2 := pay(t, s, "Pay", tok, "2", "idem-1")
	second := okTxFn(t)(status2, body2)
	require.Equal(t, first.TransactionID, second.TransactionID)
	require.Equal(t, body1, body2)
	require.Equal(t, 1, s.Ledger().ChargeCount("idem-1"))
	require.Equal(t, "1.850000", balance(t, s).Total, "2.00 less the FPS fee of 0.15")
	// GET instead of POST is still the same request.
	status3, body3 := send(t, s, http.MethodGet, signed(t, s, http.MethodGet, "Pay", map[string]string{
		"SenderTokenId": tok, "TransactionAmount.Value": "2", "TransactionAmount.CurrencyCode": "USD", "CallerReference": "idem-1"}))
	require.Equal(t, body1, body3, "status %d", status3)

	status, body := pay(t, s, "Pay", tok, "3", "idem-1")
	requireError(t, status, body, 400, "DuplicateRequest")
	require.Equal(t, 1, s.Ledger().ChargeCount("idem-1"))

	// After seven days the CallerReference is free again.
	s.Clock().Advance(7*24*time.Hour + time.Minute)
	third := okTxFn(t)(pay(t, s, "Pay", tok, "3", "idem-1"))
	require.NotEqual(t, first.TransactionID, third.TransactionID)
	require.Equal(t, 2, s.Ledger().ChargeCount("idem-1"))
}

func TestErrorIsReplayedToo(t *testing.T) {
	s := newServer(t)
	status1, body1 := pay(t, s, "Pay", "NOSUCHTOKEN", "2", "err-1")
	requireError(t, status1, body1, 400, "InvalidTokenId_Sender")
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	status, body := pay(t, s, "Pay", tok, "2", "err-1")
	requireError(t, status, body, 400, "DuplicateRequest")
}

func TestTokensAndInstallPaymentInstruction(t *testing.T) {
	s := newServer(t)
	status, body := call(t, s, "InstallPaymentInstruction", map[string]string{
		"PaymentInstruction": "MyRole == 'Caller' orSay 'Roles do not match';", "CallerReference": "ipi-1",
		"TokenType": "Unrestricted", "TokenFriendlyName": "caller token"})
	require.Equal(t, 200, status, body)
	var d struct {
		TokenID string `xml:"InstallPaymentInstructionResult>TokenId"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &d))
	require.Regexp(t, `^[A-Z0-9]{64}$`, d.TokenID)

	status, body = call(t, s, "GetTokenByCaller", map[string]string{"CallerReference": "ipi-1"})
	require.Equal(t, 200, status, body)
	var g struct {
		Token struct {
			ID, FriendlyName, TokenStatus, DateInstalled, CallerReference, TokenType string
		} `xml:"GetTokenByCallerResult>Token"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &g))
	require.Equal(t, "caller token", g.Token.FriendlyName)
	require.Equal(t, "Active", g.Token.TokenStatus)
	require.Equal(t, "Unrestricted", g.Token.TokenType)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[-+]\d\d:\d\d$`, g.Token.DateInstalled)
	// Element order of the Token type.
	require.Regexp(t, `<Token><TokenId>[A-Z0-9]{64}</TokenId><FriendlyName>caller token</FriendlyName><TokenStatus>Active</TokenStatus><DateInstalled>[^<]+</DateInstalled><CallerReference>ipi-1</CallerReference><TokenType>Unrestricted</TokenType></Token>`, body)

	status, body = call(t, s, "GetPaymentInstruction", map[string]string{"TokenId": d.TokenID})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<PaymentInstruction>MyRole == &#39;Caller&#39; orSay &#39;Roles do not match&#39;;</PaymentInstruction>")

	status, body = call(t, s, "GetTokens", map[string]string{"TokenStatus": "Active"})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, d.TokenID)
	status, body = call(t, s, "GetTokenByCaller", map[string]string{"CallerReference": "nobody"})
	requireError(t, status, body, 400, "InvalidCallerReference")
	status, body = call(t, s, "GetTokenByCaller", map[string]string{"CallerReference": "ipi-1", "TokenId": d.TokenID})
	requireError(t, status, body, 400, "InvalidParams")
}

func TestGetTransactionShape(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	p := okTxFn(t)(pay(t, s, "Pay", tok, "1", "shape"))
	status, body := call(t, s, "GetTransaction", map[string]string{"TransactionId": p.TransactionID})
	require.Equal(t, 200, status, body)
	require.Regexp(t, `<GetTransactionResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionResult><Transaction><TransactionId>`+p.TransactionID+`</TransactionId><CallerReference>shape</CallerReference><DateReceived>[^<]+</DateReceived><DateCompleted>[^<]+</DateCompleted><TransactionAmount><CurrencyCode>USD</CurrencyCode><Value>1.000000</Value></TransactionAmount><FPSFees>`, body)
	require.Regexp(t, `<FPSOperation>Pay</FPSOperation><PaymentMethod>ABT</PaymentMethod><TransactionStatus>Success</TransactionStatus>`, body)
	require.Regexp(t, `<StatusHistory><Date>[^<]+</Date><TransactionStatus>Success</TransactionStatus>`, body)

	status, body = call(t, s, "GetAccountActivity", map[string]string{"StartDate": s.Clock().Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, 200, status, body)
	require.Contains(t, body, "<BatchSize>1</BatchSize>")
	require.Contains(t, body, p.TransactionID)
}

func TestPrepaidAndPostpaidActions(t *testing.T) {
	s := newServer(t)
	for _, a := range []string{"GetTotalPrepaidLiability", "GetOutstandingDebtBalance"} {
		status, body := call(t, s, a, nil)
		require.Equal(t, 200, status, body)
		require.Contains(t, body, "<OutstandingBalance><CurrencyCode>USD</CurrencyCode><Value>0.000000</Value></OutstandingBalance>")
	}
	status, body := call(t, s, "GetPrepaidBalance", map[string]string{"PrepaidInstrumentId": "NOPE"})
	requireError(t, status, body, 400, "InvalidParams", "PrepaidInstrumentId")
	status, body = call(t, s, "WriteOffDebt", map[string]string{"CreditInstrumentId": "NOPE", "AdjustmentAmount.Value": "1", "CallerReference": "w"})
	requireError(t, status, body, 400, "InvalidParams", "CreditInstrumentId")
}

func TestCancelGivesBuyerBalanceBack(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(10) })
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	r := okTxFn(t)(pay(t, s, "Reserve", tok, "10", "hold"))
	status, body := pay(t, s, "Pay", tok, "1", "while-held")
	requireError(t, status, body, 400, "InsufficientBalance")
	okTxFn(t)(call(t, s, "Cancel", map[string]string{"TransactionId": r.TransactionID}))
	okTxFn(t)(pay(t, s, "Pay", tok, "10", "after-release"))
}
