package fps

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fpskit/fps/internal/rules"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/shopspring/decimal"
)

// PipelineName names a Co-Branded UI pipeline: the pipelineName parameter.
type PipelineName string

// The seven Co-Branded UI pipelines.
const (
	PipelineSingleUse     PipelineName = "SingleUse"
	PipelineMultiUse      PipelineName = "MultiUse"
	PipelineRecurring     PipelineName = "Recurring"
	PipelineRecipient     PipelineName = "Recipient"
	PipelineEditToken     PipelineName = "EditToken"
	PipelineSetupPrepaid  PipelineName = "SetupPrepaid"
	PipelineSetupPostpaid PipelineName = "SetupPostpaid"
)

// Values returns the pipeline names.
func (PipelineName) Values() []PipelineName {
	return []PipelineName{PipelineSingleUse, PipelineMultiUse, PipelineRecurring, PipelineRecipient,
		PipelineEditToken, PipelineSetupPrepaid, PipelineSetupPostpaid}
}

// Pipeline is one Co-Branded UI pipeline request: one of the seven typed
// pipelines (SingleUsePipeline, ...) or PipelineFields. Client.PipelineURL
// turns it into the signed URL that sends the buyer to Amazon.
type Pipeline interface {
	// pipelineName returns the pipelineName parameter.
	pipelineName() PipelineName
	// params writes the pipeline's parameters, nothing empty, without
	// pipelineName, version and the signature parameters.
	params(w paramWriter)
}

// CobrandingStyle is how the merchant's logo is shown in the Co-Branded UI.
type CobrandingStyle string

// The cobrandingStyle values.
const (
	CobrandingLogo   CobrandingStyle = "logo"
	CobrandingBanner CobrandingStyle = "banner"
)

// Values returns the CobrandingStyle values.
func (CobrandingStyle) Values() []CobrandingStyle {
	return []CobrandingStyle{CobrandingLogo, CobrandingBanner}
}

// PaymentMethod is a way a buyer may pay: the paymentMethod parameter of a
// pipeline is a comma-separated list of ABT, ACH and CC; transactions
// (GetAccountActivity, GetTransaction) and IPNs report it.
type PaymentMethod string

// The payment methods a buyer chooses.
const (
	PaymentMethodABT PaymentMethod = "ABT" // Amazon Payments balance
	PaymentMethodACH PaymentMethod = "ACH" // bank account
	PaymentMethodCC  PaymentMethod = "CC"  // credit card
)

// Values returns every PaymentMethod value. A pipeline takes the first
// three alone.
func (PaymentMethod) Values() []PaymentMethod {
	return []PaymentMethod{PaymentMethodABT, PaymentMethodACH, PaymentMethodCC, PaymentMethodDebt, PaymentMethodPrepaid}
}

// AmountType says how a MultiUse token's transactionAmount binds each
// charge.
type AmountType string

// The amountType values.
const (
	AmountTypeExact   AmountType = "Exact"
	AmountTypeMaximum AmountType = "Maximum"
	AmountTypeMinimum AmountType = "Minimum"
)

// Values returns the AmountType values.
func (AmountType) Values() []AmountType {
	return []AmountType{AmountTypeExact, AmountTypeMaximum, AmountTypeMinimum}
}

// UsageLimitType is what a usage limit counts: money or charges.
type UsageLimitType string

// The usageLimitType values.
const (
	UsageLimitAmount UsageLimitType = "Amount"
	UsageLimitCount  UsageLimitType = "Count"
)

// Values returns the UsageLimitType values.
func (UsageLimitType) Values() []UsageLimitType {
	return []UsageLimitType{UsageLimitAmount, UsageLimitCount}
}

// UsageLimit bounds how a MultiUse or SetupPostpaid token may be used. The
// zero UsageLimit is not sent.
type UsageLimit struct {
	// Type is UsageLimitAmount or UsageLimitCount. Required when Value or
	// Period is set.
	Type UsageLimitType
	// Value is a sum of dollars (at most 2 decimal places) for
	// UsageLimitAmount, a whole number of charges for UsageLimitCount.
	// Required when Type is set.
	Value decimal.Decimal
	// Period is the window the limit applies to, a count and a unit such
	// as "1 Month" or "6 Months". Empty means the token's whole validity.
	Period string
}

// PipelineCommon holds the parameters every pipeline takes.
type PipelineCommon struct {
	// ReturnURL is where Amazon sends the buyer afterwards, with the
	// result appended (see ParsePipelineReturn). Required; an absolute
	// http or https URL. Sent as returnURL.
	ReturnURL string
	// CallerReference identifies the request on the merchant's side, at
	// most 128 characters. Required.
	CallerReference string
	// CobrandingStyle shows the merchant's logo as a logo or a banner.
	CobrandingStyle CobrandingStyle
	// CobrandingURL is the https URL of the merchant's logo. Sent as
	// cobrandingUrl.
	CobrandingURL string
	// WebsiteDescription is free text the Co-Branded UI shows.
	WebsiteDescription string
}

// ShippingAddress is an address the merchant supplies to the pipeline;
// empty fields are not sent.
type ShippingAddress struct {
	Name        string // addressName
	Line1       string // addressLine1
	Line2       string // addressLine2
	City        string
	State       string
	Country     string
	Zip         string
	PhoneNumber string
}

// SingleUsePipeline asks the buyer for a token good for one payment of
// TransactionAmount.
type SingleUsePipeline struct {
	PipelineCommon
	// TransactionAmount is the sum to be paid. Required.
	TransactionAmount decimal.Decimal
	// CurrencyCode is USD when set; FPS assumes USD otherwise.
	CurrencyCode   CurrencyCode
	PaymentReason  string
	PaymentMethods []PaymentMethod
	// RecipientToken is the recipient's token, for marketplace payments.
	RecipientToken string
	// Reserve asks for a token to reserve (authorise) rather than pay.
	Reserve *bool
	// ItemTotal, Shipping, Handling, Discount, Tax and GiftWrapping are
	// shown to the buyer only; zero is not sent.
	ItemTotal, Shipping, Handling, Discount, Tax, GiftWrapping decimal.Decimal
	// CollectShippingAddress asks the buyer for a shipping address.
	CollectShippingAddress *bool
	Address                ShippingAddress
	// DisableGuest hides the guest checkout (a later addition to the
	// Co-Branded UI).
	DisableGuest *bool
}

// MultiUsePipeline asks the buyer for a token good for many payments up
// to GlobalAmountLimit.
type MultiUsePipeline struct {
	PipelineCommon
	// GlobalAmountLimit is the most the token may ever pay. Required.
	GlobalAmountLimit decimal.Decimal
	// AmountType says how TransactionAmount binds each payment; it needs
	// TransactionAmount.
	AmountType        AmountType
	TransactionAmount decimal.Decimal
	CurrencyCode      CurrencyCode
	PaymentReason     string
	PaymentMethods    []PaymentMethod
	// IsRecipientCobranding shows the recipients' branding; it needs
	// RecipientTokenList.
	IsRecipientCobranding *bool
	// RecipientTokenList names the recipient tokens the token may pay.
	RecipientTokenList []string
	// UsageLimit1 and UsageLimit2 are sent as usageLimitType1/Value1/
	// Period1 and usageLimitType2/Value2/Period2.
	UsageLimit1, UsageLimit2 UsageLimit
	// ValidityStart and ValidityExpiry bound the token's life; zero is
	// not sent, otherwise they are sent as seconds since the Unix epoch.
	ValidityStart, ValidityExpiry time.Time
	CollectShippingAddress        *bool
	Address                       ShippingAddress
}

// RecurringPipeline asks the buyer for a token that pays
// TransactionAmount every RecurringPeriod.
type RecurringPipeline struct {
	PipelineCommon
	// TransactionAmount is the sum of each payment. Required.
	TransactionAmount decimal.Decimal
	// RecurringPeriod is a count and a unit, such as "1 Month". Required.
	RecurringPeriod               string
	CurrencyCode                  CurrencyCode
	PaymentReason                 string
	PaymentMethods                []PaymentMethod
	RecipientToken                string
	ValidityStart, ValidityExpiry time.Time
	CollectShippingAddress        *bool
	Address                       ShippingAddress
}

// RecipientPipeline asks a seller for a recipient token, so that a
// marketplace can pay them and take a fee.
type RecipientPipeline struct {
	PipelineCommon
	// MaxFixedFee is the largest fixed fee per payment, in dollars; it is
	// always sent (zero means no fixed fee).
	MaxFixedFee decimal.Decimal
	// MaxVariableFee is the largest fee as a percentage of each payment,
	// 0 to 100; it is always sent.
	MaxVariableFee decimal.Decimal
	// RecipientPaysFee says whether the recipient pays Amazon's fee.
	// Required.
	RecipientPaysFee              *bool
	PaymentMethods                []PaymentMethod
	ValidityStart, ValidityExpiry time.Time
}

// EditTokenPipeline lets the buyer change the payment method of an
// existing token.
type EditTokenPipeline struct {
	PipelineCommon
	// TokenID is the token to edit. Required. Sent as tokenId.
	TokenID        string
	PaymentMethods []PaymentMethod
}

// SetupPrepaidPipeline asks the buyer to fund a prepaid instrument with
// FundingAmount.
type SetupPrepaidPipeline struct {
	PipelineCommon
	// CallerReferenceSender and CallerReferenceFunding name the sender and
	// funding tokens on the merchant's side. Required, at most 128
	// characters each.
	CallerReferenceSender, CallerReferenceFunding string
	// FundingAmount is the sum prepaid. Required.
	FundingAmount                 decimal.Decimal
	PaymentMethods                []PaymentMethod
	PaymentReason                 string
	ValidityStart, ValidityExpiry time.Time
}

// SetupPostpaidPipeline asks the buyer for a credit instrument: charges up
// to CreditLimit, settled later, never more than GlobalAmountLimit.
type SetupPostpaidPipeline struct {
	PipelineCommon
	// CallerReferenceSender and CallerReferenceSettlement name the sender
	// and settlement tokens on the merchant's side. Required, at most 128
	// characters each.
	CallerReferenceSender, CallerReferenceSettlement string
	// CreditLimit and GlobalAmountLimit are required.
	CreditLimit, GlobalAmountLimit decimal.Decimal
	PaymentMethods                 []PaymentMethod
	PaymentReason                  string
	UsageLimit1, UsageLimit2       UsageLimit
	ValidityStart, ValidityExpiry  time.Time
}

// paramWriter collects the parameters of a pipeline into a builder,
// leaving out what was not set.
type paramWriter struct{ b *builder }

func (w paramWriter) str(name, value string) { w.b.add(name, value) }

// amount writes d with 2 decimal places, or as it is when that would
// round it, so that validation refuses it rather than sending another sum.
func (w paramWriter) amount(name string, d decimal.Decimal) {
	if !d.IsZero() {
		w.b.put(name, amountParam(d))
	}
}

func amountParam(d decimal.Decimal) string {
	if d.Exponent() >= -2 || d.Equal(d.Truncate(2)) {
		return formatAmount(d)
	}
	return d.String()
}

func (w paramWriter) boolean(name string, b *bool) {
	if b != nil {
		w.b.put(name, boolParam(*b))
	}
}

func boolParam(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (w paramWriter) epoch(name string, t time.Time) {
	if !t.IsZero() {
		w.b.put(name, strconv.FormatInt(t.Unix(), 10))
	}
}

func (w paramWriter) methods(m []PaymentMethod) {
	if len(m) > 0 {
		s := make([]string, len(m))
		for i, v := range m {
			s[i] = string(v)
		}
		w.b.put("paymentMethod", strings.Join(s, ","))
	}
}

func (w paramWriter) common(c *PipelineCommon) {
	w.str("returnURL", c.ReturnURL)
	w.str("callerReference", c.CallerReference)
	w.str("cobrandingStyle", string(c.CobrandingStyle))
	w.str("cobrandingUrl", c.CobrandingURL)
	w.str("websiteDescription", c.WebsiteDescription)
}

func (w paramWriter) address(collect *bool, a *ShippingAddress) {
	w.boolean("collectShippingAddress", collect)
	w.str("addressName", a.Name)
	w.str("addressLine1", a.Line1)
	w.str("addressLine2", a.Line2)
	w.str("city", a.City)
	w.str("state", a.State)
	w.str("country", a.Country)
	w.str("zip", a.Zip)
	w.str("phoneNumber", a.PhoneNumber)
}

func (w paramWriter) validity(start, expiry time.Time) {
	w.epoch("validityStart", start)
	w.epoch("validityExpiry", expiry)
}

// usageLimit writes limit n under its own names: usageLimitType<n>,
// usageLimitValue<n>, usageLimitPeriod<n>.
func (w paramWriter) usageLimit(n string, l UsageLimit) {
	w.str("usageLimitType"+n, string(l.Type))
	if !l.Value.IsZero() {
		v := l.Value.String()
		if l.Type != UsageLimitCount {
			v = amountParam(l.Value)
		}
		w.b.put("usageLimitValue"+n, v)
	}
	w.str("usageLimitPeriod"+n, l.Period)
}

func (p *SingleUsePipeline) pipelineName() PipelineName { return PipelineSingleUse }

func (p *SingleUsePipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.amount("transactionAmount", p.TransactionAmount)
	w.str("currencyCode", string(p.CurrencyCode))
	w.str("paymentReason", p.PaymentReason)
	w.methods(p.PaymentMethods)
	w.str("recipientToken", p.RecipientToken)
	w.boolean("reserve", p.Reserve)
	w.amount("itemTotal", p.ItemTotal)
	w.amount("shipping", p.Shipping)
	w.amount("handling", p.Handling)
	w.amount("discount", p.Discount)
	w.amount("tax", p.Tax)
	w.amount("giftWrapping", p.GiftWrapping)
	w.address(p.CollectShippingAddress, &p.Address)
	w.boolean("disableGuest", p.DisableGuest)
}

func (p *MultiUsePipeline) pipelineName() PipelineName { return PipelineMultiUse }

func (p *MultiUsePipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.amount("globalAmountLimit", p.GlobalAmountLimit)
	w.str("amountType", string(p.AmountType))
	w.amount("transactionAmount", p.TransactionAmount)
	w.str("currencyCode", string(p.CurrencyCode))
	w.str("paymentReason", p.PaymentReason)
	w.methods(p.PaymentMethods)
	w.boolean("isRecipientCobranding", p.IsRecipientCobranding)
	w.str("recipientTokenList", strings.Join(p.RecipientTokenList, ","))
	w.usageLimit("1", p.UsageLimit1)
	w.usageLimit("2", p.UsageLimit2)
	w.validity(p.ValidityStart, p.ValidityExpiry)
	w.address(p.CollectShippingAddress, &p.Address)
}

func (p *RecurringPipeline) pipelineName() PipelineName { return PipelineRecurring }

func (p *RecurringPipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.amount("transactionAmount", p.TransactionAmount)
	w.str("recurringPeriod", p.RecurringPeriod)
	w.str("currencyCode", string(p.CurrencyCode))
	w.str("paymentReason", p.PaymentReason)
	w.methods(p.PaymentMethods)
	w.str("recipientToken", p.RecipientToken)
	w.validity(p.ValidityStart, p.ValidityExpiry)
	w.address(p.CollectShippingAddress, &p.Address)
}

func (p *RecipientPipeline) pipelineName() PipelineName { return PipelineRecipient }

func (p *RecipientPipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.b.put("maxFixedFee", amountParam(p.MaxFixedFee))
	w.b.put("maxVariableFee", p.MaxVariableFee.String())
	w.boolean("recipientPaysFee", p.RecipientPaysFee)
	w.methods(p.PaymentMethods)
	w.validity(p.ValidityStart, p.ValidityExpiry)
}

func (p *EditTokenPipeline) pipelineName() PipelineName { return PipelineEditToken }

func (p *EditTokenPipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.str("tokenId", p.TokenID)
	w.methods(p.PaymentMethods)
}

func (p *SetupPrepaidPipeline) pipelineName() PipelineName { return PipelineSetupPrepaid }

func (p *SetupPrepaidPipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.str("callerReferenceSender", p.CallerReferenceSender)
	w.str("callerReferenceFunding", p.CallerReferenceFunding)
	w.amount("fundingAmount", p.FundingAmount)
	w.methods(p.PaymentMethods)
	w.str("paymentReason", p.PaymentReason)
	w.validity(p.ValidityStart, p.ValidityExpiry)
}

func (p *SetupPostpaidPipeline) pipelineName() PipelineName { return PipelineSetupPostpaid }

func (p *SetupPostpaidPipeline) params(w paramWriter) {
	w.common(&p.PipelineCommon)
	w.str("callerReferenceSender", p.CallerReferenceSender)
	w.str("callerReferenceSettlement", p.CallerReferenceSettlement)
	w.amount("creditLimit", p.CreditLimit)
	w.amount("globalAmountLimit", p.GlobalAmountLimit)
	w.methods(p.PaymentMethods)
	w.str("paymentReason", p.PaymentReason)
	w.usageLimit("1", p.UsageLimit1)
	w.usageLimit("2", p.UsageLimit2)
	w.validity(p.ValidityStart, p.ValidityExpiry)
}

// PipelineFields is a pipeline given as FPS parameter names and values,
// django-merchant's way: "pipelineName" picks the pipeline, every other
// field is sent as it is, and an empty value is not sent. It is checked by
// the same rules as the typed pipelines: a name the pipeline does not take
// is refused, and callerKey, version and the signature parameters are
// added by the client.
type PipelineFields map[string]string

// AddFields copies fields into f, replacing values of the same name. f
// must not be nil: start from PipelineFields{}.
func (f PipelineFields) AddFields(fields map[string]string) {
	for k, v := range fields {
		f[k] = v
	}
}

func (f PipelineFields) pipelineName() PipelineName { return PipelineName(f["pipelineName"]) }

func (f PipelineFields) params(w paramWriter) {
	for k, v := range f {
		if k != "pipelineName" {
			w.str(k, v)
		}
	}
	// Sorted, so that the order of the errors reported does not depend
	// on map order.
	sigv2.Sort(w.b.params())
}

// PipelineURL returns the signed Co-Branded UI URL that starts pipeline p:
// the client's CBUI endpoint and a query of p's parameters, pipelineName,
// version=2009-01-09, callerKey, signatureMethod, signatureVersion and
// signature, canonical and in the order signed. p is validated first:
// every problem is reported at once, in an *InvalidParamsError whose
// *ValidationErrors name each parameter (as FPS spells it) and its rule.
//
// optFns change the client's options for this URL alone. What plays a
// part in a pipeline URL: Credentials (the callerKey and the signing
// secret), SignatureMethod, and the start URL (CBUIEndpoint, or the
// Environment's when CBUIEndpoint is empty). No request is sent, so the
// other options have no effect here.
func (c *Client) PipelineURL(ctx context.Context, p Pipeline, optFns ...func(*Options)) (string, error) {
	if p == nil {
		return "", invalidParams([]*ValidationError{invalid("pipelineName", "is required")})
	}
	o := &c.options
	if len(optFns) > 0 {
		call := c.options
		for _, fn := range optFns {
			fn(&call)
		}
		o = &call
	}
	cbui, err := c.cbuiEndpointFor(o)
	if err != nil {
		return "", err
	}
	name := p.pipelineName()
	w := paramWriter{c.builders.Get().(*builder)}
	defer c.release(w.b)
	p.params(w)
	if err := checkPipeline(name, w.b.params()); err != nil {
		return "", err
	}
	var buf [32]param // on the stack, as in requestBody
	params := buf[:0]
	if n := len(w.b.params()) + 5; n > len(buf) { // 2 added here, 3 by the signer
		params = make([]param, 0, n)
	}
	params = append(params, w.b.params()...)
	params = append(params, param{Name: "pipelineName", Value: string(name)}, param{Name: "version", Value: CBUIVersion})
	base := c.cbuiURL
	if cbui != c.cbui {
		base = cbui.String()
	}
	b := make([]byte, 0, len(base)+1+signedQuerySize(params))
	b = append(b, base...)
	b = append(b, '?')
	b, err = c.appendSignedQuery(ctx, o, b, http.MethodGet, cbui, cbuiDialect, params)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// LinkURL returns the signed pipeline URL of fields: django-merchant's
// link_url. It is PipelineURL for a PipelineFields, optFns included.
func (c *Client) LinkURL(ctx context.Context, fields PipelineFields, optFns ...func(*Options)) (string, error) {
	return c.PipelineURL(ctx, fields, optFns...)
}

// checkPipeline applies the rules of pipeline name (internal/rules) to
// params: every parameter known to the pipeline and well formed, every
// required one present, and the rules between parameters. Every problem
// is in the error.
func checkPipeline(name PipelineName, params []param) error {
	rp, e := rules.LookupPipeline(string(name))
	if e != nil {
		return invalidParams([]*ValidationError{validation(e)})
	}
	check := rp.Check()
	for _, p := range params {
		check.Param(p.Name, p.Value)
	}
	errs := check.Done()
	if len(errs) == 0 {
		return nil
	}
	ves := make([]*ValidationError, len(errs))
	for i, e := range errs {
		ves[i] = validation(e)
	}
	return invalidParams(ves)
}

// PipelineStatus is the status code the Co-Branded UI appends to the
// return URL.
type PipelineStatus string

// The Co-Branded UI status codes.
const (
	PipelineStatusSuccessABT       PipelineStatus = "SA" // success, Amazon Payments balance
	PipelineStatusSuccessACH       PipelineStatus = "SB" // success, bank account
	PipelineStatusSuccessCC        PipelineStatus = "SC" // success, credit card
	PipelineStatusSystemError      PipelineStatus = "SE"
	PipelineStatusAborted          PipelineStatus = "A"  // the buyer abandoned the pipeline
	PipelineStatusCallerException  PipelineStatus = "CE" // bad input from the merchant; see ErrorMessage
	PipelineStatusPaymentMismatch  PipelineStatus = "PE" // the buyer lacks the payment method asked for
	PipelineStatusNotPermitted     PipelineStatus = "NP"
	PipelineStatusNotRegistered    PipelineStatus = "NM" // not a registered third-party caller
	PipelineStatusRecipientSuccess PipelineStatus = "SR" // recipient token installed
	PipelineStatusUnchanged        PipelineStatus = "SU" // EditToken finished, token unchanged
)

var pipelineStatusMeaning = map[PipelineStatus]string{
	PipelineStatusSuccessABT:       "success: the buyer chose the Amazon Payments balance",
	PipelineStatusSuccessACH:       "success: the buyer chose a bank account",
	PipelineStatusSuccessCC:        "success: the buyer chose a credit card",
	PipelineStatusSystemError:      "system error at Amazon",
	PipelineStatusAborted:          "the buyer abandoned the pipeline",
	PipelineStatusCallerException:  "caller exception: the pipeline request was not well formed",
	PipelineStatusPaymentMismatch:  "payment method mismatch: the buyer has none of the methods asked for",
	PipelineStatusNotPermitted:     "not permitted",
	PipelineStatusNotRegistered:    "the caller is not registered as a third-party caller for this transaction",
	PipelineStatusRecipientSuccess: "success: recipient token installed",
	PipelineStatusUnchanged:        "success: token edited, nothing changed",
}

// Meaning describes the status in words; "unknown status" for a code FPS
// does not define.
func (s PipelineStatus) Meaning() string {
	if m, ok := pipelineStatusMeaning[s]; ok {
		return m
	}
	return "unknown status"
}

// Values returns the documented status codes, sorted.
func (PipelineStatus) Values() []PipelineStatus {
	return slices.Sorted(maps.Keys(pipelineStatusMeaning))
}

// Known reports whether s is one of the documented codes.
func (s PipelineStatus) Known() bool { _, ok := pipelineStatusMeaning[s]; return ok }

// Success reports whether the pipeline installed (or kept) a token: SA,
// SB, SC, SR or SU.
func (s PipelineStatus) Success() bool {
	switch s {
	case PipelineStatusSuccessABT, PipelineStatusSuccessACH, PipelineStatusSuccessCC,
		PipelineStatusRecipientSuccess, PipelineStatusUnchanged:
		return true
	}
	return false
}

// PipelineReturn is what the Co-Branded UI appended to the return URL.
// Its signature is checked by a Verifier, not here.
type PipelineReturn struct {
	Status          PipelineStatus
	CallerReference string
	TokenID         string // sender token (SingleUse, MultiUse, Recurring), recipient token (SR), edited token
	RefundTokenID   string // Recipient pipeline
	Expiry          string // MM/YYYY
	ErrorMessage    string

	// SetupPostpaid
	CreditInstrumentID  string
	CreditSenderTokenID string
	SettlementTokenID   string

	// SetupPrepaid
	PrepaidInstrumentID  string
	PrepaidSenderTokenID string
	FundingTokenID       string

	// Params holds every parameter received, the signature fields and any
	// the merchant put in the return URL included.
	Params url.Values
}

// ParsePipelineReturn reads the parameters Amazon appended to the return
// URL (the query of the request, decoded). A missing or unknown status is
// an error; a success without a token is an error.
func ParsePipelineReturn(query url.Values) (*PipelineReturn, error) {
	r := &PipelineReturn{
		Status:               PipelineStatus(query.Get("status")),
		CallerReference:      query.Get("callerReference"),
		TokenID:              query.Get("tokenID"),
		RefundTokenID:        query.Get("refundTokenID"),
		Expiry:               query.Get("expiry"),
		ErrorMessage:         query.Get("errorMessage"),
		CreditInstrumentID:   query.Get("creditInstrumentID"),
		CreditSenderTokenID:  query.Get("creditSenderTokenID"),
		SettlementTokenID:    query.Get("settlementTokenID"),
		PrepaidInstrumentID:  query.Get("prepaidInstrumentID"),
		PrepaidSenderTokenID: query.Get("prepaidSenderTokenID"),
		FundingTokenID:       query.Get("fundingTokenID"),
		Params:               query,
	}
	if r.Status == "" {
		return nil, fmt.Errorf("fps: pipeline return: status is missing")
	}
	if !r.Status.Known() {
		return nil, fmt.Errorf("fps: pipeline return: status %q is not a Co-Branded UI status code", string(r.Status))
	}
	if r.Status.Success() && r.TokenID == "" && r.CreditInstrumentID == "" && r.PrepaidInstrumentID == "" {
		return nil, fmt.Errorf("fps: pipeline return: status %s without a token id", string(r.Status))
	}
	return r, nil
}
