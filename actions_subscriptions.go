package fps

import (
	"context"
	"time"
)

var opCancelSubscriptionAndRefund = newOperation[CancelSubscriptionAndRefundInput, CancelSubscriptionAndRefundOutput]("CancelSubscriptionAndRefund", movesMoney)

// CancelSubscriptionAndRefund cancels a subscription that an Amazon Simple
// Pay subscription button created, and refunds RefundAmount of its last
// payment, when given.
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

var opGetSubscriptionDetails = newOperation[GetSubscriptionDetailsInput, GetSubscriptionDetailsOutput]("GetSubscriptionDetails", readsOnly, since(APIVersion20100828))

// GetSubscriptionDetails returns a subscription that an Amazon Simple Pay
// subscription button created (API 2010-08-28 on).
func (c *Client) GetSubscriptionDetails(ctx context.Context, in *GetSubscriptionDetailsInput, optFns ...func(*Options)) (*GetSubscriptionDetailsOutput, error) {
	return opGetSubscriptionDetails.invoke(ctx, c, in, optFns)
}

// GetSubscriptionDetailsInput is the input of GetSubscriptionDetails.
type GetSubscriptionDetailsInput struct {
	SubscriptionID string // required
}

func (in *GetSubscriptionDetailsInput) build(b *builder) {
	b.required("SubscriptionId", in.SubscriptionID)
}

// GetSubscriptionDetailsOutput is the answer of GetSubscriptionDetails.
type GetSubscriptionDetailsOutput struct {
	SubscriptionDetails SubscriptionDetails `xml:"SubscriptionDetails" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// SubscriptionDetails is a subscription: what it charges, how often and
// for how long, and where it stands.
type SubscriptionDetails struct {
	SubscriptionID     string `xml:"SubscriptionId" fps:"required"`
	Description        string `xml:"Description"`
	SubscriptionAmount Amount `xml:"SubscriptionAmount" fps:"required"`
	// NextTransactionAmount is what the next payment charges, when it
	// differs from SubscriptionAmount.
	NextTransactionAmount Amount `xml:"NextTransactionAmount"`
	// PromotionalAmount is charged for the first
	// NumberOfPromotionalTransactions payments.
	PromotionalAmount               Amount    `xml:"PromotionalAmount"`
	NumberOfPromotionalTransactions int       `xml:"NumberOfPromotionalTransactions"`
	StartDate                       time.Time `xml:"StartDate" fps:"required"`
	// EndDate is zero for a subscription that runs until it is cancelled.
	EndDate time.Time `xml:"EndDate"`
	// SubscriptionPeriod is how long the subscription runs in all; zero
	// until it is cancelled.
	SubscriptionPeriod Duration `xml:"SubscriptionPeriod"`
	// SubscriptionFrequency is the time between two payments.
	SubscriptionFrequency Duration `xml:"SubscriptionFrequency" fps:"required"`
	// OverrideIPNURL receives the subscription's IPNs instead of the
	// account's IPN URL (the element is spelled OverrideIPNUrl).
	OverrideIPNURL                string             `xml:"OverrideIPNUrl"`
	SubscriptionStatus            SubscriptionStatus `xml:"SubscriptionStatus" fps:"required"`
	NumberOfTransactionsProcessed int                `xml:"NumberOfTransactionsProcessed"`
	RecipientEmail                string             `xml:"RecipientEmail"`
	RecipientName                 string             `xml:"RecipientName"`
	SenderEmail                   string             `xml:"SenderEmail"`
	SenderName                    string             `xml:"SenderName"`
	// NextTransactionDate is zero when no payment is due any more.
	NextTransactionDate time.Time `xml:"NextTransactionDate"`
}

// Duration is a length of time in whole units of a subscription: Value
// TimeUnits ("3 month").
type Duration struct {
	Value    int      `xml:"Value"`
	TimeUnit TimeUnit `xml:"TimeUnit"`
}

// TimeUnit is the unit of a Duration; the schema spells the values in
// lower case.
type TimeUnit string

// TimeUnit values.
const (
	TimeUnitDay   TimeUnit = "day"
	TimeUnitWeek  TimeUnit = "week"
	TimeUnitMonth TimeUnit = "month"
	TimeUnitYear  TimeUnit = "year"
)

// SubscriptionStatus is where a subscription stands.
type SubscriptionStatus string

// SubscriptionStatus values.
const (
	SubscriptionStatusActive    SubscriptionStatus = "Active"
	SubscriptionStatusCancelled SubscriptionStatus = "Cancelled"
	SubscriptionStatusCompleted SubscriptionStatus = "Completed"
)

var opGetTransactionsForSubscription = newOperation[GetTransactionsForSubscriptionInput, GetTransactionsForSubscriptionOutput]("GetTransactionsForSubscription", readsOnly, since(APIVersion20100828))

// GetTransactionsForSubscription lists the payments of a subscription,
// oldest first (API 2010-08-28 on).
func (c *Client) GetTransactionsForSubscription(ctx context.Context, in *GetTransactionsForSubscriptionInput, optFns ...func(*Options)) (*GetTransactionsForSubscriptionOutput, error) {
	return opGetTransactionsForSubscription.invoke(ctx, c, in, optFns)
}

// GetTransactionsForSubscriptionInput is the input of
// GetTransactionsForSubscription.
type GetTransactionsForSubscriptionInput struct {
	SubscriptionID string // required
}

func (in *GetTransactionsForSubscriptionInput) build(b *builder) {
	b.required("SubscriptionId", in.SubscriptionID)
}

// GetTransactionsForSubscriptionOutput is the answer of
// GetTransactionsForSubscription.
type GetTransactionsForSubscriptionOutput struct {
	SubscriptionTransactions []SubscriptionTransaction `xml:"SubscriptionTransaction"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// SubscriptionTransaction is one payment of a subscription.
type SubscriptionTransaction struct {
	TransactionID   string    `xml:"TransactionId" fps:"required"`
	TransactionDate time.Time `xml:"TransactionDate"`
	// TransactionSerialNumber counts the subscription's payments from 1.
	TransactionSerialNumber int               `xml:"TransactionSerialNumber"`
	TransactionAmount       Amount            `xml:"TransactionAmount"`
	Description             string            `xml:"Description"`
	TransactionStatus       TransactionStatus `xml:"TransactionStatus" fps:"required"`
}
