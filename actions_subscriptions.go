package fps

import (
	"context"
)

var opCancelSubscriptionAndRefund = newOperation[CancelSubscriptionAndRefundInput, CancelSubscriptionAndRefundOutput]("CancelSubscriptionAndRefund", movesMoney)

// CancelSubscriptionAndRefund cancels a subscription and refunds
// RefundAmount, when given.
func (c *Client) CancelSubscriptionAndRefund(ctx context.Context, in *CancelSubscriptionAndRefundInput, optFns ...func(*Options)) (*CancelSubscriptionAndRefundOutput, error) {
	return opCancelSubscriptionAndRefund.invoke(ctx, c, in, optFns)
}

// CancelSubscriptionAndRefundInput is the input of
// CancelSubscriptionAndRefund.
type CancelSubscriptionAndRefundInput struct {
	SubscriptionID string // required
	RefundAmount   Amount
	// CallerReference is required when RefundAmount is given.
	CallerReference string
	// CancelReason says why the subscription is cancelled.
	CancelReason string
}

func (in *CancelSubscriptionAndRefundInput) build(b *builder) {
	b.required("SubscriptionId", in.SubscriptionID)
	b.amount("RefundAmount.Value", "RefundAmount.CurrencyCode", in.RefundAmount, false)
	if in.RefundAmount.IsZero() {
		b.text("CallerReference", in.CallerReference, MaxCallerReferenceLength)
	} else {
		b.callerReference(in.CallerReference)
	}
	b.add("CancelReason", in.CancelReason)
}

// CancelSubscriptionAndRefundOutput is the answer of
// CancelSubscriptionAndRefund.
type CancelSubscriptionAndRefundOutput struct {
	RefundTransactionID string `xml:"RefundTransactionId"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}
