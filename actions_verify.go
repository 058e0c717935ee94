package fps

import (
	"context"
)

var opVerifySignature = newOperation[VerifySignatureInput, VerifySignatureOutput]("VerifySignature", readsOnly)

// VerifySignature asks FPS whether a return URL or an IPN carries Amazon's
// signature. It is signed like every other call.
func (c *Client) VerifySignature(ctx context.Context, in *VerifySignatureInput, optFns ...func(*Options)) (*VerifySignatureOutput, error) {
	return opVerifySignature.invoke(ctx, c, in, optFns)
}

// VerifySignatureInput is the input of VerifySignature.
type VerifySignatureInput struct {
	// URLEndPoint is the URL the return or IPN arrived at: scheme, host,
	// port when not the default, and path; no query. Required.
	URLEndPoint string
	// HTTPParameters is the raw query of the return URL or the raw body of
	// the IPN, exactly as received. Required.
	HTTPParameters string
}

func (in *VerifySignatureInput) build(b *builder) {
	b.required("UrlEndPoint", in.URLEndPoint)
	b.required("HttpParameters", in.HTTPParameters)
}

// VerifySignatureOutput is the answer of VerifySignature.
type VerifySignatureOutput struct {
	VerificationStatus VerificationStatus `xml:"VerificationStatus" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// VerificationStatus is the answer of VerifySignature.
type VerificationStatus string

// VerificationStatus values.
const (
	VerificationStatusSuccess VerificationStatus = "Success"
	VerificationStatusFailure VerificationStatus = "Failure"
)

// Values returns the VerificationStatus values.
func (VerificationStatus) Values() []VerificationStatus {
	return []VerificationStatus{VerificationStatusSuccess, VerificationStatusFailure}
}
