// Package store keeps a shop's FPS orders and the notifications that
// moved them: SQL on a database shared by several app servers (SQLite,
// an embedded file, by default; PostgreSQL), and Memory for tests and a
// single process. Both implement integration.Store, and keep one record
// per fps.Notification.Key, so a notification delivered twice is stored
// once.
//
//	st, err := store.Open(ctx, "fps.db") // or "postgres://user:pass@host/db"
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer st.Close()
//	cfg.Store = st // integration.Config
//
// Open and NewSQL migrate the database's schema before use. The
// migrations form one ordered list; the table MigrationsTable records
// those applied. The orders live in OrdersTable, every callerReference
// the integration issued (with its transaction) in TransactionsTable,
// their histories in HistoryTable, the notifications in Table.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
)

// ErrNotFound is returned by Get when no notification has the key.
var ErrNotFound = errors.New("store: notification not found")

// Memory is an integration.Store in memory, safe for concurrent use. Its
// content is lost when the process ends, and only that process sees it:
// for tests and trials, not for a shop.
type Memory struct {
	mu    sync.Mutex
	byKey map[string]*integration.StoredNotification
	keys  []string // in the order saved

	orders map[string]*memOrder // by the order's callerReference
	refs   map[string]string    // a transaction's callerReference → its order's
	txIDs  map[string]string    // a transaction id → its order's callerReference
	seq    []string             // orders, oldest first
}

// memOrder is an order with its transactions and history.
type memOrder struct {
	o    integration.Order
	txs  []integration.Transaction
	hist []memEntry
}

type memEntry struct {
	integration.HistoryEntry
	done  bool      // the callback succeeded
	lease time.Time // a run of the callback holds it until then
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{
		byKey:  make(map[string]*integration.StoredNotification),
		orders: map[string]*memOrder{},
		refs:   map[string]string{},
		txIDs:  map[string]string{},
	}
}

// Save stores n unless a notification with the same key is stored
// already; inserted reports which.
func (m *Memory) Save(ctx context.Context, n *integration.StoredNotification) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if n.Key == "" {
		return false, errors.New("store: notification key is empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.save(n), nil
}

// save stores n unless its key is stored. Called with m.mu held.
func (m *Memory) save(n *integration.StoredNotification) bool {
	if _, ok := m.byKey[n.Key]; ok {
		return false
	}
	m.byKey[n.Key] = clone(n)
	m.keys = append(m.keys, n.Key)
	return true
}

// Get returns the notification stored under key, or ErrNotFound.
func (m *Memory) Get(ctx context.Context, key string) (*integration.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.byKey[key]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(n), nil
}

// List returns every stored notification, oldest ReceivedAt first.
func (m *Memory) List(ctx context.Context) ([]*integration.StoredNotification, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]*integration.StoredNotification, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, clone(m.byKey[k]))
	}
	m.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

func clone(n *integration.StoredNotification) *integration.StoredNotification {
	c := *n
	if n.Notification.Params != nil {
		c.Notification.Params = make(url.Values, len(n.Notification.Params))
		for k, vs := range n.Notification.Params {
			c.Notification.Params[k] = append([]string(nil), vs...)
		}
	}
	return &c
}

// lookup returns the order of callerReference ref. Called with m.mu held.
func (m *Memory) lookup(ref string) (*memOrder, error) {
	if owner, ok := m.refs[ref]; ok {
		ref = owner
	}
	o, ok := m.orders[ref]
	if !ok {
		return nil, unknownOrder("callerReference", ref)
	}
	return o, nil
}

// CreateOrder implements integration.Store.
func (m *Memory) CreateOrder(ctx context.Context, o integration.Order) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.CallerReference == "" {
		return &fps.ValidationError{Field: "CallerReference", Rule: "is required"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.lookup(o.CallerReference); err == nil {
		return fmt.Errorf("%w: order %q", integration.ErrOrderExists, o.CallerReference)
	}
	o.Status, o.Version = integration.OrderCreated, 0
	if o.Updated.IsZero() {
		o.Updated = o.Created
	}
	m.orders[o.CallerReference] = &memOrder{o: o}
	m.seq = append(m.seq, o.CallerReference)
	return nil
}

// AddTransaction implements integration.Store.
func (m *Memory) AddTransaction(ctx context.Context, orderRef string, t integration.Transaction) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.CallerReference == "" {
		return &fps.ValidationError{Field: "CallerReference", Rule: "is required"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderRef]
	if !ok {
		return unknownOrder("callerReference", orderRef)
	}
	if other, err := m.lookup(t.CallerReference); err == nil && other != o {
		return fmt.Errorf("%w: %q names order %q", integration.ErrOrderExists, t.CallerReference, other.o.CallerReference)
	}
	for i := range o.txs {
		if x := &o.txs[i]; x.CallerReference == t.CallerReference {
			if x.ID == "" && t.ID != "" {
				x.ID = t.ID
				m.txIDs[t.ID] = orderRef
			}
			return nil
		}
	}
	t.Step, t.Status = "", ""
	m.record(orderRef, o, t)
	return nil
}

// record adds or replaces t in o's transactions. Called with m.mu held.
func (m *Memory) record(orderRef string, o *memOrder, t integration.Transaction) {
	m.refs[t.CallerReference] = orderRef
	if t.ID != "" {
		m.txIDs[t.ID] = orderRef
	}
	for i := range o.txs {
		if o.txs[i].CallerReference == t.CallerReference {
			o.txs[i] = t
			return
		}
	}
	o.txs = append(o.txs, t)
}

// Order implements integration.Store.
func (m *Memory) Order(ctx context.Context, callerReference string) (integration.Order, error) {
	if err := ctx.Err(); err != nil {
		return integration.Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, err := m.lookup(callerReference)
	if err != nil {
		return integration.Order{}, err
	}
	return o.o, nil
}

// OrderByTransaction implements integration.Store.
func (m *Memory) OrderByTransaction(ctx context.Context, id string) (integration.Order, error) {
	if err := ctx.Err(); err != nil {
		return integration.Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ref, ok := m.txIDs[id]
	if !ok || id == "" {
		return integration.Order{}, unknownOrder("transaction", id)
	}
	return m.orders[ref].o, nil
}

// Orders returns the latest orders, newest first, at most limit.
func (m *Memory) Orders(ctx context.Context, limit int) ([]integration.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []integration.Order
	for _, ref := range slices.Backward(m.seq) {
		if len(out) == limit {
			break
		}
		out = append(out, m.orders[ref].o)
	}
	return out, nil
}

// StaleOrders implements integration.Store.
func (m *Memory) StaleOrders(ctx context.Context, st integration.OrderStatus, before time.Time, after integration.Order, limit int) ([]integration.Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var out []integration.Order
	for _, ref := range m.seq {
		o := m.orders[ref].o
		if o.Status == st && o.Updated.Before(before) && (o.Updated.After(after.Updated) ||
			(o.Updated.Equal(after.Updated) && o.CallerReference > after.CallerReference)) {
			out = append(out, o)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b integration.Order) int {
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.CallerReference, b.CallerReference)
	})
	return out[:min(limit, len(out))], nil
}

// Transactions implements integration.Store.
func (m *Memory) Transactions(ctx context.Context, orderRef string) ([]integration.Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.orders[orderRef]; ok {
		return slices.Clone(o.txs), nil
	}
	return nil, nil
}

// History implements integration.Store.
func (m *Memory) History(ctx context.Context, orderRef string) ([]integration.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderRef]
	if !ok {
		return nil, nil
	}
	out := make([]integration.HistoryEntry, len(o.hist))
	for i, e := range o.hist {
		out[i] = e.HistoryEntry
		out[i].CallbackDue = e.CallbackDue && !e.done
	}
	return out, nil
}

// Commit implements integration.Store.
func (m *Memory) Commit(ctx context.Context, c integration.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ref := c.Order.CallerReference
	o, ok := m.orders[ref]
	if !ok {
		return unknownOrder("callerReference", ref)
	}
	if sn := c.Notification; sn != nil {
		if sn.Key == "" {
			return errors.New("store: notification key is empty")
		}
		if _, ok := m.byKey[sn.Key]; ok {
			return fmt.Errorf("%w: notification %s", integration.ErrDuplicate, sn.Key)
		}
	}
	if o.o.Version != c.Order.Version {
		return fmt.Errorf("%w: order %s is not at version %d", integration.ErrConflict, ref, c.Order.Version)
	}
	if slices.ContainsFunc(o.hist, func(e memEntry) bool { return e.Key == c.Entry.Key }) {
		return fmt.Errorf("%w: history entry %s", integration.ErrDuplicate, c.Entry.Key)
	}
	if t := c.Transaction; t != nil {
		if owner, ok := m.refs[t.CallerReference]; ok && owner != ref {
			return fmt.Errorf("%w: transaction %s of another order", integration.ErrDuplicate, t.CallerReference)
		}
	}
	if c.Notification != nil {
		m.save(c.Notification)
	}
	if c.Transaction != nil {
		m.record(ref, o, *c.Transaction)
	}
	o.o = c.Order
	o.o.Version++
	o.hist = append(o.hist, memEntry{HistoryEntry: c.Entry})
	return nil
}

// entry returns the history entry key of the order orderRef. Called with
// m.mu held.
func (m *Memory) entry(orderRef, key string) *memEntry {
	if o, ok := m.orders[orderRef]; ok {
		for i := range o.hist {
			if o.hist[i].Key == key {
				return &o.hist[i]
			}
		}
	}
	return nil
}

// ClaimCallback implements integration.Store.
func (m *Memory) ClaimCallback(ctx context.Context, orderRef, key string, now, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(orderRef, key)
	if e == nil || !e.CallbackDue || e.done || e.lease.After(now) {
		return false, nil
	}
	e.lease = until
	return true, nil
}

// EndCallback implements integration.Store.
func (m *Memory) EndCallback(ctx context.Context, orderRef, key string, until time.Time, succeeded bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(orderRef, key)
	switch {
	case e == nil:
	case succeeded:
		e.lease, e.done = time.Time{}, true
	case e.lease.Equal(until):
		e.lease = time.Time{}
	}
	return nil
}

// DueCallbacks implements integration.Store.
func (m *Memory) DueCallbacks(ctx context.Context, before time.Time, after integration.DueCallback, limit int) ([]integration.DueCallback, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var out []integration.DueCallback
	for _, ref := range m.seq {
		for _, e := range m.orders[ref].hist {
			d := integration.DueCallback{OrderRef: ref, Entry: e.HistoryEntry}
			if e.CallbackDue && !e.done && e.Key != integration.ReturnKey && e.At.Before(before) && compareDue(d, after) > 0 {
				out = append(out, d)
			}
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, compareDue)
	return out[:min(limit, len(out))], nil
}

// compareDue orders due callbacks by time, order and key.
func compareDue(a, b integration.DueCallback) int {
	if c := a.Entry.At.Compare(b.Entry.At); c != 0 {
		return c
	}
	if c := strings.Compare(a.OrderRef, b.OrderRef); c != 0 {
		return c
	}
	return strings.Compare(a.Entry.Key, b.Entry.Key)
}

var (
	_ integration.Store = (*Memory)(nil)
	_ integration.Store = (*SQL)(nil)
)
