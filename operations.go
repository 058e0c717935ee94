package fps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
)

// ServiceID names FPS in *smithy.OperationError.
const ServiceID = "FPS"

// ErrOutcomeUnknown is wrapped by the error of a call whose answer was lost
// (a network error after the request may have been sent, an HTTP 5xx, or a
// 2xx answer that could not be read) when what happened at FPS could not
// be learned. The call may have taken effect; MayHaveMoved says whether
// money may have moved. For an action that carries a CallerReference,
// sending the same input again (within 7 days) is safe: FPS answers with
// the first outcome. For Settle and Cancel, ask GetTransactionStatus.
var ErrOutcomeUnknown = errors.New("fps: outcome unknown")

// MayHaveMoved reports whether err, returned by a call of this package,
// leaves open that money moved (or was reserved) at FPS: the outcome of a
// money-moving action (Pay, Reserve, Settle, Refund, FundPrepaid,
// SettleDebt, WriteOffDebt, CancelSubscriptionAndRefund) is unknown. It is
// false for validation errors and for definite error answers of FPS.
func MayHaveMoved(err error) bool {
	var ce *callError
	return errors.As(err, &ce) && ce.mayHaveMoved
}

// callError is the error of a call after its last attempt.
type callError struct {
	err          error
	attempts     int
	effect       effect
	mayHaveMoved bool
}

// Error says what failed and whether money may have moved.
func (e *callError) Error() string {
	msg := e.err.Error()
	if e.attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", e.attempts)
	}
	switch {
	case e.mayHaveMoved:
		msg += "; money may have moved"
	case e.effect == movesMoney:
		msg += "; no money moved"
	}
	return msg
}

// Unwrap returns the error of the last attempt.
func (e *callError) Unwrap() error { return e.err }

// effect says what an action changes at FPS. Every operation states its
// own (newOperation requires it); the zero value is none of them.
type effect int

const (
	readsOnly    effect = iota + 1 // changes nothing: retried freely
	changesState                   // changes a token or a transaction, moves no money
	movesMoney                     // may charge, hold, credit or adjust a balance
)

// operation is one FPS action: its name, its typed input I (whose build
// checks it and writes its parameters), its answer O, its effect at FPS
// and the API versions it exists in. The file of each family of actions
// makes one operation per action with newOperation, beside the action's
// Client method, input and output.
type operation[I, O any, PI interface {
	*I
	input
}] struct {
	name     string
	effect   effect
	versions opVersions
}

// newOperation is the one way to make an operation: the action name, with
// input I and answer O, whose effect at FPS is eff. The effect is a
// required argument, so that an action that does not state it does not
// compile. opts declare what differs between API versions: since(v) for
// an action that a later version added, paramSince (overrideIPNURL) for a
// parameter that one did; an action without them exists, with all its
// parameters, in every version.
func newOperation[I, O any, PI interface {
	*I
	input
}](name string, eff effect, opts ...opOption) operation[I, O, PI] {
	op := operation[I, O, PI]{name: name, effect: eff}
	for _, o := range opts {
		o(&op.versions)
	}
	declared[name] = op.versions
	return op
}

// invoke checks in (nil is the zero input) against the API version of the
// call, then sends it through the request engine and returns the decoded
// answer.
func (op operation[I, O, PI]) invoke(ctx context.Context, c *Client, in PI, optFns []func(*Options)) (*O, error) {
	if in == nil {
		in = new(I)
	}
	k, err := c.newCall(op.name, op.effect, optFns)
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: ServiceID, OperationName: op.name, Err: err}
	}
	b := c.build(in)
	defer c.release(b)
	if err := invalidParams(append(op.versions.check(op.name, k.options.APIVersion, b.params()), b.errs...)); err != nil {
		return nil, &smithy.OperationError{ServiceID: ServiceID, OperationName: op.name, Err: err}
	}
	out := new(O)
	r, _ := any(in).(reconciler)
	if err := k.run(ctx, b.params(), out, r); err != nil {
		return nil, err
	}
	return out, nil
}

// reconciler is an input whose action carries no CallerReference (Settle,
// Cancel): after a lost answer it learns from FPS, calling c with the
// call's option functions, whether the action took effect. done means it
// did, and out holds the derived answer.
type reconciler interface {
	reconcile(ctx context.Context, c *Client, optFns []func(*Options), out any) (done bool, err error)
}

// input is the typed input of one action: build checks it and writes its
// parameters.
type input interface{ build(*builder) }

// build checks in and writes its parameters into a builder from the
// client's pool, to be put back when the call is over. The builder would
// escape to the heap on every call otherwise: build is called through the
// input interface.
func (c *Client) build(in input) *builder {
	b := c.builders.Get().(*builder)
	in.build(b)
	return b
}

// release clears b, which holds no reference then, and puts it back.
func (c *Client) release(b *builder) {
	clear(b.buf[:b.n])
	b.n, b.more, b.errs = 0, nil, nil
	c.builders.Put(b)
}

// maxAttemptsRetryer overrides the attempt count of a retryer for one call.
type maxAttemptsRetryer struct {
	aws.RetryerV2
	n int
}

// MaxAttempts returns the per-call attempt count.
func (r maxAttemptsRetryer) MaxAttempts() int { return r.n }

// call is one call of an action: what the action is, and the client's
// options after the call's option functions, with the endpoint and the
// retryer they give.
type call struct {
	client  *Client
	optFns  []func(*Options) // passed on to the calls a reconciler makes
	action  string
	effect  effect
	options Options
	api     *url.URL
	retryer aws.RetryerV2
}

// newCall resolves the options of one call of action: an APIVersion
// emptied by optFns is the default, as it is for New.
func (c *Client) newCall(action string, eff effect, optFns []func(*Options)) (call, error) {
	k := call{client: c, optFns: optFns, action: action, effect: eff, options: c.options}
	for _, fn := range optFns {
		fn(&k.options)
	}
	if k.options.APIVersion == "" {
		k.options.APIVersion = DefaultAPIVersion
	}
	var err error
	if k.api, err = c.apiEndpointFor(&k.options); err != nil {
		return k, err
	}
	k.retryer = k.options.Retryer
	if n := k.options.MaxAttempts; n > 0 && n != k.retryer.MaxAttempts() {
		k.retryer = maxAttemptsRetryer{k.retryer, n}
	}
	return k, nil
}

// fail is the error of the call after attempts: ErrOutcomeUnknown is
// wrapped when the last answer was lost by an action that changes
// something.
func (k *call) fail(err error, attempts int, unknown bool) error {
	if unknown && k.effect != readsOnly {
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return &smithy.OperationError{ServiceID: ServiceID, OperationName: k.action,
		Err: &callError{err: err, attempts: attempts, effect: k.effect, mayHaveMoved: unknown && k.effect == movesMoney}}
}

// run is the request engine: it sends params, one signed POST per attempt,
// retries through the retryer, and decodes a success answer into out. For
// an action without CallerReference, r learns what happened after a lost
// answer before anything is sent again.
func (k *call) run(ctx context.Context, params []param, out any, r reconciler) error {
	var retryRelease func(error) error
	unknown := false // whether the last answer was lost
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil { // nothing of this attempt was sent
			return k.fail(err, attempt-1, unknown)
		}
		release, err := k.retryer.GetAttemptToken(ctx)
		if err != nil {
			return k.fail(err, attempt-1, unknown)
		}
		res := k.attempt(ctx, params, out)
		_ = release(res.err)
		if res.err == nil {
			if retryRelease != nil {
				_ = retryRelease(nil)
			}
			k.log(ctx, attempt, res, "success")
			return nil
		}
		unknown = k.effect != readsOnly && lostAnswer(res.err)
		if unknown && r != nil {
			done, rerr := r.reconcile(ctx, k.client, k.optFns, out)
			switch {
			case rerr != nil:
				k.log(ctx, attempt, res, "outcome unknown")
				return k.fail(fmt.Errorf("%w; checking the outcome failed: %w", res.err, rerr), attempt, true)
			case done:
				k.log(ctx, attempt, res, "answer lost, took effect")
				return nil
			}
			unknown = false // it did not take effect: sending again is safe
		}
		if ctx.Err() != nil || attempt >= k.retryer.MaxAttempts() || !k.retryer.IsErrorRetryable(res.err) {
			k.log(ctx, attempt, res, "error")
			return k.fail(res.err, attempt, unknown)
		}
		delay, derr := k.retryer.RetryDelay(attempt, res.err)
		if derr != nil {
			k.log(ctx, attempt, res, "error")
			return k.fail(res.err, attempt, unknown)
		}
		if retryRelease, err = k.retryer.GetRetryToken(ctx, res.err); err != nil {
			k.log(ctx, attempt, res, "error")
			return k.fail(res.err, attempt, unknown)
		}
		k.log(ctx, attempt, res, "retry")
		if err := sleep(ctx, delay); err != nil {
			return k.fail(fmt.Errorf("%w (while waiting to retry after: %w)", err, res.err), attempt, unknown)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sendError is a failure to send a request or to read its answer.
type sendError struct {
	err error
	// sent is false when the request certainly never reached the server.
	sent     bool
	canceled bool
}

// Error implements error.
func (e *sendError) Error() string { return "fps: send request: " + e.err.Error() }

// Unwrap returns the transport error.
func (e *sendError) Unwrap() error { return e.err }

// ConnectionError marks the error retryable for aws/retry, unless the
// context ended.
func (e *sendError) ConnectionError() bool { return !e.canceled }

// CanceledError tells aws/retry not to retry a cancelled call.
func (e *sendError) CanceledError() bool { return e.canceled }

// lostAnswer reports whether err leaves open that the request took effect:
// it may have been sent and no definite answer came back (a network error,
// HTTP 5xx or InternalError, an unreadable 2xx answer).
func lostAnswer(err error) bool {
	var se *sendError
	var ae *APIError
	var de *smithy.DeserializationError
	switch {
	case errors.As(err, &se):
		return se.sent
	case errors.As(err, &ae):
		return ae.StatusCode >= 500 || ae.Code == ErrCodeInternalError
	default:
		return errors.As(err, &de)
	}
}

// attemptResult is what one attempt learned.
type attemptResult struct {
	status    int
	requestID string
	duration  time.Duration
	err       error
}

// requestBody returns the signed form body of one attempt to api under
// the options o: params with Action, Version and a fresh Timestamp,
// canonical, then the Signature.
func (c *Client) requestBody(ctx context.Context, o *Options, api *url.URL, action string, params []param) ([]byte, error) {
	// The parameters are gathered in an array on the stack when they
	// fit, where adding the signer's costs no allocation.
	var buf [32]param
	p := buf[:0]
	if n := len(params) + 6; n > len(buf) { // 3 added here, 3 by the signer
		p = make([]param, 0, n)
	}
	p = append(p, params...)
	p = append(p,
		param{Name: "Action", Value: action},
		param{Name: "Version", Value: o.APIVersion},
		param{Name: "Timestamp", Value: o.Clock().UTC().Format(time.RFC3339)},
	)
	return c.appendSignedQuery(ctx, o, make([]byte, 0, signedQuerySize(p)), http.MethodPost, api, apiDialect, p)
}

// signedQuerySize is room enough, in most cases, for the signed query of
// params: names, values with some escaping, and the signature parameters.
func signedQuerySize(params []param) int {
	n := 160
	for _, p := range params {
		n += len(p.Name) + 2 + len(p.Value) + len(p.Value)/4
	}
	return n
}

// attempt signs params with a fresh Timestamp, POSTs them and decodes the
// answer.
func (k *call) attempt(ctx context.Context, params []param, out any) (res attemptResult) {
	start := time.Now()
	defer func() { res.duration = time.Since(start) }()
	body, err := k.client.requestBody(ctx, &k.options, k.api, k.action, params)
	if err != nil {
		res.err = err
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.api.String(), bytes.NewReader(body))
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := k.options.HTTPClient.Do(req)
	if err != nil {
		var op *net.OpError
		notSent := errors.As(err, &op) && op.Op == "dial"
		res.err = &sendError{err: err, sent: !notSent, canceled: ctx.Err() != nil}
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		res.err = &sendError{err: fmt.Errorf("read answer: %w", err), sent: true, canceled: ctx.Err() != nil}
		return res
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := decodeAPIError(resp.StatusCode, data)
		res.requestID, res.err = ae.RequestID, ae
		return res
	}
	if len(data) > maxResponseBytes {
		res.err = &smithy.DeserializationError{Err: fmt.Errorf("fps: %s response: body exceeds %d bytes", k.action, maxResponseBytes)}
		return res
	}
	reflect.ValueOf(out).Elem().SetZero()
	if err := decodeResult(k.action, k.options.APIVersion, data, out); err != nil && ctx.Err() != nil {
		// The caller's context ended while the answer came in: an answer
		// cut short by the closing connection is the context's doing.
		res.err = &sendError{err: fmt.Errorf("read answer: %w (%w)", context.Cause(ctx), err), sent: true, canceled: true}
	} else {
		res.err = err
	}
	if f := requestIDField(out); f.IsValid() {
		res.requestID = f.String()
	}
	return res
}

// log writes one record per attempt. Nothing secret is in it: the body,
// the signature and the access key are never logged.
func (k *call) log(ctx context.Context, attempt int, res attemptResult, outcome string) {
	l := k.options.Logger
	if l == nil {
		return
	}
	level := slog.LevelDebug
	attrs := []slog.Attr{
		slog.String("action", k.action),
		slog.Int("attempt", attempt),
		slog.Int("http_status", res.status),
		slog.String("request_id", res.requestID),
		slog.Duration("duration", res.duration),
		slog.String("outcome", outcome),
	}
	if res.err != nil {
		level = slog.LevelWarn
		var ae *APIError
		if errors.As(res.err, &ae) {
			attrs = append(attrs, slog.String("error_code", string(ae.Code)))
		}
		attrs = append(attrs, slog.String("error", res.err.Error()))
	}
	l.LogAttrs(ctx, level, "fps: attempt", attrs...)
}

// builder collects the parameters of one request and every input error,
// so that the caller learns all that is wrong at once. A zero value is
// never sent.
type builder struct {
	errs []*ValidationError
	// buf holds the first parameters, so that most requests need no
	// allocation for them; more holds them all once buf is full. No
	// pointer into the builder is kept in it, so that a builder can stay
	// on its caller's stack.
	buf  [20]param
	n    int
	more []param
}

// params returns the parameters added, in order.
func (b *builder) params() []param {
	if b.more != nil {
		return b.more
	}
	return b.buf[:b.n]
}

// fail records that field breaks rule.
func (b *builder) fail(field, rule string, args ...any) {
	b.errs = append(b.errs, invalid(field, rule, args...))
}

// refuse records a refusal of the rule table; nil is none.
func (b *builder) refuse(e *rules.Error) {
	if e != nil {
		b.errs = append(b.errs, validation(e))
	}
}

// add sends name=value unless value is empty.
func (b *builder) add(name, value string) {
	if value != "" {
		b.put(name, value)
	}
}

// put sends name=value.
func (b *builder) put(name, value string) {
	switch {
	case b.more != nil:
		b.more = append(b.more, param{Name: name, Value: value})
	case b.n < len(b.buf):
		b.buf[b.n] = param{Name: name, Value: value}
		b.n++
	default:
		b.more = append(make([]param, 0, 2*len(b.buf)), b.buf[:]...)
		b.more = append(b.more, param{Name: name, Value: value})
	}
}

// required sends name=value and refuses an empty value.
func (b *builder) required(name, value string) {
	if value == "" {
		b.fail(name, "is required")
	}
	b.add(name, value)
}

// text sends an optional value of at most max characters (0: no limit).
func (b *builder) text(name, value string, max int) {
	if n := utf8.RuneCountInString(value); max > 0 && n > max {
		b.fail(name, "must be at most %d characters, got %d", max, n)
	}
	b.add(name, value)
}

func (b *builder) callerReference(value string) {
	b.refuse(rules.CheckCallerReference("CallerReference", value))
	b.add("CallerReference", value)
}

// amount sends the value and currency of a under their names (the
// currency USD when not given).
func (b *builder) amount(valueName, currencyName string, a Amount, required bool) {
	if a.IsZero() {
		if required {
			b.fail(valueName, "is required")
		}
		return
	}
	if a.CurrencyCode != "" {
		b.refuse(rules.CheckCurrency(currencyName, string(a.CurrencyCode)))
	}
	b.refuse(rules.CheckAmount(valueName, a.Value))
	b.add(valueName, formatAmount(a.Value))
	b.add(currencyName, string(a.Currency()))
}

func (b *builder) count(name string, v int) {
	if v < 0 {
		b.fail(name, "must not be negative, got %d", v)
	}
	if v > 0 {
		b.add(name, strconv.Itoa(v))
	}
}

// dateLayout is the format of date parameters (StartDate, EndDate): ISO
// 8601, UTC, with the fraction of a second when there is one, so that a
// StartTimeForNextTransaction passed back is not cut to the second.
const dateLayout = "2006-01-02T15:04:05.999999999Z"

func (b *builder) time(name string, t time.Time) {
	if !t.IsZero() {
		b.add(name, t.UTC().Format(dateLayout))
	}
}

func (b *builder) percentage(name string, d decimal.Decimal) {
	if d.IsZero() {
		return
	}
	if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
		b.fail(name, "must be a percentage from 0 to 100, got %s", d.String())
	}
	b.add(name, d.String())
}

// enum sends an optional value that must be one of allowed.
func enum[T ~string](b *builder, name string, v T, allowed ...T) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			b.add(name, string(v))
			return
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	b.fail(name, "must be one of %s, got %q", strings.Join(names, ", "), string(v))
}
