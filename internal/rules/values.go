// Package rules is the one table of what Flexible Payments Service takes
// in the values a caller sends: the parameters of each Co-Branded UI
// pipeline and what each value must look like, the rules that tie two
// parameters together, and the amount, period, payment-method and URL
// rules. The client (package fps) refuses what breaks them before it
// signs anything; the simulator (package fpstest) answers the same
// request with status CE or InvalidParameterValue.
//
// Where Amazon's documentation (fps-api §5, fps-api-versions §6) decides
// a rule, the rule follows it; where it is silent, the comment of the rule
// says the choice is the project's.
package rules

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Error is a value a rule refuses: Field names the parameter as FPS
// spells it, Rule says what it must be.
type Error struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *Error) Error() string { return e.Field + " " + e.Rule }

func refuse(field, rule string, args ...any) *Error {
	if len(args) > 0 {
		rule = fmt.Sprintf(rule, args...)
	}
	return &Error{Field: field, Rule: rule}
}

// CurrencyUSD is the only currency FPS takes (fps-api §5.1: amounts are
// decimal strings in USD).
const CurrencyUSD = "USD"

// MaxCallerReferenceLength is the longest caller reference FPS takes, in
// characters (fps-api §5.1).
const MaxCallerReferenceLength = 128

// CheckCurrency refuses a currency code other than USD.
func CheckCurrency(field, code string) *Error {
	if code != CurrencyUSD {
		return refuse(field, "must be USD, got %q", code)
	}
	return nil
}

// CheckCallerReference refuses an empty caller reference or one longer
// than MaxCallerReferenceLength characters.
func CheckCallerReference(field, ref string) *Error {
	if ref == "" {
		return refuse(field, "is required")
	}
	if n := utf8.RuneCountInString(ref); n > MaxCallerReferenceLength {
		return refuse(field, "must be at most %d characters, got %d", MaxCallerReferenceLength, n)
	}
	return nil
}

// ParseDecimal reads a plain decimal number: what decimal.NewFromString
// reads, without an exponent (the project's choice: FPS wrote amounts
// as plain decimals, and "1e2" is more likely a mistake than a hundred).
func ParseDecimal(field, value string) (decimal.Decimal, *Error) {
	d, err := decimal.NewFromString(value)
	if err != nil || strings.ContainsAny(value, "eE") {
		return decimal.Decimal{}, refuse(field, "must be a plain decimal number, got %q", value)
	}
	return d, nil
}

// CheckAmount refuses an amount FPS cannot take: not more than 0, or with
// more than 2 decimal places (it is never rounded; "1.50" and "1.500"
// are the same amount).
func CheckAmount(field string, d decimal.Decimal) *Error {
	if !d.IsPositive() {
		return refuse(field, "must be greater than 0, got %s", d.String())
	}
	return CheckPlaces(field, d)
}

// CheckPlaces refuses an amount with more than 2 decimal places.
func CheckPlaces(field string, d decimal.Decimal) *Error {
	if d.Exponent() < -2 && !d.Equal(d.Truncate(2)) {
		return refuse(field, "must have at most 2 decimal places, got %s", d.String())
	}
	return nil
}

// CheckAmountText applies ParseDecimal and CheckAmount to an amount
// written as a string.
func CheckAmountText(field, value string) *Error {
	if plainAmount(value) {
		return nil
	}
	d, e := ParseDecimal(field, value)
	if e != nil {
		return e
	}
	return CheckAmount(field, d)
}

// plainAmount reports whether value is an amount CheckAmountText takes,
// written the usual way (digits, at most 2 decimal places, not zero), so
// that it need not be parsed. It never accepts what the full check
// refuses.
func plainAmount(value string) bool {
	whole, frac, dot := strings.Cut(value, ".")
	if !isDigits(whole) || dot && (len(frac) > 2 || !isDigits(frac)) {
		return false
	}
	return strings.Trim(value, "0.") != ""
}

// CheckFee refuses a fee that is not a plain decimal of 0 or more with at
// most 2 decimal places (maxFixedFee: zero means no fixed fee).
func CheckFee(field, value string) *Error {
	d, e := ParseDecimal(field, value)
	if e != nil {
		return e
	}
	if d.IsNegative() || !d.Equal(d.Truncate(2)) {
		return refuse(field, "must be 0 or more with at most 2 decimal places, got %s", value)
	}
	return nil
}

// CheckPercent refuses a percentage that is not a plain decimal from 0 to
// 100 (maxVariableFee, MarketplaceVariableFee).
func CheckPercent(field, value string) *Error {
	d, e := ParseDecimal(field, value)
	if e != nil {
		return e
	}
	if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
		return refuse(field, "must be a percentage from 0 to 100, got %s", value)
	}
	return nil
}

// CheckBool refuses a boolean other than True or False (fps-api §5.1).
func CheckBool(field, value string) *Error {
	if value != "True" && value != "False" {
		return refuse(field, "must be True or False, got %q", value)
	}
	return nil
}

// ParseEpoch reads seconds since the Unix epoch (fps-api §5.1:
// validityStart and validityExpiry): digits alone, no sign, small enough
// for an int64 (the project's choice: a time before 1970 is a mistake).
func ParseEpoch(field, value string) (int64, *Error) {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || !isDigits(value) {
		return 0, refuse(field, "must be seconds since the Unix epoch (a whole number from 0), got %q", value)
	}
	return n, nil
}

// PeriodUnits are the units of recurringPeriod and usageLimitPeriod,
// singular. Amazon's documentation gives no full list (fps-api §5.1):
// its 2007 guide names days, months and years, and the TimeUnit of
// API 2010-08-28 adds weeks (fps-api-versions §4). No source names a
// shorter unit, so none is taken.
var PeriodUnits = []string{"Day", "Week", "Month", "Year"}

// CheckPeriod refuses a period that is not a whole number greater than 0
// without leading zeros, one space and a unit: "1 Month", "6 Months". A
// unit may be singular or plural whatever the count (the project's
// choice; the sources show only "1 Month" and "6 Months").
func CheckPeriod(field, value string) *Error {
	count, unit, ok := strings.Cut(value, " ")
	if ok && isDigits(count) && count[0] != '0' {
		for _, u := range PeriodUnits {
			if unit == u || unit == u+"s" {
				return nil
			}
		}
	}
	return refuse(field, "must be a whole number, a space and a unit (%s), such as \"1 Month\", got %q",
		strings.Join(PeriodUnits, ", "), value)
}

// PaymentMethods are the ways a buyer may pay in a pipeline, in the order
// the Co-Branded UI offers them (fps-api §5.1).
var PaymentMethods = []string{"ABT", "ACH", "CC"}

// ParsePaymentMethods reads a paymentMethod list: a comma-separated subset
// of PaymentMethods (fps-api §5.1), no spaces, each at most once (the
// project's choice).
func ParsePaymentMethods(field, value string) ([]string, *Error) {
	var out []string
	for m := range strings.SplitSeq(value, ",") {
		if !slices.Contains(PaymentMethods, m) {
			return nil, refuse(field, "must be a comma-separated subset of %s, got %q", strings.Join(PaymentMethods, ","), value)
		}
		if slices.Contains(out, m) {
			return nil, refuse(field, "must name each payment method at most once, got %s twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// ParseHTTPURL reads an absolute http or https URL (https only when
// httpsOnly): one that net/url parses, with that scheme (in any case) and
// a host name. The buyer is sent back to it, or the logo is read from it
// (fps-api §5.1: the logo is served over https).
func ParseHTTPURL(field, value string, httpsOnly bool) (*url.URL, *Error) {
	u, err := url.Parse(value)
	ok := err == nil && u.Hostname() != "" && (u.Scheme == "https" || u.Scheme == "http" && !httpsOnly)
	switch {
	case ok:
		return u, nil
	case httpsOnly:
		return nil, refuse(field, "must be an absolute https URL")
	default:
		return nil, refuse(field, "must be an absolute http or https URL")
	}
}

// CheckHTTPURL is ParseHTTPURL without the URL: the usual URL, written
// plainly, is taken without being parsed (plainHTTPURL), with the same
// answer.
func CheckHTTPURL(field, value string, httpsOnly bool) *Error {
	if plainHTTPURL(value, httpsOnly) {
		return nil
	}
	_, e := ParseHTTPURL(field, value, httpsOnly)
	return e
}

// plainHTTPURL reports whether value is an http or https URL written the
// usual way, so that it need not be parsed: a lower-case scheme, a host
// name of ASCII letters, digits, dots and hyphens with an optional port,
// then printable ASCII without '%'. It never takes what ParseHTTPURL
// refuses (FuzzPlainHTTPURL); a URL it does not take is parsed.
func plainHTTPURL(value string, httpsOnly bool) bool {
	rest, ok := strings.CutPrefix(value, "https://")
	if !ok && !httpsOnly {
		rest, ok = strings.CutPrefix(value, "http://")
	}
	if !ok {
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, port, hasPort := strings.Cut(rest[:end], ":")
	if host == "" || hasPort && !isDigits(port) {
		return false
	}
	return !strings.ContainsFunc(host, notHostName) && !strings.ContainsFunc(rest[end:], notPlain)
}

// notHostName reports whether r is not an ASCII letter, digit, dot or
// hyphen.
func notHostName(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-')
}

// notPlain reports whether r is not printable ASCII, or is '%'.
func notPlain(r rune) bool { return r <= ' ' || r >= 0x7f || r == '%' }

// CheckEnum refuses a value that is not one of allowed.
func CheckEnum(field, value string, allowed ...string) *Error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return refuse(field, "must be one of %s, got %q", strings.Join(allowed, ", "), value)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
