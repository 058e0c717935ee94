package fps

import (
	"context"
)

var opFundPrepaid = newOperation[FundPrepaidInput, FundPrepaidOutput]("FundPrepaid", movesMoney, overrideIPNURL)

// FundPrepaid adds funds to a prepaid instrument.
func (c *Client) FundPrepaid(ctx context.Context, in *FundPrepaidInput, optFns ...func(*Options)) (*FundPrepaidOutput, error) {
	return opFundPrepaid.invoke(ctx, c, in, optFns)
}

// FundPrepaidInput is the input of FundPrepaid.
type FundPrepaidInput struct {
	SenderTokenID       string // required
	PrepaidInstrumentID string // required
	FundingAmount       Amount // required
	CallerReference     string // required
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

func (in *FundPrepaidInput) build(b *builder) {
	b.required("SenderTokenId", in.SenderTokenID)
	b.required("PrepaidInstrumentId", in.PrepaidInstrumentID)
	b.amount("FundingAmount.Value", "FundingAmount.CurrencyCode", in.FundingAmount, true)
	b.callerReference(in.CallerReference)
	b.charge(in.SenderDescription, in.CallerDescription, in.DescriptorPolicy, in.TransactionTimeoutInMins)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// FundPrepaidOutput is the answer of FundPrepaid.
type FundPrepaidOutput = TransactionOutput

var opGetPrepaidBalance = newOperation[GetPrepaidBalanceInput, GetPrepaidBalanceOutput]("GetPrepaidBalance", readsOnly)

// GetPrepaidBalance returns the balance of a prepaid instrument.
func (c *Client) GetPrepaidBalance(ctx context.Context, in *GetPrepaidBalanceInput, optFns ...func(*Options)) (*GetPrepaidBalanceOutput, error) {
	return opGetPrepaidBalance.invoke(ctx, c, in, optFns)
}

// GetPrepaidBalanceInput is the input of GetPrepaidBalance.
type GetPrepaidBalanceInput struct {
	PrepaidInstrumentID string // required
}

func (in *GetPrepaidBalanceInput) build(b *builder) {
	b.required("PrepaidInstrumentId", in.PrepaidInstrumentID)
}

// GetPrepaidBalanceOutput is the answer of GetPrepaidBalance.
type GetPrepaidBalanceOutput struct {
	PrepaidBalance PrepaidBalance `xml:"PrepaidBalance" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetTotalPrepaidLiability = newOperation[GetTotalPrepaidLiabilityInput, GetTotalPrepaidLiabilityOutput]("GetTotalPrepaidLiability", readsOnly)

// GetTotalPrepaidLiability returns what the caller owes on all prepaid
// instruments. in may be nil.
func (c *Client) GetTotalPrepaidLiability(ctx context.Context, in *GetTotalPrepaidLiabilityInput, optFns ...func(*Options)) (*GetTotalPrepaidLiabilityOutput, error) {
	return opGetTotalPrepaidLiability.invoke(ctx, c, in, optFns)
}

// GetTotalPrepaidLiabilityInput is the input of GetTotalPrepaidLiability:
// no parameters.
type GetTotalPrepaidLiabilityInput struct{}

func (*GetTotalPrepaidLiabilityInput) build(*builder) {}

// GetTotalPrepaidLiabilityOutput is the answer of GetTotalPrepaidLiability.
type GetTotalPrepaidLiabilityOutput struct {
	OutstandingPrepaidLiability OutstandingPrepaidLiability `xml:"OutstandingPrepaidLiability" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// PrepaidBalance is the balance of a prepaid instrument.
type PrepaidBalance struct {
	AvailableBalance Amount `xml:"AvailableBalance" fps:"required"`
	PendingInBalance Amount `xml:"PendingInBalance"`
}

// OutstandingPrepaidLiability is what the caller owes on all prepaid
// instruments.
type OutstandingPrepaidLiability struct {
	OutstandingBalance Amount `xml:"OutstandingBalance" fps:"required"`
	PendingInBalance   Amount `xml:"PendingInBalance"`
}
