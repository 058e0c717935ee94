package fps

import (
	"context"
	"strconv"
	"time"
)

var opGetTransactionStatus = newOperation[GetTransactionStatusInput, GetTransactionStatusOutput]("GetTransactionStatus", readsOnly)

// GetTransactionStatus returns the current status of a transaction.
func (c *Client) GetTransactionStatus(ctx context.Context, in *GetTransactionStatusInput, optFns ...func(*Options)) (*GetTransactionStatusOutput, error) {
	return opGetTransactionStatus.invoke(ctx, c, in, optFns)
}

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

var opGetTransaction = newOperation[GetTransactionInput, GetTransactionOutput]("GetTransaction", readsOnly)

// GetTransaction returns the details of a transaction, its status history
// included.
func (c *Client) GetTransaction(ctx context.Context, in *GetTransactionInput, optFns ...func(*Options)) (*GetTransactionOutput, error) {
	return opGetTransaction.invoke(ctx, c, in, optFns)
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

var opGetAccountActivity = newOperation[GetAccountActivityInput, GetAccountActivityOutput]("GetAccountActivity", readsOnly)

// GetAccountActivity lists the transactions of the caller's account from
// StartDate on.
func (c *Client) GetAccountActivity(ctx context.Context, in *GetAccountActivityInput, optFns ...func(*Options)) (*GetAccountActivityOutput, error) {
	return opGetAccountActivity.invoke(ctx, c, in, optFns)
}

// GetAccountActivityInput is the input of GetAccountActivity.
type GetAccountActivityInput struct {
	StartDate time.Time // required
	// EndDate, when set, ends the period listed.
	EndDate time.Time
	// MaxBatchSize, when set, caps the number of transactions in one
	// answer.
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
	enum(b, "SortOrderByDate", in.SortOrderByDate, in.SortOrderByDate.Values()...)
	enum(b, "FPSOperation", in.FPSOperation, in.FPSOperation.Values()...)
	enum(b, "PaymentMethod", in.PaymentMethod, in.PaymentMethod.Values()...)
	for i, r := range in.Role {
		enum(b, "Role."+strconv.Itoa(i+1), r, r.Values()...)
	}
	enum(b, "TransactionStatus", in.TransactionStatus, in.TransactionStatus.Values()...)
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

var opGetAccountBalance = newOperation[GetAccountBalanceInput, GetAccountBalanceOutput]("GetAccountBalance", readsOnly)

// GetAccountBalance returns the balance of the caller's account. in may
// be nil.
func (c *Client) GetAccountBalance(ctx context.Context, in *GetAccountBalanceInput, optFns ...func(*Options)) (*GetAccountBalanceOutput, error) {
	return opGetAccountBalance.invoke(ctx, c, in, optFns)
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

// Transaction is one transaction of GetAccountActivity.
type Transaction struct {
	TransactionID         string            `xml:"TransactionId" fps:"required"`
	CallerTransactionDate time.Time         `xml:"CallerTransactionDate"`
	DateReceived          time.Time         `xml:"DateReceived"`
	DateCompleted         time.Time         `xml:"DateCompleted"`
	TransactionAmount     Amount            `xml:"TransactionAmount"`
	FPSOperation          FPSOperation      `xml:"FPSOperation"`
	TransactionStatus     TransactionStatus `xml:"TransactionStatus" fps:"required"`
	StatusMessage         string            `xml:"StatusMessage"`
	StatusCode            string            `xml:"StatusCode"`
	OriginalTransactionID string            `xml:"OriginalTransactionId"`
	TransactionParts      []TransactionPart `xml:"TransactionPart"`
	PaymentMethod         PaymentMethod     `xml:"PaymentMethod"`
	SenderName            string            `xml:"SenderName"`
	CallerName            string            `xml:"CallerName"`
	RecipientName         string            `xml:"RecipientName"`
	FPSFees               Amount            `xml:"FPSFees"`
	Balance               Amount            `xml:"Balance"`
	SenderTokenID         string            `xml:"SenderTokenId"`
	RecipientTokenID      string            `xml:"RecipientTokenId"`
}

// TransactionPart is one party's part in a Transaction.
type TransactionPart struct {
	InstrumentID string            `xml:"InstrumentId"`
	Role         TransactionalRole `xml:"Role"`
	Name         string            `xml:"Name"`
	Reference    string            `xml:"Reference"`
	Description  string            `xml:"Description"`
	FeesPaid     Amount            `xml:"FeesPaid"`
}

// TransactionDetail is the transaction of GetTransaction.
type TransactionDetail struct {
	TransactionID       string               `xml:"TransactionId" fps:"required"`
	CallerReference     string               `xml:"CallerReference"`
	CallerDescription   string               `xml:"CallerDescription"`
	SenderDescription   string               `xml:"SenderDescription"`
	DateReceived        time.Time            `xml:"DateReceived"`
	DateCompleted       time.Time            `xml:"DateCompleted"`
	TransactionAmount   Amount               `xml:"TransactionAmount"`
	FPSFees             Amount               `xml:"FPSFees"`
	MarketplaceFees     Amount               `xml:"MarketplaceFees"`
	FPSFeesPaidBy       TransactionalRole    `xml:"FPSFeesPaidBy"`
	SenderTokenID       string               `xml:"SenderTokenId"`
	RecipientTokenID    string               `xml:"RecipientTokenId"`
	PrepaidInstrumentID string               `xml:"PrepaidInstrumentId"`
	CreditInstrumentID  string               `xml:"CreditInstrumentId"`
	FPSOperation        FPSOperation         `xml:"FPSOperation"`
	PaymentMethod       PaymentMethod        `xml:"PaymentMethod"`
	TransactionStatus   TransactionStatus    `xml:"TransactionStatus" fps:"required"`
	StatusCode          string               `xml:"StatusCode"`
	StatusMessage       string               `xml:"StatusMessage"`
	SenderName          string               `xml:"SenderName"`
	SenderEmail         string               `xml:"SenderEmail"`
	CallerName          string               `xml:"CallerName"`
	RecipientName       string               `xml:"RecipientName"`
	RecipientEmail      string               `xml:"RecipientEmail"`
	RelatedTransactions []RelatedTransaction `xml:"RelatedTransaction"`
	StatusHistory       []StatusHistory      `xml:"StatusHistory"`
}

// RelatedTransaction links a TransactionDetail to another transaction.
type RelatedTransaction struct {
	TransactionID string       `xml:"TransactionId"`
	RelationType  RelationType `xml:"RelationType"`
}

// StatusHistory is one status a transaction went through.
type StatusHistory struct {
	Date              time.Time         `xml:"Date"`
	TransactionStatus TransactionStatus `xml:"TransactionStatus" fps:"required"`
	StatusCode        string            `xml:"StatusCode"`
	Amount            Amount            `xml:"Amount"`
}

// AccountBalance is the balance of the caller's account.
type AccountBalance struct {
	TotalBalance      Amount            `xml:"TotalBalance" fps:"required"`
	PendingInBalance  Amount            `xml:"PendingInBalance"`
	PendingOutBalance Amount            `xml:"PendingOutBalance"`
	AvailableBalances AvailableBalances `xml:"AvailableBalances"`
}

// AvailableBalances is the part of an account balance that can be used.
type AvailableBalances struct {
	DisburseBalance Amount `xml:"DisburseBalance"`
	RefundBalance   Amount `xml:"RefundBalance"`
}

// SortOrder orders GetAccountActivity by date.
type SortOrder string

// SortOrder values.
const (
	SortAscending  SortOrder = "Ascending"
	SortDescending SortOrder = "Descending"
)

// Values returns the SortOrder values.
func (SortOrder) Values() []SortOrder { return []SortOrder{SortAscending, SortDescending} }

// FPSOperation names the operation of a transaction.
type FPSOperation string

// FPSOperation values.
const (
	FPSOperationPay          FPSOperation = "Pay"
	FPSOperationRefund       FPSOperation = "Refund"
	FPSOperationSettle       FPSOperation = "Settle"
	FPSOperationSettleDebt   FPSOperation = "SettleDebt"
	FPSOperationWriteOffDebt FPSOperation = "WriteOffDebt"
	FPSOperationFundPrepaid  FPSOperation = "FundPrepaid"
	FPSOperationReserve      FPSOperation = "Reserve"
)

// Values returns the FPSOperation values.
func (FPSOperation) Values() []FPSOperation {
	return []FPSOperation{FPSOperationPay, FPSOperationRefund, FPSOperationSettle,
		FPSOperationSettleDebt, FPSOperationWriteOffDebt, FPSOperationFundPrepaid, FPSOperationReserve}
}

// The payment methods that only transactions report (GetAccountActivity,
// GetTransaction): paid from a postpaid credit instrument or a prepaid one.
const (
	PaymentMethodDebt    PaymentMethod = "Debt"
	PaymentMethodPrepaid PaymentMethod = "Prepaid"
)

// TransactionalRole is a party of a transaction.
type TransactionalRole string

// TransactionalRole values.
const (
	RoleSender    TransactionalRole = "Sender"
	RoleCaller    TransactionalRole = "Caller"
	RoleRecipient TransactionalRole = "Recipient"
)

// Values returns the TransactionalRole values.
func (TransactionalRole) Values() []TransactionalRole {
	return []TransactionalRole{RoleSender, RoleCaller, RoleRecipient}
}

// RelationType says how a RelatedTransaction relates.
type RelationType string

// RelationType values: the first four of 2008-09-17, Reserve and Settle
// from later documentation.
const (
	RelationRefund         RelationType = "Refund"
	RelationParent         RelationType = "Parent"
	RelationMarketplaceFee RelationType = "MarketplaceFee"
	RelationRefundReversal RelationType = "RefundReversal"
	RelationReserve        RelationType = "Reserve"
	RelationSettle         RelationType = "Settle"
)

// Values returns the RelationType values.
func (RelationType) Values() []RelationType {
	return []RelationType{RelationRefund, RelationParent, RelationMarketplaceFee, RelationRefundReversal,
		RelationReserve, RelationSettle}
}
