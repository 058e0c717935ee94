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
// says what it must be. An action or a pipeline reports every invalid
// parameter at once, as an *InvalidParamsError holding one
// *ValidationError per problem; errors.As finds the first through it.
type ValidationError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("fps: invalid %s: %s", e.Field, e.Rule)
}

// InvalidParamsError is the error of an action or a pipeline URL whose
// input was refused before anything was signed or sent: every problem
// found, each a *ValidationError, in the order the parameters were
// checked. errors.As(err, &ve) with ve a *ValidationError finds the first;
// Errs lists them all.
type InvalidParamsError struct {
	// Errs holds every problem found; never empty.
	Errs []*ValidationError
}

// Error lists every problem: with one, it is that *ValidationError's
// message; with more, "fps: 2 invalid parameters: SenderTokenId: is
// required; CallerReference: is required".
func (e *InvalidParamsError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fps: %d invalid parameters: ", len(e.Errs))
	for i, ve := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ve.Field)
		b.WriteString(": ")
		b.WriteString(ve.Rule)
	}
	return b.String()
}

// Unwrap returns every *ValidationError, for errors.As and errors.Is.
func (e *InvalidParamsError) Unwrap() []error {
	errs := make([]error, len(e.Errs))
	for i, ve := range e.Errs {
		errs[i] = ve
	}
	return errs
}

// invalidParams returns the *InvalidParamsError of errs, or nil when there
// is none.
func invalidParams(errs []*ValidationError) error {
	if len(errs) == 0 {
		return nil
	}
	return &InvalidParamsError{Errs: errs}
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
	return validation(e)
}

func validation(e *rules.Error) *ValidationError {
	return &ValidationError{Field: e.Field, Rule: e.Rule}
}

// CurrencyCode is the currency of an amount. FPS knows one: CurrencyUSD.
// A code FPS sends that is not it is kept as sent.
type CurrencyCode string

// CurrencyUSD is the only currency FPS accepts.
const CurrencyUSD CurrencyCode = rules.CurrencyUSD

// Values returns the CurrencyCode values.
func (CurrencyCode) Values() []CurrencyCode { return []CurrencyCode{CurrencyUSD} }

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

// Amount is a sum of money with its currency. FPS knows only USD; an empty
// CurrencyCode means USD on requests.
type Amount struct {
	Value        decimal.Decimal
	CurrencyCode CurrencyCode `fps:"token"`
}

// USD returns an Amount in US dollars.
func USD(value decimal.Decimal) Amount { return Amount{Value: value, CurrencyCode: CurrencyUSD} }

// IsZero reports whether a is the zero Amount (nothing given).
func (a Amount) IsZero() bool { return a.CurrencyCode == "" && a.Value.IsZero() }

// Currency returns the currency code, USD when none was given.
func (a Amount) Currency() CurrencyCode {
	if a.CurrencyCode == "" {
		return CurrencyUSD
	}
	return a.CurrencyCode
}

// String writes a the way IPNs do: "USD 1.00".
func (a Amount) String() string { return string(a.Currency()) + " " + formatAmount(a.Value) }

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
	return Amount{Value: d, CurrencyCode: CurrencyCode(cur)}, nil
}
