package fpstest

import (
	"context"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// kept returns how many answers, settle answers and approvals the ledger
// keeps: in its Store when it has one, else in memory (with the expiries
// queued).
func (l *Ledger) kept(st *memStore) (answers, settles, approvals, queued int) {
	if st != nil {
		return st.kept(recordAnswer), st.kept(recordSettle), st.kept(recordApproval), 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.idem), len(l.settles), len(l.approved), len(l.expiries) - l.expHead
}

// The answers kept for idempotency and the approved pipelines are
// forgotten seven days (simulator time) after they were given: not only
// unused, but gone from the ledger's memory, or from its Store.
func TestIdempotencyEntriesExpireAfterSevenDays(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "store"}[withStore], func(t *testing.T) {
			var st *memStore
			s := NewServer(t, func(c *Config) {
				c.PlainHTTP = true
				if withStore {
					st = newMemStore()
					c.State = st
				}
			})
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
			answers, settles, approvals, queued := s.ledger.kept(st)
			require.Equal(t, [3]int{2, 1, 1}, [3]int{answers, settles, approvals})
			if !withStore {
				require.Equal(t, 4, queued)
			}

			// A minute before the seven days, all is kept: the same Pay
			// answers the first answer.
			s.Clock().Advance(IdempotencyWindow - time.Minute)
			again, err := c.Pay(ctx, pay)
			require.NoError(t, err)
			require.Equal(t, first.TransactionID, again.TransactionID)
			answers, settles, approvals, _ = s.ledger.kept(st)
			require.Equal(t, [3]int{2, 1, 1}, [3]int{answers, settles, approvals})

			// Past them, all is forgotten.
			s.Clock().Advance(2 * time.Minute)
			answers, settles, approvals, queued = s.ledger.kept(st)
			require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{answers, settles, approvals, queued})
			third, err := c.Pay(ctx, pay)
			require.NoError(t, err)
			require.NotEqual(t, first.TransactionID, third.TransactionID, "the CallerReference is free again")
			u, err := s.Buy(ctx, link, BuyerChoice{Action: Approve})
			require.NoError(t, err)
			require.Equal(t, "SA", u.Query().Get("status"), "the pipeline is approved anew")

			// The transactions themselves are kept.
			for _, id := range []string{first.TransactionID, res.TransactionID, third.TransactionID} {
				_, err = c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: id})
				require.NoError(t, err)
			}
			require.Equal(t, 2, s.Ledger().ChargeCount("exp-pay"))
		})
	}
}

// Nothing FPS kept is forgotten, with a Store or without: a year on, a
// payment completed long ago is read, listed and refunded; a token used
// up or cancelled long ago is listed and read by its CallerReference; a
// subscription that ended is read with its payments.
func TestNothingIsForgotten(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "store"}[withStore], func(t *testing.T) {
			s := NewServer(t, func(c *Config) {
				c.PlainHTTP = true
				if withStore {
					c.State = newMemStore()
				}
			})
			ctx := context.Background()
			c := s.Client(t)
			usd := func(v int64) fps.Amount { return fps.USD(decimal.NewFromInt(v)) }
			single, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenSingleUse, "ABT", "old-single", decimal.Zero)
			require.NoError(t, err)
			multi, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenMultiUse, "ABT", "old-multi", decimal.Zero)
			require.NoError(t, err)
			paid, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: single, TransactionAmount: usd(30), CallerReference: "old-pay"})
			require.NoError(t, err)
			_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: multi})
			require.NoError(t, err)
			sub, err := s.Ledger().Subscribe(DefaultAccessKeyID, Subscription{Amount: decimal.NewFromInt(4),
				Frequency: fps.Duration{Value: 1, TimeUnit: fps.TimeUnitWeek}, Period: fps.Duration{Value: 2, TimeUnit: fps.TimeUnitWeek}})
			require.NoError(t, err)
			start := s.Clock().Now()

			s.Clock().Advance(400 * 24 * time.Hour)
			got, err := c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: paid.TransactionID})
			require.NoError(t, err)
			require.Equal(t, fps.TransactionStatusSuccess, got.Transaction.TransactionStatus)
			refund, err := c.Refund(ctx, &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: usd(10), CallerReference: "old-refund"})
			require.NoError(t, err)
			require.NoError(t, s.CompletePending(ctx))
			got, err = c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: paid.TransactionID})
			require.NoError(t, err)
			require.Len(t, got.Transaction.RelatedTransactions, 1)
			require.Equal(t, refund.TransactionID, got.Transaction.RelatedTransactions[0].TransactionID)
			activity, err := c.GetAccountActivity(ctx, &fps.GetAccountActivityInput{StartDate: start.Add(-time.Minute), EndDate: start.Add(time.Minute)})
			require.NoError(t, err)
			var listed []string
			for _, tx := range activity.Transactions {
				listed = append(listed, tx.TransactionID)
			}
			require.Contains(t, listed, paid.TransactionID)

			tokens, err := c.GetTokens(ctx, &fps.GetTokensInput{})
			require.NoError(t, err)
			byRef := map[string]string{}
			for _, tok := range tokens.Tokens {
				byRef[tok.CallerReference] = string(tok.TokenStatus)
			}
			require.Equal(t, "Inactive", byRef["old-multi"])
			require.Contains(t, byRef, "old-single")
			byCaller, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: "old-single"})
			require.NoError(t, err)
			require.Equal(t, single, byCaller.Token.TokenID)
			status, ok := s.Ledger().TokenStatus(multi)
			require.True(t, ok)
			require.Equal(t, "Inactive", status)

			d, payments, e := s.ledger.subscriptionOf(DefaultAccessKeyID, sub)
			require.Nil(t, e)
			require.Equal(t, "Completed", d.status)
			require.Len(t, payments, 2)
		})
	}
}
