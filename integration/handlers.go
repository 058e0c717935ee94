package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fpskit/fps"
)

// StoredNotification is a verified notification as a NotificationStore
// keeps it.
type StoredNotification struct {
	// Key is fps.Notification.Key(): the store keeps one record per Key.
	Key          string
	Notification fps.Notification
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
		fps.ErrNoSignature, fps.ErrUnsupportedSignatureVersion, fps.ErrUnsupportedSignatureMethod,
		fps.ErrCertificateURLNotAllowed, fps.ErrSignatureMismatch, fps.ErrVerificationFailed,
		fps.ErrMalformed, ErrUnknownOrder, ErrOrderMismatch,
	} {
		if errors.Is(err, refused) {
			return http.StatusForbidden
		}
	}
	var ve *fps.ValidationError
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
	Verifier fps.Verifier
	// Endpoint is the public return URL registered with Amazon, e.g.
	// "https://shop.example/fps/return". Required; never taken from the
	// request.
	Endpoint string
	// Orders looks up the order of the callerReference. Required.
	Orders OrderLookup
	// Transaction handles the verified return: it writes the buyer's page.
	// order is the zero Order for a failed or abandoned pipeline that
	// names no caller reference. Required.
	Transaction func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order)
	// Logger receives refusals; nil discards.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *ReturnHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r, http.MethodGet, h.Verifier != nil && h.Orders != nil && h.Transaction != nil) {
		return
	}
	ctx := r.Context()
	ret, err := fps.VerifyReturn(ctx, h.Verifier, h.Endpoint, r.URL.RawQuery)
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
	Verifier fps.Verifier
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
	Callback func(ctx context.Context, n *fps.Notification) error
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
	n, err := fps.VerifyIPN(ctx, h.Verifier, h.Endpoint, body)
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
