package fps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

// DateInstalledLayout is the layout of dateInstalled in TokenCancellation
// IPNs ("Sep 27, 2009").
const DateInstalledLayout = "Jan 2, 2006"

// Notification is an IPN (Instant Payment Notification). VerifyIPN returns
// it only after the signature was checked; ParseNotification only parses.
type Notification struct {
	Type NotificationType

	// TransactionStatus notifications.
	TransactionID       string
	CallerReference     string // also set on TokenCancellation
	Operation           string // upper case: PAY, REFUND, RESERVE, SETTLE, ...
	TransactionAmount   Amount
	TransactionDate     time.Time // UTC; zero when not sent
	Status              string    // as sent, upper case: transactionStatus, or status (refunds; INITIATED in Amazon's sample)
	TransactionStatus   TransactionStatus
	StatusCode          string
	StatusMessage       string
	PaymentMethod       string // CC, ACH, ABT
	ParentTransactionID string // refunds: the refunded transaction
	BuyerName           string
	BuyerEmail          string
	RecipientName       string
	RecipientEmail      string
	PaymentReason       string // also set on TokenCancellation

	// TokenCancellation notifications.
	TokenID       string
	TokenType     string
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
	return string(n.Type) + "/" + n.TransactionID + "/" + n.Operation + "/" + n.Status
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
		Operation:           strings.ToUpper(get("operation")),
		StatusCode:          get("statusCode"),
		StatusMessage:       get("statusMessage"),
		PaymentMethod:       get("paymentMethod"),
		ParentTransactionID: get("parentTransactionId"),
		BuyerName:           get("buyerName"),
		BuyerEmail:          get("buyerEmail"),
		RecipientName:       get("recipientName"),
		RecipientEmail:      get("recipientEmail"),
		PaymentReason:       get("paymentReason"),
		TokenID:             get("tokenId"),
		TokenType:           get("tokenType"),
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
		{"operation", n.Operation},
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
	field := "transactionStatus"
	n.Status = params.Get(field)
	if n.Status == "" {
		field = "status" // refunds and Amazon's sample
		n.Status = params.Get(field)
	}
	if n.Status == "" {
		return invalid("transactionStatus", "is required (or status) in a TransactionStatus notification")
	}
	n.Status = strings.ToUpper(n.Status)
	n.TransactionStatus, _ = ParseTransactionStatus(n.Status)
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

// Order is what the merchant expects to be paid: the CallerReference it
// put in the pipeline or the API call, and the amount.
type Order struct {
	CallerReference string
	Amount          Amount
	// RecipientEmail, when set, is the email of the Amazon Payments
	// account the order is paid to: the merchant's own, or a marketplace
	// seller's. A TransactionStatus notification (other than a refund's)
	// naming another recipientEmail is refused. Without it, anyone with an
	// account of their own can pay themselves under the order's caller
	// reference and amount, with their IPN URL set to the merchant's, and
	// have the order taken as paid.
	RecipientEmail string
}

// OrderLookup returns the order the merchant started with callerReference,
// or an error wrapping ErrUnknownOrder when there is none. Any other error
// is taken as a temporary failure.
type OrderLookup func(ctx context.Context, callerReference string) (Order, error)

// Errors of the order check; test with errors.Is.
var (
	// ErrUnknownOrder: the caller reference names no order of the merchant.
	ErrUnknownOrder = errors.New("fps: unknown order")
	// ErrOrderMismatch: the amount or currency does not match the order.
	ErrOrderMismatch = errors.New("fps: does not match the order")
)

// lookupOrder finds the order of ref; the lookup must answer with the
// order of that very reference.
func lookupOrder(ctx context.Context, orders OrderLookup, ref string) (Order, error) {
	if ref == "" {
		return Order{}, fmt.Errorf("%w: callerReference is missing", ErrUnknownOrder)
	}
	o, err := orders(ctx, ref)
	if err != nil {
		return Order{}, err
	}
	if o.CallerReference != ref {
		return Order{}, fmt.Errorf("%w: callerReference %q", ErrUnknownOrder, ref)
	}
	return o, nil
}

// checkAmountAgainst compares a received amount with the order's: same
// currency, and the same value, or at most the order's value when partial
// is true (refunds, settlements).
func checkAmountAgainst(got Amount, o Order, partial bool) error {
	if got.Currency() != o.Amount.Currency() {
		return fmt.Errorf("%w: currency %s, order is in %s", ErrOrderMismatch, got.Currency(), o.Amount.Currency())
	}
	if partial {
		if got.Value.GreaterThan(o.Amount.Value) {
			return fmt.Errorf("%w: amount %s exceeds the order's %s", ErrOrderMismatch, got, o.Amount)
		}
		return nil
	}
	if !got.Value.Equal(o.Amount.Value) {
		return fmt.Errorf("%w: amount %s, order is %s", ErrOrderMismatch, got, o.Amount)
	}
	return nil
}

// checkNotificationOrder refuses a notification that does not belong to an
// order of the merchant. A TransactionStatus notification must carry the
// order's amount and currency (a refund or a settlement may carry less)
// and, when the order names its recipient, be paid to that recipient
// (refunds excepted). A TokenCancellation must name a known caller
// reference.
func checkNotificationOrder(ctx context.Context, orders OrderLookup, n *Notification) error {
	o, err := lookupOrder(ctx, orders, n.CallerReference)
	if err != nil || n.Type == NotificationTypeTokenCancellation {
		return err
	}
	if o.RecipientEmail != "" && n.Operation != "REFUND" && !strings.EqualFold(n.RecipientEmail, o.RecipientEmail) {
		return fmt.Errorf("%w: paid to recipient %q, not to %q", ErrOrderMismatch, n.RecipientEmail, o.RecipientEmail)
	}
	return checkAmountAgainst(n.TransactionAmount, o, n.Operation == "REFUND" || n.Operation == "SETTLE")
}

// checkReturnOrder refuses a return that does not belong to an order of
// the merchant: a successful return must name a known caller reference,
// and a transactionAmount, when present, must match the order. A failed
// or abandoned return without a caller reference gets the zero Order.
func checkReturnOrder(ctx context.Context, orders OrderLookup, ret *PipelineReturn) (Order, error) {
	if !ret.Status.Success() && ret.CallerReference == "" {
		return Order{}, nil
	}
	o, err := lookupOrder(ctx, orders, ret.CallerReference)
	if err != nil {
		return Order{}, err
	}
	if s := ret.Params.Get("transactionAmount"); s != "" {
		got, err := ParseAmount(s)
		if err != nil {
			return Order{}, fmt.Errorf("%w: %w", ErrMalformed, invalid("transactionAmount", "must be a currency code, a space and a decimal, got %q", s))
		}
		if err := checkAmountAgainst(got, o, false); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// StoredNotification is a verified notification as a NotificationStore
// keeps it.
type StoredNotification struct {
	// Key is Notification.Key(): the store keeps one record per Key.
	Key          string
	Notification Notification
	// RawBody is the form body exactly as received.
	RawBody    string
	ReceivedAt time.Time
}

// NotificationStore keeps every verified notification once. Package
// github.com/fpskit/fps/store has an in-memory store and one on
// database/sql.
type NotificationStore interface {
	// Save stores n unless a notification with the same Key is stored
	// already; inserted reports which. Two concurrent Saves of one Key
	// insert once. An error means n may not be stored.
	Save(ctx context.Context, n *StoredNotification) (inserted bool, err error)
}

// DefaultMaxIPNBodySize caps the body an IPNHandler reads.
const DefaultMaxIPNBodySize = 64 << 10

// refusalStatus maps a verification or order-check error to an HTTP
// status: 403 when the message is refused, 503 when it could not be
// checked now (certificate download, VerifySignature call, order lookup),
// so the sender tries again.
func refusalStatus(err error) int {
	for _, refused := range []error{
		ErrNoSignature, ErrUnsupportedSignatureVersion, ErrUnsupportedSignatureMethod,
		ErrCertificateURLNotAllowed, ErrSignatureMismatch, ErrVerificationFailed,
		ErrMalformed, ErrUnknownOrder, ErrOrderMismatch,
	} {
		if errors.Is(err, refused) {
			return http.StatusForbidden
		}
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return http.StatusInternalServerError // endpoint or method: the handler's configuration
	}
	return http.StatusServiceUnavailable
}

func answer(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, text)
}

const misconfigured = "the handler is misconfigured"

// admit answers 405 unless r uses method, and 500 when the handler lacks
// a required field; it reports whether to go on.
func admit(w http.ResponseWriter, r *http.Request, method string, configured bool) bool {
	if r.Method != method {
		w.Header().Set("Allow", method)
		answer(w, http.StatusMethodNotAllowed, "this URL takes "+method)
		return false
	}
	if !configured {
		answer(w, http.StatusInternalServerError, misconfigured)
		return false
	}
	return true
}

// refuse answers an error of the checks: the reason in plain words for a
// refusal, a generic text otherwise.
func refuse(ctx context.Context, w http.ResponseWriter, logger *slog.Logger, what string, err error) {
	status := refusalStatus(err)
	if logger != nil {
		logger.WarnContext(ctx, "fps: "+what+" not accepted", "status", status, "error", err.Error())
	}
	switch status {
	case http.StatusForbidden:
		answer(w, status, err.Error())
	case http.StatusInternalServerError:
		answer(w, status, misconfigured)
	default:
		answer(w, status, "could not verify now; try again")
	}
}

// ReturnHandler serves the return URL of a pipeline: it verifies the
// query as received, parses it, checks it belongs to an order, and hands
// over to Transaction. Any failed check is answered 403 (503 when the
// check could not be made) with a plain reason, and Transaction is not
// called.
type ReturnHandler struct {
	// Verifier checks the signature. Required.
	Verifier Verifier
	// Endpoint is the public return URL registered with Amazon, e.g.
	// "https://shop.example/fps/return". Required; never taken from the
	// request.
	Endpoint string
	// Orders looks up the order of the callerReference. Required.
	Orders OrderLookup
	// Transaction handles the verified return: it writes the buyer's page.
	// order is the zero Order for a failed or abandoned pipeline that
	// names no caller reference. Required.
	Transaction func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *PipelineReturn, order Order)
	// Logger receives refusals; nil discards.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *ReturnHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r, http.MethodGet, h.Verifier != nil && h.Orders != nil && h.Transaction != nil) {
		return
	}
	ctx := r.Context()
	ret, err := VerifyReturn(ctx, h.Verifier, h.Endpoint, r.URL.RawQuery)
	if err != nil {
		refuse(ctx, w, h.Logger, "return URL", err)
		return
	}
	order, err := checkReturnOrder(ctx, h.Orders, ret)
	if err != nil {
		refuse(ctx, w, h.Logger, "return URL", err)
		return
	}
	h.Transaction(ctx, w, r, ret, order)
}

// IPNHandler receives IPNs: it reads the body as received (at most
// MaxBodySize bytes, 413 beyond), verifies it, checks it belongs to an
// order, stores it, and then calls Callback. It answers 200 only once the
// notification is stored (or was stored before), 5xx when it could not be
// verified now or stored, so the sender tries again, and 403 when it is
// refused; a refused notification is not stored. A notification delivered
// again (same Key) is stored once and Callback runs once, also when
// deliveries race: the store decides.
type IPNHandler struct {
	// Verifier checks the signature. Required.
	Verifier Verifier
	// Endpoint is the public IPN URL registered with Amazon. Required;
	// never taken from the request.
	Endpoint string
	// Store keeps the notifications. Required.
	Store NotificationStore
	// Orders looks up the order of the callerReference. Required.
	Orders OrderLookup
	// Callback runs once per stored notification, after it was stored.
	// Its error is logged; the answer stays 200, since the notification is
	// stored and a new delivery would be a duplicate. Optional.
	Callback func(ctx context.Context, n *Notification) error
	// MaxBodySize caps the body; DefaultMaxIPNBodySize when 0.
	MaxBodySize int64
	// Clock stamps ReceivedAt; time.Now when nil.
	Clock func() time.Time
	// Logger receives refusals and failures; nil discards.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *IPNHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r, http.MethodPost, h.Verifier != nil && h.Store != nil && h.Orders != nil) {
		return
	}
	ctx := r.Context()
	limit := h.MaxBodySize
	if limit <= 0 {
		limit = DefaultMaxIPNBodySize
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
			return
		}
		answer(w, http.StatusBadRequest, "could not read the body")
		return
	}
	n, err := VerifyIPN(ctx, h.Verifier, h.Endpoint, body)
	if err == nil {
		err = checkNotificationOrder(ctx, h.Orders, n)
	}
	if err != nil {
		refuse(ctx, w, h.Logger, "IPN", err)
		return
	}
	now := time.Now
	if h.Clock != nil {
		now = h.Clock
	}
	inserted, err := h.Store.Save(ctx, &StoredNotification{Key: n.Key(), Notification: *n, RawBody: string(body), ReceivedAt: now().UTC()})
	if err != nil {
		if h.Logger != nil {
			h.Logger.ErrorContext(ctx, "fps: storing the IPN failed", "key", n.Key(), "error", err.Error())
		}
		answer(w, http.StatusInternalServerError, "could not store the notification; try again")
		return
	}
	if !inserted {
		answer(w, http.StatusOK, "duplicate notification, already stored")
		return
	}
	if h.Callback != nil {
		if err := h.Callback(ctx, n); err != nil && h.Logger != nil {
			h.Logger.ErrorContext(ctx, "fps: IPN callback failed", "key", n.Key(), "error", err.Error())
		}
	}
	answer(w, http.StatusOK, "stored")
}
