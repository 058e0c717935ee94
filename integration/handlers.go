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

// DefaultMaxIPNBodySize caps the body an IPNHandler reads.
const DefaultMaxIPNBodySize = 64 << 10

// DefaultHookTimeout bounds one run of the notification callback and of
// an order's charge. The change (or the order) is claimed for that run
// for twice as long, so that a delivery or a return racing it does not
// run it too, and a claim whose app server died is taken again once it
// expires.
const DefaultHookTimeout = time.Minute

// maxCommitAttempts bounds how often a change is worked out again when the
// order changed meanwhile.
const maxCommitAttempts = 8

// refusalStatus maps an error of the checks to an HTTP status: 403 when
// the message is refused, 500 when the handler is misconfigured, 503 when
// it could not be checked now (certificate download, FPS unreachable or
// answering 5xx, the database), so that the sender tries again.
func refusalStatus(err error) int {
	for _, refused := range []error{
		fps.ErrNoSignature, fps.ErrUnsupportedSignatureVersion, fps.ErrUnsupportedSignatureMethod,
		fps.ErrCertificateURLNotAllowed, fps.ErrSignatureMismatch, fps.ErrVerificationFailed,
		fps.ErrMalformed, ErrUnknownOrder, ErrOrderMismatch, ErrNotConfirmed,
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

// loggerOr returns l, or slog.Default() when l is nil.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

func clockOr(c func() time.Time) time.Time {
	if c == nil {
		return time.Now().UTC()
	}
	return c().UTC()
}

// refuse answers an error of the checks: the reason in plain words for a
// refusal, a generic text otherwise.
func refuse(ctx context.Context, w http.ResponseWriter, logger *slog.Logger, what string, err error) {
	status := refusalStatus(err)
	loggerOr(logger).WarnContext(ctx, "fps: "+what+" not accepted", "status", status, "error", err.Error())
	switch status {
	case http.StatusForbidden:
		answer(w, status, err.Error())
	case http.StatusInternalServerError:
		answer(w, status, misconfigured)
	default:
		answer(w, status, "could not check it now; try again")
	}
}

// orderOf returns the order of callerReference ref.
func orderOf(ctx context.Context, s Store, ref string) (Order, error) {
	if ref == "" {
		return Order{}, fmt.Errorf("%w: callerReference is missing", ErrUnknownOrder)
	}
	return s.Order(ctx, ref)
}

// ReturnHandler serves the return URL of a pipeline. It verifies the
// query as received, finds the order of its callerReference, confirms
// with FPS (GetTokenByCaller, with the shop's credentials) that the token
// is the one FPS holds for the shop under that callerReference and is
// Active, moves the order from created to approved in the Store, and only
// then charges it: once per order, also when the return is loaded again
// or two app servers receive it at once. A return that comes again later
// is shown the order as it stands (OrderPage). Any failed check is
// answered 403 (503 when it could not be made now: FPS or the database
// unreachable) with a plain reason, and nothing is stored and no hook
// runs: a refused return takes nothing from the real buyer's order.
//
// The charge is claimed in the Store for twice ChargeTimeout before it
// runs, for at most ChargeTimeout.
// With Charge set, Charge charges and Transaction then writes the page;
// without it, Transaction charges and writes the page, as the seed's
// transaction method did. A claim that was not ended within its lease
// (the app server died between the claim and the charge, or before FPS's
// answer) is taken again by the next load of the return URL, or by
// AmazonFPS.Recover: the charge runs again, and as it charges under the
// order's CallerReference, FPS answers a charge it made already as it did
// the first time. Purchase and Authorize of AmazonFPS refuse another
// CallerReference during a charge.
//
// A return that is not a success (the buyer declined or left) confirms
// nothing, as FPS holds no token for it: Transaction runs with the order
// as it stands (the zero Order when the return names no callerReference),
// which it does not move, to show the buyer a way to try again.
type ReturnHandler struct {
	// Verifier checks the signature. Required.
	Verifier fps.Verifier
	// Endpoint is the public return URL registered with Amazon, e.g.
	// "https://shop.example/fps/return". Required; never taken from the
	// request.
	Endpoint string
	// FPS confirms the token, with the shop's credentials. Required.
	FPS FPSAPI
	// Store holds the orders. Required.
	Store Store
	// Charge, when set, charges the approved order (order.TokenID, under
	// order.CallerReference) before Transaction writes the page. It
	// returns nil once the charge is made, or FPS's error: an error
	// answer that moves no money and is not worth retrying ends the
	// charge and fails the order; any other error leaves the charge to be
	// run again by the next load of the return URL or by
	// AmazonFPS.Recover. Optional.
	Charge func(ctx context.Context, order Order) error
	// Transaction handles the confirmed return: it writes the buyer's
	// page, after Charge ran, or charges the token for the order itself
	// when Charge is nil. It runs once per order (again only when the
	// charge did not end), with the order in status OrderApproved, or
	// past it once Charge ran. Required.
	Transaction func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order)
	// OrderPage shows the buyer the order as it stands when the return
	// comes again after Transaction ran. Nil writes a short text page.
	OrderPage func(ctx context.Context, w http.ResponseWriter, r *http.Request, order Order)
	// ChargeTimeout bounds one run of the charge (Charge, or Transaction
	// without it), for which the order is claimed twice as long;
	// DefaultHookTimeout when 0.
	ChargeTimeout time.Duration
	// Clock stamps the history; time.Now when nil.
	Clock func() time.Time
	// Logger receives refusals; slog.Default() when nil.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *ReturnHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r, http.MethodGet, h.Verifier != nil && h.FPS != nil && h.Store != nil && h.Transaction != nil) {
		return
	}
	ctx := r.Context()
	ret, err := fps.VerifyReturn(ctx, h.Verifier, h.Endpoint, r.URL.RawQuery)
	if err != nil {
		refuse(ctx, w, h.Logger, "return URL", err)
		return
	}
	if !ret.Status.Success() {
		var order Order
		if ret.CallerReference != "" {
			if order, err = h.Store.Order(ctx, ret.CallerReference); err != nil {
				refuse(ctx, w, h.Logger, "return URL", err)
				return
			}
		}
		h.Transaction(ctx, w, r, ret, order)
		return
	}
	order, err := h.returnedOrder(ctx, ret)
	if err != nil {
		refuse(ctx, w, h.Logger, "return URL", err)
		return
	}
	if order.Status == OrderCreated || order.TokenID != ret.TokenID {
		// Not confirmed yet (or another token: confirmed, it is shown the
		// order as it stands).
		if err := confirmReturn(ctx, h.FPS, ret); err != nil {
			if now, ok := h.approvedMeanwhile(ctx, order, ret, err); ok {
				h.show(ctx, w, r, now)
				return
			}
			refuse(ctx, w, h.Logger, "return URL", err)
			return
		}
		if order, err = approve(ctx, h.Store, order, ret.TokenID, fmt.Sprintf("the buyer approved (%s)", ret.Status), h.Clock); err != nil {
			refuse(ctx, w, h.Logger, "return URL", err)
			return
		}
	}
	if order.Status != OrderApproved || order.TokenID != ret.TokenID {
		h.show(ctx, w, r, order)
		return
	}
	h.charge(ctx, w, r, ret, order)
}

// approvedMeanwhile reports whether the order o, which FPS did not
// confirm ret for (err), was approved with ret's token meanwhile (by
// Recover, or another app server, whose charge may have used the token
// since), and returns it as it stands then: the buyer is shown his order.
func (h *ReturnHandler) approvedMeanwhile(ctx context.Context, o Order, ret *fps.PipelineReturn, err error) (Order, bool) {
	if !errors.Is(err, ErrNotConfirmed) {
		return o, false
	}
	now, rerr := h.Store.Order(ctx, o.CallerReference)
	return now, rerr == nil && now.Status != OrderCreated && now.TokenID == ret.TokenID
}

func (h *ReturnHandler) charger() *charger {
	return &charger{store: h.Store, charge: h.Charge, timeout: h.ChargeTimeout, clock: h.Clock, logger: h.Logger}
}

// charge runs the charge of the approved order o, if it can claim it,
// and writes the page: Transaction's after the charge, the order as it
// stands when the charge is done or running elsewhere.
func (h *ReturnHandler) charge(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o Order) {
	c := h.charger()
	if h.Charge == nil {
		h.transact(ctx, c, w, r, ret, o)
		return
	}
	ran, err := c.run(ctx, o)
	if !ran {
		if err != nil {
			refuse(ctx, w, h.Logger, "return URL", err)
			return
		}
		h.show(ctx, w, r, o)
		return
	}
	if now, err := h.Store.Order(ctx, o.CallerReference); err == nil {
		o = now
	}
	h.Transaction(ctx, w, r, ret, o)
}

// transact runs Transaction, which charges, under the order's claim: the
// claim is done when it returns, and released if it panics.
func (h *ReturnHandler) transact(ctx context.Context, c *charger, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o Order) {
	until, claimed, err := c.claim(ctx, o)
	if err != nil {
		refuse(ctx, w, h.Logger, "return URL", err)
		return
	}
	if !claimed {
		h.show(ctx, w, r, o)
		return
	}
	done := false
	defer func() {
		if err := h.Store.EndCallback(context.WithoutCancel(ctx), o.CallerReference, ReturnKey, until, done); err != nil {
			loggerOr(h.Logger).ErrorContext(ctx, "fps: recording the end of the transaction hook failed", "order", o.CallerReference, "error", err.Error())
		}
	}()
	tctx, cancel := context.WithTimeout(withCharge(ctx, o), c.runFor())
	defer cancel()
	h.Transaction(tctx, w, r, ret, o)
	done = true
}

// returnedOrder finds the order of a successful return and checks the
// return against it.
func (h *ReturnHandler) returnedOrder(ctx context.Context, ret *fps.PipelineReturn) (Order, error) {
	o, err := orderOf(ctx, h.Store, ret.CallerReference)
	if err != nil {
		return Order{}, err
	}
	if o.CallerReference != ret.CallerReference {
		return Order{}, fmt.Errorf("%w: callerReference %q is a transaction of order %q", ErrOrderMismatch, ret.CallerReference, o.CallerReference)
	}
	if s := ret.Params.Get("transactionAmount"); s != "" {
		got, err := fps.ParseAmount(s)
		if err != nil {
			return Order{}, fmt.Errorf("%w: %w", fps.ErrMalformed, &fps.ValidationError{Field: "transactionAmount", Rule: fmt.Sprintf("must be a currency code, a space and a decimal, got %q", s)})
		}
		if got.Currency() != o.Amount.Currency() || !got.Value.Equal(o.Amount.Value) {
			return Order{}, fmt.Errorf("%w: amount %s, order is %s", ErrOrderMismatch, got, o.Amount)
		}
	}
	return o, nil
}

func (h *ReturnHandler) show(ctx context.Context, w http.ResponseWriter, r *http.Request, o Order) {
	if h.OrderPage != nil {
		h.OrderPage(ctx, w, r, o)
		return
	}
	answer(w, http.StatusOK, fmt.Sprintf("order %s is %s", o.CallerReference, o.Status))
}

// OrderChange is one change of an order's state, as the notification
// callback sees it.
type OrderChange struct {
	// Order is the order after the change; when Recover runs the
	// callback again, the order as it stands then.
	Order Order
	// Entry is the change: its event, the status before and after.
	Entry HistoryEntry
	// Notification is the confirmed notification that made it.
	Notification *fps.Notification
}

// IPNHandler receives IPNs. It reads the body as received (at most
// MaxBodySize bytes, 413 beyond), verifies it, finds the order of its
// callerReference, confirms it with FPS with the shop's credentials (the
// transaction is the shop's and went through what the notification says:
// GetTransaction; for a TokenCancellation, the token is the shop's:
// GetTokenByCaller), and stores it with the change it makes to the order
// along Transitions, in one commit. A late or reordered notification is
// kept in the order's history and moves nothing back.
//
// Callback runs once for each change of an order's state. It answers 200
// once the notification is stored and the callback of its change has
// succeeded and that was recorded; 5xx when FPS or the database could not
// be reached, or the callback failed, so that the sender delivers it
// again (and the callback runs again, until it succeeds once); 403 when
// it is refused, with nothing stored. A callback that succeeded but
// whose success could not be recorded is answered 503 too: it runs again
// at a later delivery once its claim expires, as after a crash, so make
// its effect idempotent. A notification delivered again is stored once, also
// when deliveries race: the Store decides.
type IPNHandler struct {
	// Verifier checks the signature. Required.
	Verifier fps.Verifier
	// Endpoint is the public IPN URL registered with Amazon. Required;
	// never taken from the request.
	Endpoint string
	// FPS confirms the notification, with the shop's credentials.
	// Required.
	FPS FPSAPI
	// Store keeps the orders and the notifications. Required.
	Store Store
	// Callback runs once per change of an order's state, after the change
	// was stored. An error is logged and answered 500, so that the
	// notification is delivered again and Callback runs again. Optional.
	Callback func(ctx context.Context, ch OrderChange) error
	// CallbackTimeout bounds one run of Callback, for which the change is
	// claimed twice as long; DefaultHookTimeout when 0.
	CallbackTimeout time.Duration
	// MaxBodySize caps the body; DefaultMaxIPNBodySize when 0.
	MaxBodySize int64
	// Clock stamps ReceivedAt; time.Now when nil.
	Clock func() time.Time
	// Logger receives refusals and failures; slog.Default() when nil.
	Logger *slog.Logger
}

// ServeHTTP implements http.Handler.
func (h *IPNHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r, http.MethodPost, h.Verifier != nil && h.FPS != nil && h.Store != nil) {
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
	if err != nil {
		refuse(ctx, w, h.Logger, "IPN", err)
		return
	}
	order, err := orderOf(ctx, h.Store, n.CallerReference)
	if err != nil {
		refuse(ctx, w, h.Logger, "IPN", err)
		return
	}
	key := n.Key()
	if e, ok, err := h.entry(ctx, order.CallerReference, key); err != nil {
		refuse(ctx, w, h.Logger, "IPN", err)
		return
	} else if ok {
		h.settle(ctx, w, order, e, n, "duplicate notification, already stored")
		return
	}
	confirmed, err := confirmNotification(ctx, h.FPS, n)
	if err != nil {
		refuse(ctx, w, h.Logger, "IPN", err)
		return
	}
	sn := &StoredNotification{Key: key, Notification: *n, RawBody: string(body), ReceivedAt: clockOr(h.Clock)}
	for range maxCommitAttempts {
		txs, err := h.Store.Transactions(ctx, order.CallerReference)
		if err != nil {
			h.failed(ctx, w, key, "reading the order's transactions", err)
			return
		}
		c := notified(order, txs, sn, confirmed, h.Callback != nil)
		switch err := h.Store.Commit(ctx, c); {
		case err == nil:
			c.Order.Version++
			h.settle(ctx, w, c.Order, c.Entry, n, "stored")
			return
		case errors.Is(err, ErrDuplicate):
			e, ok, err := h.entry(ctx, order.CallerReference, key)
			if err != nil || !ok {
				h.failed(ctx, w, key, "reading the order's history", err)
				return
			}
			h.settle(ctx, w, order, e, n, "duplicate notification, already stored")
			return
		case errors.Is(err, ErrConflict):
			if order, err = h.Store.Order(ctx, order.CallerReference); err != nil {
				h.failed(ctx, w, key, "reading the order", err)
				return
			}
		default:
			h.failed(ctx, w, key, "storing the notification", err)
			return
		}
	}
	h.failed(ctx, w, key, "storing the notification", fmt.Errorf("order %s kept changing", order.CallerReference))
}

// entry returns the history entry key of the order ref, if there is one.
func (h *IPNHandler) entry(ctx context.Context, ref, key string) (HistoryEntry, bool, error) {
	hist, err := h.Store.History(ctx, ref)
	if err != nil {
		return HistoryEntry{}, false, err
	}
	for _, e := range hist {
		if e.Key == key {
			return e, true, nil
		}
	}
	return HistoryEntry{}, false, nil
}

func (h *IPNHandler) failed(ctx context.Context, w http.ResponseWriter, key, what string, err error) {
	loggerOr(h.Logger).ErrorContext(ctx, "fps: "+what+" failed", "key", key, "error", fmt.Sprint(err))
	answer(w, http.StatusServiceUnavailable, "could not store the notification; try again")
}

// settle runs the callback of the change e of order o, when it is due,
// and answers: stored when it has nothing left to do.
func (h *IPNHandler) settle(ctx context.Context, w http.ResponseWriter, o Order, e HistoryEntry, n *fps.Notification, stored string) {
	if !e.CallbackDue || h.Callback == nil {
		answer(w, http.StatusOK, stored)
		return
	}
	run, err := runCallback(ctx, h.Store, h.Callback, h.CallbackTimeout, clockOr(h.Clock), OrderChange{Order: o, Entry: e, Notification: n})
	if err != nil {
		h.failed(ctx, w, e.Key, "claiming the callback", err)
		return
	}
	if !run.claimed {
		if e, ok, err := h.entry(ctx, o.CallerReference, e.Key); err == nil && ok && !e.CallbackDue {
			answer(w, http.StatusOK, stored)
			return
		}
		answer(w, http.StatusServiceUnavailable, "the notification's callback is running; try again")
		return
	}
	logger := loggerOr(h.Logger)
	run.warnLate(ctx, logger)
	if run.endErr != nil {
		logger.ErrorContext(ctx, "fps: recording the end of the IPN callback failed", "key", e.Key, "order", o.CallerReference, "error", run.endErr.Error())
	}
	switch {
	case run.err != nil:
		logger.ErrorContext(ctx, "fps: IPN callback failed; the notification will be delivered again", "key", e.Key, "order", o.CallerReference, "error", run.err.Error())
		answer(w, http.StatusInternalServerError, "the notification callback failed; deliver it again")
	case run.endErr != nil:
		// The change is still due: its callback runs again at a later
		// delivery, once the claim expires, as after a crash.
		answer(w, http.StatusServiceUnavailable, "could not record the notification's callback; try again")
	default:
		answer(w, http.StatusOK, stored)
	}
}

// callbackRun is what one attempt to run a notification callback did.
type callbackRun struct {
	// claimed is false when the callback was not due, or held by another
	// run: it did not run.
	claimed bool
	// err is the callback's error; endErr that of recording its end.
	err, endErr error
	// ref and key name the change; held is how long the run held its
	// claim, lease how long the claim was for.
	ref, key    string
	held, lease time.Duration
}

// warnLate logs when the run's end was recorded after its claim expired
// (a callback that overran its deadline, or a stalled store): another
// delivery or Recover may have taken the claim and run it again.
func (r callbackRun) warnLate(ctx context.Context, logger *slog.Logger) {
	if r.claimed && r.held > r.lease {
		logger.WarnContext(ctx, "fps: the callback's end was recorded after its claim expired; it may have run twice",
			"key", r.key, "order", r.ref, "held", r.held, "claim", r.lease)
	}
}

// runCallback claims in st, at now, the callback of the change ch.Entry
// of the order ch.Order, runs cb within timeout (DefaultHookTimeout when
// 0) and records its end. The error is that of the claim.
func runCallback(ctx context.Context, st Store, cb func(context.Context, OrderChange) error, timeout time.Duration, now time.Time, ch OrderChange) (callbackRun, error) {
	if timeout <= 0 {
		timeout = DefaultHookTimeout
	}
	run := callbackRun{ref: ch.Order.CallerReference, key: ch.Entry.Key, lease: leaseFor(timeout)}
	start := time.Now()
	until, claimed, err := claimRun(ctx, st, run.ref, run.key, now, timeout)
	if err != nil || !claimed {
		return callbackRun{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	run.err = cb(cctx, ch)
	cancel()
	run.endErr = st.EndCallback(context.WithoutCancel(ctx), run.ref, run.key, until, run.err == nil)
	run.claimed, run.held = true, time.Since(start)
	return run, nil
}
