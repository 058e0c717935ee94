package integration

import (
	"context"
	"errors"
	"time"

	"github.com/fpskit/fps"
)

// Store keeps the shop's orders, their transactions and history, and the
// notifications that moved them, in one database shared by every app
// server of the shop. Package github.com/fpskit/fps/store implements it
// on database/sql (SQLite, PostgreSQL; store.Open) and in memory
// (store.NewMemory, for tests). Every method is safe for concurrent use,
// also from several processes sharing the database.
//
// The Store persists; it does not decide. AmazonFPS and the handlers
// work out each Change (along Transitions) from the order they read, and
// Commit applies it only if the order is still at the version it was
// read at: two app servers handling the same order at once cannot both
// move it.
type Store interface {
	// CreateOrder records o, in status OrderCreated, under
	// o.CallerReference. It fails with an error wrapping ErrOrderExists
	// when the reference is taken (by an order or a transaction).
	CreateOrder(ctx context.Context, o Order) error
	// AddTransaction records t as a transaction of the order orderRef,
	// so that t.CallerReference maps to it. When t.CallerReference is
	// recorded for that order already, it fills in t.ID if the record
	// has none and changes nothing else; when it is recorded for another
	// order, it fails with an error wrapping ErrOrderExists.
	AddTransaction(ctx context.Context, orderRef string, t Transaction) error
	// Order returns the order of callerReference: the order's own, or
	// one of its transactions'. It fails with an error wrapping
	// ErrUnknownOrder when there is none.
	Order(ctx context.Context, callerReference string) (Order, error)
	// OrderByTransaction returns the order that transaction id (its Pay,
	// Reserve or a refund) belongs to, or an error wrapping
	// ErrUnknownOrder.
	OrderByTransaction(ctx context.Context, id string) (Order, error)
	// StaleOrders returns at most limit orders in status st last changed
	// before before, in the order of their Updated time and then their
	// CallerReference, starting after the order after in that order (the
	// zero Order starts at the first; an Order with only Updated set
	// starts at that time). Recover pages through them.
	StaleOrders(ctx context.Context, st OrderStatus, before time.Time, after Order, limit int) ([]Order, error)
	// Transactions returns the transactions of the order orderRef, in the
	// order they were recorded.
	Transactions(ctx context.Context, orderRef string) ([]Transaction, error)
	// History returns the history of the order orderRef, oldest first.
	History(ctx context.Context, orderRef string) ([]HistoryEntry, error)
	// Commit applies c at once: c.Order replaces the order if it is still
	// at c.Order.Version (else ErrConflict, and nothing changes), its
	// version counted up; c.Transaction, when set, is recorded or
	// replaced by its CallerReference; c.Entry is added to the history;
	// c.Notification, when set, is stored. When the history holds
	// c.Entry.Key already, or the notification's key is stored, nothing
	// changes and the error wraps ErrDuplicate.
	Commit(ctx context.Context, c Change) error
	// ClaimCallback takes the callback of the history entry key of order
	// orderRef until until: it reports false when the callback is not due
	// (done, or no callback) or held by another claim that has not
	// expired at now. The claim is a lease: when the app server holding
	// it dies, it expires, and the next claim takes it. The approval's
	// entry (ReturnKey) holds the claim of the order's charge.
	ClaimCallback(ctx context.Context, orderRef, key string, now, until time.Time) (bool, error)
	// EndCallback records the end of a run ClaimCallback allowed, whose
	// claim was until until: when it succeeded, the callback is never due
	// again; when it failed, the claim is released if it is still that
	// run's (not taken since by another run, once it expired), so that
	// the next delivery runs it again.
	EndCallback(ctx context.Context, orderRef, key string, until time.Time, succeeded bool) error
	// DueCallbacks returns at most limit entries, of every order, whose
	// notification callback is due (not the approvals, ReturnKey) and
	// that were recorded before before, in the order of their At time,
	// order and key, starting after after (the zero DueCallback starts
	// at the first). Recover pages through them.
	DueCallbacks(ctx context.Context, before time.Time, after DueCallback, limit int) ([]DueCallback, error)
	// Get returns the notification stored under key by Commit, or an
	// error when there is none.
	Get(ctx context.Context, key string) (*StoredNotification, error)
}

// DueCallback is a change of an order whose notification callback has
// not succeeded yet.
type DueCallback struct {
	// OrderRef is the callerReference of the order.
	OrderRef string
	// Entry is the change, as in the order's history.
	Entry HistoryEntry
}

// Change is one step of an order, committed at once by Store.Commit.
type Change struct {
	// Order is the order after the change; its Version is the one it was
	// read at.
	Order Order
	// Transaction is the transaction the change records or updates, or
	// nil.
	Transaction *Transaction
	// Entry is the history entry of the change.
	Entry HistoryEntry
	// Notification is the notification the change comes from, stored
	// with it, or nil.
	Notification *StoredNotification
}

// Errors of a Store; test with errors.Is.
var (
	// ErrOrderExists: the callerReference names an order or a transaction
	// already.
	ErrOrderExists = errors.New("integration: the callerReference is taken")
	// ErrConflict: the order changed since it was read; read it again.
	ErrConflict = errors.New("integration: the order changed meanwhile")
	// ErrDuplicate: the history entry or the notification is stored
	// already.
	ErrDuplicate = errors.New("integration: stored already")
)

// StoredNotification is a verified and confirmed notification as a Store
// keeps it.
type StoredNotification struct {
	// Key is fps.Notification.Key(): the store keeps one record per Key.
	Key          string
	Notification fps.Notification
	// RawBody is the form body exactly as received.
	RawBody    string
	ReceivedAt time.Time
}
