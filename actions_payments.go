package fps

import (
	"context"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// MaxCallerDescriptionLength is the longest CallerDescription FPS accepts.
const MaxCallerDescriptionLength = 160

var opPay = newOperation[PayInput, PayOutput]("Pay", movesMoney, overrideIPNURL)

// Pay charges the sender's token: SenderTokenID, TransactionAmount and
// CallerReference are required. Credit card and bank payments answer
// Pending first. A lost answer is resent with the same CallerReference,
// which FPS answers with the first outcome.
func (c *Client) Pay(ctx context.Context, in *PayInput, optFns ...func(*Options)) (*PayOutput, error) {
	return opPay.invoke(ctx, c, in, optFns)
}

// PayInput is the input of Pay (and, as ReserveInput, of Reserve). A zero
// field is not sent.
type PayInput struct {
	// SenderTokenID is the buyer's token, from the pipeline's return URL
	// (tokenID). Required.
	SenderTokenID string
	// RecipientTokenID is needed when the caller is not the recipient
	// (marketplace).
	RecipientTokenID string
	// TransactionAmount is the amount to charge. Required.
	TransactionAmount Amount
	ChargeFeeTo       ChargeFeeTo
	// CallerReference makes the call idempotent at FPS for 7 days. Required;
	// see NewCallerReference.
	CallerReference string
	// CallerDescription is at most 160 characters.
	CallerDescription string
	// SenderDescription is a note for the sender (the buyer).
	SenderDescription string
	DescriptorPolicy  DescriptorPolicy
	// TransactionTimeoutInMins bounds, in minutes, how long the transaction
	// may take; zero leaves it to FPS.
	TransactionTimeoutInMins int
	MarketplaceFixedFee      Amount
	// MarketplaceVariableFee is a percentage of the amount, 0 to 100.
	MarketplaceVariableFee decimal.Decimal
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *PayInput) build(b *builder) {
	b.required("SenderTokenId", in.SenderTokenID)
	b.add("RecipientTokenId", in.RecipientTokenID)
	b.amount("TransactionAmount.Value", "TransactionAmount.CurrencyCode", in.TransactionAmount, true)
	enum(b, "ChargeFeeTo", in.ChargeFeeTo, in.ChargeFeeTo.Values()...)
	b.callerReference(in.CallerReference)
	b.charge(in.SenderDescription, in.CallerDescription, in.DescriptorPolicy, in.TransactionTimeoutInMins)
	b.amount("MarketplaceFixedFee.Value", "MarketplaceFixedFee.CurrencyCode", in.MarketplaceFixedFee, false)
	b.percentage("MarketplaceVariableFee", in.MarketplaceVariableFee)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// PayOutput is the answer of Pay.
type PayOutput = TransactionOutput

var opReserve = newOperation[ReserveInput, ReserveOutput]("Reserve", movesMoney, overrideIPNURL)

// Reserve holds an amount on the sender's instrument, to be settled later
// with Settle (or released with Cancel).
func (c *Client) Reserve(ctx context.Context, in *ReserveInput, optFns ...func(*Options)) (*ReserveOutput, error) {
	return opReserve.invoke(ctx, c, in, optFns)
}

// ReserveInput is the input of Reserve: the parameters of Pay.
type ReserveInput PayInput

func (in *ReserveInput) build(b *builder) { (*PayInput)(in).build(b) }

// ReserveOutput is the answer of Reserve.
type ReserveOutput = TransactionOutput

var opSettle = newOperation[SettleInput, SettleOutput]("Settle", movesMoney, overrideIPNURL)

// Settle charges a reserved amount. Settle carries no CallerReference:
// when an answer is lost it asks GetTransactionStatus (and, for a Pending
// or failed reserve, GetTransaction's status history) whether the reserve
// was settled before it sends again, and when that cannot be learned it
// returns an error wrapping ErrOutcomeUnknown.
func (c *Client) Settle(ctx context.Context, in *SettleInput, optFns ...func(*Options)) (*SettleOutput, error) {
	return opSettle.invoke(ctx, c, in, optFns)
}

// SettleInput is the input of Settle.
type SettleInput struct {
	// ReserveTransactionID is the TransactionID of the Reserve. Required.
	ReserveTransactionID string
	// TransactionAmount is the amount to settle; zero settles the whole
	// reserved amount.
	TransactionAmount Amount
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *SettleInput) build(b *builder) {
	b.required("ReserveTransactionId", in.ReserveTransactionID)
	b.amount("TransactionAmount.Value", "TransactionAmount.CurrencyCode", in.TransactionAmount, false)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// reconcile learns whether a Settle whose answer was lost took effect: the
// reserve moved on from Reserved. A credit card or bank reserve is Pending
// (and may fail) before it is Reserved, so for those two statuses the
// status history must show it was Reserved first.
func (in *SettleInput) reconcile(ctx context.Context, c *Client, optFns []func(*Options), out any) (bool, error) {
	id := in.ReserveTransactionID
	st, err := c.GetTransactionStatus(ctx, &GetTransactionStatusInput{TransactionID: id}, optFns...)
	if err != nil {
		return false, err
	}
	switch st.TransactionStatus {
	case TransactionStatusReserved, TransactionStatusCancelled:
		return false, nil
	case TransactionStatusPending, TransactionStatusFailure:
		tx, err := c.GetTransaction(ctx, &GetTransactionInput{TransactionID: id}, optFns...)
		if err != nil {
			return false, err
		}
		if !slices.ContainsFunc(tx.Transaction.StatusHistory, func(h StatusHistory) bool {
			return h.TransactionStatus == TransactionStatusReserved
		}) {
			return false, nil
		}
	case TransactionStatusSuccess:
	default: // a status not known here: what happened cannot be learned
		return false, fmt.Errorf("fps: reserve %s has status %q, unknown to this package", id, string(st.TransactionStatus))
	}
	*out.(*SettleOutput) = SettleOutput{TransactionID: st.TransactionID, TransactionStatus: st.TransactionStatus, RequestID: st.RequestID}
	return true, nil
}

// SettleOutput is the answer of Settle.
type SettleOutput = TransactionOutput

var opRefund = newOperation[RefundInput, RefundOutput]("Refund", movesMoney, overrideIPNURL)

// Refund gives back all or part of a transaction.
func (c *Client) Refund(ctx context.Context, in *RefundInput, optFns ...func(*Options)) (*RefundOutput, error) {
	return opRefund.invoke(ctx, c, in, optFns)
}

// RefundInput is the input of Refund.
type RefundInput struct {
	// TransactionID is the transaction to refund. Required.
	TransactionID string
	// RefundAmount is the amount to refund; zero refunds everything.
	RefundAmount Amount
	// CallerReference is required, and must differ for each partial refund.
	CallerReference string
	// CallerDescription is a note for the caller's records, at most 160
	// characters.
	CallerDescription       string
	MarketplaceRefundPolicy MarketplaceRefundPolicy
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *RefundInput) build(b *builder) {
	b.required("TransactionId", in.TransactionID)
	b.amount("RefundAmount.Value", "RefundAmount.CurrencyCode", in.RefundAmount, false)
	b.callerReference(in.CallerReference)
	b.text("CallerDescription", in.CallerDescription, MaxCallerDescriptionLength)
	enum(b, "MarketplaceRefundPolicy", in.MarketplaceRefundPolicy, in.MarketplaceRefundPolicy.Values()...)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// RefundOutput is the answer of Refund.
type RefundOutput = TransactionOutput

var opCancel = newOperation[CancelInput, CancelOutput]("Cancel", changesState, overrideIPNURL)

// Cancel cancels a pending transaction or releases a reserve. Like Settle,
// it checks GetTransactionStatus after a lost answer before sending again.
func (c *Client) Cancel(ctx context.Context, in *CancelInput, optFns ...func(*Options)) (*CancelOutput, error) {
	return opCancel.invoke(ctx, c, in, optFns)
}

// CancelInput is the input of Cancel.
type CancelInput struct {
	// TransactionID is the pending or reserved transaction. Required.
	TransactionID string
	// Description says why, for the caller's records.
	Description string
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *CancelInput) build(b *builder) {
	b.required("TransactionId", in.TransactionID)
	b.add("Description", in.Description)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// reconcile learns whether a Cancel whose answer was lost took effect.
func (in *CancelInput) reconcile(ctx context.Context, c *Client, optFns []func(*Options), out any) (bool, error) {
	st, err := c.GetTransactionStatus(ctx, &GetTransactionStatusInput{TransactionID: in.TransactionID}, optFns...)
	if err != nil {
		return false, err
	}
	if st.TransactionStatus != TransactionStatusCancelled {
		return false, nil
	}
	*out.(*CancelOutput) = CancelOutput{TransactionID: st.TransactionID, TransactionStatus: st.TransactionStatus, RequestID: st.RequestID}
	return true, nil
}

// CancelOutput is the answer of Cancel; both fields are optional.
type CancelOutput struct {
	TransactionID     string            `xml:"TransactionId"`
	TransactionStatus TransactionStatus `xml:"TransactionStatus"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// TransactionOutput is the answer of the actions that create a
// transaction: Pay, Reserve, Settle, Refund, FundPrepaid, SettleDebt and
// WriteOffDebt. An answer without TransactionId or TransactionStatus is an
// error.
type TransactionOutput struct {
	TransactionID     string            `xml:"TransactionId" fps:"required"`
	TransactionStatus TransactionStatus `xml:"TransactionStatus" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// charge writes the optional parameters every charging action shares.
func (b *builder) charge(senderDescription, callerDescription string, p DescriptorPolicy, timeoutInMins int) {
	b.text("SenderDescription", senderDescription, 0)
	b.text("CallerDescription", callerDescription, MaxCallerDescriptionLength)
	b.descriptorPolicy(p)
	b.count("TransactionTimeoutInMins", timeoutInMins)
}

// ChargeFeeTo names who pays the FPS fee.
type ChargeFeeTo string

// ChargeFeeTo values.
const (
	ChargeFeeToCaller    ChargeFeeTo = "Caller"
	ChargeFeeToRecipient ChargeFeeTo = "Recipient"
)

// Values returns the ChargeFeeTo values.
func (ChargeFeeTo) Values() []ChargeFeeTo {
	return []ChargeFeeTo{ChargeFeeToCaller, ChargeFeeToRecipient}
}

// DescriptorPolicy is the DescriptorPolicy parameter; the zero value is not
// sent.
type DescriptorPolicy struct {
	SoftDescriptorType SoftDescriptorType
	CSOwner            CSOwner
}

func (b *builder) descriptorPolicy(p DescriptorPolicy) {
	enum(b, "DescriptorPolicy.SoftDescriptorType", p.SoftDescriptorType, p.SoftDescriptorType.Values()...)
	enum(b, "DescriptorPolicy.CSOwner", p.CSOwner, p.CSOwner.Values()...)
}

// SoftDescriptorType selects the text on the buyer's card statement.
type SoftDescriptorType string

// SoftDescriptorType values.
const (
	SoftDescriptorStatic  SoftDescriptorType = "Static"
	SoftDescriptorDynamic SoftDescriptorType = "Dynamic"
)

// Values returns the SoftDescriptorType values.
func (SoftDescriptorType) Values() []SoftDescriptorType {
	return []SoftDescriptorType{SoftDescriptorStatic, SoftDescriptorDynamic}
}

// CSOwner names whose customer service appears on the statement.
type CSOwner string

// CSOwner values.
const (
	CSOwnerCaller    CSOwner = "Caller"
	CSOwnerRecipient CSOwner = "Recipient"
)

// Values returns the CSOwner values.
func (CSOwner) Values() []CSOwner { return []CSOwner{CSOwnerCaller, CSOwnerRecipient} }

// MarketplaceRefundPolicy says which fees a Refund returns.
type MarketplaceRefundPolicy string

// MarketplaceRefundPolicy values.
const (
	MarketplaceRefundMasterTxnOnly           MarketplaceRefundPolicy = "MasterTxnOnly"
	MarketplaceRefundMarketplaceTxnOnly      MarketplaceRefundPolicy = "MarketplaceTxnOnly"
	MarketplaceRefundMasterAndMarketplaceTxn MarketplaceRefundPolicy = "MasterAndMarketplaceTxn"
)

// Values returns the MarketplaceRefundPolicy values.
func (MarketplaceRefundPolicy) Values() []MarketplaceRefundPolicy {
	return []MarketplaceRefundPolicy{MarketplaceRefundMasterTxnOnly, MarketplaceRefundMarketplaceTxnOnly,
		MarketplaceRefundMasterAndMarketplaceTxn}
}
