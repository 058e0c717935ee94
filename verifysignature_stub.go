package fps

import (
	"context"
	"errors"
)

// VerificationStatus is the answer of the VerifySignature action.
type VerificationStatus string

// The two answers of VerifySignature.
const (
	// VerificationStatusSuccess: Amazon signed the message.
	VerificationStatusSuccess VerificationStatus = "Success"
	// VerificationStatusFailure: the signature does not verify.
	VerificationStatusFailure VerificationStatus = "Failure"
)

// VerifySignatureInput is the input of VerifySignature.
type VerifySignatureInput struct {
	URLEndPoint    string
	HTTPParameters string
}

// VerifySignatureOutput is the result of VerifySignature.
type VerifySignatureOutput struct {
	VerificationStatus VerificationStatus
	RequestID          string
}

// VerifySignature asks FPS whether a return URL or IPN was signed by
// Amazon. This placeholder is replaced by the API implementation.
func (c *Client) VerifySignature(ctx context.Context, in *VerifySignatureInput, optFns ...func(*Options)) (*VerifySignatureOutput, error) {
	return nil, errors.New("fps: VerifySignature: not implemented")
}
