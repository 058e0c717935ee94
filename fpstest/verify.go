package fpstest

import (
	"net/http"
	"net/url"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
)

// actVerifySignature checks a return URL or IPN server-side: UrlEndPoint
// is where it arrived (no query), HttpParameters the raw query or body,
// form-decoded here. Amazon's action took no HTTP method, so the string
// to sign is tried with GET (return URLs) and with POST (IPNs); Success
// when either verifies under a certificate this simulator issued.
func (s *Server) actVerifySignature(rq *request) ([]byte, *apiError) {
	raw, e := rq.need("UrlEndPoint")
	if e != nil {
		return nil, e
	}
	endpoint, err := url.Parse(raw)
	if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" ||
		endpoint.RawQuery != "" || endpoint.Fragment != "" || endpoint.User != nil {
		return nil, fail("InvalidParams", "UrlEndPoint %s is an invalid URL", raw)
	}
	hp, e := rq.need("HttpParameters")
	if e != nil {
		return nil, e
	}
	params, err := url.ParseQuery(hp)
	if err != nil {
		return nil, fail("InvalidParams", "HttpParameters is not a well-formed query string.")
	}
	certURL := params.Get("certificateUrl")
	if certURL == "" {
		return nil, fail("InvalidParams", "certificateUrl is missing in 'HttpParameters'.")
	}
	if params.Get("signature") == "" {
		return nil, fail("InvalidParams", "signature is missing in 'HttpParameters'.")
	}
	status := "Failure"
	if s.verifies(endpoint, params) {
		status = "Success"
	}
	return success("VerifySignature", func(x *xmlw) { x.elem("VerificationStatus", status) }), nil
}

// verifies runs the outbound check for params received at endpoint.
func (s *Server) verifies(endpoint *url.URL, params url.Values) bool {
	if params.Get("signatureVersion") != fps.OutboundSignatureVersion ||
		params.Get("signatureMethod") != fps.OutboundSignatureMethod || len(params["signature"]) != 1 {
		return false
	}
	cu, err := url.Parse(params.Get("certificateUrl"))
	if err != nil || cu.Path != "/certs/"+s.pki.certID+"/PKICert.pem" {
		return false
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		sts := sigv2.OutboundStringToSign(method, endpoint, params)
		if sigv2.VerifyRSASHA1(s.PublicKey(), []byte(sts), params.Get("signature")) == nil {
			return true
		}
	}
	return false
}
