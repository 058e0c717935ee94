package fps

import (
	"strings"

	"github.com/shopspring/decimal"
)

// The rules every pipeline is checked by before it is signed, typed or
// given as PipelineFields: one table of the parameters each pipeline
// takes, what each value must look like, and the rules that tie two
// parameters together.

// valueKind is what the value of a pipeline parameter must look like.
type valueKind uint8

const (
	kindText            valueKind = iota // any text
	kindURL                              // an absolute http or https URL
	kindHTTPSURL                         // an absolute https URL
	kindCallerReference                  // 1 to 128 characters
	kindAmount                           // more than 0, at most 2 decimal places
	kindFee                              // 0 or more, at most 2 decimal places
	kindPercent                          // 0 to 100
	kindBool                             // True or False
	kindEpoch                            // seconds since the Unix epoch
	kindPeriod                           // "1 Month", "6 Months"
	kindPaymentMethods                   // a subset of ABT,ACH,CC
	kindCurrency                         // USD
	kindCobrandingStyle                  // banner or logo
	kindAmountType                       // Exact, Maximum or Minimum
	kindUsageLimitType                   // Amount or Count
	kindUsageLimitValue                  // per usageLimitType, checked with it
	kindTokenList                        // comma-separated token ids
)

type paramRule struct {
	name     string
	kind     valueKind
	required bool
	pair     int // index in rulesWithPairs, -1 when none
}

func req(name string, kind valueKind) paramRule { return paramRule{name, kind, true, pairIndex(name)} }
func opt(name string, kind valueKind) paramRule { return paramRule{name, kind, false, pairIndex(name)} }

var (
	commonRules = []paramRule{
		req("returnURL", kindURL),
		req("callerReference", kindCallerReference),
		opt("cobrandingStyle", kindCobrandingStyle),
		opt("cobrandingUrl", kindHTTPSURL),
		opt("websiteDescription", kindText),
	}
	addressRules = []paramRule{
		opt("collectShippingAddress", kindBool),
		opt("addressName", kindText),
		opt("addressLine1", kindText),
		opt("addressLine2", kindText),
		opt("city", kindText),
		opt("state", kindText),
		opt("country", kindText),
		opt("zip", kindText),
		opt("phoneNumber", kindText),
	}
	validityRules = []paramRule{
		opt("validityStart", kindEpoch),
		opt("validityExpiry", kindEpoch),
	}
	usageLimitRules = []paramRule{
		opt("usageLimitType1", kindUsageLimitType),
		opt("usageLimitValue1", kindUsageLimitValue),
		opt("usageLimitPeriod1", kindPeriod),
		opt("usageLimitType2", kindUsageLimitType),
		opt("usageLimitValue2", kindUsageLimitValue),
		opt("usageLimitPeriod2", kindPeriod),
	}
	paymentMethodRule = opt("paymentMethod", kindPaymentMethods)
	paymentReasonRule = opt("paymentReason", kindText)
	currencyRule      = opt("currencyCode", kindCurrency)
)

// pipelineRuleSet is what one pipeline takes.
type pipelineRuleSet struct {
	rules []paramRule
	index map[string]int
}

func ruleSet(groups ...[]paramRule) pipelineRuleSet {
	var s pipelineRuleSet
	for _, g := range groups {
		s.rules = append(s.rules, g...)
	}
	s.index = make(map[string]int, len(s.rules))
	for i, r := range s.rules {
		s.index[r.name] = i
	}
	return s
}

// pipelineRules is the table of spec §5: the parameters of each pipeline
// beyond the common ones. It is read only.
var pipelineRules = map[PipelineName]pipelineRuleSet{
	PipelineSingleUse: ruleSet(commonRules, []paramRule{
		req("transactionAmount", kindAmount),
		currencyRule, paymentReasonRule, paymentMethodRule,
		opt("recipientToken", kindText),
		opt("reserve", kindBool),
		opt("itemTotal", kindAmount),
		opt("shipping", kindAmount),
		opt("handling", kindAmount),
		opt("discount", kindAmount),
		opt("tax", kindAmount),
		opt("giftWrapping", kindAmount),
		opt("disableGuest", kindBool),
	}, addressRules),
	PipelineMultiUse: ruleSet(commonRules, []paramRule{
		req("globalAmountLimit", kindAmount),
		opt("amountType", kindAmountType),
		opt("transactionAmount", kindAmount),
		currencyRule, paymentReasonRule, paymentMethodRule,
		opt("isRecipientCobranding", kindBool),
		opt("recipientTokenList", kindTokenList),
	}, usageLimitRules, validityRules, addressRules),
	PipelineRecurring: ruleSet(commonRules, []paramRule{
		req("transactionAmount", kindAmount),
		req("recurringPeriod", kindPeriod),
		currencyRule, paymentReasonRule, paymentMethodRule,
		opt("recipientToken", kindText),
	}, validityRules, addressRules),
	PipelineRecipient: ruleSet(commonRules, []paramRule{
		req("maxFixedFee", kindFee),
		req("maxVariableFee", kindPercent),
		req("recipientPaysFee", kindBool),
		paymentMethodRule,
	}, validityRules),
	PipelineEditToken: ruleSet(commonRules, []paramRule{
		req("tokenId", kindText),
		paymentMethodRule,
	}),
	PipelineSetupPrepaid: ruleSet(commonRules, []paramRule{
		req("callerReferenceSender", kindCallerReference),
		req("callerReferenceFunding", kindCallerReference),
		req("fundingAmount", kindAmount),
		paymentMethodRule, paymentReasonRule,
	}, validityRules),
	PipelineSetupPostpaid: ruleSet(commonRules, []paramRule{
		req("callerReferenceSender", kindCallerReference),
		req("callerReferenceSettlement", kindCallerReference),
		req("creditLimit", kindAmount),
		req("globalAmountLimit", kindAmount),
		paymentMethodRule, paymentReasonRule,
	}, usageLimitRules, validityRules),
}

// pipelineNames lists the pipelines in the order errors name them.
var pipelineNames = []PipelineName{
	PipelineSingleUse, PipelineMultiUse, PipelineRecurring, PipelineRecipient,
	PipelineEditToken, PipelineSetupPrepaid, PipelineSetupPostpaid,
}

// clientParams are added by PipelineURL and the signer, never by the
// caller.
var clientParams = map[string]bool{
	"pipelineName": true, "version": true, "callerKey": true,
	"signatureMethod": true, "signatureVersion": true, "signature": true,
}

// checkPipeline applies the rules of pipeline name to params: every
// parameter known to the pipeline and well formed, every required one
// present, and the rules between parameters.
func checkPipeline(name PipelineName, params []param) error {
	if name == "" {
		return invalid("pipelineName", "is required")
	}
	set, ok := pipelineRules[name]
	if !ok {
		names := make([]string, len(pipelineNames))
		for i, n := range pipelineNames {
			names[i] = string(n)
		}
		return invalid("pipelineName", "must be one of %s, got %q", strings.Join(names, ", "), string(name))
	}
	var seen uint64 // bit i: set.rules[i] is present
	var values [len(rulesWithPairs)]string
	next := 0 // the rule after the last one found
	for _, p := range params {
		// Typed pipelines write their parameters in the order of their
		// rules: try the next few rules before the index.
		i, ok := 0, false
		for j := next; j < len(set.rules) && j < next+4; j++ {
			if set.rules[j].name == p.Name {
				i, ok = j, true
				break
			}
		}
		if !ok {
			i, ok = set.index[p.Name]
		}
		next = i + 1
		if !ok {
			if clientParams[p.Name] {
				return invalid(p.Name, "is added by the client and must not be given")
			}
			return invalid(p.Name, "is not a parameter of the %s pipeline", string(name))
		}
		if seen&(1<<i) != 0 {
			return invalid(p.Name, "is given twice")
		}
		seen |= 1 << i
		r := &set.rules[i]
		if err := checkValue(p.Name, r.kind, p.Value); err != nil {
			return err
		}
		if r.pair >= 0 {
			values[r.pair] = p.Value
		}
	}
	for i, r := range set.rules {
		if r.required && seen&(1<<i) == 0 {
			return invalid(r.name, "is required by the %s pipeline", string(name))
		}
	}
	return checkPairs(&values)
}

// rulesWithPairs are the parameters whose rules involve another one.
var rulesWithPairs = [...]string{
	"usageLimitType1", "usageLimitValue1", "usageLimitPeriod1",
	"usageLimitType2", "usageLimitValue2", "usageLimitPeriod2",
	"isRecipientCobranding", "recipientTokenList",
	"amountType", "transactionAmount",
	"validityStart", "validityExpiry",
}

func pairIndex(name string) int {
	for i, n := range rulesWithPairs {
		if n == name {
			return i
		}
	}
	return -1
}

// checkPairs applies the rules between parameters; v holds the values of
// rulesWithPairs, in that order, "" for absent.
func checkPairs(v *[len(rulesWithPairs)]string) error {
	for n := 0; n < 2; n++ {
		typ, value, period := v[3*n], v[3*n+1], v[3*n+2]
		typName, valueName, periodName := rulesWithPairs[3*n], rulesWithPairs[3*n+1], rulesWithPairs[3*n+2]
		switch {
		case typ == "" && value != "":
			return invalid(typName, "is required when %s is set", valueName)
		case typ == "" && period != "":
			return invalid(typName, "is required when %s is set", periodName)
		case typ != "" && value == "":
			return invalid(valueName, "is required when %s is set", typName)
		case typ == string(UsageLimitCount):
			if !isDigits(value) || strings.Trim(value, "0") == "" {
				return invalid(valueName, "must be a whole number of charges greater than 0 for usage limit type Count, got %q", value)
			}
		case typ == string(UsageLimitAmount):
			if err := checkAmountParam(valueName, value); err != nil {
				return err
			}
		}
	}
	if v[6] == "True" && v[7] == "" {
		return invalid("recipientTokenList", "is required when isRecipientCobranding is True")
	}
	if v[8] != "" && v[9] == "" {
		return invalid("transactionAmount", "is required when amountType is set")
	}
	if v[10] != "" && v[11] != "" {
		start, _ := decimal.NewFromString(v[10])
		expiry, _ := decimal.NewFromString(v[11])
		if !expiry.GreaterThan(start) {
			return invalid("validityExpiry", "must be after validityStart")
		}
	}
	return nil
}

// checkValue checks one value against its kind.
func checkValue(name string, kind valueKind, value string) error {
	switch kind {
	case kindURL:
		if !absoluteURL(value, "https://") && !absoluteURL(value, "http://") {
			return invalid(name, "must be an absolute http or https URL")
		}
	case kindHTTPSURL:
		if !absoluteURL(value, "https://") {
			return invalid(name, "must be an absolute https URL")
		}
	case kindCallerReference:
		return checkCallerReference(name, value)
	case kindAmount:
		return checkAmountParam(name, value)
	case kindFee:
		d, err := parseDecimalParam(name, value)
		if err != nil {
			return err
		}
		if d.IsNegative() || !d.Equal(d.Truncate(2)) {
			return invalid(name, "must be 0 or more with at most 2 decimal places, got %s", value)
		}
	case kindPercent:
		d, err := parseDecimalParam(name, value)
		if err != nil {
			return err
		}
		if d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
			return invalid(name, "must be a percentage from 0 to 100, got %s", value)
		}
	case kindBool:
		if value != "True" && value != "False" {
			return invalid(name, "must be True or False, got %q", value)
		}
	case kindEpoch:
		if !isDigits(value) {
			return invalid(name, "must be seconds since the Unix epoch (a whole number from 0), got %q", value)
		}
	case kindPeriod:
		return checkPeriod(name, value)
	case kindPaymentMethods:
		return checkPaymentMethods(name, value)
	case kindCurrency:
		if value != CurrencyUSD {
			return invalid(name, "must be USD, got %q", value)
		}
	case kindCobrandingStyle:
		return checkEnum(name, value, string(CobrandingLogo), string(CobrandingBanner))
	case kindAmountType:
		return checkEnum(name, value, string(AmountTypeExact), string(AmountTypeMaximum), string(AmountTypeMinimum))
	case kindUsageLimitType:
		return checkEnum(name, value, string(UsageLimitAmount), string(UsageLimitCount))
	case kindTokenList:
		for t := range strings.SplitSeq(value, ",") {
			if t == "" {
				return invalid(name, "must be token ids separated by commas, with none empty")
			}
		}
	}
	return nil
}

// absoluteURL reports whether value starts with prefix ("https://", in
// any case), names a host, and holds no space or control character.
func absoluteURL(value, prefix string) bool {
	if len(value) <= len(prefix) || !strings.EqualFold(value[:len(prefix)], prefix) {
		return false
	}
	rest := value[len(prefix):]
	if i := strings.IndexAny(rest, "/?#"); i == 0 {
		return false
	}
	for i := 0; i < len(value); i++ {
		if value[i] <= ' ' || value[i] == 0x7f {
			return false
		}
	}
	return true
}

func checkEnum(name, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return invalid(name, "must be one of %s, got %q", strings.Join(allowed, ", "), value)
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

// parseDecimalParam reads a plain decimal: digits with an optional sign
// and decimal point, no exponent.
func parseDecimalParam(name, value string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(value)
	if err != nil || strings.ContainsAny(value, "eE") {
		return decimal.Decimal{}, invalid(name, "must be a plain decimal number, got %q", value)
	}
	return d, nil
}

// checkAmountParam applies checkAmount to an amount written as a string.
func checkAmountParam(name, value string) error {
	if plainAmount(value) {
		return nil
	}
	d, err := parseDecimalParam(name, value)
	if err != nil {
		return err
	}
	return CheckAmount(name, d)
}

// periodUnits are the units of recurringPeriod and usageLimitPeriod, in
// the singular; the plural adds "s".
var periodUnits = []string{"Hour", "Day", "Week", "Month", "Year"}

// checkPeriod refuses a period that is not a whole number greater than 0,
// one space and a unit: "1 Month", "6 Months".
func checkPeriod(name, value string) error {
	count, unit, ok := strings.Cut(value, " ")
	if ok && isDigits(count) && count[0] != '0' {
		for _, u := range periodUnits {
			if unit == u || unit == u+"s" {
				return nil
			}
		}
	}
	return invalid(name, "must be a whole number, a space and a unit (Hour, Day, Week, Month or Year), such as \"1 Month\", got %q", value)
}

// checkPaymentMethods refuses a list that is not a comma-separated subset
// of ABT, ACH and CC, each at most once.
func checkPaymentMethods(name, value string) error {
	var seen [3]bool
	for m := range strings.SplitSeq(value, ",") {
		i := -1
		switch PaymentMethod(m) {
		case PaymentMethodABT:
			i = 0
		case PaymentMethodACH:
			i = 1
		case PaymentMethodCC:
			i = 2
		}
		if i < 0 {
			return invalid(name, "must be a comma-separated subset of ABT,ACH,CC, got %q", value)
		}
		if seen[i] {
			return invalid(name, "must name each payment method at most once, got %s twice", m)
		}
		seen[i] = true
	}
	return nil
}

// plainAmount reports whether value is an amount checkAmount takes written
// in the usual way, digits with at most 2 decimal places and not zero, so
// that it need not be parsed.
func plainAmount(value string) bool {
	whole, frac, dot := strings.Cut(value, ".")
	if !isDigits(whole) || dot && (len(frac) > 2 || !isDigits(frac)) {
		return false
	}
	return strings.Trim(value, "0.") != ""
}
