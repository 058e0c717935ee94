package fps

import (
	"context"
)

var opSettleDebt = newOperation[SettleDebtInput, SettleDebtOutput]("SettleDebt", movesMoney, overrideIPNURL)

// SettleDebt charges the sender for the debt of a credit instrument.
func (c *Client) SettleDebt(ctx context.Context, in *SettleDebtInput, optFns ...func(*Options)) (*SettleDebtOutput, error) {
	return opSettleDebt.invoke(ctx, c, in, optFns)
}

// SettleDebtInput is the input of SettleDebt.
type SettleDebtInput struct {
	SenderTokenID      string // required
	CreditInstrumentID string // required
	SettlementAmount   Amount // required
	CallerReference    string // required
	// SenderDescription is a note for the sender (the buyer).
	SenderDescription string
	// CallerDescription is a note for the caller's records, at most 160
	// characters.
	CallerDescription string
	DescriptorPolicy  DescriptorPolicy
	// TransactionTimeoutInMins bounds, in minutes, how long the transaction
	// may take; zero leaves it to FPS.
	TransactionTimeoutInMins int
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *SettleDebtInput) build(b *builder) {
	b.required("SenderTokenId", in.SenderTokenID)
	b.required("CreditInstrumentId", in.CreditInstrumentID)
	b.amount("SettlementAmount.Value", "SettlementAmount.CurrencyCode", in.SettlementAmount, true)
	b.callerReference(in.CallerReference)
	b.charge(in.SenderDescription, in.CallerDescription, in.DescriptorPolicy, in.TransactionTimeoutInMins)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// SettleDebtOutput is the answer of SettleDebt.
type SettleDebtOutput = TransactionOutput

var opWriteOffDebt = newOperation[WriteOffDebtInput, WriteOffDebtOutput]("WriteOffDebt", movesMoney)

// WriteOffDebt forgives all or part of the debt of a credit instrument.
func (c *Client) WriteOffDebt(ctx context.Context, in *WriteOffDebtInput, optFns ...func(*Options)) (*WriteOffDebtOutput, error) {
	return opWriteOffDebt.invoke(ctx, c, in, optFns)
}

// WriteOffDebtInput is the input of WriteOffDebt.
type WriteOffDebtInput struct {
	CreditInstrumentID string // required
	AdjustmentAmount   Amount // required
	CallerReference    string // required
	// CallerDescription is a note for the caller's records, at most 160
	// characters.
	CallerDescription string
}

func (in *WriteOffDebtInput) build(b *builder) {
	b.required("CreditInstrumentId", in.CreditInstrumentID)
	b.amount("AdjustmentAmount.Value", "AdjustmentAmount.CurrencyCode", in.AdjustmentAmount, true)
	b.callerReference(in.CallerReference)
	b.text("CallerDescription", in.CallerDescription, MaxCallerDescriptionLength)
}

// WriteOffDebtOutput is the answer of WriteOffDebt.
type WriteOffDebtOutput = TransactionOutput

var opGetDebtBalance = newOperation[GetDebtBalanceInput, GetDebtBalanceOutput]("GetDebtBalance", readsOnly)

// GetDebtBalance returns the balance of a credit instrument.
func (c *Client) GetDebtBalance(ctx context.Context, in *GetDebtBalanceInput, optFns ...func(*Options)) (*GetDebtBalanceOutput, error) {
	return opGetDebtBalance.invoke(ctx, c, in, optFns)
}

// GetDebtBalanceInput is the input of GetDebtBalance.
type GetDebtBalanceInput struct {
	CreditInstrumentID string // required
}

func (in *GetDebtBalanceInput) build(b *builder) {
	b.required("CreditInstrumentId", in.CreditInstrumentID)
}

// GetDebtBalanceOutput is the answer of GetDebtBalance.
type GetDebtBalanceOutput struct {
	DebtBalance DebtBalance `xml:"DebtBalance" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetOutstandingDebtBalance = newOperation[GetOutstandingDebtBalanceInput, GetOutstandingDebtBalanceOutput]("GetOutstandingDebtBalance", readsOnly)

// GetOutstandingDebtBalance returns what is owed on all credit instruments.
// in may be nil.
func (c *Client) GetOutstandingDebtBalance(ctx context.Context, in *GetOutstandingDebtBalanceInput, optFns ...func(*Options)) (*GetOutstandingDebtBalanceOutput, error) {
	return opGetOutstandingDebtBalance.invoke(ctx, c, in, optFns)
}

// GetOutstandingDebtBalanceInput is the input of GetOutstandingDebtBalance:
// no parameters.
type GetOutstandingDebtBalanceInput struct{}

func (*GetOutstandingDebtBalanceInput) build(*builder) {}

// GetOutstandingDebtBalanceOutput is the answer of GetOutstandingDebtBalance.
type GetOutstandingDebtBalanceOutput struct {
	OutstandingDebt OutstandingDebt `xml:"OutstandingDebt" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// DebtBalance is the balance of a credit instrument.
type DebtBalance struct {
	AvailableBalance  Amount `xml:"AvailableBalance" fps:"required"`
	PendingOutBalance Amount `xml:"PendingOutBalance"`
}

// OutstandingDebt is what is owed on all credit instruments.
type OutstandingDebt struct {
	OutstandingBalance Amount `xml:"OutstandingBalance" fps:"required"`
	PendingOutBalance  Amount `xml:"PendingOutBalance"`
}
