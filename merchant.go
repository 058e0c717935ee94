package fps

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/shopspring/decimal"
)

// ResultStatus is django-merchant's status of a Purchase, Authorize,
// Capture, Credit or Void: SUCCESS or FAILURE.
type ResultStatus string

// Result statuses, as django-merchant's integrations report them.
const (
	ResultSuccess ResultStatus = "SUCCESS"
	ResultFailure ResultStatus = "FAILURE"
)

// Values returns the ResultStatus values.
func (ResultStatus) Values() []ResultStatus { return []ResultStatus{ResultSuccess, ResultFailure} }

// Result is the answer of Purchase, Authorize, Capture, Credit and Void:
// django-merchant's {status, response} pair, typed. Status is
// ResultSuccess when FPS accepted the request and the transaction did not
// fail (it may still be Pending: see TransactionStatus, and
// TransactionStatus.MoneyMoved before shipping), ResultFailure when the
// transaction status is Failure. Errors are returned as errors, not as a
// Result. The embedded TransactionOutput is FPS's answer:
// TransactionID, TransactionStatus and RequestID.
type Result struct {
	Status ResultStatus
	TransactionOutput
}

// PurchaseOutput is the answer of Purchase: that of Pay, with its Status.
type PurchaseOutput = Result

// AuthorizeOutput is the answer of Authorize: that of Reserve, with its
// Status.
type AuthorizeOutput = Result

// CaptureOutput is the answer of Capture: that of Settle, with its
// Status.
type CaptureOutput = Result

// CreditOutput is the answer of Credit: that of Refund, with its Status.
type CreditOutput = Result

// VoidOutput is the answer of Void: that of Cancel, with its Status.
type VoidOutput = Result

// transactionResult turns the answer of Pay, Reserve, Settle or Refund
// into a Result.
func transactionResult(out *TransactionOutput, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	return newResult(*out), nil
}

// optionalUSD is amount in USD, or no amount (everything) when zero.
func optionalUSD(amount decimal.Decimal) Amount {
	if amount.IsZero() {
		return Amount{}
	}
	return USD(amount)
}

func newResult(out TransactionOutput) *Result {
	r := &Result{Status: ResultSuccess, TransactionOutput: out}
	if out.TransactionStatus == TransactionStatusFailure {
		r.Status = ResultFailure
	}
	return r
}

// PurchaseOptions carries what the seed's purchase and authorize options
// carried: the token and caller reference of the pipeline's return URL,
// descriptions and the optional Pay parameters.
type PurchaseOptions struct {
	// TokenID is the sender token from the return URL (tokenID). Required.
	TokenID string
	// CallerReference identifies the payment; the callerReference of the
	// pipeline is the usual choice. Required: it is never invented, so that
	// sending the same purchase again cannot charge twice.
	CallerReference          string
	RecipientTokenID         string
	SenderDescription        string
	CallerDescription        string
	DescriptorPolicy         DescriptorPolicy
	TransactionTimeoutInMins int
	ChargeFeeTo              ChargeFeeTo
	MarketplaceFixedFee      Amount
	MarketplaceVariableFee   decimal.Decimal
}

func (o PurchaseOptions) payInput(amount decimal.Decimal) *PayInput {
	return &PayInput{
		SenderTokenID:            o.TokenID,
		RecipientTokenID:         o.RecipientTokenID,
		TransactionAmount:        USD(amount),
		ChargeFeeTo:              o.ChargeFeeTo,
		CallerReference:          o.CallerReference,
		CallerDescription:        o.CallerDescription,
		SenderDescription:        o.SenderDescription,
		DescriptorPolicy:         o.DescriptorPolicy,
		TransactionTimeoutInMins: o.TransactionTimeoutInMins,
		MarketplaceFixedFee:      o.MarketplaceFixedFee,
		MarketplaceVariableFee:   o.MarketplaceVariableFee,
	}
}

// Purchase charges amount (USD) to the token of opts: the Pay action. A
// card or bank payment is Pending first; TransactionCompletedWaiter waits
// for its outcome.
func (c *Client) Purchase(ctx context.Context, amount decimal.Decimal, opts PurchaseOptions, optFns ...func(*Options)) (*PurchaseOutput, error) {
	return transactionResult(c.Pay(ctx, opts.payInput(amount), optFns...))
}

// Authorize reserves amount (USD) on the token of opts: the Reserve
// action. Capture settles it, Void releases it.
func (c *Client) Authorize(ctx context.Context, amount decimal.Decimal, opts PurchaseOptions, optFns ...func(*Options)) (*AuthorizeOutput, error) {
	return transactionResult(c.Reserve(ctx, (*ReserveInput)(opts.payInput(amount)), optFns...))
}

// CaptureOptions names the reserve to capture.
type CaptureOptions struct {
	// TransactionID is the TransactionID of the Authorize. Required.
	TransactionID string
}

// Capture settles amount (USD) of an authorization: the Settle action. A
// zero amount settles the whole reserved amount.
func (c *Client) Capture(ctx context.Context, amount decimal.Decimal, opts CaptureOptions, optFns ...func(*Options)) (*CaptureOutput, error) {
	in := &SettleInput{ReserveTransactionID: opts.TransactionID, TransactionAmount: optionalUSD(amount)}
	return transactionResult(c.Settle(ctx, in, optFns...))
}

// CreditOptions names the transaction to refund.
type CreditOptions struct {
	// TransactionID is the purchase or capture to refund. Required.
	TransactionID string
	// CallerReference identifies this refund; each partial refund needs its
	// own. Required.
	CallerReference         string
	Description             string // sent as CallerDescription
	MarketplaceRefundPolicy MarketplaceRefundPolicy
}

// Credit refunds amount (USD) of a transaction: the Refund action. A zero
// amount refunds everything.
func (c *Client) Credit(ctx context.Context, amount decimal.Decimal, opts CreditOptions, optFns ...func(*Options)) (*CreditOutput, error) {
	return transactionResult(c.Refund(ctx, &RefundInput{
		TransactionID:           opts.TransactionID,
		RefundAmount:            optionalUSD(amount),
		CallerReference:         opts.CallerReference,
		CallerDescription:       opts.Description,
		MarketplaceRefundPolicy: opts.MarketplaceRefundPolicy,
	}, optFns...))
}

// VoidOptions carries the optional description of a Void.
type VoidOptions struct {
	Description string
}

// Void cancels the transaction identification (typically an
// authorization): the Cancel action. FPS may leave TransactionId out of
// its answer; the output's TransactionID is identification then.
func (c *Client) Void(ctx context.Context, identification string, opts VoidOptions, optFns ...func(*Options)) (*VoidOutput, error) {
	out, err := c.Cancel(ctx, &CancelInput{TransactionID: identification, Description: opts.Description}, optFns...)
	if err != nil {
		return nil, err
	}
	id := out.TransactionID
	if id == "" {
		id = identification
	}
	return newResult(TransactionOutput{TransactionID: id, TransactionStatus: out.TransactionStatus, RequestID: out.RequestID}), nil
}

// NewCallerReference returns a new random CallerReference: 22 URL-safe
// characters (128 random bits). Store it with the order before the call,
// so that a retry after a crash sends the same one.
func NewCallerReference() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("fps: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
