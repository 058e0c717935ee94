package fps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
)

// ValidationError reports input that was refused before anything was
// signed or sent: Field names the parameter (as FPS spells it) and Rule
// says what it must be.
type ValidationError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("fps: invalid %s: %s", e.Field, e.Rule)
}

func invalid(field, rule string, args ...any) *ValidationError {
	if len(args) > 0 {
		rule = fmt.Sprintf(rule, args...)
	}
	return &ValidationError{Field: field, Rule: rule}
}

// fromRule turns a refusal of the rule table into a *ValidationError; nil
// stays nil.
func fromRule(e *rules.Error) error {
	if e == nil {
		return nil
	}
	return &ValidationError{Field: e.Field, Rule: e.Rule}
}

// CurrencyUSD is the only currency FPS accepts.
const CurrencyUSD = rules.CurrencyUSD

// MaxCallerReferenceLength is the longest CallerReference FPS accepts, in
// characters.
const MaxCallerReferenceLength = rules.MaxCallerReferenceLength

// CheckAmount refuses an amount that FPS cannot take: not more than 0, or
// with more than 2 decimal places (it is never rounded). The error is a
// *ValidationError naming field. Every amount the client sends passes
// through it; callers that record an amount before a call can check it
// first.
func CheckAmount(field string, d decimal.Decimal) error {
	return fromRule(rules.CheckAmount(field, d))
}

// formatAmount writes an amount as a plain decimal with 2 places, as FPS
// expects: "19.99", "5.00".
func formatAmount(d decimal.Decimal) string {
	// The usual amount is written from its cents, without big.Int
	// arithmetic.
	if e := d.Exponent(); e >= -2 && e <= 2 && d.NumDigits() <= 14 {
		cents := d.CoefficientInt64()
		for ; e > -2; e-- {
			cents *= 10
		}
		var buf [24]byte
		b := buf[:0]
		if cents < 0 {
			b = append(b, '-')
			cents = -cents
		}
		b = strconv.AppendInt(b, cents/100, 10)
		b = append(b, '.', byte('0'+cents/10%10), byte('0'+cents%10))
		return string(b)
	}
	return d.StringFixed(2)
}

// checkCallerReference refuses an empty or overlong caller reference.
func checkCallerReference(field, ref string) error {
	return fromRule(rules.CheckCallerReference(field, ref))
}

// Amount is a sum of money with its currency. FPS knows only USD; an empty
// CurrencyCode means USD on requests.
type Amount struct {
	Value        decimal.Decimal
	CurrencyCode string `fps:"token"`
}

// USD returns an Amount in US dollars.
func USD(value decimal.Decimal) Amount { return Amount{Value: value, CurrencyCode: CurrencyUSD} }

// IsZero reports whether a is the zero Amount (nothing given).
func (a Amount) IsZero() bool { return a.CurrencyCode == "" && a.Value.IsZero() }

// Currency returns the currency code, USD when none was given.
func (a Amount) Currency() string {
	if a.CurrencyCode == "" {
		return CurrencyUSD
	}
	return a.CurrencyCode
}

// String writes a the way IPNs do: "USD 1.00".
func (a Amount) String() string { return a.Currency() + " " + formatAmount(a.Value) }

// ParseAmount reads an amount written the way IPNs write it, "USD 1.00":
// a currency code, one space, a plain decimal.
func ParseAmount(s string) (Amount, error) {
	cur, val, ok := strings.Cut(s, " ")
	if !ok || len(cur) != 3 || strings.ToUpper(cur) != cur {
		return Amount{}, fmt.Errorf("fps: amount %q is not a currency code, a space and a decimal", s)
	}
	d, e := rules.ParseDecimal("transactionAmount", val)
	if e != nil {
		return Amount{}, fmt.Errorf("fps: amount %q is not a currency code, a space and a decimal", s)
	}
	return Amount{Value: d, CurrencyCode: cur}, nil
}

// check refuses an amount FPS cannot take: see checkAmount; the currency,
// when given, must be USD.
func (a Amount) check(valueField, currencyField string) error {
	if a.CurrencyCode != "" {
		if err := fromRule(rules.CheckCurrency(currencyField, a.CurrencyCode)); err != nil {
			return err
		}
	}
	return CheckAmount(valueField, a.Value)
}
