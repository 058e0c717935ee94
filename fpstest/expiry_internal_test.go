package fpstest

import (
	"context"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// sizes returns how many answers, settle answers, approvals and queued
// expiries the ledger holds.
func (l *Ledger) sizes() (answers, settles, approvals, queued int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.idem), len(l.settles), len(l.approved), len(l.expiries) - l.expHead
}

// The answers kept for idempotency and the approved pipelines are
// forgotten seven days (simulator time) after they were given: not only
// unused, but gone from the ledger and from its Store.
func TestIdempotencyEntriesExpireAfterSevenDays(t *testing.T) {
	st := newMemStore()
	s := NewServer(t, func(c *Config) { c.State, c.PlainHTTP = st, true })
	ctx := context.Background()
	c := s.Client(t)
	tok, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenMultiUse, "ABT", "exp", decimal.Zero)
	require.NoError(t, err)
	pay := &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(2)), CallerReference: "exp-pay"}
	first, err := c.Pay(ctx, pay)
	require.NoError(t, err)
	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(5)), CallerReference: "exp-res"})
	require.NoError(t, err)
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID})
	require.NoError(t, err)
	link, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example/r",
		CallerReference: "exp-pipeline"}, TransactionAmount: decimal.NewFromInt(1)})
	require.NoError(t, err)
	_, err = s.Buy(ctx, link, BuyerChoice{Action: Approve})
	require.NoError(t, err)
	answers, settles, approvals, queued := s.ledger.sizes()
	require.Equal(t, [4]int{2, 1, 1, 4}, [4]int{answers, settles, approvals, queued})
	kept := func(kind string) int {
		st.mu.Lock()
		defer st.mu.Unlock()
		n := 0
		for ref := range st.records {
			if ref.kind == kind {
				n++
			}
		}
		return n
	}
	require.Equal(t, 2, kept(recordAnswer))

	// A minute before the seven days, all is kept: the same Pay answers
	// the first answer.
	s.Clock().Advance(IdempotencyWindow - time.Minute)
	again, err := c.Pay(ctx, pay)
	require.NoError(t, err)
	require.Equal(t, first.TransactionID, again.TransactionID)
	answers, settles, approvals, _ = s.ledger.sizes()
	require.Equal(t, [3]int{2, 1, 1}, [3]int{answers, settles, approvals})

	// Past them, all is forgotten, in memory and in the Store.
	s.Clock().Advance(2 * time.Minute)
	answers, settles, approvals, queued = s.ledger.sizes()
	require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{answers, settles, approvals, queued})
	require.Equal(t, 0, kept(recordAnswer)+kept(recordSettle)+kept(recordApproval))
	third, err := c.Pay(ctx, pay)
	require.NoError(t, err)
	require.NotEqual(t, first.TransactionID, third.TransactionID, "the CallerReference is free again")
	u, err := s.Buy(ctx, link, BuyerChoice{Action: Approve})
	require.NoError(t, err)
	require.Equal(t, "SA", u.Query().Get("status"), "the pipeline is approved anew")
}

// A completed transaction and a token that can no longer pay are kept
// for the retention after their last change, then forgotten; a Reserved
// transaction and a token that can still pay are kept.
func TestRetentionForgetsCompletedTransactions(t *testing.T) {
	s := NewServer(t, func(c *Config) { c.PlainHTTP, c.Retention = true, 48*time.Hour })
	ctx := context.Background()
	c := s.Client(t)
	multi, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenMultiUse, "ABT", "ret-m", decimal.Zero)
	require.NoError(t, err)
	single, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenSingleUse, "ABT", "ret-s", decimal.Zero)
	require.NoError(t, err)
	paid, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: single, TransactionAmount: fps.USD(decimal.NewFromInt(3)), CallerReference: "ret-1"})
	require.NoError(t, err)
	held, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: fps.USD(decimal.NewFromInt(3)), CallerReference: "ret-2"})
	require.NoError(t, err)

	s.Clock().Advance(47 * time.Hour)
	_, ok := s.Ledger().Transaction(paid.TransactionID)
	require.True(t, ok)
	s.Clock().Advance(3 * time.Hour)
	_, ok = s.Ledger().Transaction(paid.TransactionID)
	require.False(t, ok, "completed 50 hours ago")
	_, ok = s.Ledger().TokenStatus(single)
	require.False(t, ok, "used 50 hours ago")
	_, ok = s.Ledger().Transaction(held.TransactionID)
	require.True(t, ok, "still Reserved")
	_, ok = s.Ledger().TokenStatus(multi)
	require.True(t, ok, "can still pay")
	_, err = c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: paid.TransactionID})
	var apiErr *fps.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "InvalidTransactionId", string(apiErr.Code))
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: held.TransactionID})
	require.NoError(t, err)
}
