package integration_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/stretchr/testify/require"
)

// TestFlows runs what a shop does every day through AmazonFPS with its
// defaults, on an SQLite file and on PostgreSQL: each flow's order ends
// where FPS's ledger says, and each change ran its callback once.
func TestFlows(t *testing.T) {
	sim := newSim(t)
	flaky := newSim(t, func(c *fpstest.Config) { c.IPNFailFirst = 1 << 30 }) // every delivery counts as failed: sent again and again
	for _, db := range databases {
		t.Run(db+"/pay", func(t *testing.T) {
			sh := newShop(t, sim, "default", database(t, db))
			ref, res := sh.checkout("19.99", "CC")
			require.Equal(t, fps.TransactionStatusPending, res.TransactionStatus)
			sh.await(ref, integration.OrderPending)
			require.NoError(t, sim.CompletePending(context.Background()))
			sh.await(ref, integration.OrderPaid)
			requireChanges(t, sh, ref, integration.OrderPaid)
		})
		t.Run(db+"/authorize and capture a part", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, "default", database(t, db))
			sh.authorize = true
			ref, res := sh.checkout("20.00", "CC")
			require.NoError(t, sim.CompletePending(ctx))
			sh.await(ref, integration.OrderAuthorized)
			capture, err := sh.app().a.Capture(ctx, usd("15.00"), fps.CaptureOptions{TransactionID: res.TransactionID})
			require.NoError(t, err)
			require.Equal(t, fps.TransactionStatusPending, capture.TransactionStatus)
			sh.await(ref, integration.OrderCapturing)
			require.NoError(t, sim.CompletePending(ctx))
			o := sh.await(ref, integration.OrderPaid)
			require.Equal(t, "15", o.Paid.String())
			requireChanges(t, sh, ref, integration.OrderPaid)
		})
		t.Run(db+"/authorize and void", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, "default", database(t, db))
			sh.authorize = true
			ref, res := sh.checkout("20.00", "ABT")
			sh.await(ref, integration.OrderAuthorized)
			void, err := sh.app().a.Void(ctx, res.TransactionID, fps.VoidOptions{Description: "out of stock"})
			require.NoError(t, err)
			require.Equal(t, fps.TransactionStatusCancelled, void.TransactionStatus)
			sh.await(ref, integration.OrderCancelled)
			requireChanges(t, sh, ref, integration.OrderCancelled)
		})
		t.Run(db+"/refund a part, then the rest", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, "default", database(t, db))
			ref, res := sh.checkout("30.00", "ABT")
			sh.await(ref, integration.OrderPaid)
			a := sh.app().a
			_, err := a.Credit(ctx, usd("10.00"), fps.CreditOptions{TransactionID: res.TransactionID, CallerReference: ref + "-r1"})
			require.NoError(t, err)
			sh.await(ref, integration.OrderPartlyRefunded)
			_, err = a.Credit(ctx, usd("20.00"), fps.CreditOptions{TransactionID: res.TransactionID, CallerReference: ref + "-r2"})
			require.NoError(t, err)
			o := sh.await(ref, integration.OrderRefunded)
			require.Equal(t, "30", o.Refunded.String())
			requireChanges(t, sh, ref, integration.OrderRefunded)
		})
		t.Run(db+"/every IPN delivered again and again", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, flaky, "default", database(t, db))
			ref, _ := sh.checkout("19.99", "CC")
			require.NoError(t, flaky.CompletePending(ctx))
			sh.await(ref, integration.OrderPaid)
			require.Eventually(t, func() bool {
				n := 0
				for _, d := range flaky.Deliveries() {
					if strings.Contains(d.Body, ref) && d.StatusCode == http.StatusOK {
						n++
					}
				}
				return n >= 6
			}, 10*time.Second, 10*time.Millisecond, "each IPN delivered three times or more: %+v", flaky.Deliveries())
			list, err := sh.app().orders.List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 2, "PENDING and SUCCESS, each stored once")
			requireChanges(t, sh, ref, integration.OrderPaid)
		})
		t.Run(db+"/IPNs in the reverse order", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, "default", database(t, db))
			sh.hold.Store(true)
			ref, _ := sh.checkout("19.99", "CC")
			require.NoError(t, sim.CompletePending(ctx))
			require.Eventually(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return len(sh.held) == 2 }, 10*time.Second, 10*time.Millisecond)
			sh.hold.Store(false)
			sh.mu.Lock()
			held := append([]string(nil), sh.held...)
			sh.mu.Unlock()
			if strings.Contains(held[0], "transactionStatus=PENDING") {
				held[0], held[1] = held[1], held[0]
			}
			for _, body := range held { // SUCCESS, then PENDING
				status, answer := post(t, sh.notifyURL(), body)
				require.Equal(t, http.StatusOK, status, answer)
			}
			sh.await(ref, integration.OrderPaid)
			requireChanges(t, sh, ref, integration.OrderPaid)
		})
		t.Run(db+"/two app servers race for one order", func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, "default", database(t, db))
			one, two := sh.app(), sh.start()
			link, ref := sh.link("12.50")
			back := buy(t, sim, link, "ABT")
			sh.hold.Store(true) // the IPNs are delivered below, to both at once

			// The buyer's return reaches both app servers at once.
			race(func(a *app) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				a.a.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, back.String(), nil))
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				return w
			}, one, two)
			hooks, _ := sh.counts()
			require.Equal(t, 1, hooks, "the hook ran once")
			require.Equal(t, 1, sim.Ledger().ChargeCount(ref))

			require.Eventually(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return len(sh.held) == 1 }, 10*time.Second, 10*time.Millisecond)
			sh.mu.Lock()
			body := sh.held[0]
			sh.mu.Unlock()
			race(func(a *app) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, sh.notifyURL(), strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				a.a.Handler().ServeHTTP(w, r)
				return w
			}, one, two, one, two)
			for _, a := range []*app{one, two} {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, sh.notifyURL(), strings.NewReader(body))
				a.a.Handler().ServeHTTP(w, r)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			}
			sh.await(ref, integration.OrderPaid)
			list, err := two.orders.List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 1)
			requireChanges(t, sh, ref, integration.OrderPaid)
		})
	}
}

// race runs f on each app server at once.
func race(f func(*app) *httptest.ResponseRecorder, apps ...*app) {
	atOnce(len(apps), func(i int) { f(apps[i]) })
}

// requireChanges checks the callback ran once for each change the IPNs
// made to the order ref (the history's entries that moved it; a
// notification delivered late moves nothing), the last one to last.
// Deliveries race, so the changes may run their callbacks in another
// order than they were made.
func requireChanges(t *testing.T, sh *shop, ref string, last integration.OrderStatus) {
	t.Helper()
	keys := func() (moved, called []string) {
		for _, e := range historyOf(t, sh, ref) {
			if e.Moved && e.Key != "return" {
				moved = append(moved, e.Key)
			}
		}
		_, changes := sh.counts()
		for _, ch := range changes {
			if ch.Order.CallerReference == ref {
				called = append(called, ch.Entry.Key)
			}
		}
		return moved, called
	}
	require.Eventually(t, func() bool {
		moved, called := keys()
		return len(moved) > 0 && len(called) >= len(moved)
	}, 10*time.Second, 10*time.Millisecond, "callbacks of %s", ref)
	time.Sleep(50 * time.Millisecond) // room for a second run, were there one
	moved, called := keys()
	require.ElementsMatch(t, moved, called, "one callback per change")
	h := historyOf(t, sh, ref)
	require.Equal(t, last, h[len(h)-1].To)
}

func historyOf(t *testing.T, sh *shop, ref string) []integration.HistoryEntry {
	h, err := sh.app().orders.History(context.Background(), ref)
	require.NoError(t, err)
	return h
}

// TestCallsMatchTheirOrder: a Purchase under an order's reference must
// ask for its amount, a refund must name a transaction of a known order;
// else nothing is sent.
func TestCallsMatchTheirOrder(t *testing.T) {
	sim := newSim(t)
	sh := newShop(t, sim, "default", database(t, "sqlite"))
	ctx := context.Background()
	_, ref := sh.link("12.50")
	a := sh.app().a
	_, err := a.Purchase(ctx, usd("1.00"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref})
	require.ErrorIs(t, err, integration.ErrOrderMismatch)
	_, err = a.Credit(ctx, usd("1.00"), fps.CreditOptions{TransactionID: "NOT-AN-ORDERS", CallerReference: "refund-x"})
	require.ErrorIs(t, err, integration.ErrUnknownOrder)
	require.Zero(t, sim.Ledger().ChargeCount(ref))
	require.Empty(t, sim.Ledger().Transactions())
}

// TestPerCallOptions: every method that calls FPS takes option functions
// that apply to that call alone; here, keys FPS does not know.
func TestPerCallOptions(t *testing.T) {
	sim := newSim(t)
	sh := newShop(t, sim, "default", database(t, "sqlite"))
	ctx := context.Background()
	ref, res := sh.checkout("12.50", "ABT")
	a := sh.app().a
	stranger := func(o *fps.Options) { o.Credentials = fps.StaticCredentials("AKIANOBODY", "nobody's secret") }
	link, err := a.WithFields(map[string]string{"pipelineName": "SingleUse", "transactionAmount": "1"}).LinkURL(ctx, stranger)
	require.NoError(t, err)
	require.Contains(t, link, "callerKey=AKIANOBODY&", "the link is signed with the call's credentials")
	for name, call := range map[string]func() error{
		"Purchase": func() error {
			_, err := a.Purchase(ctx, usd("12.50"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref}, stranger)
			return err
		},
		"Authorize": func() error {
			_, err := a.Authorize(ctx, usd("12.50"), fps.PurchaseOptions{TokenID: "T", CallerReference: "other-" + ref}, stranger)
			return err
		},
		"Capture": func() error {
			_, err := a.Capture(ctx, usd("1"), fps.CaptureOptions{TransactionID: res.TransactionID}, stranger)
			return err
		},
		"Credit": func() error {
			_, err := a.Credit(ctx, usd("1"), fps.CreditOptions{TransactionID: res.TransactionID, CallerReference: ref + "-r"}, stranger)
			return err
		},
		"Void": func() error {
			_, err := a.Void(ctx, res.TransactionID, fps.VoidOptions{}, stranger)
			return err
		},
	} {
		var ae *fps.APIError
		require.ErrorAs(t, call(), &ae, name)
		require.Equal(t, fps.ErrCodeInvalidClientTokenID, ae.Code, name)
	}
	// Without them, the same client works.
	_, err = a.Credit(ctx, usd("1"), fps.CreditOptions{TransactionID: res.TransactionID, CallerReference: ref + "-r"})
	require.NoError(t, err)
}
