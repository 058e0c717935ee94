package fpstest

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
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

// pipeline is a pipeline request waiting for the buyer.
type pipeline struct {
	id        string
	owner     string
	name      string
	q         url.Values
	returnURL *url.URL
	methods   []string
	seq       uint64 // order of start, for forgetting the oldest
}

// approval remembers the result of an approved pipeline, so the same
// callerReference gets the same tokens again.
type approval struct{ params url.Values }

var pipelineRequired = map[string][]string{
	"SingleUse":     {"transactionAmount"},
	"MultiUse":      {"globalAmountLimit"},
	"Recurring":     {"transactionAmount", "recurringPeriod"},
	"Recipient":     {"maxFixedFee", "maxVariableFee", "recipientPaysFee"},
	"EditToken":     {"tokenId"},
	"SetupPrepaid":  {"callerReferenceSender", "callerReferenceFunding", "fundingAmount"},
	"SetupPostpaid": {"callerReferenceSender", "callerReferenceSettlement", "creditLimit", "globalAmountLimit"},
}

var tokenTypeOf = map[string]string{"SingleUse": TokenSingleUse, "MultiUse": TokenMultiUse, "Recurring": TokenRecurring}

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
			params := slices.DeleteFunc(sigv2.Params(q), func(p sigv2.Param) bool { return p.Name == "signature" })
			scheme := strings.SplitN(s.URL, ":", 2)[0]
			endpoint := &url.URL{Scheme: scheme, Host: host, Path: cbuiStartPath}
			want, err := sigv2.SignHMAC(string(method), secret, sigv2.StringToSign(http.MethodGet, endpoint, params))
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
	l := s.ledger
	l.lock()
	defer l.unlock()
	if name == "EditToken" && known {
		if t, ok := l.tokens[q.Get("tokenId")]; !ok || t.owner != key || t.role != "sender" {
			add("tokenId")
		}
	}
	if len(bad) > 0 {
		res := url.Values{}
		res.Set("status", "CE")
		res.Set("errorMessage", "The following input(s) are not well formed: ["+strings.Join(bad, ", ")+"]")
		if ref != "" {
			res.Set("callerReference", ref)
		}
		u, err := s.returnTo(ret, res)
		return u, nil, err
	}
	if a, ok := l.approved[idemKey{key, ref}]; ok {
		u, err := s.returnTo(ret, cloneValues(a.params))
		return u, nil, err
	}
	p := &pipeline{id: newID(32), owner: key, name: name, q: q, returnURL: ret, methods: methods}
	l.openSession(p)
	return nil, p, nil
}

// maxOpenPipelines bounds the pipelines that wait for their buyer at once
// (every page view of a start URL opens one; a buyer who walks away never
// closes it).
const maxOpenPipelines = 10000

// openSession keeps p until its buyer answers. When maxSessions wait
// already, the oldest is forgotten to make room: its page then answers
// ErrUnknownPipeline, as one already answered does. Called with l locked.
func (l *Ledger) openSession(p *pipeline) {
	if len(l.sessions) >= l.maxSessions {
		var oldest *pipeline
		for _, q := range l.sessions {
			if oldest == nil || q.seq < oldest.seq {
				oldest = q
			}
		}
		delete(l.sessions, oldest.id)
	}
	l.sessionSeq++
	p.seq = l.sessionSeq
	l.sessions[p.id] = p
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
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
// return URL.
func (s *Server) decide(id string, choice BuyerChoice) (*url.URL, error) {
	l := s.ledger
	l.lock()
	defer l.unlock()
	p, ok := l.sessions[id]
	if !ok {
		return nil, ErrUnknownPipeline
	}
	res := url.Values{}
	ref := p.q.Get("callerReference")
	switch choice.Action {
	case Abandon:
		res.Set("status", "A")
	case Decline:
		res.Set("status", "NP")
		res.Set("errorMessage", "The buyer declined to authorize the payment.")
		res.Set("callerReference", ref)
	case Approve:
		method := choice.PaymentMethod
		if method == "" {
			method = p.methods[0]
		}
		if !slices.Contains(p.methods, method) {
			return nil, fmt.Errorf("fpstest: payment method %q is not allowed by this pipeline (%s)", method, strings.Join(p.methods, ","))
		}
		res = l.approve(p, method, s.clock.Now())
		l.approved[idemKey{p.owner, ref}] = &approval{params: cloneValues(res)}
	default:
		return nil, fmt.Errorf("fpstest: buyer action %q is not approve, decline or abandon", choice.Action)
	}
	delete(l.sessions, id)
	return s.returnTo(p.returnURL, res)
}

var statusOfMethod = map[string]string{"ABT": "SA", "ACH": "SB", "CC": "SC"}

// approve installs what pipeline p installs and returns the result
// parameters. Called with l locked.
func (l *Ledger) approve(p *pipeline, method string, now time.Time) url.Values {
	q := p.q
	res := url.Values{}
	ref := q.Get("callerReference")
	expiry := now.AddDate(3, 0, 0).Format("01/2006")
	sender := func(typ, callerRef string) *token {
		t := l.newToken(p.owner, typ, "sender", callerRef)
		t.method = method
		t.reason = q.Get("paymentReason")
		if v, err := strconv.ParseInt(q.Get("validityStart"), 10, 64); err == nil {
			t.validFrom = time.Unix(v, 0)
		}
		if v, err := strconv.ParseInt(q.Get("validityExpiry"), 10, 64); err == nil {
			t.expiry = time.Unix(v, 0)
		}
		return t
	}
	// setup installs an instrument of kind (SetupPrepaid, SetupPostpaid),
	// the sender token that spends from it with method, and the token,
	// in role, that pays into it.
	setup := func(kind, method, role, payerRefParam string) (in *instrument, spend, payer *token) {
		in = &instrument{id: newID(64), owner: p.owner, kind: kind}
		l.instruments[in.id] = in
		spend = sender(TokenUnrestricted, q.Get("callerReferenceSender"))
		spend.method, spend.instrument = method, in.id
		payer = sender(TokenMultiUse, q.Get(payerRefParam))
		payer.role = role
		return in, spend, payer
	}
	dec := func(name string) decimal.Decimal {
		d, _ := decimal.NewFromString(q.Get(name))
		return d
	}
	switch p.name {
	case "SingleUse", "MultiUse", "Recurring":
		t := sender(tokenTypeOf[p.name], ref)
		t.amount = dec("transactionAmount")
		t.amountType = q.Get("amountType")
		if p.name == "MultiUse" {
			t.globalLimit = dec("globalAmountLimit")
		}
		res.Set("tokenID", t.id)
		res.Set("status", statusOfMethod[method])
		res.Set("callerReference", ref)
		res.Set("expiry", expiry)
	case "Recipient":
		rt := l.newToken(p.owner, TokenUnrestricted, "recipient", ref)
		ft := l.newToken(p.owner, TokenUnrestricted, "refund", ref)
		res.Set("tokenID", rt.id)
		res.Set("refundTokenID", ft.id)
		res.Set("status", "SR")
		res.Set("callerReference", ref)
	case "EditToken":
		t := l.tokens[q.Get("tokenId")]
		status := statusOfMethod[method]
		if t.method == method {
			status = "SU"
		}
		t.method = method
		res.Set("tokenID", t.id)
		res.Set("status", status)
		res.Set("callerReference", ref)
	case "SetupPrepaid":
		in, ps, ft := setup("prepaid", "Prepaid", "funding", "callerReferenceFunding")
		res.Set("prepaidInstrumentID", in.id)
		res.Set("prepaidSenderTokenID", ps.id)
		res.Set("fundingTokenID", ft.id)
		res.Set("status", statusOfMethod[method])
		res.Set("callerReference", ref)
	case "SetupPostpaid":
		in, cs, st := setup("credit", "Debt", "settlement", "callerReferenceSettlement")
		in.creditLimit, cs.globalLimit = dec("creditLimit"), dec("globalAmountLimit")
		res.Set("creditInstrumentID", in.id)
		res.Set("creditSenderTokenID", cs.id)
		res.Set("settlementTokenID", st.id)
		res.Set("status", statusOfMethod[method])
		res.Set("expiry", expiry)
	}
	return res
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

// pageStyle is the little CSS of the simulator's pages.
const pageStyle = `<style>
body{margin:0;background:#eaeded;color:#111;font:15px/1.5 "DejaVu Sans",Arial,sans-serif}
header{background:#232f3e;color:#fff;padding:.7rem 2rem;font-weight:bold;font-size:1.1rem}
header span{color:#ff9900}
main{max-width:34rem;margin:2rem auto;background:#fff;border:1px solid #d5d9d9;border-radius:8px;padding:1.2rem 2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
fieldset{border:1px solid #d5d9d9;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
label{display:block;padding:.2rem 0}
button{font:inherit;padding:.4rem 1rem;border-radius:6px;border:1px solid #a88734;background:#f7dfa5;margin-right:.4rem;cursor:pointer}
button[value=approve]{background:#ffd814;border-color:#fcd200;font-weight:bold}
</style>`

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amazon Payments (simulated)</title>` + pageStyle + `</head>
<body>
<header>amazon <span>payments</span> · simulator</header>
<main>
<h1>Amazon Payments (simulated)</h1>
<p>{{.Pipeline}} authorization for <b>{{.Caller}}</b>{{if .Amount}}: USD {{.Amount}}{{end}}</p>
{{if .Reason}}<p>Reason: {{.Reason}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="session" value="{{.Session}}">
<fieldset><legend>Payment method</legend>
{{range $i, $m := .Methods}}<label><input type="radio" name="paymentMethod" value="{{$m.Code}}"{{if eq $i 0}} checked{{end}}> {{$m.Name}} ({{$m.Code}})</label>
{{end}}</fieldset>
<button name="action" value="approve">Approve</button>
<button name="action" value="decline">Decline</button>
<button name="action" value="abandon">Cancel and return</button>
</form>
</main>
</body></html>
`))

// paymentMethod is a payment method as the pipeline page shows it.
type paymentMethod struct{ Code, Name string }

func paymentMethods(codes []string) []paymentMethod {
	out := make([]paymentMethod, len(codes))
	for i, c := range codes {
		out[i] = paymentMethod{Code: c, Name: c}
		switch c {
		case "ABT":
			out[i].Name = "Amazon Payments balance"
		case "ACH":
			out[i].Name = "Bank account"
		case "CC":
			out[i].Name = "Credit card"
		}
	}
	return out
}

var errorTmpl = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amazon Payments (simulated): error</title></head>
<body><h1>Caller Input Exception</h1><p>{{.}}</p></body></html>
`))

func (s *Server) serveCBUIStart(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		pageFail(w, "The pipeline URL is not a well-formed query: "+err.Error())
		return
	}
	redirect, p, err := s.startPipeline(r.Host, q)
	if err != nil {
		pageFail(w, err.Error())
		return
	}
	if redirect != nil {
		http.Redirect(w, r, redirect.String(), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTmpl.Execute(w, map[string]any{
		"Pipeline": p.name, "Caller": s.accountName(p.owner), "Amount": q.Get("transactionAmount"),
		"Reason": q.Get("paymentReason"), "Action": cbuiDecidePath, "Session": p.id, "Methods": paymentMethods(p.methods),
	})
}

func (s *Server) accountName(key string) string {
	for _, a := range s.cfg.Accounts {
		if a.AccessKeyID == key {
			return a.Name
		}
	}
	return key
}

func pageFail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorTmpl.Execute(w, msg)
}

func (s *Server) serveCBUIDecide(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		pageFail(w, err.Error())
		return
	}
	u, err := s.decide(r.PostForm.Get("session"), BuyerChoice{
		Action: BuyerAction(r.PostForm.Get("action")), PaymentMethod: r.PostForm.Get("paymentMethod"),
	})
	if err != nil {
		pageFail(w, err.Error())
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Server) serveCBUIBuy(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, err := s.Buy(r.Context(), r.PostForm.Get("url"), BuyerChoice{
		Action: BuyerAction(r.PostForm.Get("action")), PaymentMethod: r.PostForm.Get("paymentMethod"),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}
