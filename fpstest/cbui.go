package fpstest

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

const (
	cbuiStartPath  = "/cobranded-ui/actions/start"
	cbuiDecidePath = "/cobranded-ui/actions/decide"
	cbuiBuyPath    = "/cobranded-ui/actions/buy"
)

// BuyerAction is what the simulated buyer does on the pipeline page.
type BuyerAction string

// The buyer's choices.
const (
	// Approve installs the token(s): status SA, SB or SC by payment
	// method (SR for Recipient, SU for an unchanged EditToken).
	Approve BuyerAction = "approve"
	// Decline refuses: status NP.
	Decline BuyerAction = "decline"
	// Abandon leaves the pipeline: status A.
	Abandon BuyerAction = "abandon"
)

// BuyerChoice is the buyer's answer to a pipeline page.
type BuyerChoice struct {
	Action BuyerAction
	// PaymentMethod is ABT, ACH or CC; empty picks the first the pipeline
	// allows.
	PaymentMethod string
}

var pipelineRequired = map[string][]string{
	"SingleUse":     {"transactionAmount"},
	"MultiUse":      {"globalAmountLimit"},
	"Recurring":     {"transactionAmount", "recurringPeriod"},
	"Recipient":     {"maxFixedFee", "maxVariableFee", "recipientPaysFee"},
	"EditToken":     {"tokenId"},
	"SetupPrepaid":  {"callerReferenceSender", "callerReferenceFunding", "fundingAmount"},
	"SetupPostpaid": {"callerReferenceSender", "callerReferenceSettlement", "creditLimit", "globalAmountLimit"},
}

// pageError is a pipeline request too broken to redirect back.
type pageError struct{ msg string }

func (e *pageError) Error() string { return e.msg }

// start checks a pipeline request that arrived at host. It returns either
// a redirect (CE, or the earlier answer to a repeated callerReference) or
// a pipeline waiting for the buyer.
func (s *Server) startPipeline(host string, q url.Values) (*url.URL, *pipeline, error) {
	ret, err := url.Parse(q.Get("returnURL"))
	if err != nil || (ret.Scheme != "http" && ret.Scheme != "https") || ret.Host == "" {
		return nil, nil, &pageError{"returnURL is missing or is not an absolute http(s) URL; the buyer cannot be sent back."}
	}
	ret.Fragment = ""
	var bad []string
	add := func(name string) {
		if !slices.Contains(bad, name) {
			bad = append(bad, name)
		}
	}
	for name, vs := range q {
		if len(vs) > 1 {
			add(name)
		}
	}
	key := q.Get("callerKey")
	secret, known := s.secret(key)
	if !known {
		add("callerKey")
	} else {
		method := fps.SignatureMethod(q.Get("signatureMethod"))
		if q.Get("signatureVersion") != "2" {
			add("signatureVersion")
		} else if method != fps.HmacSHA256 && method != fps.HmacSHA1 {
			add("signatureMethod")
		} else {
			params := slices.DeleteFunc(fps.ParamsFromValues(q), func(p fps.Param) bool { return p.Name == "signature" })
			scheme := strings.SplitN(s.URL, ":", 2)[0]
			endpoint := &url.URL{Scheme: scheme, Host: host, Path: cbuiStartPath}
			want, err := fps.SignHMAC(method, secret, fps.StringToSign(http.MethodGet, endpoint, params))
			if err != nil || !hmac.Equal([]byte(want), []byte(q.Get("signature"))) {
				add("signature")
			}
		}
	}
	name := q.Get("pipelineName")
	required, ok := pipelineRequired[name]
	if !ok {
		add("pipelineName")
	}
	ref := q.Get("callerReference")
	if ref == "" || utf8.RuneCountInString(ref) > 128 {
		add("callerReference")
	}
	if q.Get("version") != fps.CBUIVersion {
		add("version")
	}
	for _, r := range required {
		if q.Get(r) == "" {
			add(r)
		}
	}
	for _, a := range []string{"transactionAmount", "globalAmountLimit", "fundingAmount", "creditLimit"} {
		if v := q.Get(a); v != "" && !positiveAmount(v) {
			add(a)
		}
	}
	if v := q.Get("maxFixedFee"); v != "" && !nonNegative(v) {
		add("maxFixedFee")
	}
	if v := q.Get("maxVariableFee"); v != "" && !nonNegative(v) {
		add("maxVariableFee")
	}
	if v := q.Get("currencyCode"); v != "" && v != "USD" {
		add("currencyCode")
	}
	for _, b := range []string{"reserve", "recipientPaysFee", "isRecipientCobranding", "collectShippingAddress"} {
		if v := q.Get(b); v != "" && v != "True" && v != "False" {
			add(b)
		}
	}
	if v := q.Get("amountType"); v != "" && v != "Exact" && v != "Maximum" && v != "Minimum" {
		add("amountType")
	}
	if q.Get("isRecipientCobranding") == "True" && q.Get("recipientTokenList") == "" {
		add("recipientTokenList")
	}
	for _, t := range []string{"validityStart", "validityExpiry"} {
		if v := q.Get(t); v != "" {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				add(t)
			}
		}
	}
	if v := q.Get("recurringPeriod"); v != "" && !validPeriod(v) {
		add("recurringPeriod")
	}
	for _, i := range []string{"1", "2"} {
		typ := q.Get("usageLimitType" + i)
		if typ != "" && typ != "Amount" && typ != "Count" {
			add("usageLimitType" + i)
		}
		if typ != "" && q.Get("usageLimitValue"+i) == "" {
			add("usageLimitValue" + i)
		}
	}
	methods := []string{"ABT", "ACH", "CC"}
	if v := q.Get("paymentMethod"); v != "" {
		methods = nil
		for _, m := range strings.Split(v, ",") {
			m = strings.TrimSpace(m)
			if m != "ABT" && m != "ACH" && m != "CC" {
				add("paymentMethod")
				break
			}
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	if name == "EditToken" && known && !s.ledger.isSenderToken(key, q.Get("tokenId")) {
		add("tokenId")
	}
	if len(bad) > 0 {
		u, err := s.callerException(ret, ref, bad)
		return u, nil, err
	}
	if res, ok := s.ledger.approval(key, ref); ok {
		u, err := s.returnTo(ret, res)
		return u, nil, err
	}
	p := &pipeline{id: newID(32), owner: key, name: name, q: q, returnURL: ret, methods: methods}
	s.sessions.add(p)
	return nil, p, nil
}

func positiveAmount(v string) bool {
	d, err := decimal.NewFromString(v)
	return err == nil && !strings.ContainsAny(v, "eE") && d.IsPositive() && d.Equal(d.Truncate(2))
}

func nonNegative(v string) bool {
	d, err := decimal.NewFromString(v)
	return err == nil && !strings.ContainsAny(v, "eE") && !d.IsNegative()
}

func validPeriod(v string) bool {
	n, unit, ok := strings.Cut(v, " ")
	if !ok {
		return false
	}
	if k, err := strconv.Atoi(n); err != nil || k < 1 {
		return false
	}
	switch strings.TrimSuffix(unit, "s") {
	case "Day", "Week", "Month", "Year":
		return true
	}
	return false
}

// callerException returns the signed return URL of a CE naming bad.
func (s *Server) callerException(ret *url.URL, ref string, bad []string) (*url.URL, error) {
	res := url.Values{}
	res.Set("status", "CE")
	res.Set("errorMessage", "The following input(s) are not well formed: ["+strings.Join(bad, ", ")+"]")
	if ref != "" {
		res.Set("callerReference", ref)
	}
	return s.returnTo(ret, res)
}

// returnTo signs res for the return URL ret (whose own query parameters
// are kept and signed too) and returns the URL to redirect to.
func (s *Server) returnTo(ret *url.URL, res url.Values) (*url.URL, error) {
	params := ret.Query()
	for k, vs := range res {
		params[k] = vs
	}
	if err := s.signOutbound(http.MethodGet, ret, params); err != nil {
		return nil, err
	}
	u := *ret
	u.RawQuery = params.Encode()
	return &u, nil
}

// ErrUnknownPipeline is returned for a pipeline that was already answered
// or never started.
var ErrUnknownPipeline = errors.New("fpstest: unknown or already answered pipeline")

// decide applies the buyer's choice to pipeline id and returns the signed
// return URL. A choice the pipeline does not allow leaves it waiting.
func (s *Server) decide(id string, choice BuyerChoice) (*url.URL, error) {
	p, ok := s.sessions.get(id)
	if !ok {
		return nil, ErrUnknownPipeline
	}
	method, err := p.choose(choice)
	if err != nil {
		return nil, err
	}
	if !s.sessions.take(id) {
		return nil, ErrUnknownPipeline // answered meanwhile
	}
	res := url.Values{}
	switch choice.Action {
	case Abandon:
		res.Set("status", "A")
	case Decline:
		res.Set("status", "NP")
		res.Set("errorMessage", "The buyer declined to authorize the payment.")
		res.Set("callerReference", p.q.Get("callerReference"))
	case Approve:
		res = s.ledger.approvePipeline(p.owner, p.name, p.q, method, s.clock.Now())
	}
	return s.returnTo(p.returnURL, res)
}

// choose checks the buyer's choice against p, and returns the payment
// method of an approval (the first p allows when the buyer names none).
func (p *pipeline) choose(choice BuyerChoice) (string, error) {
	switch choice.Action {
	case Abandon, Decline:
		return "", nil
	case Approve:
		method := choice.PaymentMethod
		if method == "" {
			method = p.methods[0]
		}
		if !slices.Contains(p.methods, method) {
			return "", fmt.Errorf("fpstest: payment method %q is not allowed by this pipeline (%s)", method, strings.Join(p.methods, ","))
		}
		return method, nil
	}
	return "", fmt.Errorf("fpstest: buyer action %q is not approve, decline or abandon", choice.Action)
}

// Buy plays the buyer without a browser: it opens pipelineURL (a signed
// pipeline start URL of this simulator), answers its page with choice,
// and returns the signed return URL the browser would be redirected to.
// A pipeline the simulator refuses (CE) returns its signed CE return URL
// and no error.
func (s *Server) Buy(ctx context.Context, pipelineURL string, choice BuyerChoice) (*url.URL, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(pipelineURL)
	if err != nil {
		return nil, fmt.Errorf("fpstest: pipeline URL: %w", err)
	}
	if u.Path != cbuiStartPath {
		return nil, fmt.Errorf("fpstest: pipeline URL path %q is not %s", u.Path, cbuiStartPath)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("fpstest: pipeline URL query: %w", err)
	}
	redirect, p, err := s.startPipeline(u.Host, q)
	if err != nil || redirect != nil {
		return redirect, err
	}
	return s.decide(p.id, choice)
}
