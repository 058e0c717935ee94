package fps

import (
	"context"
	"time"
)

var opInstallPaymentInstruction = newOperation[InstallPaymentInstructionInput, InstallPaymentInstructionOutput]("InstallPaymentInstruction", changesState)

// InstallPaymentInstruction installs a token from a GateKeeper payment
// instruction, typically the caller's own recipient token.
func (c *Client) InstallPaymentInstruction(ctx context.Context, in *InstallPaymentInstructionInput, optFns ...func(*Options)) (*InstallPaymentInstructionOutput, error) {
	return opInstallPaymentInstruction.invoke(ctx, c, in, optFns)
}

// InstallPaymentInstructionInput is the input of InstallPaymentInstruction.
type InstallPaymentInstructionInput struct {
	PaymentInstruction string // required: GateKeeper text
	// TokenFriendlyName names the token for the caller.
	TokenFriendlyName string
	CallerReference   string    // required
	TokenType         TokenType // required
	// PaymentReason says what the token pays for.
	PaymentReason string
}

func (in *InstallPaymentInstructionInput) build(b *builder) {
	b.required("PaymentInstruction", in.PaymentInstruction)
	b.add("TokenFriendlyName", in.TokenFriendlyName)
	b.callerReference(in.CallerReference)
	if in.TokenType == "" {
		b.fail("TokenType", "is required")
	}
	enum(b, "TokenType", in.TokenType, in.TokenType.Values()...)
	b.add("PaymentReason", in.PaymentReason)
}

// InstallPaymentInstructionOutput is the answer of InstallPaymentInstruction.
type InstallPaymentInstructionOutput struct {
	TokenID string `xml:"TokenId" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetPaymentInstruction = newOperation[GetPaymentInstructionInput, GetPaymentInstructionOutput]("GetPaymentInstruction", readsOnly)

// GetPaymentInstruction returns a token with its payment instruction.
func (c *Client) GetPaymentInstruction(ctx context.Context, in *GetPaymentInstructionInput, optFns ...func(*Options)) (*GetPaymentInstructionOutput, error) {
	return opGetPaymentInstruction.invoke(ctx, c, in, optFns)
}

// GetPaymentInstructionInput is the input of GetPaymentInstruction.
type GetPaymentInstructionInput struct {
	TokenID string // required
}

func (in *GetPaymentInstructionInput) build(b *builder) { b.required("TokenId", in.TokenID) }

// GetPaymentInstructionOutput is the answer of GetPaymentInstruction.
type GetPaymentInstructionOutput struct {
	Token              *Token `xml:"Token"`
	PaymentInstruction string `xml:"PaymentInstruction"`
	CallerReference    string `xml:"CallerReference"`
	TokenFriendlyName  string `xml:"TokenFriendlyName"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opCancelToken = newOperation[CancelTokenInput, CancelTokenOutput]("CancelToken", changesState, overrideIPNURL)

// CancelToken cancels a token the caller installed.
func (c *Client) CancelToken(ctx context.Context, in *CancelTokenInput, optFns ...func(*Options)) (*CancelTokenOutput, error) {
	return opCancelToken.invoke(ctx, c, in, optFns)
}

// CancelTokenInput is the input of CancelToken.
type CancelTokenInput struct {
	TokenID string // required
	// ReasonText says why the token is cancelled.
	ReasonText string
	// OverrideIPNURL, API 2010-08-28 on, sends the IPNs of this request to
	// this absolute http(s) URL instead of the account's IPN URL.
	OverrideIPNURL string
}

func (in *CancelTokenInput) build(b *builder) {
	b.required("TokenId", in.TokenID)
	b.add("ReasonText", in.ReasonText)
	b.overrideIPNURL(in.OverrideIPNURL)
}

// CancelTokenOutput is the answer of CancelToken: only the request id.
type CancelTokenOutput struct {
	// RequestID identifies the request at FPS.
	RequestID string `xml:"-"`
}

var opGetTokens = newOperation[GetTokensInput, GetTokensOutput]("GetTokens", readsOnly)

// GetTokens lists the tokens installed by the caller.
func (c *Client) GetTokens(ctx context.Context, in *GetTokensInput, optFns ...func(*Options)) (*GetTokensOutput, error) {
	return opGetTokens.invoke(ctx, c, in, optFns)
}

// GetTokensInput is the input of GetTokens; every field is an optional
// filter.
type GetTokensInput struct {
	TokenStatus TokenStatus
	TokenType   TokenType
	// CallerReference, when set, keeps the tokens installed with this
	// callerReference.
	CallerReference string
	// TokenFriendlyName, when set, keeps the tokens of this name.
	TokenFriendlyName string
}

func (in *GetTokensInput) build(b *builder) {
	enum(b, "TokenStatus", in.TokenStatus, in.TokenStatus.Values()...)
	enum(b, "TokenType", in.TokenType, in.TokenType.Values()...)
	b.text("CallerReference", in.CallerReference, MaxCallerReferenceLength)
	b.add("TokenFriendlyName", in.TokenFriendlyName)
}

// GetTokensOutput is the answer of GetTokens.
type GetTokensOutput struct {
	Tokens []Token `xml:"Token"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetTokenByCaller = newOperation[GetTokenByCallerInput, GetTokenByCallerOutput]("GetTokenByCaller", readsOnly)

// GetTokenByCaller finds a token by its id or by the callerReference of
// the pipeline that installed it: the way to recover a lost return URL.
func (c *Client) GetTokenByCaller(ctx context.Context, in *GetTokenByCallerInput, optFns ...func(*Options)) (*GetTokenByCallerOutput, error) {
	return opGetTokenByCaller.invoke(ctx, c, in, optFns)
}

// GetTokenByCallerInput is the input of GetTokenByCaller: exactly one of
// TokenID and CallerReference.
type GetTokenByCallerInput struct {
	// TokenID is the token to find; give it or CallerReference.
	TokenID string
	// CallerReference is the callerReference of the pipeline that
	// installed the token; give it or TokenID.
	CallerReference string
}

func (in *GetTokenByCallerInput) build(b *builder) {
	if (in.TokenID == "") == (in.CallerReference == "") {
		b.fail("TokenId", "exactly one of TokenId and CallerReference is required")
	}
	b.add("TokenId", in.TokenID)
	b.text("CallerReference", in.CallerReference, MaxCallerReferenceLength)
}

// GetTokenByCallerOutput is the answer of GetTokenByCaller.
type GetTokenByCallerOutput struct {
	Token *Token `xml:"Token"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetTokenUsage = newOperation[GetTokenUsageInput, GetTokenUsageOutput]("GetTokenUsage", readsOnly)

// GetTokenUsage returns the usage limits of a token and what is used.
func (c *Client) GetTokenUsage(ctx context.Context, in *GetTokenUsageInput, optFns ...func(*Options)) (*GetTokenUsageOutput, error) {
	return opGetTokenUsage.invoke(ctx, c, in, optFns)
}

// GetTokenUsageInput is the input of GetTokenUsage.
type GetTokenUsageInput struct {
	TokenID string // required
}

func (in *GetTokenUsageInput) build(b *builder) { b.required("TokenId", in.TokenID) }

// GetTokenUsageOutput is the answer of GetTokenUsage.
type GetTokenUsageOutput struct {
	TokenUsageLimits []TokenUsageLimit `xml:"TokenUsageLimits"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

var opGetRecipientVerificationStatus = newOperation[GetRecipientVerificationStatusInput, GetRecipientVerificationStatusOutput]("GetRecipientVerificationStatus", readsOnly)

// GetRecipientVerificationStatus returns whether the recipient of a token
// is verified.
func (c *Client) GetRecipientVerificationStatus(ctx context.Context, in *GetRecipientVerificationStatusInput, optFns ...func(*Options)) (*GetRecipientVerificationStatusOutput, error) {
	return opGetRecipientVerificationStatus.invoke(ctx, c, in, optFns)
}

// GetRecipientVerificationStatusInput is the input of
// GetRecipientVerificationStatus.
type GetRecipientVerificationStatusInput struct {
	RecipientTokenID string // required
}

func (in *GetRecipientVerificationStatusInput) build(b *builder) {
	b.required("RecipientTokenId", in.RecipientTokenID)
}

// GetRecipientVerificationStatusOutput is the answer of
// GetRecipientVerificationStatus.
type GetRecipientVerificationStatusOutput struct {
	// RecipientVerificationStatus is one of the values of the request's
	// API version: RecipientVerificationStatuses(version).
	RecipientVerificationStatus RecipientVerificationStatus `xml:"RecipientVerificationStatus" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// Token is a payment token.
type Token struct {
	TokenID         string      `xml:"TokenId" fps:"required"`
	FriendlyName    string      `xml:"FriendlyName"`
	TokenStatus     TokenStatus `xml:"TokenStatus" fps:"required"`
	DateInstalled   time.Time   `xml:"DateInstalled"`
	CallerReference string      `xml:"CallerReference"`
	TokenType       TokenType   `xml:"TokenType"`
	OldTokenID      string      `xml:"OldTokenId"`
	PaymentReason   string      `xml:"PaymentReason"`
}

// TokenType is the kind of a token.
type TokenType string

// TokenType values.
const (
	TokenTypeSingleUse    TokenType = "SingleUse"
	TokenTypeMultiUse     TokenType = "MultiUse"
	TokenTypeRecurring    TokenType = "Recurring"
	TokenTypeUnrestricted TokenType = "Unrestricted"
)

// Values returns the TokenType values.
func (TokenType) Values() []TokenType {
	return []TokenType{TokenTypeSingleUse, TokenTypeMultiUse, TokenTypeRecurring, TokenTypeUnrestricted}
}

// TokenStatus is the state of a token.
type TokenStatus string

// TokenStatus values.
const (
	TokenStatusActive   TokenStatus = "Active"
	TokenStatusInactive TokenStatus = "Inactive"
)

// Values returns the TokenStatus values.
func (TokenStatus) Values() []TokenStatus {
	return []TokenStatus{TokenStatusActive, TokenStatusInactive}
}

// RecipientVerificationStatus is the answer of
// GetRecipientVerificationStatus. Its values changed between API
// versions, and those of 2008-09-17 were never published: any value FPS
// sends is kept as sent.
type RecipientVerificationStatus string

// RecipientVerificationStatus values: the first three of 2010-08-28, the
// last four of 2011-09-20.
const (
	RecipientVerificationComplete          RecipientVerificationStatus = "VerificationComplete"
	RecipientVerificationPending           RecipientVerificationStatus = "VerificationPending"
	RecipientVerificationCompleteNoLimits  RecipientVerificationStatus = "VerificationCompleteNoLimits"
	RecipientVerificationPendingUserAction RecipientVerificationStatus = "PendingUserAction"
	RecipientVerificationPendingReview     RecipientVerificationStatus = "PendingReview"
	RecipientVerificationClosed            RecipientVerificationStatus = "Closed"
	RecipientVerificationActive            RecipientVerificationStatus = "Active"
)

// Values returns the RecipientVerificationStatus values of every version.
func (RecipientVerificationStatus) Values() []RecipientVerificationStatus {
	return []RecipientVerificationStatus{RecipientVerificationComplete, RecipientVerificationPending,
		RecipientVerificationCompleteNoLimits, RecipientVerificationPendingUserAction, RecipientVerificationPendingReview,
		RecipientVerificationClosed, RecipientVerificationActive}
}

// RecipientVerificationStatuses returns the values that
// GetRecipientVerificationStatus answers in API version version, nil for
// a version the package does not speak. 2008-09-17, whose values no
// source gives, has those of 2010-08-28.
func RecipientVerificationStatuses(version string) []RecipientVerificationStatus {
	switch version {
	case APIVersion20080917, APIVersion20100828:
		return []RecipientVerificationStatus{RecipientVerificationComplete, RecipientVerificationPending, RecipientVerificationCompleteNoLimits}
	case APIVersion20110920:
		return []RecipientVerificationStatus{RecipientVerificationPendingUserAction, RecipientVerificationPendingReview,
			RecipientVerificationClosed, RecipientVerificationActive}
	}
	return nil
}

// TokenUsageLimit is one usage limit of a token and how much of it is used.
type TokenUsageLimit struct {
	Count              int       `xml:"Count"`
	Amount             Amount    `xml:"Amount"`
	LastResetCount     int       `xml:"LastResetCount"`
	LastResetAmount    Amount    `xml:"LastResetAmount"`
	LastResetTimestamp time.Time `xml:"LastResetTimestamp"`
}
