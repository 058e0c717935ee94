package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// orderStore is what every store of the package offers: the
// integration's Store, the latest orders and the notifications.
type orderStore interface {
	integration.Store
	notificationStore
	Orders(ctx context.Context, limit int) ([]integration.Order, error)
}

func TestOrders(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { orderSuite(t, b.open) })
	}
}

func usd(s string) fps.Amount { return fps.USD(decimal.RequireFromString(s)) }

// newOrder records an order of amount under ref and returns it as read.
func newOrder(t *testing.T, s orderStore, ref, amount string) integration.Order {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	require.NoError(t, s.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: usd(amount), Description: "Two books", Created: at}))
	o, err := s.Order(ctx, ref)
	require.NoError(t, err)
	return o
}

// change is a Change of o to status to, with a history entry key.
func change(o integration.Order, to integration.OrderStatus, key string, at time.Time) integration.Change {
	e := integration.HistoryEntry{At: at, Key: key, Event: integration.EventPaid, From: o.Status, To: to, Moved: o.Status != to, Note: key}
	o.Status, o.Updated = to, at
	return integration.Change{Order: o, Entry: e}
}

func orderSuite(t *testing.T, open func(t *testing.T) orderStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 14, 0, 0, 123456000, time.UTC)

	t.Run("CreateAndRead", func(t *testing.T) {
		s := open(t)
		o := newOrder(t, s, "order-1", "12.50")
		require.Equal(t, "order-1", o.CallerReference)
		require.Equal(t, "USD 12.50", o.Amount.String())
		require.Equal(t, "Two books", o.Description)
		require.Equal(t, integration.OrderCreated, o.Status)
		require.Equal(t, int64(0), o.Version)
		require.True(t, o.Paid.IsZero() && o.Refunded.IsZero())
		require.True(t, o.Created.Equal(time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)), "%v", o.Created)
		require.True(t, o.Updated.Equal(o.Created), "updated at creation")

		err := s.CreateOrder(ctx, integration.Order{CallerReference: "order-1", Amount: usd("1")})
		require.ErrorIs(t, err, integration.ErrOrderExists)
		again, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, "USD 12.50", again.Amount.String(), "the first order is kept")

		_, err = s.Order(ctx, "none")
		require.ErrorIs(t, err, integration.ErrUnknownOrder)
		_, err = s.OrderByTransaction(ctx, "none")
		require.ErrorIs(t, err, integration.ErrUnknownOrder)
		_, err = s.OrderByTransaction(ctx, "")
		require.ErrorIs(t, err, integration.ErrUnknownOrder)
		require.Error(t, s.CreateOrder(ctx, integration.Order{}), "a callerReference is required")
	})

	t.Run("EveryReferenceMapsToItsOrder", func(t *testing.T) {
		s := open(t)
		newOrder(t, s, "order-1", "30")
		newOrder(t, s, "order-2", "5")
		require.NoError(t, s.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: "order-1", Operation: fps.FPSOperationPay, Amount: usd("30")}))
		require.NoError(t, s.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: "refund-1", Operation: fps.FPSOperationRefund, Amount: usd("10"), ParentID: "PAYTX"}))

		for _, ref := range []string{"order-1", "refund-1"} {
			o, err := s.Order(ctx, ref)
			require.NoError(t, err)
			require.Equal(t, "order-1", o.CallerReference, "the order of %s", ref)
		}
		_, err := s.OrderByTransaction(ctx, "PAYTX")
		require.ErrorIs(t, err, integration.ErrUnknownOrder, "no id known yet")

		// The ids come with the answers; recording again fills them in
		// and changes nothing else.
		require.NoError(t, s.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: "order-1", ID: "PAYTX", Operation: fps.FPSOperationReserve, Amount: usd("99")}))
		require.NoError(t, s.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: "refund-1", ID: "REFUNDTX"}))
		require.NoError(t, s.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: "refund-1", ID: "OTHER"}))
		for _, id := range []string{"PAYTX", "REFUNDTX"} {
			o, err := s.OrderByTransaction(ctx, id)
			require.NoError(t, err)
			require.Equal(t, "order-1", o.CallerReference, "the order of transaction %s", id)
		}
		txs, err := s.Transactions(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, []integration.Transaction{
			{CallerReference: "order-1", ID: "PAYTX", Operation: fps.FPSOperationPay, Amount: usd("30")},
			{CallerReference: "refund-1", ID: "REFUNDTX", Operation: fps.FPSOperationRefund, Amount: usd("10"), ParentID: "PAYTX"},
		}, normalise(txs))

		// A reference is one order's only.
		require.ErrorIs(t, s.AddTransaction(ctx, "order-2", integration.Transaction{CallerReference: "refund-1"}), integration.ErrOrderExists)
		require.ErrorIs(t, s.AddTransaction(ctx, "order-2", integration.Transaction{CallerReference: "order-1"}), integration.ErrOrderExists)
		require.ErrorIs(t, s.CreateOrder(ctx, integration.Order{CallerReference: "refund-1", Amount: usd("1")}), integration.ErrOrderExists)
		require.ErrorIs(t, s.AddTransaction(ctx, "no-order", integration.Transaction{CallerReference: "x"}), integration.ErrUnknownOrder)
		txs, err = s.Transactions(ctx, "order-2")
		require.NoError(t, err)
		require.Empty(t, txs)
	})

	t.Run("CommitMovesAtTheVersionRead", func(t *testing.T) {
		s := open(t)
		o := newOrder(t, s, "order-1", "30")
		c := change(o, integration.OrderApproved, "return", t0)
		c.Order.TokenID = "TOKEN"
		require.NoError(t, s.Commit(ctx, c))
		got, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, integration.OrderApproved, got.Status)
		require.Equal(t, "TOKEN", got.TokenID)
		require.Equal(t, int64(1), got.Version)
		require.True(t, got.Updated.Equal(t0))

		// A change made from version 0 again is refused, and changes
		// nothing.
		stale := change(o, integration.OrderFailed, "late", t0.Add(time.Second))
		stale.Notification = note(t, "TX1", "order-1", t0)
		require.ErrorIs(t, s.Commit(ctx, stale), integration.ErrConflict)
		got, err = s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, integration.OrderApproved, got.Status)
		h, err := s.History(ctx, "order-1")
		require.NoError(t, err)
		require.Len(t, h, 1)
		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Empty(t, list, "the notification of a refused change is not stored")

		// A change with a transaction and a notification.
		c = change(got, integration.OrderPaid, "TransactionStatus/TX1/PAY/SUCCESS", t0.Add(2*time.Second))
		c.Order.Paid = decimal.RequireFromString("30")
		c.Order.RecipientEmail = "shop@example.com"
		c.Entry.CallbackDue = true
		c.Transaction = &integration.Transaction{CallerReference: "order-1", ID: "TX1", Operation: fps.FPSOperationPay, Amount: usd("30"), Step: "PAY", Status: fps.TransactionStatusSuccess}
		c.Notification = note(t, "TX1", "order-1", t0.Add(2*time.Second))
		require.NoError(t, s.Commit(ctx, c))
		got, err = s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, integration.OrderPaid, got.Status)
		require.Equal(t, "30", got.Paid.String())
		require.Equal(t, "shop@example.com", got.RecipientEmail)
		require.Equal(t, int64(2), got.Version)
		byTx, err := s.OrderByTransaction(ctx, "TX1")
		require.NoError(t, err)
		require.Equal(t, got, byTx)
		txs, err := s.Transactions(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, []integration.Transaction{*c.Transaction}, normalise(txs))
		h, err = s.History(ctx, "order-1")
		require.NoError(t, err)
		require.Len(t, h, 2)
		require.Equal(t, "return", h[0].Key)
		require.False(t, h[0].CallbackDue)
		require.Equal(t, c.Entry, normaliseEntry(h[1]))
		list, err = s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, c.Notification.Key, list[0].Key)

		// The same notification again is a duplicate, also from the
		// current version, and changes nothing.
		dup := change(got, integration.OrderRefunded, "another", t0.Add(3*time.Second))
		dup.Notification = note(t, "TX1", "order-1", t0.Add(3*time.Second))
		require.ErrorIs(t, s.Commit(ctx, dup), integration.ErrDuplicate)
		dup = change(got, integration.OrderRefunded, "return", t0.Add(3*time.Second))
		require.ErrorIs(t, s.Commit(ctx, dup), integration.ErrDuplicate, "a history key is the order's once")
		after, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, got, after)
	})

	t.Run("CallbackClaims", func(t *testing.T) {
		s := open(t)
		o := newOrder(t, s, "order-1", "30")
		c := change(o, integration.OrderPaid, "k", t0)
		c.Entry.CallbackDue = true
		require.NoError(t, s.Commit(ctx, c))
		o, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.NoError(t, s.Commit(ctx, change(o, integration.OrderPaid, "no-callback", t0)))

		ok, err := s.ClaimCallback(ctx, "order-1", "no-callback", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.False(t, ok, "nothing due")
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0.Add(time.Second), t0.Add(time.Minute))
		require.NoError(t, err)
		require.False(t, ok, "held by the first claim")
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0.Add(2*time.Minute), t0.Add(3*time.Minute))
		require.NoError(t, err)
		require.True(t, ok, "the first claim expired (its process died)")

		// The first run, late, fails: the claim is the second run's now.
		require.NoError(t, s.EndCallback(ctx, "order-1", "k", t0.Add(time.Minute), false))
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0.Add(2*time.Minute+time.Second), t0.Add(4*time.Minute))
		require.NoError(t, err)
		require.False(t, ok, "a late run's failure leaves the claim of the run that took over")

		require.NoError(t, s.EndCallback(ctx, "order-1", "k", t0.Add(3*time.Minute), false))
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0.Add(2*time.Minute+time.Second), t0.Add(4*time.Minute))
		require.NoError(t, err)
		require.True(t, ok, "a failed run releases its claim")
		h, err := s.History(ctx, "order-1")
		require.NoError(t, err)
		require.True(t, h[0].CallbackDue)

		require.NoError(t, s.EndCallback(ctx, "order-1", "k", t0.Add(4*time.Minute), true))
		ok, err = s.ClaimCallback(ctx, "order-1", "k", t0.Add(time.Hour), t0.Add(2*time.Hour))
		require.NoError(t, err)
		require.False(t, ok, "done once, never due again")
		h, err = s.History(ctx, "order-1")
		require.NoError(t, err)
		require.False(t, h[0].CallbackDue)
	})

	t.Run("RacingChangesCommitOnce", func(t *testing.T) {
		s := open(t)
		o := newOrder(t, s, "order-1", "30")
		const racers = 8
		errs := make(chan error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c := change(o, integration.OrderPaid, "racer-"+string(rune('a'+i)), t0)
				if i%2 == 0 {
					c.Notification = note(t, "TX1", "order-1", t0) // the same notification, delivered twice at once
				}
				errs <- s.Commit(ctx, c)
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			if err == nil {
				won++
				continue
			}
			require.True(t, isConflictOrDuplicate(err), "%v", err)
		}
		require.Equal(t, 1, won, "one change from version 0")
		h, err := s.History(ctx, "order-1")
		require.NoError(t, err)
		require.Len(t, h, 1)
		got, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, int64(1), got.Version)
	})

	t.Run("StaleOrders", func(t *testing.T) {
		s := open(t)
		// a, b, c, d created at t0, t0+1s, t0+1s, t0+2s; b is approved at
		// t0+3s.
		for i, ref := range []string{"a", "b", "c", "d"} {
			at := t0.Add(time.Duration((i+1)/2) * time.Second)
			require.NoError(t, s.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: usd("1"), Created: at}))
		}
		b, err := s.Order(ctx, "b")
		require.NoError(t, err)
		require.NoError(t, s.Commit(ctx, change(b, integration.OrderApproved, "return", t0.Add(3*time.Second))))
		refs := func(list []integration.Order) []string {
			var out []string
			for _, o := range list {
				out = append(out, o.CallerReference)
			}
			return out
		}
		stale := func(st integration.OrderStatus, before time.Time, after integration.Order, limit int) []string {
			t.Helper()
			list, err := s.StaleOrders(ctx, st, before, after, limit)
			require.NoError(t, err)
			return refs(list)
		}
		end := t0.Add(time.Hour)
		require.Equal(t, []string{"a", "c", "d"}, stale(integration.OrderCreated, end, integration.Order{}, 10), "oldest change first")
		require.Equal(t, []string{"a", "c"}, stale(integration.OrderCreated, t0.Add(2*time.Second), integration.Order{}, 10), "changed before")
		require.Equal(t, []string{"c", "d"}, stale(integration.OrderCreated, end, integration.Order{Updated: t0.Add(time.Second)}, 10), "from a time on")
		require.Equal(t, []string{"b"}, stale(integration.OrderApproved, end, integration.Order{}, 10))
		require.Empty(t, stale(integration.OrderApproved, t0.Add(3*time.Second), integration.Order{}, 10))

		// Paging: each page starts after the last order of the one
		// before, ties on the time broken by the reference.
		for _, ref := range []string{"e", "f", "g"} {
			require.NoError(t, s.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: usd("1"), Created: t0.Add(time.Second)}))
		}
		var pages [][]string
		after := integration.Order{}
		for {
			list, err := s.StaleOrders(ctx, integration.OrderCreated, end, after, 2)
			require.NoError(t, err)
			if len(list) == 0 {
				break
			}
			pages = append(pages, refs(list))
			after = list[len(list)-1]
		}
		require.Equal(t, [][]string{{"a", "c"}, {"e", "f"}, {"g", "d"}}, pages)
	})

	t.Run("DueCallbacks", func(t *testing.T) {
		s := open(t)
		// Order a: its approval (never listed), a change at t0+1s whose
		// callback is due, one at t0+2s whose callback succeeded. Order
		// b: a change at t0+1s, two at t0+3s, all due; one with no
		// callback at t0+4s.
		commit := func(ref, key string, at time.Time, due bool) {
			t.Helper()
			o, err := s.Order(ctx, ref)
			require.NoError(t, err)
			c := change(o, integration.OrderPaid, key, at)
			c.Entry.CallbackDue = due
			require.NoError(t, s.Commit(ctx, c))
		}
		newOrder(t, s, "a", "1")
		newOrder(t, s, "b", "1")
		commit("a", integration.ReturnKey, t0, true)
		commit("a", "a-1", t0.Add(time.Second), true)
		commit("a", "a-2", t0.Add(2*time.Second), true)
		ok, err := s.ClaimCallback(ctx, "a", "a-2", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.EndCallback(ctx, "a", "a-2", t0.Add(time.Minute), true))
		commit("b", "b-1", t0.Add(time.Second), true)
		commit("b", "b-3", t0.Add(3*time.Second), true)
		commit("b", "b-3b", t0.Add(3*time.Second), true)
		commit("b", "b-4", t0.Add(4*time.Second), false)

		due := func(before time.Time, after integration.DueCallback, limit int) []string {
			t.Helper()
			list, err := s.DueCallbacks(ctx, before, after, limit)
			require.NoError(t, err)
			var out []string
			for _, d := range list {
				require.True(t, d.Entry.CallbackDue, d.Entry.Key)
				require.True(t, strings.HasPrefix(d.Entry.Key, d.OrderRef+"-"), "%s is an entry of %s", d.Entry.Key, d.OrderRef)
				out = append(out, d.Entry.Key)
			}
			return out
		}
		end := t0.Add(time.Hour)
		require.Equal(t, []string{"a-1", "b-1", "b-3", "b-3b"}, due(end, integration.DueCallback{}, 10), "oldest first, then by order and key")
		require.Equal(t, []string{"a-1", "b-1"}, due(t0.Add(3*time.Second), integration.DueCallback{}, 10), "recorded before")
		require.Equal(t, []string{"a-1"}, due(end, integration.DueCallback{}, 1))
		first, err := s.DueCallbacks(ctx, end, integration.DueCallback{}, 1)
		require.NoError(t, err)
		require.Equal(t, []string{"b-1"}, due(end, first[0], 1), "the next page starts after the last entry")
		page, err := s.DueCallbacks(ctx, end, first[0], 2)
		require.NoError(t, err)
		require.Equal(t, "b-3", page[1].Entry.Key)
		require.Equal(t, []string{"b-3b"}, due(end, page[1], 10), "after an entry of the same order and time, by key")
		last, err := s.DueCallbacks(ctx, end, page[1], 10)
		require.NoError(t, err)
		require.Empty(t, due(end, last[0], 10), "nothing after the last")

		// A claimed callback is still due until its run ends; one whose
		// run succeeded is not.
		ok, err = s.ClaimCallback(ctx, "b", "b-1", t0, t0.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []string{"a-1", "b-1", "b-3", "b-3b"}, due(end, integration.DueCallback{}, 10))
		require.NoError(t, s.EndCallback(ctx, "b", "b-1", t0.Add(time.Minute), true))
		require.Equal(t, []string{"a-1", "b-3", "b-3b"}, due(end, integration.DueCallback{}, 10))
	})

	t.Run("Orders", func(t *testing.T) {
		s := open(t)
		for i, ref := range []string{"a", "b", "c"} {
			require.NoError(t, s.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: usd("1"), Created: t0.Add(time.Duration(i) * time.Second)}))
		}
		list, err := s.Orders(ctx, 2)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, "c", list[0].CallerReference, "newest first")
		require.Equal(t, "b", list[1].CallerReference)
	})
}

func isConflictOrDuplicate(err error) bool {
	return errors.Is(err, integration.ErrConflict) || errors.Is(err, integration.ErrDuplicate)
}

// note is a stored PAY SUCCESS notification of transaction id under ref.
func note(t *testing.T, id, ref string, at time.Time) *integration.StoredNotification {
	t.Helper()
	body := "notificationType=TransactionStatus&transactionId=" + id + "&callerReference=" + ref +
		"&operation=PAY&transactionAmount=USD+30.00&transactionStatus=SUCCESS"
	return stored(t, body, at)
}

// normalise drops what a store may read back differently from what was
// written: nothing but the representation of equal decimals.
func normalise(txs []integration.Transaction) []integration.Transaction {
	for i := range txs {
		txs[i].Amount = fps.USD(decimal.RequireFromString(txs[i].Amount.Value.String()))
	}
	return txs
}

func normaliseEntry(e integration.HistoryEntry) integration.HistoryEntry {
	e.At = e.At.UTC()
	return e
}

// TestOpen opens stores by name: an SQLite file (created, migrated, and
// found again with what it holds after Close) and a PostgreSQL DSN.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shop.db")
		s, err := store.Open(ctx, path)
		require.NoError(t, err)
		newOrder(t, s, "order-1", "12.50")
		require.NoError(t, s.Close())
		s, err = store.Open(ctx, "file:"+path)
		require.NoError(t, err)
		defer s.Close()
		o, err := s.Order(ctx, "order-1")
		require.NoError(t, err)
		require.Equal(t, "USD 12.50", o.Amount.String())
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := store.Open(ctx, testdb.PostgresDSN(t))
		require.NoError(t, err)
		defer s.Close()
		newOrder(t, s, "order-1", "12.50")
	})
	t.Run("refused", func(t *testing.T) {
		_, err := store.Open(ctx, "")
		require.ErrorContains(t, err, "no database named")
		_, err = store.Open(ctx, "postgres://fps:secret-password@127.0.0.1:1/none?connect_timeout=1")
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret-password", "the password is not in the error")
	})
}
