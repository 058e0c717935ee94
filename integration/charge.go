package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fpskit/fps"
)

// The charge of an approved order runs under a claim kept in the Store on
// the order's approval entry (ReturnKey): one run at a time for an order,
// whichever app server, return or Recover starts it. The run is bounded
// by the hook timeout and the claim is a lease of twice that, so that a
// run that ends in time records its end before another may take the
// claim. A run that ends records its end: the claim is done and never
// taken again, or released to be taken by the next return or Recover. A run that never ends (its app server died between the claim
// and the charge, or before FPS's answer was kept) leaves a claim that
// expires, and the next run charges under the same CallerReference: FPS
// answers a charge it made already as it answered the first time, so the
// order is charged once.

// chargeKey marks the context of a charge with the CallerReference of
// its order.
type chargeKey struct{}

func withCharge(ctx context.Context, o Order) context.Context {
	return context.WithValue(ctx, chargeKey{}, o.CallerReference)
}

// checkCharge refuses a Pay or Reserve that a charge sends under another
// CallerReference than its order's: run again, it would charge again.
func checkCharge(ctx context.Context, callerReference string) error {
	ref, ok := ctx.Value(chargeKey{}).(string)
	if !ok || ref == callerReference {
		return nil
	}
	return fmt.Errorf("%w: the charge of order %s must be sent with the order's CallerReference, not %q (FPS answers the same CallerReference again as it did the first time, so a charge run twice charges once)",
		ErrOrderMismatch, ref, callerReference)
}

// refusedForGood reports whether err, a charge's error, says that FPS
// refused it and will refuse it again (an error answer that moved no
// money and is not worth retrying), or that the charge was not valid.
// Other errors (FPS unreachable, a 5xx, an answer lost, the database)
// leave the charge to be tried again.
func refusedForGood(err error) bool {
	var ae *fps.APIError
	var ve *fps.ValidationError
	switch {
	case fps.MayHaveMoved(err):
		return false
	case errors.As(err, &ve), errors.Is(err, ErrOrderMismatch):
		return true
	case errors.As(err, &ae):
		return ae.StatusCode >= 400 && ae.StatusCode < 500 && !ae.Retriable()
	}
	return false
}

// charger runs the charges of approved orders under their claims.
type charger struct {
	store Store
	// charge charges an approved order; nil when the TransactionHook
	// charges (ReturnHandler.Transaction without Charge).
	charge  func(ctx context.Context, o Order) error
	timeout time.Duration // bounds a run; DefaultHookTimeout when 0
	clock   func() time.Time
	logger  *slog.Logger
}

// runFor bounds one run of the charge.
func (c *charger) runFor() time.Duration {
	if c.timeout <= 0 {
		return DefaultHookTimeout
	}
	return c.timeout
}

// leaseFor is how long a run holds the claim it took, from the claim:
// twice as long as the run may last, so that a run that ends in time has
// recorded its end before another may take the claim.
func leaseFor(run time.Duration) time.Duration { return 2 * run }

// claimRun takes, at now, the claim of the history entry key of order
// ref for a run that may last run: until until, its lease; false when it
// is not due, or held by a run whose lease has not expired.
func claimRun(ctx context.Context, st Store, ref, key string, now time.Time, run time.Duration) (until time.Time, ok bool, err error) {
	until = now.Add(leaseFor(run))
	ok, err = st.ClaimCallback(ctx, ref, key, now, until)
	return until, ok, err
}

// claim takes the charge of o for one lease, until until; false when it
// is done, or held by a run whose lease has not expired.
func (c *charger) claim(ctx context.Context, o Order) (until time.Time, ok bool, err error) {
	until, ok, err = claimRun(ctx, c.store, o.CallerReference, ReturnKey, clockOr(c.clock), c.runFor())
	if err != nil {
		return until, false, fmt.Errorf("integration: claiming the charge of order %s: %w", o.CallerReference, err)
	}
	return until, ok, nil
}

// run charges the approved order o with c.charge under a claim it takes
// first; ran reports whether it took it (false: the charge is done or
// running elsewhere). The charge runs to its end or its timeout, whether or
// not ctx is cancelled meanwhile; err is its error.
func (c *charger) run(ctx context.Context, o Order) (ran bool, err error) {
	until, claimed, err := c.claim(ctx, o)
	if err != nil || !claimed {
		return false, err
	}
	cctx, cancel := context.WithTimeout(withCharge(context.WithoutCancel(ctx), o), c.runFor())
	err = c.charge(cctx, o)
	cancel()
	c.end(context.WithoutCancel(ctx), o, until, err)
	return true, err
}

// end records the end of a run of o's charge, claimed until until, that
// returned err: done when
// it charged, or when FPS refused it for good (the order is failed
// first); released otherwise, so that the next return or Recover runs it
// again.
func (c *charger) end(ctx context.Context, o Order, until time.Time, err error) {
	logger := loggerOr(c.logger)
	done := err == nil
	if err != nil && refusedForGood(err) {
		logger.WarnContext(ctx, "fps: the charge of the order was refused; the order failed", "order", o.CallerReference, "error", err.Error())
		if ferr := c.fail(ctx, o, err); ferr != nil {
			logger.ErrorContext(ctx, "fps: recording the refused charge failed; it will be run again", "order", o.CallerReference, "error", ferr.Error())
		} else {
			done = true
		}
	} else if err != nil {
		logger.ErrorContext(ctx, "fps: the charge of the order failed; it will be run again", "order", o.CallerReference, "error", err.Error())
	}
	if eerr := c.store.EndCallback(ctx, o.CallerReference, ReturnKey, until, done); eerr != nil {
		logger.ErrorContext(ctx, "fps: recording the end of the charge failed; it runs again once its claim expires", "order", o.CallerReference, "error", eerr.Error())
	}
}

// fail moves o, approved, to failed on its refused charge.
func (c *charger) fail(ctx context.Context, o Order, cause error) error {
	_, err := commitChange(ctx, c.store, o, func(o Order) (Change, bool) { return refused(o, cause, clockOr(c.clock)) })
	return err
}

// approve moves o from created to approved with the token tokenID, which
// FPS confirmed (note says how), and returns the order as it stands then.
func approve(ctx context.Context, s Store, o Order, tokenID, note string, clock func() time.Time) (Order, error) {
	return commitChange(ctx, s, o, func(o Order) (Change, bool) { return approved(o, tokenID, note, clockOr(clock)) })
}

// commitChange commits the change that change works out for the order
// o, reading the order again while it changed meanwhile, and returns the
// order as it stands then; nothing when change reports false.
func commitChange(ctx context.Context, s Store, o Order, change func(Order) (Change, bool)) (Order, error) {
	for range maxCommitAttempts {
		c, ok := change(o)
		if !ok {
			return o, nil
		}
		err := s.Commit(ctx, c)
		switch {
		case err == nil:
			c.Order.Version++
			return c.Order, nil
		case errors.Is(err, ErrConflict), errors.Is(err, ErrDuplicate):
			var rerr error
			if o, rerr = s.Order(ctx, o.CallerReference); rerr != nil {
				return o, rerr
			}
		default:
			return o, err
		}
	}
	return o, fmt.Errorf("integration: order %s kept changing", o.CallerReference)
}
