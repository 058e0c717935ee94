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
// django-merchant's {status, response} pair. Status is ResultSuccess when
// FPS accepted the request and the transaction did not fail (it may still
// be Pending: see TransactionStatus), ResultFailure when the transaction
// status is Failure. Errors are returned as errors, not as a Result.
type Result struct {
	Status            ResultStatus
	TransactionID     string
	TransactionStatus TransactionStatus
	// Response is the typed answer: *PayOutput, *ReserveOutput,
	// *SettleOutput, *RefundOutput or *CancelOutput.
	Response any
}

// transactionResult turns the answer of Pay, Reserve, Settle or Refund
// into a Result.
func transactionResult(out *TransactionOutput, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	return newResult(out.TransactionID, out.TransactionStatus, out), nil
}

// optionalUSD is amount in USD, or no amount (everything) when zero.
func optionalUSD(amount decimal.Decimal) Amount {
	if amount.IsZero() {
		return Amount{}
	}
	return USD(amount)
}

func newResult(id string, st TransactionStatus, response any) *Result {
	r := &Result{Status: ResultSuccess, TransactionID: id, TransactionStatus: st, Response: response}
	if st == TransactionStatusFailure {
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

// Purchase charges amount (USD) to the token of opts: the Pay action.
func (c *Client) Purchase(ctx context.Context, amount decimal.Decimal, opts PurchaseOptions, optFns ...func(*Options)) (*Result, error) {
	return transactionResult(c.Pay(ctx, opts.payInput(amount), optFns...))
}

// Authorize reserves amount (USD) on the token of opts: the Reserve
// action. Capture settles it, Void releases it.
func (c *Client) Authorize(ctx context.Context, amount decimal.Decimal, opts PurchaseOptions, optFns ...func(*Options)) (*Result, error) {
	return transactionResult(c.Reserve(ctx, (*ReserveInput)(opts.payInput(amount)), optFns...))
}

// CaptureOptions names the reserve to capture.
type CaptureOptions struct {
	// TransactionID is the TransactionID of the Authorize. Required.
	TransactionID string
}

// Capture settles amount (USD) of an authorization: the Settle action. A
// zero amount settles the whole reserved amount.
func (c *Client) Capture(ctx context.Context, amount decimal.Decimal, opts CaptureOptions, optFns ...func(*Options)) (*Result, error) {
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
func (c *Client) Credit(ctx context.Context, amount decimal.Decimal, opts CreditOptions, optFns ...func(*Options)) (*Result, error) {
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
// authorization): the Cancel action.
func (c *Client) Void(ctx context.Context, identification string, opts VoidOptions, optFns ...func(*Options)) (*Result, error) {
	out, err := c.Cancel(ctx, &CancelInput{TransactionID: identification, Description: opts.Description}, optFns...)
	if err != nil {
		return nil, err
	}
	id := out.TransactionID
	if id == "" {
		id = identification
	}
	return newResult(id, out.TransactionStatus, out), nil
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
