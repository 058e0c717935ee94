package shopsoak

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// soakOf runs a short shop soak of cfg and returns its summary, printed.
func soakOf(t *testing.T, cfg Config) (*Summary, string) {
	t.Helper()
	if cfg.Orders == 0 {
		cfg.Orders = 40
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	sum, err := Run(context.Background(), cfg)
	var out bytes.Buffer
	if sum != nil {
		sum.Write(&out)
	}
	require.NoError(t, err, out.String())
	return sum, out.String()
}

func TestShopSoakKeepsThePromises(t *testing.T) {
	dbs := map[string]string{"sqlite": ""}
	if dsn := os.Getenv(testdb.PostgresEnv); dsn != "" {
		dbs["postgres"] = dsn
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			sum, out := soakOf(t, Config{Orders: 60, FaultRate: 0.3, Seed: 7, Database: db})
			t.Log("\n" + out)
			require.False(t, sum.Broken(), out)
			require.Equal(t, 60, sum.Orders)
			require.Positive(t, sum.Paid, out)
			require.Positive(t, sum.Captured, out)
			require.Equal(t, sum.Orders, sum.Paid+sum.Captured+sum.Voided+sum.Failed, "each order came to an end: %s", out)
			require.Equal(t, 1, sum.Restarts)
			for _, story := range []string{story1, story2, story3, story4} {
				require.Positive(t, sum.AttackerSent[story], "story %s: %s", story, out)
			}
			for _, story := range []string{story1, story3} {
				require.Equal(t, sum.AttackerSent[story], sum.AttackerRefused[story], "story %s refused: %s", story, out)
			}
			// The simulator may still be delivering some of the
			// attacker's IPNs, none answered for good yet.
			require.Positive(t, sum.AttackerRefused[story2], out)
			for _, kind := range []string{"HTTP 500", "InternalError", "answers lost after commit", "IPNs duplicated", "IPNs held back"} {
				require.Positive(t, sum.Faults[kind], "%s: %s", kind, out)
			}
			require.Greater(t, sum.Deliveries.Attempts, sum.Deliveries.Delivered, "some deliveries failed and were retried")
			require.Positive(t, sum.P99)
			for _, label := range []string{"orders attempted ", "paid ", "authorized / captured ", "refunded ", "failed, definite reason ",
				"orders lost ", "fulfilled twice ", "paid without money moving ", "attacker messages accepted ", "orders moved backwards ",
				"faults injected ", "IPN deliveries ", "retries ", "restarts ", "latency, link to final ", "wall time "} {
				require.Contains(t, out, "\n"+label, "the summary says %q", label)
			}
			if name == "postgres" {
				require.Contains(t, out, "PostgreSQL postgres://")
				require.NotContains(t, out, ":fps@", "no password in the summary")
			}
		})
	}
}

// commitDropper loses the commits of the approval of one order, as a
// store that acknowledges a commit it never made.
type commitDropper struct {
	integration.Store
	mu  *sync.Mutex
	ref *string // the order whose approvals are lost: the first approved
}

func (s *commitDropper) Commit(ctx context.Context, c integration.Change) error {
	if c.Entry.Key == integration.ReturnKey {
		s.mu.Lock()
		if *s.ref == "" {
			*s.ref = c.Order.CallerReference
		}
		lost := *s.ref == c.Order.CallerReference
		s.mu.Unlock()
		if lost {
			return nil
		}
	}
	return s.Store.Commit(ctx, c)
}

func TestShopSoakReportsALostOrder(t *testing.T) {
	var mu sync.Mutex
	var ref string
	sum, out := soakOf(t, Config{Seed: 3, Restarts: -1, settleFor: 3 * time.Second, wrapStore: func(s integration.Store) integration.Store {
		return &commitDropper{Store: s, mu: &mu, ref: &ref}
	}})
	require.True(t, sum.Broken(), out)
	require.Equal(t, 1, sum.Lost, out)
	require.Contains(t, out, "BROKEN: order lost: "+ref+": the buyer approved")
	require.Zero(t, sum.FulfilledTwice+sum.PaidWithoutMoney+sum.AttackerAccepted+sum.MovedBackwards, out)
}

func TestShopSoakReportsACallbackRunTwice(t *testing.T) {
	var once sync.Once
	var ref string
	sum, out := soakOf(t, Config{Seed: 3, Restarts: -1,
		callback: func(ctx context.Context, ch integration.OrderChange, run func() error) error {
			twice := false
			once.Do(func() { twice, ref = true, ch.Order.CallerReference })
			if twice {
				if err := run(); err != nil {
					return err
				}
			}
			return run()
		}})
	require.True(t, sum.Broken(), out)
	require.Equal(t, 1, sum.FulfilledTwice, out)
	require.Contains(t, out, "BROKEN: fulfilled twice: the callback of "+ref+", change ")
	require.Zero(t, sum.Lost+sum.PaidWithoutMoney+sum.AttackerAccepted+sum.MovedBackwards, out)
}

// TestShopSoakReportsWhatTheStoreGetsWrong changes the store after the
// orders settled, one order for each broken promise: one paid twice the
// money it took, one charged a second time under another reference of
// its own, one holding the attacker's notification, one moved back from
// paid to pending. Each is reported, once.
func TestShopSoakReportsWhatTheStoreGetsWrong(t *testing.T) {
	var refs [4]string
	sum, out := soakOf(t, Config{Seed: 5, Restarts: -1, beforeCheck: func(ctx context.Context, s *soak) {
		var paid []integration.Order
		list, err := s.db.store.Orders(ctx, 1000)
		require.NoError(t, err)
		for _, o := range list {
			txs, err := s.db.store.Transactions(ctx, o.CallerReference)
			require.NoError(t, err)
			if o.Status == integration.OrderPaid && len(txs) == 1 && txs[0].Operation == fps.FPSOperationPay {
				paid = append(paid, o)
			}
		}
		require.GreaterOrEqual(t, len(paid), 4)
		for i := range refs {
			refs[i] = paid[i].CallerReference
		}
		change := func(o integration.Order, key string, to integration.OrderStatus, sn *integration.StoredNotification) {
			e := integration.HistoryEntry{At: time.Now().UTC(), Key: key, From: o.Status, To: to, Moved: to != o.Status, Note: "injected"}
			o.Status = to
			require.NoError(t, s.db.store.Commit(ctx, integration.Change{Order: o, Entry: e, Notification: sn}))
		}

		// Paid twice the money it took.
		o := paid[0]
		o.Paid = o.Paid.Mul(decimal.NewFromInt(2))
		change(o, "injected-paid", o.Status, nil)

		// Charged again under another reference of the order.
		o = paid[1]
		again := o.CallerReference + "-again"
		require.NoError(t, s.db.store.AddTransaction(ctx, o.CallerReference, integration.Transaction{CallerReference: again, Operation: fps.FPSOperationPay, Amount: o.Amount}))
		token, err := s.sim.Ledger().InstallToken(shopAccount.AccessKeyID, fpstest.TokenMultiUse, "ABT", again, decimal.Zero)
		require.NoError(t, err)
		shop, err := s.shopClient()
		require.NoError(t, err)
		_, err = shop.Purchase(ctx, o.Amount.Value, fps.PurchaseOptions{TokenID: token, CallerReference: again})
		require.NoError(t, err)

		// The attacker's notification stored with the order.
		var attackers string
		for _, tx := range s.sim.Ledger().Transactions() {
			if tx.AccessKeyID == attackerAccount.AccessKeyID {
				attackers = tx.ID
			}
		}
		require.NotEmpty(t, attackers, "the attacker paid himself")
		o = paid[2]
		n := fps.Notification{Type: fps.NotificationTypeTransactionStatus, TransactionID: attackers, CallerReference: o.CallerReference,
			Operation: fps.NotificationOperationPay, TransactionStatus: fps.TransactionStatusSuccess, TransactionAmount: o.Amount}
		change(o, n.Key(), o.Status, &integration.StoredNotification{Key: n.Key(), Notification: n, RawBody: "injected", ReceivedAt: time.Now().UTC()})

		// Moved back from paid to pending.
		change(paid[3], "injected-back", integration.OrderPending, nil)
	}})
	require.True(t, sum.Broken(), out)
	require.Equal(t, 1, sum.PaidWithoutMoney, out)
	require.Contains(t, out, fmt.Sprintf("BROKEN: paid without money moving: %s: paid ", refs[0]))
	require.Equal(t, 1, sum.FulfilledTwice, out)
	require.Contains(t, out, fmt.Sprintf("BROKEN: fulfilled twice: %s: FPS charged the order 2 times", refs[1]))
	require.Equal(t, 1, sum.AttackerAccepted, out)
	require.Contains(t, out, "BROKEN: attacker message accepted: the attacker's notification ")
	require.Equal(t, 1, sum.MovedBackwards, out)
	require.Contains(t, out, fmt.Sprintf("BROKEN: order moved backwards: %s: entry injected-back moved it back, paid → pending", refs[3]))
	require.Zero(t, sum.Lost, out)
}

func TestBackwards(t *testing.T) {
	e := func(key string, from, to integration.OrderStatus) integration.HistoryEntry {
		return integration.HistoryEntry{Key: key, From: from, To: to, Moved: from != to || from == integration.OrderPartlyRefunded}
	}
	const (
		created, approved, pending, paid = integration.OrderCreated, integration.OrderApproved, integration.OrderPending, integration.OrderPaid
		partly, refunded, failed         = integration.OrderPartlyRefunded, integration.OrderRefunded, integration.OrderFailed
	)
	for _, tc := range []struct {
		name   string
		hist   []integration.HistoryEntry
		status integration.OrderStatus
		bad    string
	}{
		{"forward", []integration.HistoryEntry{e("r", created, approved), e("p", approved, pending), e("s", pending, paid)}, paid, ""},
		{"recorded out of order", []integration.HistoryEntry{e("s", pending, paid), e("r", created, approved), e("p", approved, pending)}, paid, ""},
		{"refunded in parts", []integration.HistoryEntry{e("s", created, paid), e("a", paid, partly), e("b", partly, partly), e("c", partly, refunded)}, refunded, ""},
		{"a late entry", []integration.HistoryEntry{e("s", created, paid), {Key: "late", From: paid, To: paid}}, paid, ""},
		{"back", []integration.HistoryEntry{e("s", created, paid), e("p", paid, pending)}, pending, "entry p moved it back, paid → pending"},
		{"failed after paid", []integration.HistoryEntry{e("s", created, paid), e("f", paid, failed)}, failed, "entry f moved it back, paid → failed"},
		{"a lost move", []integration.HistoryEntry{e("r", created, approved), e("s", pending, paid)}, paid, "no entry moves on from approved"},
		{"another status", []integration.HistoryEntry{e("r", created, approved)}, paid, "the order is paid, its history ends at approved"},
		{"a late entry that moved", []integration.HistoryEntry{e("s", created, paid), {Key: "late", From: paid, To: pending}}, paid, "entry late moved nothing but says paid → pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why, bad := backwards(tc.hist, tc.status)
			require.Equal(t, tc.bad != "", bad, why)
			require.True(t, strings.HasPrefix(why, tc.bad), why)
		})
	}
}
