package fps

import "time"

// ChargeFeeTo names who pays the FPS fee.
type ChargeFeeTo string

// ChargeFeeTo values.
const (
	ChargeFeeToCaller    ChargeFeeTo = "Caller"
	ChargeFeeToRecipient ChargeFeeTo = "Recipient"
)

// SoftDescriptorType selects the text on the buyer's card statement.
type SoftDescriptorType string

// SoftDescriptorType values.
const (
	SoftDescriptorStatic  SoftDescriptorType = "Static"
	SoftDescriptorDynamic SoftDescriptorType = "Dynamic"
)

// CSOwner names whose customer service appears on the statement.
type CSOwner string

// CSOwner values.
const (
	CSOwnerCaller    CSOwner = "Caller"
	CSOwnerRecipient CSOwner = "Recipient"
)

// DescriptorPolicy is the DescriptorPolicy parameter; the zero value is not
// sent.
type DescriptorPolicy struct {
	SoftDescriptorType SoftDescriptorType
	CSOwner            CSOwner
}

func (b *builder) descriptorPolicy(p DescriptorPolicy) {
	enum(b, "DescriptorPolicy.SoftDescriptorType", p.SoftDescriptorType, SoftDescriptorStatic, SoftDescriptorDynamic)
	enum(b, "DescriptorPolicy.CSOwner", p.CSOwner, CSOwnerCaller, CSOwnerRecipient)
}

// MarketplaceRefundPolicy says which fees a Refund returns.
type MarketplaceRefundPolicy string

// MarketplaceRefundPolicy values.
const (
	MarketplaceRefundMasterTxnOnly           MarketplaceRefundPolicy = "MasterTxnOnly"
	MarketplaceRefundMarketplaceTxnOnly      MarketplaceRefundPolicy = "MarketplaceTxnOnly"
	MarketplaceRefundMasterAndMarketplaceTxn MarketplaceRefundPolicy = "MasterAndMarketplaceTxn"
)

// TokenStatus is the state of a token.
type TokenStatus string

// TokenStatus values.
const (
	TokenStatusActive   TokenStatus = "Active"
	TokenStatusInactive TokenStatus = "Inactive"
)

// TokenType is the kind of a token.
type TokenType string

// TokenType values.
const (
	TokenTypeSingleUse    TokenType = "SingleUse"
	TokenTypeMultiUse     TokenType = "MultiUse"
	TokenTypeRecurring    TokenType = "Recurring"
	TokenTypeUnrestricted TokenType = "Unrestricted"
)

// SortOrder orders GetAccountActivity by date.
type SortOrder string

// SortOrder values.
const (
	SortAscending  SortOrder = "Ascending"
	SortDescending SortOrder = "Descending"
)

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

// RelationType says how a RelatedTransaction relates.
type RelationType string

// RelationType values.
const (
	RelationRefund         RelationType = "Refund"
	RelationParent         RelationType = "Parent"
	RelationMarketplaceFee RelationType = "MarketplaceFee"
	RelationRefundReversal RelationType = "RefundReversal"
	RelationReserve        RelationType = "Reserve"
	RelationSettle         RelationType = "Settle"
)

// VerificationStatus is the answer of VerifySignature.
type VerificationStatus string

// VerificationStatus values.
const (
	VerificationStatusSuccess VerificationStatus = "Success"
	VerificationStatusFailure VerificationStatus = "Failure"
)

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

// TokenUsageLimit is one usage limit of a token and how much of it is used.
type TokenUsageLimit struct {
	Count              int       `xml:"Count"`
	Amount             Amount    `xml:"Amount"`
	LastResetCount     int       `xml:"LastResetCount"`
	LastResetAmount    Amount    `xml:"LastResetAmount"`
	LastResetTimestamp time.Time `xml:"LastResetTimestamp"`
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

// AvailableBalances is the part of an account balance that can be used.
type AvailableBalances struct {
	DisburseBalance Amount `xml:"DisburseBalance"`
	RefundBalance   Amount `xml:"RefundBalance"`
}

// AccountBalance is the balance of the caller's account.
type AccountBalance struct {
	TotalBalance      Amount            `xml:"TotalBalance" fps:"required"`
	PendingInBalance  Amount            `xml:"PendingInBalance"`
	PendingOutBalance Amount            `xml:"PendingOutBalance"`
	AvailableBalances AvailableBalances `xml:"AvailableBalances"`
}

// PrepaidBalance is the balance of a prepaid instrument.
type PrepaidBalance struct {
	AvailableBalance Amount `xml:"AvailableBalance" fps:"required"`
	PendingInBalance Amount `xml:"PendingInBalance"`
}

// OutstandingPrepaidLiability is what the caller owes on all prepaid
// instruments.
type OutstandingPrepaidLiability struct {
	OutstandingBalance Amount `xml:"OutstandingBalance" fps:"required"`
	PendingInBalance   Amount `xml:"PendingInBalance"`
}

// DebtBalance is the balance of a credit instrument.
type DebtBalance struct {
	AvailableBalance  Amount `xml:"AvailableBalance" fps:"required"`
	PendingOutBalance Amount `xml:"PendingOutBalance"`
}

// OutstandingDebt is what is owed on all credit instruments.
type OutstandingDebt struct {
	OutstandingBalance Amount `xml:"OutstandingBalance" fps:"required"`
	PendingOutBalance  Amount `xml:"PendingOutBalance"`
}
