package fpstest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/fpskit/fps/internal/sigv2"
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

// pageError is a pipeline request too broken to redirect back.
type pageError struct{ msg string }

func (e *pageError) Error() string { return e.msg }

// startPipeline answers a pipeline start URL that arrived at host, in
// steps: check the signature and the rest of the envelope, check the
// pipeline's parameters by the rule table (internal/rules, the client's
// own) and then the token an EditToken edits against the ledger, answer
// a repeated callerReference as the first time, open the buyer's
// session. It returns either a redirect (CE, or the earlier answer) or
// the pipeline waiting for the buyer; without a returnURL to go back to,
// a *pageError.
func (s *Server) startPipeline(host string, q url.Values) (*url.URL, *pipeline, error) {
	ret, e := rules.ParseHTTPURL("returnURL", q.Get("returnURL"), false)
	if e != nil {
		return nil, nil, &pageError{"returnURL is missing or is not an absolute http(s) URL; the buyer cannot be sent back."}
	}
	ret.Fragment = ""
	key, ref := q.Get("callerKey"), q.Get("callerReference")
	bad := s.checkEnvelope(host, q)
	p, badParams := checkPipelineParams(q)
	bad = appendNew(bad, badParams...)
	if len(bad) == 0 && p.name == "EditToken" && !s.ledger.isSenderToken(key, q.Get("tokenId")) {
		bad = []string{"tokenId"}
	}
	if len(bad) > 0 {
		u, err := s.callerException(ret, ref, bad)
		return u, nil, err
	}
	if res, ok := s.ledger.approval(key, ref); ok {
		u, err := s.returnTo(ret, res)
		return u, nil, err
	}
	p.id, p.owner, p.returnURL = newID(32), key, ret
	s.sessions.add(p)
	return nil, p, nil
}

// checkEnvelope checks what the client adds around the pipeline's own
// parameters: each at most once, the version, the caller's key and the
// signature. It returns the names of the parameters refused.
func (s *Server) checkEnvelope(host string, q url.Values) []string {
	var bad []string
	for _, name := range rules.Envelope {
		if len(q[name]) > 1 {
			bad = append(bad, name)
		}
	}
	secret, known := s.secret(q.Get("callerKey"))
	method := fps.SignatureMethod(q.Get("signatureMethod"))
	switch {
	case !known:
		bad = appendNew(bad, "callerKey")
	case q.Get("signatureVersion") != "2":
		bad = appendNew(bad, "signatureVersion")
	case method != fps.HmacSHA256 && method != fps.HmacSHA1:
		bad = appendNew(bad, "signatureMethod")
	case !s.signedCBUI(host, q, method, secret):
		bad = appendNew(bad, "signature")
	}
	if q.Get("version") != fps.CBUIVersion {
		bad = appendNew(bad, "version")
	}
	return bad
}

// signedCBUI reports whether q carries the signature of a GET of the
// pipeline start URL at host, under secret: the host signed with its port
// (Amazon's PHP and Java pipeline classes) or without it (amazon_flex_pay,
// remit).
func (s *Server) signedCBUI(host string, q url.Values, method fps.SignatureMethod, secret string) bool {
	params := slices.DeleteFunc(sigv2.Params(q), func(p sigv2.Param) bool { return p.Name == "signature" })
	scheme, _, _ := strings.Cut(s.URL, ":")
	endpoint := &url.URL{Scheme: scheme, Host: host, Path: cbuiStartPath}
	return signedByHMAC(http.MethodGet, endpoint, params, string(method), secret, q.Get("signature"))
}

// checkPipelineParams checks the pipeline's own parameters (all but the
// envelope) by the rule table. It returns the pipeline to open (nil when
// pipelineName names none) and the names of the parameters refused.
func checkPipelineParams(q url.Values) (*pipeline, []string) {
	rp, e := rules.LookupPipeline(q.Get("pipelineName"))
	if e != nil {
		return nil, []string{e.Field}
	}
	check := rp.Check()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if rules.IsEnvelope(name) {
			continue
		}
		for _, v := range q[name] {
			check.Param(name, v)
		}
	}
	var bad []string
	for _, e := range check.Done() {
		bad = appendNew(bad, e.Field)
	}
	methods := slices.Clone(rules.PaymentMethods)
	if m, e := rules.ParsePaymentMethods("paymentMethod", q.Get("paymentMethod")); e == nil {
		methods = m
	}
	return &pipeline{name: rp.Name, q: q, methods: methods}, bad
}

// appendNew appends the names not in list yet.
func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
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
