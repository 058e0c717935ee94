package soak

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestSoakKeepsThePromises(t *testing.T) {
	sum, err := Run(context.Background(), Config{Payments: 200, FaultRate: 0.3, Concurrency: 4, Seed: 7})
	require.NoError(t, err)
	var out bytes.Buffer
	sum.Write(&out)
	t.Log("\n" + out.String())
	require.False(t, sum.Broken(), out.String())
	require.Equal(t, 200, sum.Attempted)
	require.Equal(t, sum.Attempted, sum.Succeeded+sum.Failed)
	require.Positive(t, sum.Succeeded)
	require.Positive(t, sum.Ambiguous, "at 30%% faults some answers are lost")
	require.Positive(t, sum.FaultsInjected)
	require.Positive(t, sum.IPNsStored)
	require.Greater(t, sum.IPNDeliveries, sum.IPNsStored, "some deliveries were refused and retried")
	require.Positive(t, sum.P99)
}

// TestSoakCatchesALostPayment resends a charge whose answer was lost
// under a new CallerReference, the classic bug: the single-use token was
// spent by the first charge, so the resend fails, and the caller believes
// the order failed while the ledger charged it.
func TestSoakCatchesALostPayment(t *testing.T) {
	sum, err := Run(context.Background(), Config{
		Payments: 20, FaultRate: 0.5, Concurrency: 2, Seed: 3,
		resendReference: func(ref string, attempt int) string { return fmt.Sprintf("%s-again-%d", ref, attempt) },
		clientOptions:   []func(*fps.Options){func(o *fps.Options) { o.MaxAttempts = 1 }},
	})
	require.NoError(t, err)
	var out bytes.Buffer
	sum.Write(&out)
	require.True(t, sum.Broken(), out.String())
	require.Positive(t, sum.Lost, out.String())
	require.Zero(t, sum.ChargedTwice, out.String())
	require.Contains(t, out.String(), "is not the one the caller knows")
}

// TestSoakCatchesADoubleCharge charges one order a second time under a
// second CallerReference of the caller, with a multi-use token, after the
// soak: the ledger then holds two charges for one order.
func TestSoakCatchesADoubleCharge(t *testing.T) {
	sum, err := Run(context.Background(), Config{
		Payments: 10, FaultRate: 0, Concurrency: 2, Seed: 5,
		beforeCheck: func(ctx context.Context, r *run) {
			o := r.orders["soak-5-0"]
			require.NotNil(t, o)
			token, err := r.sim.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenMultiUse, "CC", "soak-5-0-token", decimal.NewFromInt(1000))
			require.NoError(t, err)
			r.remember(o, "soak-5-0-twice")
			_, err = r.client.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: fps.USD(o.amount), CallerReference: "soak-5-0-twice"})
			require.NoError(t, err)
		},
	})
	require.NoError(t, err)
	var out bytes.Buffer
	sum.Write(&out)
	require.True(t, sum.Broken(), out.String())
	require.Equal(t, 1, sum.ChargedTwice, out.String())
	require.Contains(t, out.String(), "BROKEN: order soak-5-0 charged 2 times")
}

func TestSoakRefusesABadRate(t *testing.T) {
	_, err := Run(context.Background(), Config{Payments: 1, FaultRate: 1.5})
	require.ErrorContains(t, err, "fault rate")
}
