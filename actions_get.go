package fps

import (
	"context"
	"strconv"
	"time"
)

// GetTransactionStatusInput is the input of GetTransactionStatus.
type GetTransactionStatusInput struct {
	TransactionID string // required
}

func (in *GetTransactionStatusInput) build(b *builder) {
	b.required("TransactionId", in.TransactionID)
}

// GetTransactionStatusOutput is the answer of GetTransactionStatus.
type GetTransactionStatusOutput struct {
	TransactionID     string            `xml:"TransactionId" fps:"required"`
	TransactionStatus TransactionStatus `xml:"TransactionStatus" fps:"required"`
	CallerReference   string            `xml:"CallerReference" fps:"required"`
	StatusCode        string            `xml:"StatusCode"`
	StatusMessage     string            `xml:"StatusMessage"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetTransactionStatus returns the current status of a transaction.
func (c *Client) GetTransactionStatus(ctx context.Context, in *GetTransactionStatusInput, optFns ...func(*Options)) (*GetTransactionStatusOutput, error) {
	return invokeAction[GetTransactionStatusOutput](ctx, c, "GetTransactionStatus", in, optFns)
}

// GetTransactionInput is the input of GetTransaction.
type GetTransactionInput struct {
	TransactionID string // required
}

func (in *GetTransactionInput) build(b *builder) { b.required("TransactionId", in.TransactionID) }

// GetTransactionOutput is the answer of GetTransaction.
type GetTransactionOutput struct {
	Transaction TransactionDetail `xml:"Transaction" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetTransaction returns the details of a transaction, its status history
// included.
func (c *Client) GetTransaction(ctx context.Context, in *GetTransactionInput, optFns ...func(*Options)) (*GetTransactionOutput, error) {
	return invokeAction[GetTransactionOutput](ctx, c, "GetTransaction", in, optFns)
}

// GetTokensInput is the input of GetTokens; every field is an optional
// filter.
type GetTokensInput struct {
	TokenStatus       TokenStatus
	TokenType         TokenType
	CallerReference   string
	TokenFriendlyName string
}

func (in *GetTokensInput) build(b *builder) {
	enum(b, "TokenStatus", in.TokenStatus, TokenStatusActive, TokenStatusInactive)
	enum(b, "TokenType", in.TokenType, TokenTypeSingleUse, TokenTypeMultiUse, TokenTypeRecurring, TokenTypeUnrestricted)
	b.text("CallerReference", in.CallerReference, MaxCallerReferenceLength)
	b.add("TokenFriendlyName", in.TokenFriendlyName)
}

// GetTokensOutput is the answer of GetTokens.
type GetTokensOutput struct {
	Tokens []Token `xml:"Token"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetTokens lists the tokens installed by the caller.
func (c *Client) GetTokens(ctx context.Context, in *GetTokensInput, optFns ...func(*Options)) (*GetTokensOutput, error) {
	return invokeAction[GetTokensOutput](ctx, c, "GetTokens", in, optFns)
}

// GetTokenByCallerInput is the input of GetTokenByCaller: exactly one of
// TokenID and CallerReference.
type GetTokenByCallerInput struct {
	TokenID         string
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

// GetTokenByCaller finds a token by its id or by the callerReference of
// the pipeline that installed it: the way to recover a lost return URL.
func (c *Client) GetTokenByCaller(ctx context.Context, in *GetTokenByCallerInput, optFns ...func(*Options)) (*GetTokenByCallerOutput, error) {
	return invokeAction[GetTokenByCallerOutput](ctx, c, "GetTokenByCaller", in, optFns)
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

// GetTokenUsage returns the usage limits of a token and what is used.
func (c *Client) GetTokenUsage(ctx context.Context, in *GetTokenUsageInput, optFns ...func(*Options)) (*GetTokenUsageOutput, error) {
	return invokeAction[GetTokenUsageOutput](ctx, c, "GetTokenUsage", in, optFns)
}

// GetAccountActivityInput is the input of GetAccountActivity.
type GetAccountActivityInput struct {
	StartDate         time.Time // required
	EndDate           time.Time
	MaxBatchSize      int
	SortOrderByDate   SortOrder
	FPSOperation      FPSOperation
	PaymentMethod     PaymentMethod
	Role              []TransactionalRole
	TransactionStatus TransactionStatus
}

func (in *GetAccountActivityInput) build(b *builder) {
	if in.StartDate.IsZero() {
		b.fail("StartDate", "is required")
	}
	if !in.EndDate.IsZero() && in.EndDate.Before(in.StartDate) {
		b.fail("EndDate", "must not be before StartDate")
	}
	b.time("StartDate", in.StartDate)
	b.time("EndDate", in.EndDate)
	b.count("MaxBatchSize", in.MaxBatchSize)
	enum(b, "SortOrderByDate", in.SortOrderByDate, SortAscending, SortDescending)
	enum(b, "FPSOperation", in.FPSOperation, FPSOperationPay, FPSOperationRefund, FPSOperationSettle,
		FPSOperationSettleDebt, FPSOperationWriteOffDebt, FPSOperationFundPrepaid, FPSOperationReserve)
	enum(b, "PaymentMethod", in.PaymentMethod, PaymentMethodABT, PaymentMethodCC, PaymentMethodACH, PaymentMethodDebt, PaymentMethodPrepaid)
	for i, r := range in.Role {
		enum(b, "Role."+strconv.Itoa(i+1), r, RoleSender, RoleCaller, RoleRecipient)
	}
	enum(b, "TransactionStatus", in.TransactionStatus, transactionStatuses...)
}

// GetAccountActivityOutput is the answer of GetAccountActivity.
type GetAccountActivityOutput struct {
	BatchSize    int           `xml:"BatchSize"`
	Transactions []Transaction `xml:"Transaction"`
	// StartTimeForNextTransaction, when set, is the StartDate of the next
	// page.
	StartTimeForNextTransaction time.Time `xml:"StartTimeForNextTransaction"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetAccountActivity lists the transactions of the caller's account from
// StartDate on.
func (c *Client) GetAccountActivity(ctx context.Context, in *GetAccountActivityInput, optFns ...func(*Options)) (*GetAccountActivityOutput, error) {
	return invokeAction[GetAccountActivityOutput](ctx, c, "GetAccountActivity", in, optFns)
}

// GetAccountBalanceInput is the input of GetAccountBalance: no parameters.
type GetAccountBalanceInput struct{}

func (*GetAccountBalanceInput) build(*builder) {}

// GetAccountBalanceOutput is the answer of GetAccountBalance.
type GetAccountBalanceOutput struct {
	AccountBalance AccountBalance `xml:"AccountBalance" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetAccountBalance returns the balance of the caller's account. in may
// be nil.
func (c *Client) GetAccountBalance(ctx context.Context, in *GetAccountBalanceInput, optFns ...func(*Options)) (*GetAccountBalanceOutput, error) {
	return invokeAction[GetAccountBalanceOutput](ctx, c, "GetAccountBalance", in, optFns)
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

// VerifySignature asks FPS whether a return URL or an IPN carries Amazon's
// signature. It is signed like every other call.
func (c *Client) VerifySignature(ctx context.Context, in *VerifySignatureInput, optFns ...func(*Options)) (*VerifySignatureOutput, error) {
	return invokeAction[VerifySignatureOutput](ctx, c, "VerifySignature", in, optFns)
}

// GetPrepaidBalanceInput is the input of GetPrepaidBalance.
type GetPrepaidBalanceInput struct {
	PrepaidInstrumentID string // required
}

func (in *GetPrepaidBalanceInput) build(b *builder) {
	b.required("PrepaidInstrumentId", in.PrepaidInstrumentID)
}

// GetPrepaidBalanceOutput is the answer of GetPrepaidBalance.
type GetPrepaidBalanceOutput struct {
	PrepaidBalance PrepaidBalance `xml:"PrepaidBalance" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetPrepaidBalance returns the balance of a prepaid instrument.
func (c *Client) GetPrepaidBalance(ctx context.Context, in *GetPrepaidBalanceInput, optFns ...func(*Options)) (*GetPrepaidBalanceOutput, error) {
	return invokeAction[GetPrepaidBalanceOutput](ctx, c, "GetPrepaidBalance", in, optFns)
}

// GetTotalPrepaidLiabilityInput is the input of GetTotalPrepaidLiability:
// no parameters.
type GetTotalPrepaidLiabilityInput struct{}

func (*GetTotalPrepaidLiabilityInput) build(*builder) {}

// GetTotalPrepaidLiabilityOutput is the answer of GetTotalPrepaidLiability.
type GetTotalPrepaidLiabilityOutput struct {
	OutstandingPrepaidLiability OutstandingPrepaidLiability `xml:"OutstandingPrepaidLiability" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetTotalPrepaidLiability returns what the caller owes on all prepaid
// instruments. in may be nil.
func (c *Client) GetTotalPrepaidLiability(ctx context.Context, in *GetTotalPrepaidLiabilityInput, optFns ...func(*Options)) (*GetTotalPrepaidLiabilityOutput, error) {
	return invokeAction[GetTotalPrepaidLiabilityOutput](ctx, c, "GetTotalPrepaidLiability", in, optFns)
}

// GetDebtBalanceInput is the input of GetDebtBalance.
type GetDebtBalanceInput struct {
	CreditInstrumentID string // required
}

func (in *GetDebtBalanceInput) build(b *builder) {
	b.required("CreditInstrumentId", in.CreditInstrumentID)
}

// GetDebtBalanceOutput is the answer of GetDebtBalance.
type GetDebtBalanceOutput struct {
	DebtBalance DebtBalance `xml:"DebtBalance" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetDebtBalance returns the balance of a credit instrument.
func (c *Client) GetDebtBalance(ctx context.Context, in *GetDebtBalanceInput, optFns ...func(*Options)) (*GetDebtBalanceOutput, error) {
	return invokeAction[GetDebtBalanceOutput](ctx, c, "GetDebtBalance", in, optFns)
}

// GetOutstandingDebtBalanceInput is the input of GetOutstandingDebtBalance:
// no parameters.
type GetOutstandingDebtBalanceInput struct{}

func (*GetOutstandingDebtBalanceInput) build(*builder) {}

// GetOutstandingDebtBalanceOutput is the answer of GetOutstandingDebtBalance.
type GetOutstandingDebtBalanceOutput struct {
	OutstandingDebt OutstandingDebt `xml:"OutstandingDebt" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetOutstandingDebtBalance returns what is owed on all credit instruments.
// in may be nil.
func (c *Client) GetOutstandingDebtBalance(ctx context.Context, in *GetOutstandingDebtBalanceInput, optFns ...func(*Options)) (*GetOutstandingDebtBalanceOutput, error) {
	return invokeAction[GetOutstandingDebtBalanceOutput](ctx, c, "GetOutstandingDebtBalance", in, optFns)
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

// GetPaymentInstruction returns a token with its payment instruction.
func (c *Client) GetPaymentInstruction(ctx context.Context, in *GetPaymentInstructionInput, optFns ...func(*Options)) (*GetPaymentInstructionOutput, error) {
	return invokeAction[GetPaymentInstructionOutput](ctx, c, "GetPaymentInstruction", in, optFns)
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
	RecipientVerificationStatus string `xml:"RecipientVerificationStatus" fps:"required"`
	// RequestID identifies the request at FPS, e.g. "c21e7735-…:0".
	RequestID string `xml:"-"`
}

// GetRecipientVerificationStatus returns whether the recipient of a token
// is verified.
func (c *Client) GetRecipientVerificationStatus(ctx context.Context, in *GetRecipientVerificationStatusInput, optFns ...func(*Options)) (*GetRecipientVerificationStatusOutput, error) {
	return invokeAction[GetRecipientVerificationStatusOutput](ctx, c, "GetRecipientVerificationStatus", in, optFns)
}
