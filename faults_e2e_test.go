package fps_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// attemptCounter is a slog handler that counts the client's attempt
// records by outcome ("retry", "answer lost, took effect", ...).
type attemptCounter struct {
	mu       sync.Mutex
	outcomes map[string]int
}

func (h *attemptCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *attemptCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *attemptCounter) WithGroup(string) slog.Handler            { return h }
func (h *attemptCounter) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "outcome" {
			h.mu.Lock()
			h.outcomes[a.Value.String()]++
			h.mu.Unlock()
			return false
		}
		return true
	})
	return nil
}

func (h *attemptCounter) count(outcome string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.outcomes[outcome]
}

// faultCall is one money-moving call of the fault test and what it
// returned.
type faultCall struct {
	action    string
	callerRef string // Pay, Reserve, Refund
	reserveID string // Settle
	parentID  string // Refund
	amount    decimal.Decimal
	over      bool   // a refund of more than is left, refused by FPS
	txID      string // on success
	err       error
}

// TestFaultsNeverChargeTwice runs thousands of Pay, Reserve, Settle and
// Refund calls while the simulator fails about a third of them (HTTP 500
// and 503, InternalError, latency, and answers dropped after the action
// took effect), then proves from the simulator's ledger that no
// CallerReference was charged twice, no reserve was settled twice, no
// refund exceeded its payment, and every error said truthfully whether
// money may have moved.
func TestFaultsNeverChargeTwice(t *testing.T) {
	const (
		workers   = 4
		orders    = 110 // per worker; 5 calls each
		faultRate = 0.33
	)
	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(1_000_000) })
	key := fpstest.DefaultAccessKeyID
	token, err := s.Ledger().InstallToken(key, fpstest.TokenMultiUse, "ABT", "fault-test-token", decimal.Zero)
	require.NoError(t, err)

	counter := &attemptCounter{outcomes: map[string]int{}}
	def := s.Client(t).Options().Retryer // the default FPS retry policy
	retryer := retry.AddWithMaxBackoffDelay(retry.AddWithMaxAttempts(def, 5), 5*time.Millisecond).(aws.RetryerV2)
	c := s.Client(t, func(o *fps.Options) {
		o.Retryer = retryer
		o.Logger = slog.New(counter)
	})
	require.NoError(t, s.SetFaults(fpstest.Faults{
		Rate:    faultRate,
		Seed:    20150601,
		Actions: []string{"Pay", "Reserve", "Settle", "Refund"},
		Kinds:   []fpstest.FaultKind{fpstest.Fault500, fpstest.Fault503, fpstest.FaultInternalError, fpstest.FaultLatency, fpstest.FaultDropAfterCommit},
		Latency: 2 * time.Millisecond,
	}))

	ctx := context.Background()
	start := time.Now()
	results := make([][]faultCall, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var calls []faultCall
			record := func(fc faultCall, out *fps.TransactionOutput, err error) faultCall {
				fc.err = err
				if err == nil {
					fc.txID = out.TransactionID
				}
				calls = append(calls, fc)
				return fc
			}
			refund := func(parent string, amount decimal.Decimal, over bool) error {
				ref := fps.NewCallerReference()
				out, err := c.Refund(ctx, &fps.RefundInput{TransactionID: parent, RefundAmount: fps.USD(amount), CallerReference: ref})
				record(faultCall{action: "Refund", callerRef: ref, parentID: parent, amount: amount, over: over}, out, err)
				return err
			}
			for i := range orders {
				amount := decimal.New(int64(100+w*1000+i), -2) // 1.00 and up, distinct per order
				ref := fps.NewCallerReference()
				out, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: fps.USD(amount), CallerReference: ref})
				p := record(faultCall{action: "Pay", callerRef: ref, amount: amount}, out, err)
				if p.err == nil {
					half := amount.Div(decimal.NewFromInt(2)).Round(2)
					// More than is left once the first half is refunded:
					// refused, whatever the faults. (When the first refund
					// failed, or its outcome is unknown, what is left is
					// not known: nothing to prove.)
					if err := refund(p.txID, half, false); err == nil && i%10 == 0 {
						refund(p.txID, amount.Sub(half).Add(decimal.New(1, -2)), true)
					}
				}

				ref = fps.NewCallerReference()
				rout, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: fps.USD(amount), CallerReference: ref})
				r := record(faultCall{action: "Reserve", callerRef: ref, amount: amount}, rout, err)
				if r.err != nil {
					continue
				}
				settled := amount.Sub(decimal.New(int64(i%3), -2))
				sout, err := c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: r.txID, TransactionAmount: fps.USD(settled)})
				st := record(faultCall{action: "Settle", reserveID: r.txID, amount: settled}, sout, err)
				if st.err == nil {
					refund(r.txID, settled, false)
				}
			}
			results[w] = calls
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []faultCall
	for _, calls := range results {
		all = append(all, calls...)
	}
	injected := s.FaultsInjected()
	require.GreaterOrEqual(t, len(all), 2000)
	require.InDelta(t, faultRate, float64(injected)/float64(len(all)+counter.count("retry")), 0.05,
		"about a third of the attempts fail on purpose")

	// The ledger, indexed.
	ledger := s.Ledger()
	byID := map[string]fpstest.Transaction{}
	byRef := map[string][]fpstest.Transaction{}
	for _, tx := range ledger.Transactions() {
		byID[tx.ID] = tx
		byRef[tx.CallerReference] = append(byRef[tx.CallerReference], tx)
	}

	var succeeded, ambiguous, definite int
	perAction := map[string][3]int{}
	for _, fc := range all {
		n := perAction[fc.action]
		switch {
		case fc.err == nil:
			require.False(t, fc.over, "a refund of more than is left succeeded")
			succeeded++
			n[0]++
			tx, ok := byID[fc.txID]
			require.True(t, ok, "%s succeeded with %s, not in the ledger", fc.action, fc.txID)
			switch fc.action {
			case "Settle":
				require.Equal(t, fc.reserveID, tx.ID, "Settle answers with the reserve's id")
				require.True(t, tx.SettledAmount.Equal(fc.amount), "settled %s, asked %s", tx.SettledAmount, fc.amount)
			default:
				require.Equal(t, fc.callerRef, tx.CallerReference)
				require.Equal(t, fc.action, tx.Operation)
				require.True(t, tx.Amount.Equal(fc.amount), "%s amount %s, asked %s", fc.action, tx.Amount, fc.amount)
				require.Equal(t, fc.parentID, tx.ParentID)
			}
		case fps.MayHaveMoved(fc.err):
			ambiguous++
			n[1]++
			require.ErrorIs(t, fc.err, fps.ErrOutcomeUnknown)
			require.Contains(t, fc.err.Error(), "money may have moved")
		default:
			definite++
			n[2]++
			require.NotErrorIs(t, fc.err, fps.ErrOutcomeUnknown)
			require.Contains(t, fc.err.Error(), "no money moved", "a definite error says so: %v", fc.err)
			var ae *fps.APIError
			require.ErrorAs(t, fc.err, &ae)
			if fc.action == "Settle" {
				// Every attempt failed, and after each GetTransactionStatus
				// showed the reserve still Reserved.
				require.GreaterOrEqual(t, ae.StatusCode, 500, "an unexpected refusal: %v", fc.err)
				require.Zero(t, ledger.SettleCount(fc.reserveID), "Settle said no money moved: %v", fc.err)
			} else {
				require.True(t, fc.over, "an unexpected refusal: %v", fc.err)
				require.Equal(t, fps.ErrCodeRefundAmountExceeded, ae.Code)
				require.Empty(t, byRef[fc.callerRef], "%s said no money moved: %v", fc.action, fc.err)
			}
		}
		perAction[fc.action] = n
		if fc.action == "Settle" {
			require.LessOrEqual(t, ledger.SettleCount(fc.reserveID), 1, "reserve %s settled twice", fc.reserveID)
		} else {
			require.LessOrEqual(t, ledger.ChargeCount(fc.callerRef), 1, "%s charged twice", fc.callerRef)
		}
	}

	// Refunds never exceed what was paid or settled, and add up.
	refunded := map[string]decimal.Decimal{}
	for _, tx := range byID {
		if tx.Operation == "Refund" {
			refunded[tx.ParentID] = refunded[tx.ParentID].Add(tx.Amount)
		}
	}
	for parent, sum := range refunded {
		p := byID[parent]
		base := p.Amount
		if p.Operation == "Reserve" {
			base = p.SettledAmount
		}
		require.True(t, sum.LessThanOrEqual(base), "refunds of %s total %s, more than %s", parent, sum, base)
		require.True(t, sum.Equal(p.RefundedAmount), "refunds of %s total %s, ledger says %s", parent, sum, p.RefundedAmount)
	}

	// With the faults gone, resending an ambiguous Pay, Reserve or Refund
	// with the same input is safe: at most one transaction per reference.
	require.NoError(t, s.SetFaults(fpstest.Faults{}))
	resent := 0
	for _, fc := range all {
		if !fps.MayHaveMoved(fc.err) || fc.action == "Settle" {
			continue
		}
		var out *fps.TransactionOutput
		var err error
		switch fc.action {
		case "Pay":
			out, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: fps.USD(fc.amount), CallerReference: fc.callerRef})
		case "Reserve":
			out, err = c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: fps.USD(fc.amount), CallerReference: fc.callerRef})
		case "Refund":
			out, err = c.Refund(ctx, &fps.RefundInput{TransactionID: fc.parentID, RefundAmount: fps.USD(fc.amount), CallerReference: fc.callerRef})
		}
		resent++
		if fc.over {
			require.Equal(t, fps.ErrCodeRefundAmountExceeded, apiCode(t, err))
			require.Zero(t, ledger.ChargeCount(fc.callerRef))
			continue
		}
		require.NoError(t, err, "resending %s %s", fc.action, fc.callerRef)
		require.Equal(t, 1, ledger.ChargeCount(fc.callerRef))
		if prev := byRef[fc.callerRef]; len(prev) == 1 {
			require.Equal(t, prev[0].ID, out.TransactionID, "the resend answers with the transaction already made")
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "fault test: %d calls (", len(all))
	for i, a := range []string{"Pay", "Reserve", "Settle", "Refund"} {
		n := perAction[a]
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d/%d/%d", a, n[0], n[1], n[2])
	}
	fmt.Fprintf(&b, " ok/ambiguous/refused), %d faults injected, %d retries, %d lost answers reconciled, "+
		"%d succeeded, %d ambiguous, %d definite errors, %d ambiguous resent safely, %d ledger transactions, %s",
		injected, counter.count("retry"), counter.count("answer lost, took effect"),
		succeeded, ambiguous, definite, resent, len(ledger.Transactions()), elapsed.Round(time.Millisecond))
	t.Log(b.String())
}

// dropNext makes the simulator perform the next call of action, then
// close the connection without answering.
func dropNext(t *testing.T, s *fpstest.Server, action string) {
	t.Helper()
	require.NoError(t, s.SetFaults(fpstest.Faults{
		Rate: 1, Actions: []string{action}, Kinds: []fpstest.FaultKind{fpstest.FaultDropAfterCommit}, Limit: 1,
	}))
}

// TestFaultsLostAnswerEveryAction loses the answer of one call of every
// action that changes something at FPS, after it took effect. Each call
// still succeeds, by an idempotent resend or by asking FPS what happened,
// and took effect exactly once.
func TestFaultsLostAnswerEveryAction(t *testing.T) {
	s, c, ctx := simulator(t)
	ledger := s.Ledger()
	multi := multiUse(t, s, c, "1000", "ABT")

	check := func(action string) {
		t.Helper()
		require.Equal(t, 1, s.FaultsInjected(), "%s: the fault was not injected", action)
	}

	ref := fps.NewCallerReference()
	dropNext(t, s, "Pay")
	paid, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("20"), CallerReference: ref})
	require.NoError(t, err)
	check("Pay")
	require.Equal(t, 1, ledger.ChargeCount(ref))

	ref = fps.NewCallerReference()
	dropNext(t, s, "Refund")
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: usd("5"), CallerReference: ref})
	require.NoError(t, err)
	check("Refund")
	require.Equal(t, 1, ledger.ChargeCount(ref))
	tx, _ := ledger.Transaction(paid.TransactionID)
	require.Equal(t, "5", tx.RefundedAmount.String())

	for _, settleAmount := range []string{"30", ""} {
		ref = fps.NewCallerReference()
		dropNext(t, s, "Reserve")
		res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("30"), CallerReference: ref})
		require.NoError(t, err)
		check("Reserve")
		require.Equal(t, 1, ledger.ChargeCount(ref))

		dropNext(t, s, "Settle")
		in := &fps.SettleInput{ReserveTransactionID: res.TransactionID}
		if settleAmount != "" {
			in.TransactionAmount = usd(settleAmount)
		}
		st, err := c.Settle(ctx, in)
		require.NoError(t, err)
		check("Settle")
		require.Equal(t, res.TransactionID, st.TransactionID)
		require.Equal(t, fps.TransactionStatusSuccess, st.TransactionStatus)
		require.Equal(t, 1, ledger.SettleCount(res.TransactionID))
	}

	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("7"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	dropNext(t, s, "Cancel")
	cn, err := c.Cancel(ctx, &fps.CancelInput{TransactionID: res.TransactionID})
	require.NoError(t, err)
	check("Cancel")
	require.Equal(t, fps.TransactionStatusCancelled, cn.TransactionStatus)

	dropNext(t, s, "CancelToken")
	single := singleUse(t, s, c, "1", "ABT")
	_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: single})
	require.NoError(t, err)
	check("CancelToken")
	requireCancelled(t, s, c, single)

	ref = fps.NewCallerReference()
	dropNext(t, s, "InstallPaymentInstruction")
	_, err = c.InstallPaymentInstruction(ctx, &fps.InstallPaymentInstructionInput{
		PaymentInstruction: "MyRole == 'Caller';", CallerReference: ref, TokenType: fps.TokenTypeUnrestricted,
	})
	require.NoError(t, err)
	check("InstallPaymentInstruction")
	toks, err := c.GetTokens(ctx, &fps.GetTokensInput{CallerReference: ref})
	require.NoError(t, err)
	require.Len(t, toks.Tokens, 1)

	pre := setupPrepaid(t, s, c, 40)
	ref = fps.NewCallerReference()
	dropNext(t, s, "FundPrepaid")
	_, err = c.FundPrepaid(ctx, &fps.FundPrepaidInput{SenderTokenID: pre.FundingTokenID, PrepaidInstrumentID: pre.PrepaidInstrumentID, FundingAmount: usd("40"), CallerReference: ref})
	require.NoError(t, err)
	check("FundPrepaid")
	require.Equal(t, 1, ledger.ChargeCount(ref))
	pb, err := c.GetPrepaidBalance(ctx, &fps.GetPrepaidBalanceInput{PrepaidInstrumentID: pre.PrepaidInstrumentID})
	require.NoError(t, err)
	require.Equal(t, "40", pb.PrepaidBalance.AvailableBalance.Value.String())

	post := setupPostpaid(t, s, c, 100)
	pay(t, c, post.CreditSenderTokenID, "50")
	ref = fps.NewCallerReference()
	dropNext(t, s, "SettleDebt")
	_, err = c.SettleDebt(ctx, &fps.SettleDebtInput{SenderTokenID: post.SettlementTokenID, CreditInstrumentID: post.CreditInstrumentID, SettlementAmount: usd("30"), CallerReference: ref})
	require.NoError(t, err)
	check("SettleDebt")
	require.Equal(t, 1, ledger.ChargeCount(ref))
	ref = fps.NewCallerReference()
	dropNext(t, s, "WriteOffDebt")
	_, err = c.WriteOffDebt(ctx, &fps.WriteOffDebtInput{CreditInstrumentID: post.CreditInstrumentID, AdjustmentAmount: usd("20"), CallerReference: ref})
	require.NoError(t, err)
	check("WriteOffDebt")
	require.Equal(t, 1, ledger.ChargeCount(ref))
	db, err := c.GetDebtBalance(ctx, &fps.GetDebtBalanceInput{CreditInstrumentID: post.CreditInstrumentID})
	require.NoError(t, err)
	require.True(t, db.DebtBalance.AvailableBalance.Value.IsZero(), "debt %s", db.DebtBalance.AvailableBalance)

	sub := subscription(t, s, c, "9")
	ref = fps.NewCallerReference()
	dropNext(t, s, "CancelSubscriptionAndRefund")
	out, err := c.CancelSubscriptionAndRefund(ctx, &fps.CancelSubscriptionAndRefundInput{SubscriptionID: sub, RefundAmount: usd("9"), CallerReference: ref})
	require.NoError(t, err)
	check("CancelSubscriptionAndRefund")
	require.Equal(t, 1, ledger.ChargeCount(ref))
	rtx, ok := ledger.Transaction(out.RefundTransactionID)
	require.True(t, ok)
	require.Equal(t, ref, rtx.CallerReference)
}

// TestFaultsAmbiguousWithoutRetry: with retries off, a lost answer is an
// error that says money may have moved; resending the same input is safe
// and answers with the transaction already made.
func TestFaultsAmbiguousWithoutRetry(t *testing.T) {
	s := fpstest.NewServer(t)
	c := s.Client(t, func(o *fps.Options) { o.MaxAttempts = 1 })
	ctx := context.Background()
	token := multiUse(t, s, c, "100", "ABT")
	in := &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("10"), CallerReference: fps.NewCallerReference()}

	dropNext(t, s, "Pay")
	_, err := c.Pay(ctx, in)
	require.True(t, fps.MayHaveMoved(err), "%v", err)
	require.ErrorIs(t, err, fps.ErrOutcomeUnknown)
	require.Equal(t, 1, s.Ledger().ChargeCount(in.CallerReference), "the simulator did charge")

	again, err := c.Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, 1, s.Ledger().ChargeCount(in.CallerReference))
	txs := s.Ledger().Transactions()
	require.Equal(t, txs[len(txs)-1].ID, again.TransactionID)

	// A 503 is answered before anything happens, but the client cannot
	// know that: still "may have moved", and nothing was charged.
	require.NoError(t, s.SetFaults(fpstest.Faults{Rate: 1, Actions: []string{"Pay"}, Kinds: []fpstest.FaultKind{fpstest.Fault503}, Limit: 1}))
	in2 := &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("3"), CallerReference: fps.NewCallerReference()}
	_, err = c.Pay(ctx, in2)
	require.True(t, fps.MayHaveMoved(err), "%v", err)
	require.Zero(t, s.Ledger().ChargeCount(in2.CallerReference))

	// Settle reconciles even with retries off: the answer is lost, the
	// reserve was settled, the call succeeds.
	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: usd("4"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	dropNext(t, s, "Settle")
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID})
	require.NoError(t, err)
	require.Equal(t, 1, s.Ledger().SettleCount(res.TransactionID))
}

// TestFaultsCancelDuringLatency: a context that ends while the simulator
// is slow stops the call at once, and the error says money may have moved.
func TestFaultsCancelDuringLatency(t *testing.T) {
	s := fpstest.NewServer(t, func(c *fpstest.Config) {
		c.Faults = fpstest.Faults{Rate: 1, Actions: []string{"Pay"}, Kinds: []fpstest.FaultKind{fpstest.FaultLatency}, Latency: 5 * time.Second}
	})
	c := s.Client(t)
	token, err := s.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenMultiUse, "ABT", "latency", decimal.Zero)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	ref := fps.NewCallerReference()
	start := time.Now()
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("1"), CallerReference: ref})
	require.Less(t, time.Since(start), 2*time.Second, "the call did not stop with its context")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.True(t, fps.MayHaveMoved(err), "%v", err)
	require.LessOrEqual(t, s.Ledger().ChargeCount(ref), 1)
}

// TestFaultsLostAnswerCreditCard: Settle and Cancel of credit card
// transactions, which go through Pending, still learn that a call whose
// answer was lost took effect.
func TestFaultsLostAnswerCreditCard(t *testing.T) {
	s, c, ctx := simulator(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	token := multiUse(t, s, c, "100", "CC")

	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: usd("30"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, res.TransactionStatus)
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err), "a pending reserve cannot be settled yet")
	require.NoError(t, s.CompletePending(ctx))

	dropNext(t, s, "Settle")
	st, err := c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd("25")})
	require.NoError(t, err)
	require.Equal(t, 1, s.FaultsInjected())
	require.Equal(t, fps.TransactionStatusPending, st.TransactionStatus)
	require.Equal(t, 1, s.Ledger().SettleCount(res.TransactionID))
	require.NoError(t, s.CompletePending(ctx))
	tx, _ := s.Ledger().Transaction(res.TransactionID)
	require.Equal(t, fps.TransactionStatusSuccess, tx.Status)
	require.Equal(t, "25", tx.SettledAmount.String())

	// Cancel a pending credit card payment whose answer is lost.
	paid := pay(t, c, token, "10")
	require.Equal(t, fps.TransactionStatusPending, paid.TransactionStatus)
	dropNext(t, s, "Cancel")
	cn, err := c.Cancel(ctx, &fps.CancelInput{TransactionID: paid.TransactionID})
	require.NoError(t, err)
	require.Equal(t, 1, s.FaultsInjected())
	require.Equal(t, fps.TransactionStatusCancelled, cn.TransactionStatus)
	require.NoError(t, s.CompletePending(ctx))
	tx, _ = s.Ledger().Transaction(paid.TransactionID)
	require.Equal(t, fps.TransactionStatusCancelled, tx.Status, "a cancelled payment stays cancelled")
}
