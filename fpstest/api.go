package fpstest

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/fpskit/fps"
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
	action string
	form   url.Values
	key    string // caller access key id; "" for unsigned VerifySignature
	now    time.Time
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

// actionTable lists the actions of API 2008-09-17 the simulator serves.
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
	}
}

// Actions returns the names of the API actions the simulator serves.
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
			return
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
	w.Write(body)
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

// authenticate checks the form of an API call and its Signature Version
// 2, against the account its AWSAccessKeyId names. The string to sign is
// the one canonicaliser's, over the decoded form without Signature, the
// request's method, its Host header (port kept only when not the scheme's
// default) and its path.
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
	if v := form.Get("Version"); v == "" {
		return rq, missing("Version")
	} else if v != fps.DefaultAPIVersion && v != "2010-08-28" {
		return rq, badValue("Version", v, "Must be 2008-09-17.")
	}
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
	want, err := sigv2.SignHMAC(string(method), secret, sigv2.StringToSign(r.Method, endpoint, params))
	if err != nil || !hmac.Equal([]byte(want), []byte(sig)) {
		return rq, fail("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	if d := rq.now.Sub(ts); d > RequestExpiry || d < -RequestExpiry {
		return rq, fail("RequestExpired", "Request has expired. Timestamp date is %s", tsRaw)
	}
	rq.key = key
	return rq, nil
}

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
