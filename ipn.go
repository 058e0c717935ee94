package fps

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NotificationType is the notificationType of an IPN.
type NotificationType string

// The two IPN types of FPS.
const (
	// NotificationTypeTransactionStatus reports a transaction's new status.
	NotificationTypeTransactionStatus NotificationType = "TransactionStatus"
	// NotificationTypeTokenCancellation reports a cancelled token.
	NotificationTypeTokenCancellation NotificationType = "TokenCancellation"
)

// Values returns the NotificationType values.
func (NotificationType) Values() []NotificationType {
	return []NotificationType{NotificationTypeTransactionStatus, NotificationTypeTokenCancellation}
}

// NotificationStatus is the status a TransactionStatus IPN reports, as
// sent and upper case: its transactionStatus (the API's TransactionStatus
// in capitals), or, for refunds and in Amazon's sample, its status. A
// value not among the constants is kept as sent.
type NotificationStatus string

// NotificationStatus values.
const (
	NotificationStatusSuccess   NotificationStatus = "SUCCESS"
	NotificationStatusPending   NotificationStatus = "PENDING"
	NotificationStatusReserved  NotificationStatus = "RESERVED"
	NotificationStatusFailure   NotificationStatus = "FAILURE"
	NotificationStatusCancelled NotificationStatus = "CANCELLED"
	// NotificationStatusInitiated appears in Amazon's sample IPN (status),
	// for a refund begun; it is no TransactionStatus.
	NotificationStatusInitiated NotificationStatus = "INITIATED"
)

// Values returns the NotificationStatus values.
func (NotificationStatus) Values() []NotificationStatus {
	return []NotificationStatus{NotificationStatusSuccess, NotificationStatusPending, NotificationStatusReserved,
		NotificationStatusFailure, NotificationStatusCancelled, NotificationStatusInitiated}
}

// NotificationOperation is the operation a TransactionStatus IPN reports,
// as sent and upper case. A value not among the constants is kept as
// sent.
type NotificationOperation string

// NotificationOperation values. PAY and REFUND are seen in captured IPNs;
// the others are the spelling the simulator uses for the other steps
// (Amazon's own spelling of them was not recorded).
const (
	NotificationOperationPay          NotificationOperation = "PAY"
	NotificationOperationRefund       NotificationOperation = "REFUND"
	NotificationOperationReserve      NotificationOperation = "RESERVE"
	NotificationOperationSettle       NotificationOperation = "SETTLE"
	NotificationOperationCancel       NotificationOperation = "CANCEL"
	NotificationOperationFundPrepaid  NotificationOperation = "FUND_PREPAID"
	NotificationOperationSettleDebt   NotificationOperation = "SETTLE_DEBT"
	NotificationOperationWriteOffDebt NotificationOperation = "WRITE_OFF_DEBT"
)

// Values returns the NotificationOperation values.
func (NotificationOperation) Values() []NotificationOperation {
	return []NotificationOperation{NotificationOperationPay, NotificationOperationRefund, NotificationOperationReserve,
		NotificationOperationSettle, NotificationOperationCancel, NotificationOperationFundPrepaid,
		NotificationOperationSettleDebt, NotificationOperationWriteOffDebt}
}

// DateInstalledLayout is the layout of dateInstalled in TokenCancellation
// IPNs ("Sep 27, 2009").
const DateInstalledLayout = "Jan 2, 2006"

// Notification is an IPN (Instant Payment Notification). VerifyIPN returns
// it only after the signature was checked; ParseNotification only parses.
type Notification struct {
	Type NotificationType

	// TransactionStatus notifications.
	TransactionID     string
	CallerReference   string                // also set on TokenCancellation
	Operation         NotificationOperation // upper case: PAY, REFUND, RESERVE, SETTLE, ...
	TransactionAmount Amount
	TransactionDate   time.Time // UTC; zero when not sent
	// Status is as sent, upper case: transactionStatus, or status (refunds;
	// INITIATED in Amazon's sample).
	Status NotificationStatus
	// TransactionStatus is Status as a TransactionStatus; empty when
	// Status is not one (INITIATED).
	TransactionStatus   TransactionStatus
	StatusCode          string
	StatusMessage       string
	PaymentMethod       PaymentMethod // CC, ACH, ABT
	ParentTransactionID string        // refunds: the refunded transaction
	BuyerName           string
	BuyerEmail          string
	RecipientName       string
	RecipientEmail      string
	PaymentReason       string // also set on TokenCancellation

	// TokenCancellation notifications.
	TokenID       string
	TokenType     TokenType
	DateInstalled time.Time // zero when not sent
	CustomerName  string
	CustomerEmail string

	// Params holds every parameter received, signature fields included.
	Params url.Values
}

// Key identifies a notification for de-duplication: the same transaction
// reported again with the same operation and status, or the same token
// cancelled again, has the same Key.
func (n *Notification) Key() string {
	if n.Type == NotificationTypeTokenCancellation {
		return string(n.Type) + "/" + n.TokenID
	}
	return string(n.Type) + "/" + n.TransactionID + "/" + string(n.Operation) + "/" + string(n.Status)
}

// ParseNotification reads the parameters of an IPN (decoded from its form
// body). It does not check the signature: use VerifyIPN for anything
// received. Missing or malformed fields are a *ValidationError naming the
// parameter.
func ParseNotification(params url.Values) (*Notification, error) {
	get := params.Get
	n := &Notification{
		Type:                NotificationType(get("notificationType")),
		TransactionID:       get("transactionId"),
		CallerReference:     get("callerReference"),
		Operation:           NotificationOperation(strings.ToUpper(get("operation"))),
		StatusCode:          get("statusCode"),
		StatusMessage:       get("statusMessage"),
		PaymentMethod:       PaymentMethod(get("paymentMethod")),
		ParentTransactionID: get("parentTransactionId"),
		BuyerName:           get("buyerName"),
		BuyerEmail:          get("buyerEmail"),
		RecipientName:       get("recipientName"),
		RecipientEmail:      get("recipientEmail"),
		PaymentReason:       get("paymentReason"),
		TokenID:             get("tokenId"),
		TokenType:           TokenType(get("tokenType")),
		CustomerName:        get("customerName"),
		CustomerEmail:       get("customerEmail"),
		Params:              params,
	}
	switch n.Type {
	case NotificationTypeTransactionStatus:
		return n, n.parseTransactionStatus(params)
	case NotificationTypeTokenCancellation:
		if n.TokenID == "" {
			return nil, invalid("tokenId", "is required in a TokenCancellation notification")
		}
		if s := get("dateInstalled"); s != "" {
			t, err := time.Parse(DateInstalledLayout, s)
			if err != nil {
				return nil, invalid("dateInstalled", "must be a date like \"Sep 27, 2009\", got %q", s)
			}
			n.DateInstalled = t
		}
		return n, nil
	case "":
		return nil, invalid("notificationType", "is required")
	default:
		return nil, invalid("notificationType", "must be TransactionStatus or TokenCancellation, got %q", string(n.Type))
	}
}

func (n *Notification) parseTransactionStatus(params url.Values) error {
	for _, f := range []struct{ name, value string }{
		{"transactionId", n.TransactionID},
		{"callerReference", n.CallerReference},
		{"operation", string(n.Operation)},
	} {
		if f.value == "" {
			return invalid(f.name, "is required in a TransactionStatus notification")
		}
	}
	amount, err := ParseAmount(params.Get("transactionAmount"))
	if err != nil {
		return invalid("transactionAmount", "must be a currency code, a space and a decimal (\"USD 1.00\"), got %q", params.Get("transactionAmount"))
	}
	n.TransactionAmount = amount
	if s := params.Get("transactionDate"); s != "" {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return invalid("transactionDate", "must be seconds since the Unix epoch, got %q", s)
		}
		n.TransactionDate = time.Unix(secs, 0).UTC()
	}
	status := params.Get("transactionStatus")
	if status == "" {
		status = params.Get("status") // refunds and Amazon's sample
	}
	if status == "" {
		return invalid("transactionStatus", "is required (or status) in a TransactionStatus notification")
	}
	n.Status = NotificationStatus(strings.ToUpper(status))
	n.TransactionStatus, _ = ParseTransactionStatus(status)
	return nil
}

// VerifyIPN checks an IPN with v and parses it. endpoint is the public URL
// of the IPN handler as registered with Amazon; body is the form body
// exactly as received.
func VerifyIPN(ctx context.Context, v Verifier, endpoint string, body []byte) (*Notification, error) {
	return verifyThenParse(ctx, v, "POST", endpoint, string(body), ParseNotification)
}

// VerifyReturn checks a return URL with v and parses it. endpoint is the
// public return URL (its query, if any, is ignored: the parameters come
// from rawQuery); rawQuery is the query exactly as received, without "?".
func VerifyReturn(ctx context.Context, v Verifier, endpoint, rawQuery string) (*PipelineReturn, error) {
	return verifyThenParse(ctx, v, "GET", endpoint, rawQuery, ParsePipelineReturn)
}

// verifyThenParse parses only what v verified; a field that does not
// parse is ErrMalformed.
func verifyThenParse[T any](ctx context.Context, v Verifier, method, endpoint, raw string, parse func(url.Values) (*T, error)) (*T, error) {
	params, err := v.Verify(ctx, method, endpoint, raw)
	if err != nil {
		return nil, err
	}
	out, err := parse(params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return out, nil
}
