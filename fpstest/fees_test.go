package fpstest_test

import (
	"encoding/xml"
	"net/http"
	"testing"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// detailFees reads the fee elements of GetTransaction.
type detailFees struct {
	FPSFees         string `xml:"GetTransactionResult>Transaction>FPSFees>Value"`
	MarketplaceFees string `xml:"GetTransactionResult>Transaction>MarketplaceFees>Value"`
	PaidBy          string `xml:"GetTransactionResult>Transaction>FPSFeesPaidBy"`
}

func transactionFees(t *testing.T, s *fpstest.Server, id string) detailFees {
	t.Helper()
	status, body := call(t, s, "GetTransaction", map[string]string{"TransactionId": id})
	require.Equal(t, http.StatusOK, status, body)
	var d detailFees
	require.NoError(t, xml.Unmarshal([]byte(body), &d), body)
	return d
}

// The FPS fee follows the simulator's schedule (5% + 0.05 below 10.00,
// 2.9% + 0.30 from 10.00), which gives the fees of the docs' samples.
func TestFPSFees(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	cc := install(t, s, "CC", fpstest.TokenMultiUse)
	for _, c := range []struct{ amount, fee string }{
		{"1", "0.100000"}, // the docs' GetTransaction sample
		{"5", "0.300000"}, // the docs' FundPrepaid of 5.00
		{"9.99", "0.550000"},
		{"10", "0.590000"},
		{"100", "3.200000"},
	} {
		p := okTxFn(t)(pay(t, s, "Pay", cc, c.amount, "fee-"+c.amount))
		d := transactionFees(t, s, p.TransactionID)
		require.Equal(t, c.fee, d.FPSFees, c.amount)
		require.Equal(t, "Recipient", d.PaidBy)
		require.Empty(t, d.MarketplaceFees)
	}
	// The caller's balance gets the amount less the fee, once completed.
	before := s.Ledger().Balance(fpstest.DefaultAccessKeyID)
	require.NoError(t, s.CompletePending(t.Context()))
	require.Equal(t, "121.250000", s.Ledger().Balance(fpstest.DefaultAccessKeyID).Sub(before).StringFixed(6),
		"125.99 paid less 4.74 of fees")
}

func TestMarketplaceFeeAndChargeFeeTo(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	p := okTxFn(t)(call(t, s, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "20",
		"CallerReference": "mkt-1", "ChargeFeeTo": "Caller",
		"MarketplaceFixedFee.Value": "0.50", "MarketplaceFixedFee.CurrencyCode": "USD", "MarketplaceVariableFee": "10"}))
	d := transactionFees(t, s, p.TransactionID)
	require.Equal(t, detailFees{FPSFees: "0.880000", MarketplaceFees: "2.500000", PaidBy: "Caller"}, d)
	name := fpstest.DefaultAccount().Name
	require.Equal(t, []string{
		"Role=Caller Name=" + name + " Reference=mkt-1 FeesPaid=0.880000",
		"Role=Recipient Name=" + name + " FeesPaid=2.500000",
	}, activityParts(t, s)[p.TransactionID])

	// What the recipient owes in fees must be less than the amount.
	status, body := call(t, s, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "1",
		"CallerReference": "mkt-2", "MarketplaceFixedFee.Value": "0.90"})
	requireError(t, status, body, http.StatusBadRequest, "InvalidParams", "Transaction amount must be greater than Recipient Fee liability.")
	status, body = pay(t, s, "Pay", tok, "0.05", "mkt-3") // the FPS fee of 0.05 is 0.05
	requireError(t, status, body, http.StatusBadRequest, "InvalidParams", "Recipient Fee liability")
	okTxFn(t)(call(t, s, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "0.05",
		"CallerReference": "mkt-4", "ChargeFeeTo": "Caller"}))
	require.Equal(t, 0, s.Ledger().ChargeCount("mkt-2")+s.Ledger().ChargeCount("mkt-3"))
}

// A refund gives back the FPS fee in proportion to what it refunds; the
// last refund gives back all that is left of it.
func TestRefundGivesTheFeeBack(t *testing.T) {
	s := newServer(t)
	key := fpstest.DefaultAccessKeyID
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	p := okTxFn(t)(pay(t, s, "Pay", tok, "30", "rf-fee")) // fee 1.17
	require.Equal(t, "28.830000", s.Ledger().Balance(key).StringFixed(6))
	r1 := okTxFn(t)(call(t, s, "Refund", map[string]string{"TransactionId": p.TransactionID, "CallerReference": "rf-fee-1",
		"RefundAmount.Value": "10"}))
	require.Equal(t, "-0.390000", transactionFees(t, s, r1.TransactionID).FPSFees)
	require.Equal(t, "19.220000", s.Ledger().Balance(key).StringFixed(6), "28.83 - 10.00 + 0.39")
	r2 := okTxFn(t)(call(t, s, "Refund", map[string]string{"TransactionId": p.TransactionID, "CallerReference": "rf-fee-2"}))
	require.Equal(t, "-0.780000", transactionFees(t, s, r2.TransactionID).FPSFees)
	require.Equal(t, "0.000000", s.Ledger().Balance(key).StringFixed(6))
}

// A payment from a prepaid instrument moves no money to the caller: it
// came in when the instrument was funded (as the balances of the docs'
// GetAccountActivity sample show), and pays no fee.
func TestPrepaidPaymentMovesNoBalance(t *testing.T) {
	s := newServer(t)
	key := fpstest.DefaultAccessKeyID
	pre := setupPrepaid(t, s, "pp")
	okTxFn(t)(call(t, s, "FundPrepaid", map[string]string{"SenderTokenId": pre.Get("fundingTokenID"),
		"PrepaidInstrumentId": pre.Get("prepaidInstrumentID"), "FundingAmount.Value": "5", "CallerReference": "pp-fund"}))
	require.Equal(t, "4.700000", s.Ledger().Balance(key).StringFixed(6), "5.00 funded less the fee of 0.30")
	p := okTxFn(t)(pay(t, s, "Pay", pre.Get("prepaidSenderTokenID"), "4", "pp-pay"))
	require.Equal(t, "0.000000", transactionFees(t, s, p.TransactionID).FPSFees)
	require.Equal(t, "4.700000", s.Ledger().Balance(key).StringFixed(6))
}
