package fpstest

import (
	"crypto/hmac"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/fpskit/fps/internal/sigv2"
)

// RequestExpiry is how far a request's Timestamp may be from the
// simulator's clock, either way.
const RequestExpiry = 15 * time.Minute

// apiError is an FPS error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// fail returns a 400 error with code and a formatted message.
func fail(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// errInternal is FPS's answer to a call that failed inside the service.
func errInternal() *apiError {
	return &apiError{http.StatusInternalServerError, "InternalError", "There was an internal error in the service. Please try again."}
}

func missing(name string) *apiError {
	return fail("InvalidParams", "%s is required but was not given.", name)
}

func badValue(name, value, rule string) *apiError {
	msg := fmt.Sprintf("Value (%s) for parameter %s is invalid.", value, name)
	if rule != "" {
		msg += " " + rule
	}
	return fail("InvalidParameterValue", "%s", msg)
}

// request is one authenticated API call.
type request struct {
	action  string
	version string // the API version of the request, one of fps.APIVersions()
	form    url.Values
	key     string // caller access key id; "" for unsigned VerifySignature
	now     time.Time
}

func (rq *request) get(name string) string { return rq.form.Get(name) }

func (rq *request) need(name string) (string, *apiError) {
	v := rq.form.Get(name)
	if v == "" {
		return "", missing(name)
	}
	return v, nil
}

type actionFunc func(s *Server, rq *request) ([]byte, *apiError)

// actionTable lists the actions the simulator serves, in all the API
// versions: which versions have an action, and which of its parameters,
// is what the client declares (fps.ActionVersions,
// fps.ParameterVersions).
func actionTable() map[string]actionFunc {
	return map[string]actionFunc{
		"Pay":                            (*Server).actPay,
		"Reserve":                        (*Server).actReserve,
		"Settle":                         (*Server).actSettle,
		"Refund":                         (*Server).actRefund,
		"Cancel":                         (*Server).actCancel,
		"CancelToken":                    (*Server).actCancelToken,
		"GetTransactionStatus":           (*Server).actGetTransactionStatus,
		"GetTransaction":                 (*Server).actGetTransaction,
		"GetTokens":                      (*Server).actGetTokens,
		"GetTokenByCaller":               (*Server).actGetTokenByCaller,
		"GetTokenUsage":                  (*Server).actGetTokenUsage,
		"GetAccountActivity":             (*Server).actGetAccountActivity,
		"GetAccountBalance":              (*Server).actGetAccountBalance,
		"VerifySignature":                (*Server).actVerifySignature,
		"FundPrepaid":                    (*Server).actFundPrepaid,
		"GetPrepaidBalance":              (*Server).actGetPrepaidBalance,
		"GetTotalPrepaidLiability":       (*Server).actGetTotalPrepaidLiability,
		"SettleDebt":                     (*Server).actSettleDebt,
		"WriteOffDebt":                   (*Server).actWriteOffDebt,
		"GetDebtBalance":                 (*Server).actGetDebtBalance,
		"GetOutstandingDebtBalance":      (*Server).actGetOutstandingDebtBalance,
		"InstallPaymentInstruction":      (*Server).actInstallPaymentInstruction,
		"GetPaymentInstruction":          (*Server).actGetPaymentInstruction,
		"CancelSubscriptionAndRefund":    (*Server).actCancelSubscriptionAndRefund,
		"GetRecipientVerificationStatus": (*Server).actGetRecipientVerificationStatus,
		"GetSubscriptionDetails":         (*Server).actGetSubscriptionDetails,
		"GetTransactionsForSubscription": (*Server).actGetTransactionsForSubscription,
	}
}

// Actions returns the names of the API actions the simulator serves, in
// one API version or another (fps.ActionVersions says which).
func Actions() []string {
	var names []string
	for n := range actionTable() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, &apiError{http.StatusMethodNotAllowed, "InvalidHttpRequest", "Only GET and POST are accepted."})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, fail("InvalidParameterValue", "The request is not a well-formed form: %v", err))
		return
	}
	rq, aerr := s.authenticate(r)
	if aerr != nil {
		s.log(r, rq, aerr.status, aerr.code)
		writeError(w, aerr)
		return
	}
	if aerr := checkVersion(rq); aerr != nil {
		s.log(r, rq, aerr.status, aerr.code)
		writeError(w, aerr)
		return
	}
	s.sweep()
	fault := s.faults.pick(rq.action)
	switch fault {
	case Fault500:
		s.log(r, rq, 500, "fault")
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	case Fault503:
		s.log(r, rq, 503, "fault")
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case FaultInternalError:
		s.log(r, rq, 500, "InternalError")
		writeError(w, errInternal())
		return
	case FaultLatency:
		select {
		case <-time.After(s.faults.latency()):
		case <-r.Context().Done():
			// The caller went away: answer nothing, as a server whose
			// connection closed, rather than an empty 200.
			s.log(r, rq, 0, "caller gone")
			panic(http.ErrAbortHandler)
		case <-s.ctx.Done():
		}
	}
	body, aerr := s.actions[rq.action](s, rq)
	if fault == FaultDropAfterCommit {
		s.log(r, rq, 0, "dropped")
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if aerr == nil && s.ledger.unsaved() != nil {
		// Not kept: the caller tries again, and the same request is
		// answered from memory once the state is saved.
		aerr = errInternal()
	}
	if aerr != nil {
		s.log(r, rq, aerr.status, aerr.code)
		writeError(w, aerr)
		return
	}
	s.log(r, rq, 200, "")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(inVersion(body, rq.version))
}

func (s *Server) log(r *http.Request, rq *request, status int, code string) {
	if s.cfg.Logger == nil {
		return
	}
	action := ""
	if rq != nil {
		action = rq.action
	}
	s.cfg.Logger.Info("fpstest: api call", "method", r.Method, "action", action, "status", status, "code", code)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(e.status)
	w.Write(errorBody(e.code, e.message))
}

// authenticate checks the form of an API call, its version and its
// Signature Version 2, against the account its AWSAccessKeyId names. The
// string to sign is the one canonicaliser's, over the decoded form
// without Signature, the request's method, the host of its Host header
// and its path; the host is taken with the port (when not the scheme's
// default) and without it, as every known client signs the bare host
// whatever port it sends to (fps-api-versions §8).
func (s *Server) authenticate(r *http.Request) (*request, *apiError) {
	form := r.Form
	for name, vs := range form {
		if len(vs) > 1 {
			return nil, fail("InvalidParams", "%s is given more than once.", name)
		}
	}
	rq := &request{form: form, now: s.clock.Now()}
	action := form.Get("Action")
	if action == "" {
		return nil, missing("Action")
	}
	if _, ok := s.actions[action]; !ok {
		return nil, fail("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	rq.action = action
	v := form.Get("Version")
	if v == "" {
		return rq, missing("Version")
	}
	if !slices.Contains(fps.APIVersions(), v) {
		return rq, badValue("Version", v, "Must be one of "+strings.Join(fps.APIVersions(), ", ")+".")
	}
	rq.version = v
	key := form.Get("AWSAccessKeyId")
	if action == "VerifySignature" && key == "" && form.Get("Signature") == "" {
		return rq, nil // the docs: VerifySignature needs no signature
	}
	if key == "" {
		return rq, missing("AWSAccessKeyId")
	}
	secret, ok := s.secret(key)
	if !ok {
		return rq, fail("InvalidClientTokenId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	switch v := form.Get("SignatureVersion"); v {
	case "2":
	case "":
		return rq, missing("SignatureVersion")
	default:
		return rq, badValue("SignatureVersion", v, "Must be 2.")
	}
	method := fps.SignatureMethod(form.Get("SignatureMethod"))
	switch method {
	case fps.HmacSHA256, fps.HmacSHA1:
	case "":
		return rq, missing("SignatureMethod")
	default:
		return rq, badValue("SignatureMethod", string(method), "Must be HmacSHA256 or HmacSHA1.")
	}
	sig := form.Get("Signature")
	if sig == "" {
		return rq, missing("Signature")
	}
	tsRaw := form.Get("Timestamp")
	if tsRaw == "" {
		return rq, missing("Timestamp")
	}
	ts, err := parseTimestamp(tsRaw)
	if err != nil {
		return rq, badValue("Timestamp", tsRaw, "Must be in ISO8601 format.")
	}
	params := slices.DeleteFunc(sigv2.Params(form), func(p sigv2.Param) bool { return p.Name == "Signature" })
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	endpoint := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
	if !signedByHMAC(r.Method, endpoint, params, string(method), secret, sig) {
		return rq, fail("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	if d := rq.now.Sub(ts); d > RequestExpiry || d < -RequestExpiry {
		return rq, fail("RequestExpired", "Request has expired. Timestamp date is %s", tsRaw)
	}
	rq.key = key
	return rq, nil
}

// signedByHMAC reports whether sig is the HMAC signature, under secret
// and method, of params sent by httpMethod to endpoint, its host signed
// with the port (sigv2.Host) or without it (sigv2.BareHost). Nothing else
// is tried: the method, the path and every parameter count.
func signedByHMAC(httpMethod string, endpoint *url.URL, params []sigv2.Param, method, secret, sig string) bool {
	query := sigv2.AppendQuery(nil, params)
	for _, host := range slices.Compact([]string{sigv2.Host(endpoint), sigv2.BareHost(endpoint)}) {
		sts := append(sigv2.AppendPrefixHost(nil, httpMethod, host, endpoint.Path), query...)
		want, err := sigv2.SignHMAC(method, secret, string(sts))
		if err == nil && hmac.Equal([]byte(want), []byte(sig)) {
			return true
		}
	}
	return false
}

// checkVersion refuses, once the request is authenticated, an action
// that the request's API version lacks (InvalidAction), a parameter that
// a later version added to the action (OverrideIPNURL) in a request of an
// earlier one (InvalidParams), and an OverrideIPNURL that is not an
// absolute http or https URL (InvalidParameterValue).
func checkVersion(rq *request) *apiError {
	if vs := fps.ActionVersions(rq.action); !slices.Contains(vs, rq.version) {
		return fail("InvalidAction", "The action %s is not valid for version %s of this web service. It is valid for version %s.", rq.action, rq.version, strings.Join(vs, ", "))
	}
	for _, name := range slices.Sorted(maps.Keys(rq.form)) {
		vs := fps.ParameterVersions(rq.action, name)
		if vs == nil {
			continue
		}
		if !slices.Contains(vs, rq.version) {
			return fail("InvalidParams", "%s is not a parameter of %s in version %s of this web service. It is valid for version %s.", name, rq.action, rq.version, strings.Join(vs, ", "))
		}
	}
	if v := rq.get(overrideIPNURLParam); v != "" && fps.ParameterVersions(rq.action, overrideIPNURLParam) != nil {
		if re := rules.CheckHTTPURL(overrideIPNURLParam, v, false); re != nil {
			return refused(re, v)
		}
	}
	return nil
}

// overrideIPNURLParam is the parameter of API 2010-08-28 that sends the
// IPNs of one request to another URL than the account's.
const overrideIPNURLParam = "OverrideIPNURL"

func parseTimestamp(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", v)
}

func (s *Server) secret(key string) (string, bool) {
	for _, a := range s.cfg.Accounts {
		if a.AccessKeyID == key {
			return a.SecretAccessKey, true
		}
	}
	return "", false
}

// idemFingerprint is what makes two requests "the same" for CallerReference
// idempotency: every parameter but the authentication ones, canonicalised.
func idemFingerprint(form url.Values) string {
	params := slices.DeleteFunc(sigv2.Params(form), func(p sigv2.Param) bool {
		switch p.Name {
		case "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp":
			return true
		}
		return false
	})
	return sigv2.CanonicalQuery(params)
}
