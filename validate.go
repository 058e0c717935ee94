package fps

import (
	"fmt"
	"unicode/utf8"

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

// CurrencyUSD is the only currency FPS accepts.
const CurrencyUSD = "USD"

// MaxCallerReferenceLength is the longest CallerReference FPS accepts, in
// characters.
const MaxCallerReferenceLength = 128

// checkAmount refuses an amount that FPS cannot take: not more than 0, or
// with more than 2 decimal places (it is never rounded).
func checkAmount(field string, d decimal.Decimal) error {
	if !d.IsPositive() {
		return invalid(field, "must be greater than 0, got %s", d.String())
	}
	if d.Exponent() < -2 && !d.Equal(d.Truncate(2)) {
		return invalid(field, "must have at most 2 decimal places, got %s", d.String())
	}
	return nil
}

// formatAmount writes an amount as a plain decimal with 2 places, as FPS
// expects: "19.99", "5.00".
func formatAmount(d decimal.Decimal) string { return d.StringFixed(2) }

// checkCallerReference refuses an empty or overlong caller reference.
func checkCallerReference(field, ref string) error {
	if ref == "" {
		return invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(ref); n > MaxCallerReferenceLength {
		return invalid(field, "must be at most %d characters, got %d", MaxCallerReferenceLength, n)
	}
	return nil
}
