package fpstest

import (
	"fmt"
	"slices"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
)

// What a test may read from the ledger, and the token it may install
// without a pipeline.

// Transaction is a copy of one transaction of the ledger.
type Transaction struct {
	ID              string
	CallerReference string
	// Operation is Pay, Reserve, Refund, FundPrepaid, SettleDebt or
	// WriteOffDebt; a settled Reserve stays Reserve (Settle reuses its id).
	Operation        string
	Status           fps.TransactionStatus
	StatusCode       string
	PaymentMethod    string
	SenderTokenID    string
	RecipientTokenID string
	ParentID         string // refunds: the refunded transaction
	AccessKeyID      string // the caller
	Amount           decimal.Decimal
	RefundedAmount   decimal.Decimal
	SettledAmount    decimal.Decimal
	// FPSFees is the FPS fee of the transaction (negative on a refund:
	// the share given back).
	FPSFees   decimal.Decimal
	Received  time.Time
	Completed time.Time
}

func (t *tx) export() Transaction {
	return Transaction{
		ID: t.id, CallerReference: t.callerRef, Operation: t.op,
		Status: fps.TransactionStatus(t.status), StatusCode: t.code,
		PaymentMethod: t.method, SenderTokenID: t.sender, RecipientTokenID: t.recipient,
		ParentID: t.parent, AccessKeyID: t.owner, Amount: t.amount,
		RefundedAmount: t.refunded, SettledAmount: t.settled, FPSFees: t.fees.fps,
		Received: t.received, Completed: t.completed,
	}
}

// Transactions returns every transaction, in the order received.
func (l *Ledger) Transactions() []Transaction {
	l.lock()
	defer l.unlock()
	var out []Transaction
	for _, t := range l.findTxs(Query{}) {
		out = append(out, t.export())
	}
	return out
}

// Transaction returns the transaction with id.
func (l *Ledger) Transaction(id string) (Transaction, bool) {
	l.lock()
	defer l.unlock()
	t := l.readTx(id)
	if t == nil {
		return Transaction{}, false
	}
	return t.export(), true
}

// ChargeCount returns how many transactions were created under
// callerReference (an idempotent replay creates none).
func (l *Ledger) ChargeCount(callerReference string) int {
	l.lock()
	defer l.unlock()
	return len(l.findTxs(Query{Ref: callerReference}))
}

// SettleCount returns how many times the Reserve reserveTxID was settled.
func (l *Ledger) SettleCount(reserveTxID string) int {
	l.lock()
	defer l.unlock()
	if t := l.readTx(reserveTxID); t != nil {
		return t.settles
	}
	return 0
}

// Balance returns the caller account's total balance.
func (l *Ledger) Balance(accessKeyID string) decimal.Decimal {
	l.lock()
	defer l.unlock()
	if a, ok := l.accounts[accessKeyID]; ok {
		return a.balance
	}
	return decimal.Zero
}

// TokenStatus returns the status of a token (Active or Inactive) and
// whether it exists.
func (l *Ledger) TokenStatus(tokenID string) (string, bool) {
	l.lock()
	defer l.unlock()
	t := l.tokenByID(tokenID)
	if t == nil {
		return "", false
	}
	return t.status, true
}

// InstallToken installs a sender token for the account directly, as if a
// buyer had approved a pipeline with paymentMethod (ABT, ACH or CC):
// typ is a token type, limit the per-use amount (zero for any). It
// returns the token id.
func (l *Ledger) InstallToken(accessKeyID, typ, paymentMethod, callerReference string, limit decimal.Decimal) (string, error) {
	l.lock()
	defer l.unlock()
	if _, ok := l.accounts[accessKeyID]; !ok {
		return "", errUnknownAccount
	}
	if !slices.Contains(rules.PaymentMethods, paymentMethod) {
		return "", fmt.Errorf("fpstest: payment method %q is not ABT, ACH or CC", paymentMethod)
	}
	t := l.newToken(accessKeyID, typ, "sender", callerReference, l.cfg.clock())
	t.method = paymentMethod
	t.amount = limit
	t.amountType = "Maximum"
	return t.id, nil
}
