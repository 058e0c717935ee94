package fps_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// End-to-end tests of every action against the simulator. Tokens come from
// the Co-Branded UI: a signed pipeline URL, the buyer's choice (s.Buy),
// then the signed return parsed by ParsePipelineReturn.

const e2eReturnURL = "https://shop.example/return"

func usd(s string) fps.Amount { return fps.USD(decimal.RequireFromString(s)) }

// simulator starts an fpstest server and returns it with a client of its
// default account.
func simulator(t *testing.T, optFns ...func(*fpstest.Config)) (*fpstest.Server, *fps.Client, context.Context) {
	t.Helper()
	s := fpstest.NewServer(t, optFns...)
	return s, s.Client(t), context.Background()
}

// buy drives pipeline p through the simulator's CBUI with the buyer
// approving by method, and returns the parsed signed return.
func buy(t *testing.T, s *fpstest.Server, c *fps.Client, p fps.Pipeline, method string) *fps.PipelineReturn {
	t.Helper()
	ctx := context.Background()
	link, err := c.PipelineURL(ctx, p)
	require.NoError(t, err)
	ret, err := s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	require.NoError(t, err)
	pr, err := fps.ParsePipelineReturn(ret.Query())
	require.NoError(t, err)
	require.True(t, pr.Status.Success(), "pipeline status %s", pr.Status)
	return pr
}

// singleUse returns a SingleUse sender token for up to amount.
func singleUse(t *testing.T, s *fpstest.Server, c *fps.Client, amount, method string) string {
	t.Helper()
	return buy(t, s, c, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		TransactionAmount: decimal.RequireFromString(amount),
	}, method).TokenID
}

// multiUse returns a MultiUse sender token with a global limit.
func multiUse(t *testing.T, s *fpstest.Server, c *fps.Client, limit, method string) string {
	t.Helper()
	return buy(t, s, c, &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		GlobalAmountLimit: decimal.RequireFromString(limit),
	}, method).TokenID
}

// apiCode returns the FPS error code carried by err, failing the test when
// err is not an *APIError.
func apiCode(t *testing.T, err error) fps.ErrorCode {
	t.Helper()
	require.Error(t, err)
	var ae *fps.APIError
	require.True(t, errors.As(err, &ae), "not an *APIError: %v", err)
	require.False(t, fps.MayHaveMoved(err), "a definite FPS error must not say money may have moved: %v", err)
	return ae.Code
}

func pay(t *testing.T, c *fps.Client, token, amount string) *fps.PayOutput {
	t.Helper()
	out, err := c.Pay(context.Background(), &fps.PayInput{
		SenderTokenID: token, TransactionAmount: usd(amount), CallerReference: fps.NewCallerReference(),
	})
	require.NoError(t, err)
	return out
}

// setupPrepaid runs a SetupPrepaid pipeline for funding up to amount.
func setupPrepaid(t *testing.T, s *fpstest.Server, c *fps.Client, amount int64) *fps.PipelineReturn {
	t.Helper()
	return buy(t, s, c, &fps.SetupPrepaidPipeline{
		PipelineCommon:         fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		CallerReferenceSender:  fps.NewCallerReference(),
		CallerReferenceFunding: fps.NewCallerReference(),
		FundingAmount:          decimal.NewFromInt(amount),
	}, "ABT")
}

// setupPostpaid runs a SetupPostpaid pipeline with a credit limit.
func setupPostpaid(t *testing.T, s *fpstest.Server, c *fps.Client, limit int64) *fps.PipelineReturn {
	t.Helper()
	return buy(t, s, c, &fps.SetupPostpaidPipeline{
		PipelineCommon:            fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		CallerReferenceSender:     fps.NewCallerReference(),
		CallerReferenceSettlement: fps.NewCallerReference(),
		CreditLimit:               decimal.NewFromInt(limit),
		GlobalAmountLimit:         decimal.NewFromInt(limit),
	}, "ABT")
}

// subscription returns a monthly Recurring token, paid once.
func subscription(t *testing.T, s *fpstest.Server, c *fps.Client, amount string) string {
	t.Helper()
	tok := buy(t, s, c, &fps.RecurringPipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		TransactionAmount: decimal.RequireFromString(amount),
		RecurringPeriod:   "1 Month",
	}, "ABT").TokenID
	pay(t, c, tok, amount)
	return tok
}

// requireCancelled checks that token is Inactive and that Pay refuses it.
func requireCancelled(t *testing.T, s *fpstest.Server, c *fps.Client, token string) {
	t.Helper()
	status, ok := s.Ledger().TokenStatus(token)
	require.True(t, ok)
	require.Equal(t, "Inactive", status)
	_, err := c.Pay(context.Background(), &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("1"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeTokenNotActiveSender, apiCode(t, err))
}

func TestE2EPayRefund(t *testing.T) {
	s, c, ctx := simulator(t)
	key := fpstest.DefaultAccessKeyID
	before := s.Ledger().Balance(key)

	token := singleUse(t, s, c, "25", "ABT")
	ref := fps.NewCallerReference()
	in := &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("25"), CallerReference: ref, CallerDescription: "order 1"}
	out, err := c.Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, out.TransactionStatus)
	require.NotEmpty(t, out.RequestID)
	// 25.00 less the simulator's FPS fee of 1.03 (2.9% + 0.30).
	require.True(t, s.Ledger().Balance(key).Equal(before.Add(decimal.RequireFromString("23.97"))), "balance %s", s.Ledger().Balance(key))

	// The same request again is an idempotent replay: same transaction,
	// nothing charged twice.
	again, err := c.Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, out.TransactionID, again.TransactionID)
	require.Equal(t, 1, s.Ledger().ChargeCount(ref))

	// The same CallerReference with another amount is refused.
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("24"), CallerReference: ref})
	require.Equal(t, fps.ErrCodeDuplicateRequest, apiCode(t, err))

	// A used single-use token cannot pay again.
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("1"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeTokenUsageError, apiCode(t, err))

	// Refunds: part, beyond what is left, the rest, then nothing left.
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: out.TransactionID, RefundAmount: usd("10"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: out.TransactionID, RefundAmount: usd("15.01"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeRefundAmountExceeded, apiCode(t, err))
	rest, err := c.Refund(ctx, &fps.RefundInput{TransactionID: out.TransactionID, CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	tx, ok := s.Ledger().Transaction(rest.TransactionID)
	require.True(t, ok)
	require.Equal(t, "15", tx.Amount.String())
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: out.TransactionID, RefundAmount: usd("1"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeTransactionFullyRefundedAlready, apiCode(t, err))
	require.True(t, s.Ledger().Balance(key).Equal(before), "balance after full refund %s", s.Ledger().Balance(key))

	// A transaction that does not exist cannot be refunded.
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM", CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInvalidTransactionID, apiCode(t, err))
}

func TestE2EPayErrors(t *testing.T) {
	s, c, ctx := simulator(t, func(c *fpstest.Config) { c.BuyerBalance = decimal.NewFromInt(30) })

	// More than the buyer's balance.
	token := singleUse(t, s, c, "50", "ABT")
	_, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("40"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInsufficientBalance, apiCode(t, err))

	// More than the token allows.
	small := singleUse(t, s, c, "5", "ABT")
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: small, TransactionAmount: usd("6"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInsufficientBalance, apiCode(t, err))

	// A token nobody installed.
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: "NOSUCHTOKEN", TransactionAmount: usd("1"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInvalidTokenIDSender, apiCode(t, err))

	// A cancelled token.
	multi := multiUse(t, s, c, "20", "ABT")
	pay(t, c, multi, "2")
	_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: multi, ReasonText: "customer closed the account"})
	require.NoError(t, err)
	requireCancelled(t, s, c, multi)
	_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: "NOSUCHTOKEN"})
	require.Equal(t, fps.ErrCodeInvalidTokenID, apiCode(t, err))
}

func TestE2EReserveSettleCancel(t *testing.T) {
	s, c, ctx := simulator(t)
	key := fpstest.DefaultAccessKeyID
	token := multiUse(t, s, c, "500", "ABT")
	before := s.Ledger().Balance(key)

	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: usd("40"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusReserved, res.TransactionStatus)
	require.True(t, s.Ledger().Balance(key).Equal(before), "a reserve moves no money to the caller")

	// More than reserved is refused; then a partial settle; then a second
	// settle with another amount is refused, the same one is replayed.
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd("40.01")})
	require.Equal(t, fps.ErrCodeSettleAmountGreaterThanReserveAmount, apiCode(t, err))
	settle := &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd("30")}
	st, err := c.Settle(ctx, settle)
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, st.TransactionStatus)
	require.True(t, s.Ledger().Balance(key).Equal(before.Add(decimal.RequireFromString("28.83"))), "30.00 less the FPS fee of 1.17")
	replay, err := c.Settle(ctx, settle)
	require.NoError(t, err)
	require.Equal(t, st.TransactionID, replay.TransactionID)
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd("10")})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err))
	require.Equal(t, 1, s.Ledger().SettleCount(res.TransactionID))

	// A settled reserve can be refunded up to what was settled.
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: res.TransactionID, RefundAmount: usd("31"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeRefundAmountExceeded, apiCode(t, err))

	// Cancel a reserve: then it cannot be settled.
	res2, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: usd("20"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	cn, err := c.Cancel(ctx, &fps.CancelInput{TransactionID: res2.TransactionID, Description: "out of stock"})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusCancelled, cn.TransactionStatus)
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res2.TransactionID})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err))

	// A completed payment cannot be cancelled.
	done := pay(t, c, token, "5")
	_, err = c.Cancel(ctx, &fps.CancelInput{TransactionID: done.TransactionID})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err))
}

func TestE2EPendingCreditCard(t *testing.T) {
	s, c, ctx := simulator(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	ref := fps.NewCallerReference()
	token := singleUse(t, s, c, "12.50", "CC")
	out, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd("12.50"), CallerReference: ref, SenderDescription: "Shop order 7"})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, out.TransactionStatus)

	st, err := c.GetTransactionStatus(ctx, &fps.GetTransactionStatusInput{TransactionID: out.TransactionID})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, st.TransactionStatus)
	require.False(t, st.TransactionStatus.Final())

	// A pending payment cannot be refunded yet.
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: out.TransactionID, CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err))

	require.NoError(t, s.CompletePending(ctx))
	st, err = c.GetTransactionStatus(ctx, &fps.GetTransactionStatusInput{TransactionID: out.TransactionID})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, st.TransactionStatus)
	require.Equal(t, ref, st.CallerReference)
	require.True(t, st.TransactionStatus.Final() && st.TransactionStatus.MoneyMoved())

	got, err := c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: out.TransactionID})
	require.NoError(t, err)
	d := got.Transaction
	require.Equal(t, out.TransactionID, d.TransactionID)
	require.Equal(t, ref, d.CallerReference)
	require.Equal(t, "Shop order 7", d.SenderDescription)
	require.Equal(t, fps.TransactionStatusSuccess, d.TransactionStatus)
	require.Equal(t, fps.FPSOperationPay, d.FPSOperation)
	require.True(t, d.TransactionAmount.Value.Equal(decimal.RequireFromString("12.5")), "amount %s", d.TransactionAmount)
	require.Equal(t, token, d.SenderTokenID)
	require.NotEmpty(t, d.StatusHistory)
	require.Equal(t, fps.TransactionStatusSuccess, d.StatusHistory[len(d.StatusHistory)-1].TransactionStatus)

	_, err = c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM"})
	require.Equal(t, fps.ErrCodeInvalidTransactionID, apiCode(t, err))
}

func TestE2ETokensAndActivity(t *testing.T) {
	s, c, ctx := simulator(t)
	start := s.Clock().Now().Add(-time.Minute)

	ref := fps.NewCallerReference()
	multi := buy(t, s, c, &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: ref},
		GlobalAmountLimit: decimal.NewFromInt(100),
	}, "ABT").TokenID
	single := singleUse(t, s, c, "3", "ABT")

	toks, err := c.GetTokens(ctx, &fps.GetTokensInput{})
	require.NoError(t, err)
	ids := map[string]fps.TokenType{}
	for _, tk := range toks.Tokens {
		ids[tk.TokenID] = tk.TokenType
	}
	require.Equal(t, fps.TokenTypeMultiUse, ids[multi])
	require.Equal(t, fps.TokenTypeSingleUse, ids[single])

	byRef, err := c.GetTokens(ctx, &fps.GetTokensInput{CallerReference: ref})
	require.NoError(t, err)
	require.Len(t, byRef.Tokens, 1)
	require.Equal(t, multi, byRef.Tokens[0].TokenID)

	tk, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: ref})
	require.NoError(t, err)
	require.Equal(t, multi, tk.Token.TokenID)
	require.Equal(t, fps.TokenStatusActive, tk.Token.TokenStatus)
	tk, err = c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{TokenID: single})
	require.NoError(t, err)
	require.Equal(t, single, tk.Token.TokenID)
	_, err = c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: "no-such-reference"})
	require.Equal(t, fps.ErrCodeInvalidCallerReference, apiCode(t, err))

	pay(t, c, multi, "30")
	pay(t, c, multi, "12.25")
	usage, err := c.GetTokenUsage(ctx, &fps.GetTokenUsageInput{TokenID: multi})
	require.NoError(t, err)
	require.Len(t, usage.TokenUsageLimits, 1)
	u := usage.TokenUsageLimits[0]
	require.True(t, u.Amount.Value.Equal(decimal.RequireFromString("42.25")), "used %s", u.Amount)
	require.True(t, u.LastResetAmount.Value.IsZero(), "window before %s", u.LastResetAmount)
	_, err = c.GetTokenUsage(ctx, &fps.GetTokenUsageInput{TokenID: single})
	require.Equal(t, fps.ErrCodeInvalidTokenType, apiCode(t, err))

	act, err := c.GetAccountActivity(ctx, &fps.GetAccountActivityInput{StartDate: start, SortOrderByDate: fps.SortAscending})
	require.NoError(t, err)
	require.Equal(t, 2, act.BatchSize)
	require.Len(t, act.Transactions, 2)
	require.True(t, act.Transactions[0].TransactionAmount.Value.Equal(decimal.NewFromInt(30)))
	require.True(t, act.Transactions[1].TransactionAmount.Value.Equal(decimal.RequireFromString("12.25")))
	_, err = c.GetAccountActivity(ctx, &fps.GetAccountActivityInput{StartDate: s.Clock().Now().Add(time.Hour)})
	require.Equal(t, fps.ErrCodeInvalidDateRange, apiCode(t, err))

	bal, err := c.GetAccountBalance(ctx, &fps.GetAccountBalanceInput{})
	require.NoError(t, err)
	require.True(t, bal.AccountBalance.TotalBalance.Value.Equal(s.Ledger().Balance(fpstest.DefaultAccessKeyID)))
	// 42.25 paid less the FPS fees of 1.17 and 0.66.
	require.True(t, bal.AccountBalance.TotalBalance.Value.GreaterThanOrEqual(decimal.RequireFromString("40.42")))
}

func TestE2EPrepaid(t *testing.T) {
	s, c, ctx := simulator(t)
	pr := setupPrepaid(t, s, c, 50)
	require.NotEmpty(t, pr.PrepaidInstrumentID)

	_, err := c.FundPrepaid(ctx, &fps.FundPrepaidInput{
		SenderTokenID: pr.FundingTokenID, PrepaidInstrumentID: pr.PrepaidInstrumentID,
		FundingAmount: usd("50"), CallerReference: fps.NewCallerReference(),
	})
	require.NoError(t, err)
	balance := func() decimal.Decimal {
		out, err := c.GetPrepaidBalance(ctx, &fps.GetPrepaidBalanceInput{PrepaidInstrumentID: pr.PrepaidInstrumentID})
		require.NoError(t, err)
		return out.PrepaidBalance.AvailableBalance.Value
	}
	require.Equal(t, "50", balance().String())

	pay(t, c, pr.PrepaidSenderTokenID, "20")
	require.Equal(t, "30", balance().String())
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: pr.PrepaidSenderTokenID, TransactionAmount: usd("30.01"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInsufficientBalance, apiCode(t, err))

	li, err := c.GetTotalPrepaidLiability(ctx, &fps.GetTotalPrepaidLiabilityInput{})
	require.NoError(t, err)
	require.Equal(t, "30", li.OutstandingPrepaidLiability.OutstandingBalance.Value.String())

	_, err = c.GetPrepaidBalance(ctx, &fps.GetPrepaidBalanceInput{PrepaidInstrumentID: "NOSUCHINSTRUMENT"})
	require.Equal(t, fps.ErrCodeInvalidParams, apiCode(t, err))
}

func TestE2EPostpaid(t *testing.T) {
	s, c, ctx := simulator(t)
	pr := setupPostpaid(t, s, c, 100)
	require.NotEmpty(t, pr.CreditInstrumentID)
	debt := func() decimal.Decimal {
		out, err := c.GetDebtBalance(ctx, &fps.GetDebtBalanceInput{CreditInstrumentID: pr.CreditInstrumentID})
		require.NoError(t, err)
		return out.DebtBalance.AvailableBalance.Value
	}

	pay(t, c, pr.CreditSenderTokenID, "60")
	require.Equal(t, "60", debt().String())
	_, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: pr.CreditSenderTokenID, TransactionAmount: usd("41"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeInsufficientBalance, apiCode(t, err))

	out, err := c.GetOutstandingDebtBalance(ctx, &fps.GetOutstandingDebtBalanceInput{})
	require.NoError(t, err)
	require.Equal(t, "60", out.OutstandingDebt.OutstandingBalance.Value.String())

	_, err = c.SettleDebt(ctx, &fps.SettleDebtInput{
		SenderTokenID: pr.SettlementTokenID, CreditInstrumentID: pr.CreditInstrumentID,
		SettlementAmount: usd("61"), CallerReference: fps.NewCallerReference(),
	})
	require.Equal(t, fps.ErrCodeSettleAmountGreaterThanDebt, apiCode(t, err))
	_, err = c.SettleDebt(ctx, &fps.SettleDebtInput{
		SenderTokenID: pr.SettlementTokenID, CreditInstrumentID: pr.CreditInstrumentID,
		SettlementAmount: usd("45"), CallerReference: fps.NewCallerReference(),
	})
	require.NoError(t, err)
	require.Equal(t, "15", debt().String())

	_, err = c.WriteOffDebt(ctx, &fps.WriteOffDebtInput{CreditInstrumentID: pr.CreditInstrumentID, AdjustmentAmount: usd("15.01"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeSettleAmountGreaterThanDebt, apiCode(t, err))
	_, err = c.WriteOffDebt(ctx, &fps.WriteOffDebtInput{CreditInstrumentID: pr.CreditInstrumentID, AdjustmentAmount: usd("15"), CallerReference: fps.NewCallerReference(), CallerDescription: "goodwill"})
	require.NoError(t, err)
	require.True(t, debt().IsZero())
}

func TestE2EPaymentInstructionAndRecipient(t *testing.T) {
	s, c, ctx := simulator(t)
	ref := fps.NewCallerReference()
	const instruction = "MyRole == 'Caller' orSay 'Role does not match';"
	in := &fps.InstallPaymentInstructionInput{
		PaymentInstruction: instruction, TokenFriendlyName: "caller token",
		CallerReference: ref, TokenType: fps.TokenTypeUnrestricted,
	}
	ins, err := c.InstallPaymentInstruction(ctx, in)
	require.NoError(t, err)
	again, err := c.InstallPaymentInstruction(ctx, in)
	require.NoError(t, err)
	require.Equal(t, ins.TokenID, again.TokenID, "replay installs nothing new")

	pi, err := c.GetPaymentInstruction(ctx, &fps.GetPaymentInstructionInput{TokenID: ins.TokenID})
	require.NoError(t, err)
	require.Equal(t, instruction, pi.PaymentInstruction)
	require.Equal(t, ref, pi.CallerReference)
	require.Equal(t, "caller token", pi.TokenFriendlyName)
	_, err = c.GetPaymentInstruction(ctx, &fps.GetPaymentInstructionInput{TokenID: "NOSUCHTOKEN"})
	require.Equal(t, fps.ErrCodeInvalidTokenID, apiCode(t, err))

	rec := buy(t, s, c, &fps.RecipientPipeline{
		PipelineCommon:   fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		MaxFixedFee:      decimal.NewFromInt(1),
		MaxVariableFee:   decimal.NewFromInt(5),
		RecipientPaysFee: new(bool),
	}, "ABT")
	require.Equal(t, fps.PipelineStatusRecipientSuccess, rec.Status)
	vs, err := c.GetRecipientVerificationStatus(ctx, &fps.GetRecipientVerificationStatusInput{RecipientTokenID: rec.TokenID})
	require.NoError(t, err)
	require.Equal(t, fpstest.RecipientVerificationStatus(fps.DefaultAPIVersion), vs.RecipientVerificationStatus)
	_, err = c.GetRecipientVerificationStatus(ctx, &fps.GetRecipientVerificationStatusInput{RecipientTokenID: "NOSUCHTOKEN"})
	require.Equal(t, fps.ErrCodeInvalidTokenIDRecipient, apiCode(t, err))

	// A marketplace payment to that recipient.
	sender := singleUse(t, s, c, "10", "ABT")
	out, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: sender, RecipientTokenID: rec.TokenID, TransactionAmount: usd("10"), CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, out.TransactionStatus)
}

func TestE2ECancelSubscriptionAndRefund(t *testing.T) {
	s, c, ctx := simulator(t)
	sub := subscription(t, s, c, "9")

	_, err := c.CancelSubscriptionAndRefund(ctx, &fps.CancelSubscriptionAndRefundInput{SubscriptionID: sub, RefundAmount: usd("9.01"), CallerReference: fps.NewCallerReference()})
	require.Equal(t, fps.ErrCodeRefundAmountExceeded, apiCode(t, err))
	out, err := c.CancelSubscriptionAndRefund(ctx, &fps.CancelSubscriptionAndRefundInput{
		SubscriptionID: sub, RefundAmount: usd("4"), CallerReference: fps.NewCallerReference(), CancelReason: "moved away",
	})
	require.NoError(t, err)
	require.NotEmpty(t, out.RefundTransactionID)
	tx, ok := s.Ledger().Transaction(out.RefundTransactionID)
	require.True(t, ok)
	require.Equal(t, "Refund", tx.Operation)
	require.Equal(t, "4", tx.Amount.String())
	requireCancelled(t, s, c, sub)

	_, err = c.CancelSubscriptionAndRefund(ctx, &fps.CancelSubscriptionAndRefundInput{SubscriptionID: "NOSUCHTOKEN"})
	require.Equal(t, fps.ErrCodeInvalidParams, apiCode(t, err))
}

func TestE2EVerifySignature(t *testing.T) {
	s, c, ctx := simulator(t)
	link, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		TransactionAmount: decimal.NewFromInt(5),
	})
	require.NoError(t, err)
	ret, err := s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	endpoint := *ret
	endpoint.RawQuery = ""

	out, err := c.VerifySignature(ctx, &fps.VerifySignatureInput{URLEndPoint: endpoint.String(), HTTPParameters: ret.RawQuery})
	require.NoError(t, err)
	require.Equal(t, fps.VerificationStatusSuccess, out.VerificationStatus)

	// The buyer edits the token id in the return URL: the signature no
	// longer matches.
	q := ret.Query()
	q.Set("tokenID", "FORGED"+q.Get("tokenID")[6:])
	out, err = c.VerifySignature(ctx, &fps.VerifySignatureInput{URLEndPoint: endpoint.String(), HTTPParameters: q.Encode()})
	require.NoError(t, err)
	require.Equal(t, fps.VerificationStatusFailure, out.VerificationStatus)

	// The same parameters arriving at another endpoint fail too.
	other, err := url.Parse("https://shop.example/elsewhere")
	require.NoError(t, err)
	out, err = c.VerifySignature(ctx, &fps.VerifySignatureInput{URLEndPoint: other.String(), HTTPParameters: ret.RawQuery})
	require.NoError(t, err)
	require.Equal(t, fps.VerificationStatusFailure, out.VerificationStatus)
}

// The seed's five calls, end to end.
func TestE2EMerchantCalls(t *testing.T) {
	s, c, ctx := simulator(t)
	key := fpstest.DefaultAccessKeyID
	before := s.Ledger().Balance(key)

	ret := buy(t, s, c, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: "order-1001"},
		TransactionAmount: decimal.RequireFromString("19.99"),
	}, "ABT")
	paid, err := c.Purchase(ctx, decimal.RequireFromString("19.99"), fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, paid.Status)
	require.Equal(t, fps.TransactionStatusSuccess, paid.TransactionStatus)
	require.Equal(t, 1, s.Ledger().ChargeCount("order-1001"))

	multi := multiUse(t, s, c, "200", "ABT")
	auth, err := c.Authorize(ctx, decimal.NewFromInt(50), fps.PurchaseOptions{TokenID: multi, CallerReference: "order-1002"})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusReserved, auth.TransactionStatus)
	captured, err := c.Capture(ctx, decimal.NewFromInt(45), fps.CaptureOptions{TransactionID: auth.TransactionID})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, captured.Status)
	require.Equal(t, 1, s.Ledger().SettleCount(auth.TransactionID))
	_, err = c.Capture(ctx, decimal.NewFromInt(5), fps.CaptureOptions{TransactionID: auth.TransactionID})
	require.Equal(t, fps.ErrCodeInvalidTransactionState, apiCode(t, err))

	credit, err := c.Credit(ctx, decimal.NewFromInt(5), fps.CreditOptions{TransactionID: paid.TransactionID, CallerReference: "order-1001-refund-1", Description: "damaged"})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, credit.Status)
	tx, ok := s.Ledger().Transaction(credit.TransactionID)
	require.True(t, ok)
	require.Equal(t, paid.TransactionID, tx.ParentID)

	auth2, err := c.Authorize(ctx, decimal.NewFromInt(10), fps.PurchaseOptions{TokenID: multi, CallerReference: "order-1003"})
	require.NoError(t, err)
	void, err := c.Void(ctx, auth2.TransactionID, fps.VoidOptions{Description: "customer cancelled"})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, void.Status)
	require.Equal(t, fps.TransactionStatusCancelled, void.TransactionStatus)

	// 19.99 paid, 45 captured, 5 credited, less the FPS fees (0.88 + 1.61 - 0.22).
	want := before.Add(decimal.RequireFromString("57.72"))
	require.True(t, s.Ledger().Balance(key).Equal(want), "balance %s, want %s", s.Ledger().Balance(key), want)
}

// TestE2EAccountActivityPages pages through GetAccountActivity by passing
// StartTimeForNextTransaction back (StartDate ascending, EndDate
// descending): every transaction is seen exactly once, also when several
// fall within the same second.
func TestE2EAccountActivityPages(t *testing.T) {
	s, c, ctx := simulator(t)
	start := s.Clock().Now().Add(-time.Minute)
	token := multiUse(t, s, c, "100", "ABT")
	want := map[string]int{}
	for range 7 {
		want[pay(t, c, token, "1").TransactionID] = 1
		s.Clock().Advance(400 * time.Millisecond)
	}
	for _, order := range []fps.SortOrder{fps.SortAscending, fps.SortDescending} {
		t.Run(string(order), func(t *testing.T) {
			seen := map[string]int{}
			in := &fps.GetAccountActivityInput{StartDate: start, MaxBatchSize: 2, SortOrderByDate: order}
			for page := 0; ; page++ {
				require.Less(t, page, 10, "paging does not end")
				act, err := c.GetAccountActivity(ctx, in)
				require.NoError(t, err)
				for _, tx := range act.Transactions {
					seen[tx.TransactionID]++
				}
				next := act.StartTimeForNextTransaction
				if next.IsZero() {
					break
				}
				if order == fps.SortAscending {
					in.StartDate = next
				} else {
					in.EndDate = next
				}
			}
			require.Equal(t, want, seen)
		})
	}
}
