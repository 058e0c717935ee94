package fpstest

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// A token's usage limits (the usageLimitType1/Value1/Period1 and …2
// parameters of the MultiUse and SetupPostpaid pipelines): a Count or an
// Amount the token may pay per period, or over its whole life when the
// period is not given. Each limit counts in time windows of its period,
// the first starting when the token is installed (the simulator's
// choice: the docs say only that a window starts at LastResetTimestamp),
// measured on the simulator's clock. Going over a limit is
// TokenUsageError.

// period is a usageLimitPeriod: n units of Day, Week, Month or Year; the
// zero period never ends.
type period struct {
	n    int
	unit string // Day, Week, Month, Year
}

// parsePeriod reads "1 Month", "2 Weeks" (checked before by the rule
// table); ok is false for anything else.
func parsePeriod(s string) (period, bool) {
	count, unit, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(count)
	unit = strings.TrimSuffix(unit, "s")
	switch unit {
	case "Day", "Week", "Month", "Year":
	default:
		return period{}, false
	}
	if err != nil || n <= 0 {
		return period{}, false
	}
	return period{n: n, unit: unit}, true
}

func (p period) String() string {
	if p.n == 0 {
		return ""
	}
	return strconv.Itoa(p.n) + " " + p.unit
}

// after returns t moved forward by the period.
func (p period) after(t time.Time) time.Time {
	switch p.unit {
	case "Day":
		return t.AddDate(0, 0, p.n)
	case "Week":
		return t.AddDate(0, 0, 7*p.n)
	case "Month":
		return t.AddDate(0, p.n, 0)
	case "Year":
		return t.AddDate(p.n, 0, 0)
	}
	return t
}

// usageLimit is one usage limit and what the token used of it in the
// current window and the one before.
type usageLimit struct {
	count  bool            // a Count limit; else an Amount limit
	amount decimal.Decimal // the limit of an Amount limit
	times  int             // the limit of a Count limit
	per    period          // zero: the token's whole life

	start          time.Time       // the current window's start
	previousStart  time.Time       // the window before's start (zero: none)
	used, lastUsed decimal.Decimal // paid in this window, in the one before
	uses, lastUses int             // payments in this window, in the one before
}

// newUsageLimit reads usage limit typ/value/per installed at start; ok is
// false when typ is empty (no limit).
func newUsageLimit(typ, value, per string, start time.Time) (usageLimit, bool) {
	u := usageLimit{start: start}
	switch typ {
	case "Count":
		n, err := strconv.Atoi(value)
		if err != nil {
			return u, false
		}
		u.count, u.times = true, n
	case "Amount":
		d, err := decimal.NewFromString(value)
		if err != nil {
			return u, false
		}
		u.amount = d
	default:
		return u, false
	}
	u.per, _ = parsePeriod(per)
	return u, true
}

// roll moves the limit's window forward to the one holding now; the use
// of the window directly before is kept (nothing when that window saw no
// use).
func (u *usageLimit) roll(now time.Time) {
	if u.per.n == 0 {
		return
	}
	for next := u.per.after(u.start); !now.Before(next); next = u.per.after(u.start) {
		u.lastUsed, u.lastUses = u.used, u.uses
		u.used, u.uses = decimal.Zero, 0
		u.previousStart, u.start = u.start, next
	}
}

// allows reports whether amount may be paid at now.
func (u *usageLimit) allows(amount decimal.Decimal, now time.Time) bool {
	u.roll(now)
	if u.count {
		return u.uses+1 <= u.times
	}
	return !u.used.Add(amount).GreaterThan(u.amount)
}

// take records a payment of amount at now.
func (u *usageLimit) take(amount decimal.Decimal, now time.Time) {
	u.roll(now)
	u.used = u.used.Add(amount)
	u.uses++
}

// give gives back amount (and one use when use is set) of a payment made
// at at, to the window it was counted in if that is the current one or
// the one before.
func (u *usageLimit) give(amount decimal.Decimal, use bool, at, now time.Time) {
	u.roll(now)
	n := 0
	if use {
		n = 1
	}
	switch {
	case !at.Before(u.start):
		u.used, u.uses = u.used.Sub(amount), u.uses-n
	case !u.previousStart.IsZero() && !at.Before(u.previousStart):
		u.lastUsed, u.lastUses = u.lastUsed.Sub(amount), u.lastUses-n
	}
}
