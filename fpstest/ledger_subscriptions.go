package fpstest

import (
	"fmt"
	"slices"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
)

// Subscriptions. Amazon Simple Pay subscription buttons created them,
// not any FPS action or pipeline; API 2010-08-28 lets the caller read
// them (GetSubscriptionDetails, GetTransactionsForSubscription) and, in
// every version, cancel them (CancelSubscriptionAndRefund). The
// simulator creates one with Ledger.Subscribe (or the form at
// SubscribeEndpoint): its first payment is made at once, each next one
// when the simulator clock reaches its date, until the subscription's
// period ends (Completed) or it is cancelled (Cancelled).

// Subscription is what a Simple Pay subscription button asks for.
type Subscription struct {
	// Description is shown to the buyer and kept with each payment.
	Description string
	// Amount is charged each period; required, 0.01 to 10000.00.
	Amount decimal.Decimal
	// PromotionalAmount is charged instead of Amount for the first
	// PromotionalPayments payments, when PromotionalPayments is not 0.
	PromotionalAmount   decimal.Decimal
	PromotionalPayments int
	// Frequency is the time between two payments; required, e.g.
	// fps.Duration{Value: 1, TimeUnit: fps.TimeUnitMonth}.
	Frequency fps.Duration
	// Period is how long the subscription runs in all; zero runs it until
	// it is cancelled.
	Period fps.Duration
	// PaymentMethod is ABT (the default), ACH or CC: how the buyer pays.
	PaymentMethod string
	// OverrideIPNURL, when set, receives the IPNs of the subscription's
	// payments instead of the account's IPN URL.
	OverrideIPNURL string
}

// subscription is a subscription in the ledger. Its payments are Pay
// transactions on tokenID, a Recurring token the buyer holds.
type subscription struct {
	Subscription
	id, owner, status string // status: Active, Cancelled, Completed
	tokenID           string
	start, next       time.Time // next: zero when no payment is due any more
	payments          []string  // the ids of its payments, in order
}

// end returns when the subscription's period ends; zero when it has none.
func (s *subscription) end() time.Time {
	if s.Period.Value == 0 {
		return time.Time{}
	}
	return addDuration(s.start, s.Period, 1)
}

// amountOf returns the amount of payment n (from 1).
func (s *subscription) amountOf(n int) decimal.Decimal {
	if n <= s.PromotionalPayments {
		return s.PromotionalAmount
	}
	return s.Amount
}

// addDuration returns t moved n times by d. A month or a year later is
// the same day of the month, or the month's last day when it has no such
// day (31 January, a month later: 28 February; 29 February, a year
// later: 28 February).
func addDuration(t time.Time, d fps.Duration, n int) time.Time {
	k := d.Value * n
	months := 0
	switch d.TimeUnit {
	case fps.TimeUnitDay:
		return t.AddDate(0, 0, k)
	case fps.TimeUnitWeek:
		return t.AddDate(0, 0, 7*k)
	case fps.TimeUnitMonth:
		months = k
	default: // year
		months = 12 * k
	}
	first := time.Date(t.Year(), t.Month(), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()).AddDate(0, months, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(t.Day(), last)-1)
}

// check refuses a subscription the simulator cannot run.
func (s Subscription) check() error {
	amounts := []decimal.Decimal{s.Amount}
	if s.PromotionalPayments > 0 {
		amounts = append(amounts, s.PromotionalAmount)
	}
	for _, a := range amounts {
		if e := rules.CheckAmount("Amount", a); e != nil || a.GreaterThan(maxAmount) {
			return fmt.Errorf("fpstest: subscription amount %s must be from 0.01 to 10000.00 with at most 2 decimal places", a)
		}
	}
	if s.PromotionalPayments < 0 {
		return fmt.Errorf("fpstest: PromotionalPayments %d is negative", s.PromotionalPayments)
	}
	for name, d := range map[string]fps.Duration{"Frequency": s.Frequency, "Period": s.Period} {
		units := []fps.TimeUnit{fps.TimeUnitDay, fps.TimeUnitWeek, fps.TimeUnitMonth, fps.TimeUnitYear}
		if (name == "Frequency" || d != fps.Duration{}) && (d.Value < 1 || !slices.Contains(units, d.TimeUnit)) {
			return fmt.Errorf("fpstest: subscription %s %d %q must be a count from 1 and day, week, month or year", name, d.Value, d.TimeUnit)
		}
	}
	if s.PaymentMethod != "" && !slices.Contains(rules.PaymentMethods, s.PaymentMethod) {
		return fmt.Errorf("fpstest: payment method %q is not ABT, ACH or CC", s.PaymentMethod)
	}
	if s.OverrideIPNURL != "" {
		if e := rules.CheckHTTPURL("OverrideIPNURL", s.OverrideIPNURL, false); e != nil {
			return fmt.Errorf("fpstest: %w", e)
		}
	}
	return nil
}

// Subscribe creates a subscription of the caller account accessKeyID, as
// if a buyer had subscribed through a Simple Pay button, makes its first
// payment and returns its id (a UUID).
func (l *Ledger) Subscribe(accessKeyID string, sub Subscription) (string, error) {
	if err := sub.check(); err != nil {
		return "", err
	}
	if sub.PaymentMethod == "" {
		sub.PaymentMethod = "ABT"
	}
	l.lock()
	defer l.unlock()
	if _, ok := l.accounts[accessKeyID]; !ok {
		return "", errUnknownAccount
	}
	now := l.cfg.clock()
	s := &subscription{Subscription: sub, id: newUUID(), owner: accessKeyID, status: "Active", start: now, next: now}
	tok := l.newToken(accessKeyID, TokenRecurring, "sender", s.id, now)
	tok.method = sub.PaymentMethod
	tok.reason = sub.Description
	s.tokenID = tok.id
	l.subscriptions[s.id] = s
	l.store.changed(recordSubscription, s.id)
	l.billSubscription(s, now)
	return s.id, nil
}

// billSubscriptions makes the payments of every subscription that fell
// due by now (the active ones are all in memory).
func (l *Ledger) billSubscriptions(now time.Time) {
	l.lock()
	defer l.unlock()
	for _, s := range l.subscriptions {
		if s.status == "Active" && !s.next.After(now) {
			l.billSubscription(s, now)
		}
	}
}

// billSubscription makes the payments of s due by now, each dated now,
// and completes s once its period is over. Called with l locked.
func (l *Ledger) billSubscription(s *subscription, now time.Time) {
	for s.status == "Active" && !s.next.After(now) {
		tok := l.tokenByID(s.tokenID)
		if tok == nil {
			return // the state could not be read: billed at the next sweep
		}
		n := len(s.payments) + 1
		amount := s.amountOf(n)
		t := l.newTx(s.owner, "Pay", fmt.Sprintf("%s-%d", s.id, n), amount, now)
		t.method, t.sender, t.callerDesc, t.ipnURL = s.PaymentMethod, tok.id, s.Description, s.OverrideIPNURL
		s.payments = append(s.payments, t.id)
		l.store.changed(recordSubscription, s.id)
		if e := l.charge(tok, amount, now); e != nil {
			t.pendingOp = "PAY"
			l.setStatus(t, "Failure", e.code, e.message, now)
		} else {
			l.start(t, "PAY", now)
		}
		s.next = addDuration(s.start, s.Frequency, n)
		if end := s.end(); !end.IsZero() && !s.next.Before(end) {
			s.status, s.next = "Completed", time.Time{}
		}
	}
}

// subscriptionOf returns a copy of the caller's subscription id, with
// copies of its payments.
func (l *Ledger) subscriptionOf(caller, id string) (subscription, []tx, *apiError) {
	l.lock()
	defer l.unlock()
	s := l.subscriptionByID(id)
	if s == nil || s.owner != caller {
		return subscription{}, nil, l.notFound(unknownSubscription(id))
	}
	payments := make([]tx, 0, len(s.payments))
	for _, p := range s.payments {
		if t := l.readTx(p); t != nil {
			payments = append(payments, t.copy())
		}
	}
	c := *s
	c.payments = nil
	return c, payments, nil
}

func unknownSubscription(id string) *apiError {
	return fail("InvalidParams", "SubscriptionId %s is not a valid subscription.", id)
}

// subscriptionToken returns what CancelSubscriptionAndRefund with
// subscription id cancels: the token of the caller's subscription id, or
// the caller's Recurring token id (a subscription of its own); sub is nil
// for a token. Without a refund, a subscription that is no longer Active
// is InvalidSubscriptionState; with one, the refund still runs. Called
// with l locked.
func (l *Ledger) subscriptionToken(caller, id string, refund bool) (tok *token, sub *subscription, e *apiError) {
	if s := l.subscriptionByID(id); s != nil && s.owner == caller {
		if s.status != "Active" && !refund {
			return nil, nil, fail("InvalidSubscriptionState", "The subscription %s is %s; it cannot be cancelled.", id, s.status)
		}
		if tok := l.tokenByID(s.tokenID); tok != nil {
			return tok, s, nil
		}
		return nil, nil, l.notFound(unknownSubscription(id))
	}
	if t, ok := l.ownToken(caller, id); ok && t.typ == TokenRecurring {
		return t, nil, nil
	}
	return nil, nil, l.notFound(unknownSubscription(id))
}

// cancelled records that s was cancelled; its payments stop. Called
// with l locked.
func (l *Ledger) cancelled(s *subscription) {
	if s != nil && s.status == "Active" {
		s.status, s.next = "Cancelled", time.Time{}
		l.store.changed(recordSubscription, s.id)
	}
}
