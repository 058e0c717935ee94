package integration

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults of RecoverOptions.
const (
	// DefaultRecoverGrace is how long Recover leaves an order alone after
	// its last change: time for the buyer's return to come.
	DefaultRecoverGrace = 5 * time.Minute
	// DefaultRecoverMaxAge is how long after its last change Recover
	// still asks FPS about an order left created.
	DefaultRecoverMaxAge = 24 * time.Hour
	// DefaultRecoverCallbackGrace is how long Recover leaves a change
	// whose NotificationCallback has not succeeded to the deliveries of
	// its IPN, which Amazon retries for a day.
	DefaultRecoverCallbackGrace = time.Hour
	// recoverPage is how many orders Recover reads at once.
	recoverPage = 100
)

// RecoverOptions tune Recover.
type RecoverOptions struct {
	// Grace leaves alone the orders changed less than Grace ago;
	// DefaultRecoverGrace when 0.
	Grace time.Duration
	// MaxAge bounds how long after its last change an order left created
	// is asked about (one GetTokenByCaller per order and Recover);
	// DefaultRecoverMaxAge when 0. Approved orders are taken whatever
	// their age.
	MaxAge time.Duration
	// CallbackGrace leaves alone the changes recorded less than
	// CallbackGrace ago whose NotificationCallback has not succeeded:
	// the next delivery of their IPN runs it again.
	// DefaultRecoverCallbackGrace when 0.
	CallbackGrace time.Duration
}

// Recovered counts what one Recover did.
type Recovered struct {
	// Asked is how many orders left created were asked about
	// (GetTokenByCaller).
	Asked int
	// Approved is how many of them FPS holds a token for, and were
	// approved.
	Approved int
	// Charged is how many charges ran (of the orders approved now or
	// before), whatever their outcome.
	Charged int
	// Callbacks is how many notification callbacks ran again (of changes
	// whose callback had not succeeded for CallbackGrace), whatever their
	// outcome.
	Callbacks int
}

// ErrNoCharge is returned by Recover when the integration has neither
// Config.Charge to charge an order with nor a NotificationCallback to run
// again.
var ErrNoCharge = errors.New("integration: Recover needs Config.Charge (the TransactionHook needs the buyer's request) or a NotificationCallback")

// Recover finishes the orders that the buyer approved but that were left
// behind, and is safe to call from every app server at once, e.g. from a
// ticker every Grace:
//
//   - an order left created for Grace (up to MaxAge): the buyer's return
//     never came (his browser closed, the network failed). Recover asks
//     FPS with the shop's credentials (GetTokenByCaller) whether it holds
//     an Active token for the order's callerReference; if it does, the
//     order is approved with it, as the return would have, and charged.
//   - an order left approved for Grace whose charge did not end: the app
//     server running it died, or the charge failed and is to be tried
//     again. Once its claim has expired, Recover runs Config.Charge again
//     under the same CallerReference; FPS answers a charge it made
//     already as it did the first time.
//   - a change whose NotificationCallback has not succeeded for
//     CallbackGrace: the deliveries of its IPN kept failing (Amazon
//     retries them for a day, and stops), or the app server running it
//     died and no delivery came after. Once its claim has expired,
//     Recover runs the callback again, with the notification that made
//     the change and the order as it stands, whether or not Amazon still
//     delivers the IPN (the claim keeps the two from running at once).
//     When it fails, the next Recover runs it again: a callback that
//     always fails is run, and its error returned, by every Recover.
//
// Without Config.Charge, Recover runs the callbacks only: an order whose
// return was lost stays created, since only the buyer's request runs the
// TransactionHook.
//
// The charge runs under the order's claim, so that a return, another
// Recover or another app server never runs it at the same time, and
// never again once it ended; a buyer whose return comes later is shown
// his order as it stands. Recover goes through every such order; it
// returns what it did and the errors it met (FPS or the database
// unreachable), each for its order, which the next Recover tries again.
func (a *AmazonFPS) Recover(ctx context.Context, opts RecoverOptions) (Recovered, error) {
	var done Recovered
	if a.charger.charge == nil && a.callback == nil {
		return done, ErrNoCharge
	}
	grace, maxAge, callbackGrace := opts.Grace, opts.MaxAge, opts.CallbackGrace
	if grace <= 0 {
		grace = DefaultRecoverGrace
	}
	if callbackGrace <= 0 {
		callbackGrace = DefaultRecoverCallbackGrace
	}
	if maxAge <= 0 {
		maxAge = DefaultRecoverMaxAge
	}
	now := time.Now().UTC()
	var errs []error
	if a.charger.charge != nil {
		errs = append(errs, a.staleOrders(ctx, OrderCreated, now.Add(-grace), Order{Updated: now.Add(-maxAge)}, func(o Order) {
			done.Asked++
			o, ok, err := a.recoverApproval(ctx, o)
			if err != nil {
				errs = append(errs, err)
				return
			}
			if ok {
				done.Approved++
				a.recoverCharge(ctx, o, &done, &errs)
			}
		}))
		errs = append(errs, a.staleOrders(ctx, OrderApproved, now.Add(-grace), Order{}, func(o Order) { a.recoverCharge(ctx, o, &done, &errs) }))
	}
	if a.callback != nil {
		errs = append(errs, eachPage(ctx, DueCallback{}, func(after DueCallback) ([]DueCallback, error) {
			page, err := a.store.DueCallbacks(ctx, now.Add(-callbackGrace), after, recoverPage)
			if err != nil {
				return nil, fmt.Errorf("integration: reading the due callbacks: %w", err)
			}
			return page, nil
		}, func(d DueCallback) { errs = append(errs, a.recoverCallback(ctx, d, &done)) }))
	}
	return done, errors.Join(errs...)
}

// staleOrders calls f for each order in status st last changed before
// before, after the order after, a page at a time.
func (a *AmazonFPS) staleOrders(ctx context.Context, st OrderStatus, before time.Time, after Order, f func(Order)) error {
	return eachPage(ctx, after, func(after Order) ([]Order, error) {
		page, err := a.store.StaleOrders(ctx, st, before, after, recoverPage)
		if err != nil {
			return nil, fmt.Errorf("integration: reading the %s orders: %w", st, err)
		}
		return page, nil
	}, f)
}

// eachPage calls f for each item of the pages read returns, each page
// read after the last item of the one before, starting after start,
// until a page is shorter than recoverPage or ctx ends.
func eachPage[T any](ctx context.Context, start T, read func(after T) ([]T, error), f func(T)) error {
	after := start
	for {
		page, err := read(after)
		if err != nil {
			return err
		}
		for _, it := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			f(it)
		}
		if len(page) < recoverPage {
			return nil
		}
		after = page[len(page)-1]
	}
}

// recoverCallback runs again the callback of the due change d, with the
// notification that made it and the order as it stands, if its claim is
// free; it counts the run in done and returns what failed.
func (a *AmazonFPS) recoverCallback(ctx context.Context, d DueCallback, done *Recovered) error {
	o, err := a.store.Order(ctx, d.OrderRef)
	if err != nil {
		return fmt.Errorf("integration: order %s: %w", d.OrderRef, err)
	}
	sn, err := a.store.Get(ctx, d.Entry.Key)
	if err != nil {
		return fmt.Errorf("integration: notification %s of order %s: %w", d.Entry.Key, d.OrderRef, err)
	}
	run, err := runCallback(ctx, a.store, a.callback, a.hookTimeout, time.Now(), OrderChange{Order: o, Entry: d.Entry, Notification: &sn.Notification})
	if err != nil {
		return fmt.Errorf("integration: claiming the callback %s of order %s: %w", d.Entry.Key, d.OrderRef, err)
	}
	if !run.claimed {
		return nil
	}
	run.warnLate(ctx, a.logger)
	done.Callbacks++
	if run.err != nil {
		run.err = fmt.Errorf("integration: the callback %s of order %s failed: %w", d.Entry.Key, d.OrderRef, run.err)
	}
	if run.endErr != nil {
		run.endErr = fmt.Errorf("integration: recording the callback %s of order %s: %w", d.Entry.Key, d.OrderRef, run.endErr)
	}
	return errors.Join(run.err, run.endErr)
}

// recoverApproval asks FPS whether it holds an Active token of the shop
// for the created order o, and approves o with it if so; ok reports
// whether o is approved now, with the order as it stands.
func (a *AmazonFPS) recoverApproval(ctx context.Context, o Order) (Order, bool, error) {
	tok, err := heldToken(ctx, a.client, o.CallerReference, "")
	switch {
	case errors.Is(err, ErrNotConfirmed):
		return o, false, nil // no token: the buyer did not approve (yet)
	case err != nil:
		return o, false, fmt.Errorf("integration: order %s: %w", o.CallerReference, err)
	}
	o, err = approve(ctx, a.store, o, tok.TokenID, "the buyer approved; his return did not come, FPS holds his token", nil)
	if err != nil {
		return o, false, fmt.Errorf("integration: approving order %s: %w", o.CallerReference, err)
	}
	return o, o.Status == OrderApproved && o.TokenID == tok.TokenID, nil
}

// recoverCharge runs the charge of the approved order o if its claim is
// free, counting it in done and its error in errs.
func (a *AmazonFPS) recoverCharge(ctx context.Context, o Order, done *Recovered, errs *[]error) {
	ran, err := a.charger.run(ctx, o)
	if ran {
		done.Charged++
	}
	if err != nil && (!ran || !refusedForGood(err)) {
		*errs = append(*errs, fmt.Errorf("integration: charging order %s: %w", o.CallerReference, err))
	}
}
