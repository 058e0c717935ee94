package fps

import "strings"

// TransactionStatus is the status of an FPS transaction. API responses
// spell it "Success", IPNs "SUCCESS"; ParseTransactionStatus accepts both.
type TransactionStatus string

// The transaction statuses of FPS 2008-09-17.
const (
	TransactionStatusSuccess   TransactionStatus = "Success"
	TransactionStatusPending   TransactionStatus = "Pending"
	TransactionStatusReserved  TransactionStatus = "Reserved"
	TransactionStatusFailure   TransactionStatus = "Failure"
	TransactionStatusCancelled TransactionStatus = "Cancelled"
)

var transactionStatuses = []TransactionStatus{
	TransactionStatusSuccess, TransactionStatusPending, TransactionStatusReserved,
	TransactionStatusFailure, TransactionStatusCancelled,
}

// ParseTransactionStatus reads a status case-insensitively ("Success",
// "SUCCESS"), and reports false for a value that is not a status.
func ParseTransactionStatus(s string) (TransactionStatus, bool) {
	for _, st := range transactionStatuses {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Final reports whether the status will not change any more: Success,
// Failure or Cancelled. Pending and Reserved still move.
func (s TransactionStatus) Final() bool {
	return s == TransactionStatusSuccess || s == TransactionStatusFailure || s == TransactionStatusCancelled
}

// MoneyMoved reports whether the status means the sender was charged (or,
// for a refund, credited): only Success.
func (s TransactionStatus) MoneyMoved() bool { return s == TransactionStatusSuccess }
