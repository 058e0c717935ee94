package integration_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/stretchr/testify/require"
)

// The orders a shop must not lose when the buyer's return never comes or
// the app server charging it dies: Config.Charge, its claim in the
// database, and Recover.

// testHookTimeout is the shops' hook timeout: their claims last twice as
// long.
const testHookTimeout = 500 * time.Millisecond

// chargingShop is a shop charging through Config.Charge, with a short
// hook timeout.
func chargingShop(t *testing.T, db string, opts ...func(*shop)) *shop {
	t.Helper()
	return newShop(t, newSim(t), "default", db, append([]func(*shop){func(sh *shop) {
		sh.charge, sh.hookTimeout = true, testHookTimeout
	}}, opts...)...)
}

// recoverNow runs Recover on the shop's app server, taking every order.
func recoverNow(t *testing.T, sh *shop) integration.Recovered {
	t.Helper()
	got, err := sh.app().a.Recover(context.Background(), integration.RecoverOptions{Grace: time.Nanosecond, CallbackGrace: time.Nanosecond})
	require.NoError(t, err)
	return got
}

// TestRecoverChargesALostReturn: the buyer approved, his browser never
// came back. Recover finds the token FPS holds for the order and charges
// it once; the buyer coming back later is shown the order as it stands;
// an order nobody approved is left created.
func TestRecoverChargesALostReturn(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			sh := chargingShop(t, database(t, db))
			link, ref := sh.link("25.00")
			_, idle := sh.link("3.00")
			back := buy(t, sh.sim, link, "ABT") // the browser never comes back

			require.Equal(t, integration.Recovered{Asked: 2, Approved: 1, Charged: 1}, recoverNow(t, sh))
			o := sh.await(ref, integration.OrderPaid)
			require.Equal(t, back.Query().Get("tokenID"), o.TokenID)
			require.Equal(t, 1, sh.sim.Ledger().ChargeCount(ref))
			require.Equal(t, integration.OrderCreated, sh.order(idle).Status, "no token, nothing done")
			h := historyOf(t, sh, ref)
			require.Equal(t, integration.ReturnKey, h[0].Key)
			require.Contains(t, h[0].Note, "his return did not come")
			require.False(t, h[0].CallbackDue, "the charge ended")

			require.Equal(t, integration.Recovered{Asked: 1}, recoverNow(t, sh), "nothing more to do")
			status, body := get(t, back.String())
			require.Equal(t, http.StatusOK, status, body)
			require.Equal(t, "order "+ref+" is paid\n", body, "the late buyer sees his order")
			hooks, _ := sh.counts()
			require.Zero(t, hooks, "no page was written: no return ran the charge")
			require.Equal(t, 1, sh.chargeCount())
			require.Equal(t, 1, sh.sim.Ledger().ChargeCount(ref))
		})
	}
}

// TestReturnAndRecoverChargeOnce: the buyer's return, loaded twice, and
// Recover on two app servers, all at once: the charge runs once.
func TestReturnAndRecoverChargeOnce(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			sh := chargingShop(t, database(t, db), func(sh *shop) {
				sh.chargeHook = func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
					time.Sleep(20 * time.Millisecond) // the others come meanwhile
					_, err := sh.pay(ctx, a, o)
					return err
				}
			})
			link, ref := sh.link("12.00")
			back := buy(t, sh.sim, link, "ABT")
			one, two := sh.app(), sh.start()
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i < 2 {
						resp, err := http.Get(back.String())
						if err == nil {
							resp.Body.Close()
						}
						return
					}
					a := []*app{one, two}[i%2]
					_, err := a.a.Recover(context.Background(), integration.RecoverOptions{Grace: time.Nanosecond})
					require.NoError(t, err)
				}()
			}
			wg.Wait()
			sh.await(ref, integration.OrderPaid)
			require.Equal(t, 1, sh.chargeCount())
			require.Equal(t, 1, sh.sim.Ledger().ChargeCount(ref))
		})
	}
}

// endDropper drops the first end of a charge's claim: the app server
// that ran it died before recording it.
type endDropper struct {
	integration.Store
	drop atomic.Bool
}

func (s *endDropper) EndCallback(ctx context.Context, ref, key string, until time.Time, ok bool) error {
	if key == integration.ReturnKey && s.drop.CompareAndSwap(true, false) {
		return nil
	}
	return s.Store.EndCallback(ctx, ref, key, until, ok)
}

// TestChargeOfADeadAppServerIsTakenAgain: the app server charging an
// order dies before its Pay, or after it but before FPS's answer was
// kept. Until its claim expires, neither the buyer reloading nor Recover
// charges again; after it, the next of them runs the charge again under
// the order's CallerReference, and FPS charges the order once.
func TestChargeOfADeadAppServerIsTakenAgain(t *testing.T) {
	for _, afterPay := range []bool{false, true} {
		for _, by := range []string{"reload", "Recover"} {
			name := map[bool]string{false: "dies before Pay", true: "dies after Pay"}[afterPay] + "/taken again by " + by
			t.Run(name, func(t *testing.T) {
				var store *endDropper
				sh := chargingShop(t, database(t, "sqlite"), func(sh *shop) {
					sh.wrapStore = func(s integration.Store) integration.Store {
						store = &endDropper{Store: s}
						return store
					}
					sh.chargeHook = func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
						if sh.chargeCount() == 1 { // the first run: its app server dies
							store.drop.Store(true)
							if !afterPay {
								return nil
							}
						}
						_, err := sh.pay(ctx, a, o)
						return err
					}
				})
				sh.hold.Store(true) // the order stays approved: no IPN moves it
				link, ref := sh.link("40.00")
				back := buy(t, sh.sim, link, "ABT")
				status, body := get(t, back.String())
				require.Equal(t, http.StatusOK, status, body)
				require.Equal(t, integration.OrderApproved, sh.order(ref).Status)
				wantCharges := 0
				if afterPay {
					wantCharges = 1
				}
				require.Equal(t, wantCharges, sh.sim.Ledger().ChargeCount(ref))

				_, body = get(t, back.String())
				require.Equal(t, "order "+ref+" is approved\n", body, "the claim holds: the order as it stands")
				require.Equal(t, integration.Recovered{}, recoverNow(t, sh))
				require.Equal(t, 1, sh.chargeCount())

				time.Sleep(2 * testHookTimeout) // the claim expired
				if by == "reload" {
					status, body = get(t, back.String())
					require.Equal(t, http.StatusOK, status, body)
					require.True(t, strings.HasPrefix(body, "thank you"), body)
				} else {
					require.Equal(t, integration.Recovered{Charged: 1}, recoverNow(t, sh))
				}
				require.Equal(t, 2, sh.chargeCount())
				require.Equal(t, 1, sh.sim.Ledger().ChargeCount(ref), "FPS charged the order once")
				require.Len(t, sh.purchases, 1+wantCharges)
				if afterPay {
					require.Equal(t, sh.purchases[0].TransactionID, sh.purchases[1].TransactionID, "the second Pay was answered as the first")
				}

				require.Equal(t, integration.Recovered{}, recoverNow(t, sh), "the charge ended")
				sh.hold.Store(false)
				sh.mu.Lock()
				held := append([]string(nil), sh.held...)
				sh.mu.Unlock()
				for _, body := range held {
					status, answer := post(t, sh.notifyURL(), body)
					require.Equal(t, http.StatusOK, status, answer)
				}
				sh.await(ref, integration.OrderPaid)
			})
		}
	}
}

// TestChargeRefusedForGoodFailsTheOrder: FPS refuses the charge with an
// error that moves no money (here, the shop's Charge names another
// CallerReference, which Purchase refuses before sending anything): the
// order fails, and its charge never runs again. A charge that failed
// otherwise is released and runs again at the next reload.
func TestChargeRefusedForGoodFailsTheOrder(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		sh := chargingShop(t, database(t, "sqlite"), func(sh *shop) {
			sh.chargeHook = func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
				_, err := a.Purchase(ctx, o.Amount.Value, fps.PurchaseOptions{TokenID: o.TokenID, CallerReference: o.CallerReference + "-again"})
				return err
			}
		})
		link, ref := sh.link("9.00")
		back := buy(t, sh.sim, link, "ABT")
		status, body := get(t, back.String())
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "thank you: your order is failed", body)
		require.Zero(t, sh.sim.Ledger().ChargeCount(ref+"-again"), "nothing was sent")
		h := historyOf(t, sh, ref)
		require.Len(t, h, 2)
		require.Equal(t, integration.ChargeKey, h[1].Key)
		require.Equal(t, integration.OrderFailed, h[1].To)
		require.Contains(t, h[1].Note, "must be sent with the order's CallerReference")
		_, body = get(t, back.String())
		require.Equal(t, "order "+ref+" is failed\n", body)
		require.Equal(t, integration.Recovered{}, recoverNow(t, sh))
		require.Equal(t, 1, sh.chargeCount())
	})
	t.Run("failed, to be run again", func(t *testing.T) {
		var failing atomic.Bool
		failing.Store(true)
		sh := chargingShop(t, database(t, "sqlite"), func(sh *shop) {
			sh.chargeHook = func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
				if failing.Load() {
					return &fps.APIError{Code: "ServiceUnavailable", StatusCode: http.StatusServiceUnavailable}
				}
				_, err := sh.pay(ctx, a, o)
				return err
			}
		})
		link, ref := sh.link("9.00")
		back := buy(t, sh.sim, link, "ABT")
		_, body := get(t, back.String())
		require.Equal(t, "thank you: your order is approved", body)
		require.Contains(t, sh.logged(), "it will be run again")
		failing.Store(false)
		_, body = get(t, back.String())
		require.Regexp(t, "^thank you: your order is (approved|paid)$", body, "run again at the reload (its IPN may have come)")
		require.Equal(t, 2, sh.chargeCount())
		sh.await(ref, integration.OrderPaid)
	})
}

// TestTransactionHookClaim: without Config.Charge, the TransactionHook
// charges under the order's claim: a hook that panics releases it, so
// the reload runs the hook again; a hook that returned is never run
// again; Recover has nothing to charge with.
func TestTransactionHookClaim(t *testing.T) {
	sh := newShop(t, newSim(t), "default", database(t, "sqlite"))
	_, idle := sh.link("3.00")
	got, err := sh.app().a.Recover(context.Background(), integration.RecoverOptions{Grace: time.Nanosecond})
	require.NoError(t, err, "the shop has a NotificationCallback to run again")
	require.Equal(t, integration.Recovered{}, got, "no order is asked about: there is no Charge")
	require.Equal(t, integration.OrderCreated, sh.order(idle).Status)

	bare, err := integration.New(integration.Config{
		AccessKey: shopAccount.AccessKeyID, SecretKey: shopAccount.SecretAccessKey, TestMode: true,
		BaseURL:     "https://shop.example/",
		APIEndpoint: sh.sim.APIEndpoint(), CBUIEndpoint: sh.sim.CBUIEndpoint(), HTTPClient: sh.sim.HTTPClient(),
		Store: store.NewMemory(),
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
	})
	require.NoError(t, err)
	_, err = bare.Recover(context.Background(), integration.RecoverOptions{})
	require.ErrorIs(t, err, integration.ErrNoCharge, "neither a Charge nor a callback: nothing to recover with")

	link, ref := sh.link("7.00")
	back := buy(t, sh.sim, link, "ABT")
	sh.panicOnce.Store(true)
	_, err = http.Get(back.String())
	require.Error(t, err, "the hook panicked: no page")
	require.Equal(t, integration.OrderApproved, sh.order(ref).Status)

	status, body := get(t, back.String())
	require.Equal(t, http.StatusOK, status, body)
	require.True(t, strings.HasPrefix(body, "thank you: "), body)
	_, body = get(t, back.String())
	require.Regexp(t, "^order "+ref+" is (approved|paid)\n$", body, "the order as it stands (its IPN may have come)")
	hooks, _ := sh.counts()
	require.Equal(t, 2, hooks, "run again after the panic, then never")
	sh.await(ref, integration.OrderPaid)
	require.Equal(t, 1, sh.sim.Ledger().ChargeCount(ref))
}

// TestRecoverRunsACallbackWhoseDeliveriesStopped: the notification
// callback failed at the IPN's last delivery (Amazon stops after a day).
// Recover runs it again, with the notification and the order as it
// stands, until it succeeds once; then never again, and a late delivery
// does not run it either.
func TestRecoverRunsACallbackWhoseDeliveriesStopped(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			sh := chargingShop(t, database(t, db))
			sh.hold.Store(true) // the simulator's deliveries are answered 200 and kept
			link, ref := sh.link("9.00")
			status, body := get(t, buy(t, sh.sim, link, "ABT").String())
			require.Equal(t, http.StatusOK, status, body)
			require.Eventually(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return len(sh.held) == 1 }, 10*time.Second, 10*time.Millisecond)
			sh.hold.Store(false)
			ipn := sh.held[0]

			sh.mu.Lock()
			sh.failNext = 2 // the last delivery, then the first Recover
			sh.mu.Unlock()
			status, answer := post(t, sh.notifyURL(), ipn)
			require.Equal(t, http.StatusInternalServerError, status, answer)
			o := sh.order(ref)
			require.Equal(t, integration.OrderPaid, o.Status, "the change is stored before its callback runs")
			h := historyOf(t, sh, ref)
			key := h[len(h)-1].Key
			require.True(t, h[len(h)-1].CallbackDue)

			got, err := sh.app().a.Recover(context.Background(), integration.RecoverOptions{Grace: time.Nanosecond, CallbackGrace: time.Nanosecond})
			require.ErrorIs(t, err, errFulfilment)
			require.ErrorContains(t, err, key)
			require.Equal(t, integration.Recovered{Callbacks: 1}, got)
			_, changes := sh.counts()
			require.Empty(t, changes)

			require.Equal(t, integration.Recovered{Callbacks: 1}, recoverNow(t, sh), "run again, and it succeeds")
			_, changes = sh.counts()
			require.Len(t, changes, 1)
			ch := changes[0]
			require.Equal(t, key, ch.Entry.Key)
			require.Equal(t, integration.OrderPaid, ch.Entry.To)
			require.Equal(t, ref, ch.Order.CallerReference)
			require.Equal(t, integration.OrderPaid, ch.Order.Status)
			require.NotNil(t, ch.Notification)
			require.Equal(t, ref, ch.Notification.CallerReference)
			require.Equal(t, fps.TransactionStatusSuccess, ch.Notification.TransactionStatus)
			require.False(t, historyOf(t, sh, ref)[len(h)-1].CallbackDue)

			require.NotContains(t, sh.logged(), "after its claim expired", "the runs ended within their claims")
			require.Equal(t, integration.Recovered{}, recoverNow(t, sh), "never again")
			status, answer = post(t, sh.notifyURL(), ipn)
			require.Equal(t, http.StatusOK, status, answer)
			_, changes = sh.counts()
			require.Len(t, changes, 1, "a late delivery does not run it again")
		})
	}
}

// TestRecoverLeavesARecentCallbackToItsDeliveries: a change whose
// callback failed less than CallbackGrace ago (an hour by default) is
// left to the IPN's next delivery, whatever Grace.
func TestRecoverLeavesARecentCallbackToItsDeliveries(t *testing.T) {
	sh := chargingShop(t, database(t, "sqlite"))
	sh.hold.Store(true)
	link, ref := sh.link("4.00")
	status, body := get(t, buy(t, sh.sim, link, "ABT").String())
	require.Equal(t, http.StatusOK, status, body)
	require.Eventually(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return len(sh.held) == 1 }, 10*time.Second, 10*time.Millisecond)
	sh.hold.Store(false)
	sh.mu.Lock()
	sh.failNext = 1
	sh.mu.Unlock()
	status, answer := post(t, sh.notifyURL(), sh.held[0])
	require.Equal(t, http.StatusInternalServerError, status, answer)

	for _, opts := range []integration.RecoverOptions{{Grace: time.Nanosecond}, {Grace: time.Nanosecond, CallbackGrace: time.Hour}} {
		got, err := sh.app().a.Recover(context.Background(), opts)
		require.NoError(t, err)
		require.Equal(t, integration.Recovered{}, got, "%+v", opts)
	}
	_, changes := sh.counts()
	require.Empty(t, changes)
	require.True(t, historyOf(t, sh, ref)[len(historyOf(t, sh, ref))-1].CallbackDue)
}

// stallingEnd records the end of a notification callback only after
// stall, as a store stalled by other writers would.
type stallingEnd struct {
	integration.Store
	stall time.Duration
}

func (s *stallingEnd) EndCallback(ctx context.Context, ref, key string, until time.Time, ok bool) error {
	if key != integration.ReturnKey {
		time.Sleep(s.stall)
	}
	return s.Store.EndCallback(ctx, ref, key, until, ok)
}

// TestCallbackEndRecordedLateIsLogged: a callback whose end is recorded
// after its claim expired (twice HookTimeout) may have been run again by
// another delivery or Recover meanwhile; the handler says so.
func TestCallbackEndRecordedLateIsLogged(t *testing.T) {
	sh := chargingShop(t, database(t, "sqlite"), func(sh *shop) {
		sh.wrapStore = func(s integration.Store) integration.Store {
			return &stallingEnd{Store: s, stall: 2*testHookTimeout + 200*time.Millisecond}
		}
	})
	link, ref := sh.link("6.00")
	status, body := get(t, buy(t, sh.sim, link, "ABT").String())
	require.Equal(t, http.StatusOK, status, body)
	sh.await(ref, integration.OrderPaid)
	require.Eventually(t, func() bool {
		return strings.Contains(sh.logged(), "the callback's end was recorded after its claim expired")
	}, 10*time.Second, 20*time.Millisecond, sh.logged())
	require.Contains(t, sh.logged(), "order="+ref)
}
