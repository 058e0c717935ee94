package fps_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// frozenSimulator starts a simulator whose clock moves by Advance alone,
// card payments Pending for pendingDelay.
func frozenSimulator(t *testing.T, pendingDelay time.Duration) (*fpstest.Server, *fps.Client, context.Context) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return simulator(t, func(cfg *fpstest.Config) {
		cfg.PendingDelay = pendingDelay
		cfg.Clock = func() time.Time { return base }
	})
}

// simSleep moves the simulator's clock instead of sleeping, and records
// each delay; then, when set, runs after each.
type simSleep struct {
	s      *fpstest.Server
	mu     sync.Mutex
	delays []time.Duration
	then   func(n int)
}

func (z *simSleep) sleep(ctx context.Context, d time.Duration) error {
	z.mu.Lock()
	z.delays = append(z.delays, d)
	n := len(z.delays)
	z.mu.Unlock()
	z.s.Clock().Advance(d)
	if z.then != nil {
		z.then(n)
	}
	return ctx.Err()
}

func (z *simSleep) total() time.Duration {
	var sum time.Duration
	for _, d := range z.delays {
		sum += d
	}
	return sum
}

// waiter returns a waiter on c that moves s's clock, with delays from 5s
// to 20s.
func waiter(s *fpstest.Server, c *fps.Client, z *simSleep) *fps.TransactionCompletedWaiter {
	return fps.NewTransactionCompletedWaiter(c, func(o *fps.TransactionCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Second, 20*time.Second
		o.Clock = s.Clock().Now
		o.Sleep = z.sleep
	})
}

// A card payment is Pending for the simulator's PendingDelay; the waiter
// polls with growing delays, moving the simulator's clock, until it
// succeeds.
func TestTransactionCompletedWaiterSuccess(t *testing.T) {
	s, c, ctx := frozenSimulator(t, 90*time.Second)
	paid := pay(t, c, singleUse(t, s, c, "12.50", "CC"), "12.50")
	require.Equal(t, fps.TransactionStatusPending, paid.TransactionStatus)

	z := &simSleep{s: s}
	out, err := waiter(s, c, z).WaitForOutput(ctx, paid.TransactionID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, out.TransactionStatus)
	require.Equal(t, paid.TransactionID, out.TransactionID)

	require.GreaterOrEqual(t, z.total(), 90*time.Second, "Pending until PendingDelay passed")
	require.Less(t, z.total(), 90*time.Second+20*time.Second, "seen within one MaxDelay of it")
	require.Equal(t, 5*time.Second, z.delays[0], "the first wait is MinDelay")
	for i, d := range z.delays {
		require.GreaterOrEqual(t, d, 5*time.Second, "delay %d", i)
		require.LessOrEqual(t, d, 20*time.Second, "delay %d", i)
		require.LessOrEqual(t, d, 5*time.Second<<i, "delay %d at most doubles", i)
	}
}

// A reserve leaves Pending as Reserved, a cancelled payment as
// Cancelled: Wait returns whichever status ends Pending.
func TestTransactionCompletedWaiterOtherStatuses(t *testing.T) {
	s, c, ctx := frozenSimulator(t, 30*time.Second)

	reserved, err := c.Reserve(ctx, &fps.ReserveInput{
		SenderTokenID: singleUse(t, s, c, "8", "CC"), TransactionAmount: usd("8"), CallerReference: fps.NewCallerReference(),
	})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, reserved.TransactionStatus)
	st, err := waiter(s, c, &simSleep{s: s}).Wait(ctx, reserved.TransactionID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusReserved, st)

	paid := pay(t, c, singleUse(t, s, c, "3", "CC"), "3")
	z := &simSleep{s: s}
	z.then = func(n int) {
		if n == 2 { // the buyer's bank is still deciding: the shop cancels
			_, err := c.Cancel(ctx, &fps.CancelInput{TransactionID: paid.TransactionID})
			require.NoError(t, err)
		}
	}
	st, err = waiter(s, c, z).Wait(ctx, paid.TransactionID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusCancelled, st)
	require.Len(t, z.delays, 2)
}

// A transaction that stays Pending ends the wait at maxWait, measured on
// the waiter's clock, the last poll at the deadline.
func TestTransactionCompletedWaiterTimeout(t *testing.T) {
	s, c, ctx := frozenSimulator(t, -1)
	paid := pay(t, c, singleUse(t, s, c, "5", "CC"), "5")
	z := &simSleep{s: s}
	st, err := waiter(s, c, z).Wait(ctx, paid.TransactionID, time.Minute)
	require.ErrorIs(t, err, fps.ErrWaitTimeout)
	require.ErrorContains(t, err, paid.TransactionID)
	require.Empty(t, st)
	require.Equal(t, time.Minute, z.total(), "the last delay is cut to reach the deadline")
	require.LessOrEqual(t, len(z.delays), 12)

	// The per-wait options replace the waiter's.
	z2 := &simSleep{s: s}
	_, err = waiter(s, c, z).Wait(ctx, paid.TransactionID, time.Minute, func(o *fps.TransactionCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay, o.Sleep = time.Minute, time.Minute, z2.sleep
	})
	require.ErrorIs(t, err, fps.ErrWaitTimeout)
	require.Equal(t, []time.Duration{time.Minute}, z2.delays)
}

// The waiter stops when its context ends, and on the first error of
// GetTransactionStatus; its arguments are checked first.
func TestTransactionCompletedWaiterStops(t *testing.T) {
	s, c, ctx := frozenSimulator(t, -1)
	paid := pay(t, c, singleUse(t, s, c, "5", "CC"), "5")

	cctx, cancel := context.WithCancel(ctx)
	z := &simSleep{s: s, then: func(int) { cancel() }}
	_, err := waiter(s, c, z).Wait(cctx, paid.TransactionID, time.Hour)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, fps.ErrWaitTimeout)
	require.Len(t, z.delays, 1)

	z = &simSleep{s: s}
	_, err = waiter(s, c, z).Wait(ctx, "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM", time.Hour)
	require.Equal(t, fps.ErrCodeInvalidTransactionID, apiCode(t, err))
	require.Empty(t, z.delays)

	_, err = waiter(s, c, z).Wait(ctx, paid.TransactionID, 0)
	require.ErrorContains(t, err, "maximum wait")
	_, err = waiter(s, c, z).Wait(ctx, paid.TransactionID, time.Hour, func(o *fps.TransactionCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Minute, time.Second
	})
	require.ErrorContains(t, err, "MinDelay")
	require.Empty(t, z.delays)
}

// With the real clock and sleep, a call cut by maxWait is a timeout too.
func TestTransactionCompletedWaiterRealClock(t *testing.T) {
	s, c, ctx := simulator(t, func(cfg *fpstest.Config) { cfg.PendingDelay = -1 })
	paid := pay(t, c, singleUse(t, s, c, "5", "CC"), "5")
	start := time.Now()
	_, err := fps.NewTransactionCompletedWaiter(c, func(o *fps.TransactionCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 40*time.Millisecond
	}).Wait(ctx, paid.TransactionID, 200*time.Millisecond)
	require.ErrorIs(t, err, fps.ErrWaitTimeout)
	require.Less(t, time.Since(start), 5*time.Second)
}
