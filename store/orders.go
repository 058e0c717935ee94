package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
)

// The tables of the orders, next to Table (the notifications).
const (
	// OrdersTable holds one row per order, keyed by its callerReference.
	OrdersTable = "fps_orders"
	// TransactionsTable holds one row per callerReference the
	// integration issued for an order (its Pay or Reserve, each refund),
	// with the transaction's id once known.
	TransactionsTable = "fps_order_transactions"
	// HistoryTable holds the history of each order, keyed by order and
	// entry key.
	HistoryTable = "fps_order_history"
)

type order = integration.Order

// orders describes OrdersTable. version counts the changes: Commit
// updates a row only at the version its change was made from.
var orders = table[order]{name: OrdersTable, columns: []column[order]{
	{
		name: "caller_reference", typ: sqlText, primaryKey: true,
		value: func(o *order) any { return o.CallerReference },
		dest:  func(o *order) any { return &o.CallerReference },
	},
	amountValue("amount_value", func(o *order) *fps.Amount { return &o.Amount }),
	text("amount_currency", func(o *order) *fps.CurrencyCode { return &o.Amount.CurrencyCode }),
	text("description", func(o *order) *string { return &o.Description }),
	text("recipient_email", func(o *order) *string { return &o.RecipientEmail }),
	text("token_id", func(o *order) *string { return &o.TokenID }),
	text("status", func(o *order) *integration.OrderStatus { return &o.Status }),
	decimalText("paid", func(o *order) *decimal.Decimal { return &o.Paid }),
	decimalText("refunded", func(o *order) *decimal.Decimal { return &o.Refunded }),
	micros("created_at", func(o *order) *time.Time { return &o.Created }),
	micros("updated_at", func(o *order) *time.Time { return &o.Updated }),
	bigint("version", func(o *order) *int64 { return &o.Version }),
}}

// txRow is a row of TransactionsTable.
type txRow struct {
	orderRef string
	integration.Transaction
	recorded time.Time
}

var transactions = table[txRow]{name: TransactionsTable, columns: []column[txRow]{
	{
		name: "caller_reference", typ: sqlText, primaryKey: true,
		value: func(t *txRow) any { return t.CallerReference },
		dest:  func(t *txRow) any { return &t.CallerReference },
	},
	text("order_reference", func(t *txRow) *string { return &t.orderRef }),
	text("transaction_id", func(t *txRow) *string { return &t.ID }),
	text("operation", func(t *txRow) *fps.FPSOperation { return &t.Operation }),
	amountValue("amount_value", func(t *txRow) *fps.Amount { return &t.Amount }),
	text("amount_currency", func(t *txRow) *fps.CurrencyCode { return &t.Amount.CurrencyCode }),
	text("parent_transaction_id", func(t *txRow) *string { return &t.ParentID }),
	text("step", func(t *txRow) *fps.NotificationOperation { return &t.Step }),
	text("status", func(t *txRow) *fps.TransactionStatus { return &t.Status }),
	micros("recorded_at", func(t *txRow) *time.Time { return &t.recorded }),
}}

// histRow is a row of HistoryTable. callback is "" (no callback is due),
// callbackDue or callbackDone; lease is the time until which a run of
// the callback holds it.
type histRow struct {
	orderRef string
	integration.HistoryEntry
	callback string
	lease    time.Time
	moved    int64
}

const (
	callbackDue  = "due"
	callbackDone = "done"
)

var history = table[histRow]{name: HistoryTable, columns: []column[histRow]{
	{
		name: "order_reference", typ: sqlText, primaryKey: true,
		value: func(h *histRow) any { return h.orderRef },
		dest:  func(h *histRow) any { return &h.orderRef },
	},
	{
		name: "entry_key", typ: sqlText, primaryKey: true,
		value: func(h *histRow) any { return h.Key },
		dest:  func(h *histRow) any { return &h.Key },
	},
	micros("at", func(h *histRow) *time.Time { return &h.At }),
	text("event", func(h *histRow) *integration.OrderEvent { return &h.Event }),
	text("from_status", func(h *histRow) *integration.OrderStatus { return &h.From }),
	text("to_status", func(h *histRow) *integration.OrderStatus { return &h.To }),
	bigint("moved", func(h *histRow) *int64 { return &h.moved }),
	text("note", func(h *histRow) *string { return &h.Note }),
	text("callback", func(h *histRow) *string { return &h.callback }),
	micros("callback_lease", func(h *histRow) *time.Time { return &h.lease }),
}}

// newHistRow is the row of entry e of the order ref.
func newHistRow(ref string, e integration.HistoryEntry) *histRow {
	h := &histRow{orderRef: ref, HistoryEntry: e}
	if e.Moved {
		h.moved = 1
	}
	if e.CallbackDue {
		h.callback = callbackDue
	}
	return h
}

// entry is the history entry of h as read.
func (h *histRow) entry() integration.HistoryEntry {
	e := h.HistoryEntry
	e.Moved, e.CallbackDue = h.moved != 0, h.callback == callbackDue
	return e
}

// orderQueries are the statements of the order methods in one dialect.
type orderQueries struct {
	insertOrder, orderByRef, orderByTx, updateOrder string
	insertTx, txOwner, fillTxID, upsertTx, txsOf    string
	insertEntry, entriesOf, claim, done, release    string
	listOrders, staleOrders, dueCallbacks           string
}

func newOrderQueries(d Dialect) orderQueries {
	p := func(i int) string { return placeholder(d, i) }
	var set []string
	for i, c := range orders.columns[1 : len(orders.columns)-1] { // all but the key and the version
		set = append(set, c.name+" = "+p(i+1))
	}
	n := len(set)
	txUpdate := []string{"transaction_id", "step", "status"}
	for i, c := range txUpdate {
		txUpdate[i] = c + " = excluded." + c
	}
	return orderQueries{
		insertOrder: orders.insertOnce(d),
		orderByRef: orders.selectWhere("WHERE caller_reference = COALESCE((SELECT order_reference FROM " + TransactionsTable +
			" WHERE caller_reference = " + p(1) + "), " + p(2) + ")"),
		orderByTx: orders.selectWhere("WHERE caller_reference = (SELECT order_reference FROM " + TransactionsTable +
			" WHERE transaction_id = " + p(1) + " LIMIT 1)"),
		updateOrder: "UPDATE " + OrdersTable + " SET " + strings.Join(set, ", ") + ", version = version + 1 WHERE caller_reference = " +
			p(n+1) + " AND version = " + p(n+2),
		insertTx: transactions.insertOnce(d),
		txOwner:  "SELECT order_reference FROM " + TransactionsTable + " WHERE caller_reference = " + p(1),
		fillTxID: "UPDATE " + TransactionsTable + " SET transaction_id = " + p(1) + " WHERE caller_reference = " + p(2) + " AND transaction_id = ''",
		upsertTx: strings.Replace(transactions.insertOnce(d), "DO NOTHING", "DO UPDATE SET "+strings.Join(txUpdate, ", ")+
			" WHERE "+TransactionsTable+".order_reference = excluded.order_reference", 1),
		txsOf:       transactions.selectWhere("WHERE order_reference = " + p(1) + " ORDER BY recorded_at, caller_reference"),
		insertEntry: history.insertOnce(d),
		entriesOf:   history.selectWhere("WHERE order_reference = " + p(1) + " ORDER BY at, entry_key"),
		claim: "UPDATE " + HistoryTable + " SET callback_lease = " + p(1) + " WHERE order_reference = " + p(2) + " AND entry_key = " + p(3) +
			" AND callback = '" + callbackDue + "' AND callback_lease <= " + p(4),
		done: "UPDATE " + HistoryTable + " SET callback = '" + callbackDone + "', callback_lease = 0 WHERE order_reference = " + p(1) +
			" AND entry_key = " + p(2),
		release: "UPDATE " + HistoryTable + " SET callback_lease = 0 WHERE order_reference = " + p(1) + " AND entry_key = " + p(2) +
			" AND callback = '" + callbackDue + "' AND callback_lease = " + p(3),
		listOrders: orders.selectWhere("ORDER BY created_at DESC, caller_reference LIMIT " + p(1)),
		staleOrders: orders.selectWhere("WHERE status = " + p(1) + " AND updated_at < " + p(2) + " AND (updated_at > " + p(3) +
			" OR (updated_at = " + p(4) + " AND caller_reference > " + p(5) + ")) ORDER BY updated_at, caller_reference LIMIT " + p(6)),
		dueCallbacks: history.selectWhere("WHERE callback = '" + callbackDue + "' AND entry_key <> '" + integration.ReturnKey +
			"' AND at < " + p(1) + " AND (at > " + p(2) + " OR (at = " + p(3) + " AND (order_reference > " + p(4) +
			" OR (order_reference = " + p(5) + " AND entry_key > " + p(6) + "))))" +
			" ORDER BY at, order_reference, entry_key LIMIT " + p(7)),
	}
}

// unknownOrder is the error of a lookup that found no order.
func unknownOrder(what, ref string) error {
	return fmt.Errorf("%w: %s %q", integration.ErrUnknownOrder, what, ref)
}

func scanOrder(row interface{ Scan(...any) error }, what, ref string) (integration.Order, error) {
	var o order
	if err := row.Scan(orders.dests(&o)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return order{}, unknownOrder(what, ref)
		}
		return order{}, fmt.Errorf("store: reading order: %w", err)
	}
	return o, nil
}

// CreateOrder implements integration.Store.
func (s *SQL) CreateOrder(ctx context.Context, o integration.Order) error {
	if o.CallerReference == "" {
		return &fps.ValidationError{Field: "CallerReference", Rule: "is required"}
	}
	var owner string
	switch err := s.db.QueryRowContext(ctx, s.q.txOwner, o.CallerReference).Scan(&owner); {
	case err == nil:
		return fmt.Errorf("%w: %q is a transaction of order %q", integration.ErrOrderExists, o.CallerReference, owner)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: recording order: %w", err)
	}
	o.Status, o.Version = integration.OrderCreated, 0
	if o.Updated.IsZero() {
		o.Updated = o.Created
	}
	res, err := s.db.ExecContext(ctx, s.q.insertOrder, orders.values(&o)...)
	if err != nil {
		return fmt.Errorf("store: recording order: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("%w: order %q", integration.ErrOrderExists, o.CallerReference)
	}
	return nil
}

// AddTransaction implements integration.Store.
func (s *SQL) AddTransaction(ctx context.Context, orderRef string, t integration.Transaction) error {
	if t.CallerReference == "" {
		return &fps.ValidationError{Field: "CallerReference", Rule: "is required"}
	}
	o, err := s.Order(ctx, orderRef)
	if err != nil {
		return err
	}
	if o.CallerReference != orderRef {
		return fmt.Errorf("%w: %q is a transaction of order %q", integration.ErrOrderExists, orderRef, o.CallerReference)
	}
	if t.CallerReference != orderRef {
		switch other, err := s.Order(ctx, t.CallerReference); {
		case err == nil && other.CallerReference != orderRef:
			return fmt.Errorf("%w: %q names order %q", integration.ErrOrderExists, t.CallerReference, other.CallerReference)
		case err != nil && !errors.Is(err, integration.ErrUnknownOrder):
			return err
		}
	}
	row := &txRow{orderRef: orderRef, Transaction: t, recorded: time.Now().UTC()}
	row.Step, row.Status = "", ""
	res, err := s.db.ExecContext(ctx, s.q.insertTx, transactions.values(row)...)
	if err != nil {
		return fmt.Errorf("store: recording transaction: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	var owner string
	if err := s.db.QueryRowContext(ctx, s.q.txOwner, t.CallerReference).Scan(&owner); err != nil {
		return fmt.Errorf("store: recording transaction: %w", err)
	}
	if owner != orderRef {
		return fmt.Errorf("%w: %q is a transaction of order %q", integration.ErrOrderExists, t.CallerReference, owner)
	}
	if t.ID != "" {
		if _, err := s.db.ExecContext(ctx, s.q.fillTxID, t.ID, t.CallerReference); err != nil {
			return fmt.Errorf("store: recording transaction id: %w", err)
		}
	}
	return nil
}

// Order implements integration.Store.
func (s *SQL) Order(ctx context.Context, callerReference string) (integration.Order, error) {
	return scanOrder(s.db.QueryRowContext(ctx, s.q.orderByRef, callerReference, callerReference), "callerReference", callerReference)
}

// OrderByTransaction implements integration.Store.
func (s *SQL) OrderByTransaction(ctx context.Context, id string) (integration.Order, error) {
	if id == "" {
		return order{}, unknownOrder("transaction", id)
	}
	return scanOrder(s.db.QueryRowContext(ctx, s.q.orderByTx, id), "transaction", id)
}

// Orders returns the latest orders, newest first, at most limit.
func (s *SQL) Orders(ctx context.Context, limit int) ([]integration.Order, error) {
	return queryAll(ctx, s.db, s.q.listOrders, orders, func(o *order) order { return *o }, limit)
}

// StaleOrders implements integration.Store.
func (s *SQL) StaleOrders(ctx context.Context, st integration.OrderStatus, before time.Time, after integration.Order, limit int) ([]integration.Order, error) {
	from := micro(after.Updated)
	return queryAll(ctx, s.db, s.q.staleOrders, orders, func(o *order) order { return *o },
		string(st), micro(before), from, from, after.CallerReference, limit)
}

// DueCallbacks implements integration.Store.
func (s *SQL) DueCallbacks(ctx context.Context, before time.Time, after integration.DueCallback, limit int) ([]integration.DueCallback, error) {
	from := micro(after.Entry.At)
	return queryAll(ctx, s.db, s.q.dueCallbacks, history, func(h *histRow) integration.DueCallback {
		return integration.DueCallback{OrderRef: h.orderRef, Entry: h.entry()}
	}, micro(before), from, from, after.OrderRef, after.OrderRef, after.Entry.Key, limit)
}

// micro is t in microseconds since the Unix epoch, as micros columns keep
// it: 0 for the zero time.
func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Transactions implements integration.Store.
func (s *SQL) Transactions(ctx context.Context, orderRef string) ([]integration.Transaction, error) {
	return queryAll(ctx, s.db, s.q.txsOf, transactions, func(t *txRow) integration.Transaction { return t.Transaction }, orderRef)
}

// History implements integration.Store.
func (s *SQL) History(ctx context.Context, orderRef string) ([]integration.HistoryEntry, error) {
	return queryAll(ctx, s.db, s.q.entriesOf, history, (*histRow).entry, orderRef)
}

// queryAll runs query with args and reads every row of t into out.
func queryAll[T, Out any](ctx context.Context, db *sql.DB, query string, t table[T], out func(*T) Out, args ...any) ([]Out, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", t.name, err)
	}
	defer rows.Close()
	var list []Out
	for rows.Next() {
		var row T
		if err := rows.Scan(t.dests(&row)...); err != nil {
			return nil, fmt.Errorf("store: reading %s: %w", t.name, err)
		}
		list = append(list, out(&row))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", t.name, err)
	}
	return list, nil
}

// Commit implements integration.Store, in one database transaction whose
// first statement writes: the notification's row (whose key the database
// keeps unique), then the order's row at its version.
func (s *SQL) Commit(ctx context.Context, c integration.Change) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: committing: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	once := func(query string, args []any, what string) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("store: committing %s: %w", what, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("%w: %s", integration.ErrDuplicate, what)
		}
		return nil
	}
	if sn := c.Notification; sn != nil {
		if sn.Key == "" {
			return errors.New("store: notification key is empty")
		}
		if err := once(s.insert, notifications.values(sn), "notification "+sn.Key); err != nil {
			return err
		}
	}
	o := c.Order
	args := orders.values(&o)
	args = append(args[1:len(args)-1], o.CallerReference, o.Version)
	res, err := tx.ExecContext(ctx, s.q.updateOrder, args...)
	if err != nil {
		return fmt.Errorf("store: committing order %s: %w", o.CallerReference, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: order %s is not at version %d", integration.ErrConflict, o.CallerReference, o.Version)
	}
	if t := c.Transaction; t != nil {
		row := &txRow{orderRef: o.CallerReference, Transaction: *t, recorded: c.Entry.At}
		if err := once(s.q.upsertTx, transactions.values(row), "transaction "+t.CallerReference+" of another order"); err != nil {
			return err
		}
	}
	if err := once(s.q.insertEntry, history.values(newHistRow(o.CallerReference, c.Entry)), "history entry "+c.Entry.Key); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: committing: %w", err)
	}
	return nil
}

// ClaimCallback implements integration.Store.
func (s *SQL) ClaimCallback(ctx context.Context, orderRef, key string, now, until time.Time) (bool, error) {
	return s.changedOne(ctx, "claiming the callback", s.q.claim, until.UnixMicro(), orderRef, key, now.UnixMicro())
}

// EndCallback implements integration.Store.
func (s *SQL) EndCallback(ctx context.Context, orderRef, key string, until time.Time, succeeded bool) error {
	query, args := s.q.release, []any{orderRef, key, until.UnixMicro()}
	if succeeded {
		query, args = s.q.done, args[:2]
	}
	if _, err := s.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("store: recording the callback: %w", err)
	}
	return nil
}
