package rules

import (
	"slices"
	"strings"
)

// Kind is what the value of a pipeline parameter must look like.
type Kind uint8

// The kinds of pipeline values.
const (
	KindText            Kind = iota + 1 // any text
	KindURL                             // CheckHTTPURL, http or https
	KindHTTPSURL                        // CheckHTTPURL, https only
	KindCallerReference                 // CheckCallerReference
	KindAmount                          // CheckAmountText
	KindFee                             // CheckFee
	KindPercent                         // CheckPercent
	KindBool                            // CheckBool
	KindEpoch                           // ParseEpoch
	KindPeriod                          // CheckPeriod
	KindPaymentMethods                  // ParsePaymentMethods
	KindCurrency                        // CheckCurrency
	KindCobrandingStyle                 // one of CobrandingStyles
	KindAmountType                      // one of AmountTypes
	KindUsageLimitType                  // one of UsageLimitTypes
	KindUsageLimitValue                 // by its usage limit type, checked with it
	KindTokenList                       // comma-separated token ids, none empty
)

var kindNames = [...]string{
	KindText: "text", KindURL: "URL", KindHTTPSURL: "https URL", KindCallerReference: "caller reference",
	KindAmount: "amount", KindFee: "fee", KindPercent: "percent", KindBool: "boolean", KindEpoch: "epoch",
	KindPeriod: "period", KindPaymentMethods: "payment methods", KindCurrency: "currency",
	KindCobrandingStyle: "cobranding style", KindAmountType: "amount type", KindUsageLimitType: "usage limit type",
	KindUsageLimitValue: "usage limit value", KindTokenList: "token list",
}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown kind"
}

// The values of the enumerated pipeline parameters (fps-api §5.1, §5.2;
// fps-api-versions §4).
var (
	CobrandingStyles = []string{"logo", "banner"}
	AmountTypes      = []string{"Exact", "Maximum", "Minimum"}
	UsageLimitTypes  = []string{"Amount", "Count"}
)

// Envelope are the parameters of a pipeline URL around the pipeline's own
// (fps-api §5.1, §2.3): the client adds them, a caller never gives them,
// and the simulator checks them with the signature.
var Envelope = []string{"pipelineName", "version", "callerKey", "signatureMethod", "signatureVersion", "signature"}

// IsEnvelope reports whether name is one of Envelope.
func IsEnvelope(name string) bool { return slices.Contains(Envelope, name) }

// Param is one parameter a pipeline takes.
type Param struct {
	Name     string
	Kind     Kind
	Required bool
	pair     pairSlot
}

// pairSlot names the parameters that a rule ties to another one.
type pairSlot uint8

const (
	noPair pairSlot = iota
	pairLimitType1
	pairLimitValue1
	pairLimitPeriod1
	pairLimitType2
	pairLimitValue2
	pairLimitPeriod2
	pairCobranding
	pairTokenList
	pairAmountType
	pairTransactionAmount
	pairValidityStart
	pairValidityExpiry
	pairSlots
)

var pairOf = map[string]pairSlot{
	"usageLimitType1": pairLimitType1, "usageLimitValue1": pairLimitValue1, "usageLimitPeriod1": pairLimitPeriod1,
	"usageLimitType2": pairLimitType2, "usageLimitValue2": pairLimitValue2, "usageLimitPeriod2": pairLimitPeriod2,
	"isRecipientCobranding": pairCobranding, "recipientTokenList": pairTokenList,
	"amountType": pairAmountType, "transactionAmount": pairTransactionAmount,
	"validityStart": pairValidityStart, "validityExpiry": pairValidityExpiry,
}

func req(name string, k Kind) Param { return Param{name, k, true, pairOf[name]} }
func opt(name string, k Kind) Param { return Param{name, k, false, pairOf[name]} }

// The groups of parameters several pipelines share (fps-api §5.1, §5.2).
var (
	common = []Param{
		req("returnURL", KindURL),
		req("callerReference", KindCallerReference),
		opt("cobrandingStyle", KindCobrandingStyle),
		opt("cobrandingUrl", KindHTTPSURL),
		opt("websiteDescription", KindText),
	}
	address = []Param{
		opt("collectShippingAddress", KindBool),
		opt("addressName", KindText),
		opt("addressLine1", KindText),
		opt("addressLine2", KindText),
		opt("city", KindText),
		opt("state", KindText),
		opt("country", KindText),
		opt("zip", KindText),
		opt("phoneNumber", KindText),
	}
	validity = []Param{
		opt("validityStart", KindEpoch),
		opt("validityExpiry", KindEpoch),
	}
	usageLimits = []Param{
		opt("usageLimitType1", KindUsageLimitType),
		opt("usageLimitValue1", KindUsageLimitValue),
		opt("usageLimitPeriod1", KindPeriod),
		opt("usageLimitType2", KindUsageLimitType),
		opt("usageLimitValue2", KindUsageLimitValue),
		opt("usageLimitPeriod2", KindPeriod),
	}
	paymentMethod = opt("paymentMethod", KindPaymentMethods)
	paymentReason = opt("paymentReason", KindText)
	currencyCode  = opt("currencyCode", KindCurrency)
)

// Pipeline is what one Co-Branded UI pipeline takes.
type Pipeline struct {
	Name   string
	params []Param
	index  map[string]int
}

func pipeline(name string, groups ...[]Param) *Pipeline {
	p := &Pipeline{Name: name, params: slices.Concat(groups...)}
	p.index = make(map[string]int, len(p.params))
	for i, r := range p.params {
		p.index[r.Name] = i
	}
	return p
}

// Params returns the parameters p takes, the common ones first.
func (p *Pipeline) Params() []Param { return slices.Clone(p.params) }

// PipelineNames lists the seven pipelines (fps-api §5.1), in the order
// errors name them.
var PipelineNames = []string{"SingleUse", "MultiUse", "Recurring", "Recipient", "EditToken", "SetupPrepaid", "SetupPostpaid"}

// pipelines is the table of fps-api §5.2: the parameters of each
// pipeline beyond the common ones, in the order the client writes them.
// It is read only.
var pipelines = map[string]*Pipeline{
	"SingleUse": pipeline("SingleUse", common, []Param{
		req("transactionAmount", KindAmount),
		currencyCode, paymentReason, paymentMethod,
		opt("recipientToken", KindText),
		opt("reserve", KindBool),
		// Shown to the buyer only; amounts like any other (the project's
		// choice: the sources give no rule of their own).
		opt("itemTotal", KindAmount),
		opt("shipping", KindAmount),
		opt("handling", KindAmount),
		opt("discount", KindAmount),
		opt("tax", KindAmount),
		opt("giftWrapping", KindAmount),
	}, address, []Param{
		// A later addition to the Co-Branded UI (fps-api-versions §6).
		opt("disableGuest", KindBool),
	}),
	"MultiUse": pipeline("MultiUse", common, []Param{
		req("globalAmountLimit", KindAmount),
		opt("amountType", KindAmountType),
		opt("transactionAmount", KindAmount),
		currencyCode, paymentReason, paymentMethod,
		opt("isRecipientCobranding", KindBool),
		opt("recipientTokenList", KindTokenList),
	}, usageLimits, validity, address, []Param{
		opt("disableGuest", KindBool),
	}),
	"Recurring": pipeline("Recurring", common, []Param{
		req("transactionAmount", KindAmount),
		req("recurringPeriod", KindPeriod),
		currencyCode, paymentReason, paymentMethod,
		opt("recipientToken", KindText),
	}, validity, address),
	// Amazon's SDKs require all three fees; amazon_flex_pay only
	// recipientPaysFee (fps-api §5.2). The table follows Amazon.
	"Recipient": pipeline("Recipient", common, []Param{
		req("maxFixedFee", KindFee),
		req("maxVariableFee", KindPercent),
		req("recipientPaysFee", KindBool),
		paymentMethod,
	}, validity),
	"EditToken": pipeline("EditToken", common, []Param{
		req("tokenId", KindText),
		paymentMethod,
	}),
	// The required parameters of SetupPrepaid and SetupPostpaid are
	// inferred from the sources (fps-api §5.2), not documented.
	"SetupPrepaid": pipeline("SetupPrepaid", common, []Param{
		req("callerReferenceSender", KindCallerReference),
		req("callerReferenceFunding", KindCallerReference),
		req("fundingAmount", KindAmount),
		paymentMethod, paymentReason,
	}, validity),
	"SetupPostpaid": pipeline("SetupPostpaid", common, []Param{
		req("callerReferenceSender", KindCallerReference),
		req("callerReferenceSettlement", KindCallerReference),
		req("creditLimit", KindAmount),
		req("globalAmountLimit", KindAmount),
		paymentMethod, paymentReason,
	}, usageLimits, validity),
}

// LookupPipeline returns the rules of the pipeline called name; an empty
// or unknown name is an *Error naming pipelineName.
func LookupPipeline(name string) (*Pipeline, *Error) {
	if name == "" {
		return nil, refuse("pipelineName", "is required")
	}
	p, ok := pipelines[name]
	if !ok {
		return nil, refuse("pipelineName", "must be one of %s, got %q", strings.Join(PipelineNames, ", "), name)
	}
	return p, nil
}

// Check applies the rules of one pipeline to the parameters of one
// request: Param takes them one at a time, in any order; Done adds the
// rules about what is missing and between parameters, and returns every
// problem found. An empty value counts as not given (the client never
// sends one), except that a parameter given twice is refused.
type Check struct {
	p      *Pipeline
	given  uint64 // bit i: p.params[i] was given
	valued uint64 // bit i: p.params[i] was given a value
	pairs  [pairSlots]string
	next   int // the parameter after the last one found
	errs   []*Error
}

// Check starts checking one request of p.
func (p *Pipeline) Check() Check { return Check{p: p} }

// Param checks one parameter of the request.
func (c *Check) Param(name, value string) {
	i, ok := c.find(name)
	switch {
	case !ok && IsEnvelope(name):
		c.fail(refuse(name, "is added by the client and must not be given"))
		return
	case !ok:
		c.fail(refuse(name, "is not a parameter of the %s pipeline", c.p.Name))
		return
	case c.given&(1<<i) != 0:
		c.fail(refuse(name, "is given twice"))
		return
	}
	c.given |= 1 << i
	if value == "" {
		return
	}
	c.valued |= 1 << i
	r := &c.p.params[i]
	c.fail(checkValue(name, r.Kind, value))
	if r.pair != noPair {
		c.pairs[r.pair] = value
	}
}

// find returns the index of the parameter called name. Typed pipelines
// write their parameters in the order of the table, so the next few are
// tried before the index.
func (c *Check) find(name string) (int, bool) {
	params := c.p.params
	for j := c.next; j < len(params) && j < c.next+4; j++ {
		if params[j].Name == name {
			c.next = j + 1
			return j, true
		}
	}
	i, ok := c.p.index[name]
	if ok {
		c.next = i + 1
	}
	return i, ok
}

func (c *Check) fail(e *Error) {
	if e != nil {
		c.errs = append(c.errs, e)
	}
}

// Done applies the rules about required parameters and between
// parameters, and returns every problem found, in the order found; nil
// when the request keeps every rule.
func (c *Check) Done() []*Error {
	for i, r := range c.p.params {
		if r.Required && c.valued&(1<<i) == 0 {
			c.fail(refuse(r.Name, "is required by the %s pipeline", c.p.Name))
		}
	}
	v := &c.pairs
	c.usageLimit(0, v[pairLimitType1], v[pairLimitValue1], v[pairLimitPeriod1])
	c.usageLimit(1, v[pairLimitType2], v[pairLimitValue2], v[pairLimitPeriod2])
	// fps-api §5.2 (MultiUse): isRecipientCobranding needs
	// recipientTokenList; amountType applies to transactionAmount.
	if v[pairCobranding] == "True" && v[pairTokenList] == "" {
		c.fail(refuse("recipientTokenList", "is required when isRecipientCobranding is True"))
	}
	if v[pairAmountType] != "" && v[pairTransactionAmount] == "" {
		c.fail(refuse("transactionAmount", "is required when amountType is set"))
	}
	// A token that expires before it starts is refused (the project's
	// choice).
	if v[pairValidityStart] != "" && v[pairValidityExpiry] != "" {
		start, e1 := ParseEpoch("validityStart", v[pairValidityStart])
		expiry, e2 := ParseEpoch("validityExpiry", v[pairValidityExpiry])
		if e1 == nil && e2 == nil && expiry <= start {
			c.fail(refuse("validityExpiry", "must be after validityStart"))
		}
	}
	return c.errs
}

// usageLimitNames are the type, value and period of the two usage limits.
var usageLimitNames = [2][3]string{
	{"usageLimitType1", "usageLimitValue1", "usageLimitPeriod1"},
	{"usageLimitType2", "usageLimitValue2", "usageLimitPeriod2"},
}

// usageLimit applies the rules of usage limit n (0 or 1; fps-api §5.2):
// the value is required with the type; the type with the value or the
// period (the project's choice: a value or period without a type means
// nothing); a Count is a whole number of charges, an Amount an amount.
func (c *Check) usageLimit(n int, typ, value, period string) {
	typName, valueName, periodName := usageLimitNames[n][0], usageLimitNames[n][1], usageLimitNames[n][2]
	switch {
	case typ == "" && value != "":
		c.fail(refuse(typName, "is required when %s is set", valueName))
	case typ == "" && period != "":
		c.fail(refuse(typName, "is required when %s is set", periodName))
	case typ != "" && value == "":
		c.fail(refuse(valueName, "is required when %s is set", typName))
	case typ == "Count":
		if !isDigits(value) || strings.Trim(value, "0") == "" {
			c.fail(refuse(valueName, "must be a whole number of charges greater than 0 for usage limit type Count, got %q", value))
		}
	case typ == "Amount":
		c.fail(CheckAmountText(valueName, value))
	}
}

// checkValue checks one value against its kind.
func checkValue(name string, k Kind, value string) *Error {
	switch k {
	case KindURL, KindHTTPSURL:
		return CheckHTTPURL(name, value, k == KindHTTPSURL)
	case KindCallerReference:
		return CheckCallerReference(name, value)
	case KindAmount:
		return CheckAmountText(name, value)
	case KindFee:
		return CheckFee(name, value)
	case KindPercent:
		return CheckPercent(name, value)
	case KindBool:
		return CheckBool(name, value)
	case KindEpoch:
		_, e := ParseEpoch(name, value)
		return e
	case KindPeriod:
		return CheckPeriod(name, value)
	case KindPaymentMethods:
		_, e := ParsePaymentMethods(name, value)
		return e
	case KindCurrency:
		return CheckCurrency(name, value)
	case KindCobrandingStyle:
		return CheckEnum(name, value, CobrandingStyles...)
	case KindAmountType:
		return CheckEnum(name, value, AmountTypes...)
	case KindUsageLimitType:
		return CheckEnum(name, value, UsageLimitTypes...)
	case KindTokenList:
		if slices.Contains(strings.Split(value, ","), "") {
			return refuse(name, "must be token ids separated by commas, with none empty")
		}
	}
	return nil
}
