package soak

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

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

// TestSummaryLabelsEveryFigure: each line of the summary is a label and
// one figure, and every figure is there once.
func TestSummaryLabelsEveryFigure(t *testing.T) {
	s := &Summary{Attempted: 101, Succeeded: 102, Refunded: 103, Failed: 104, Ambiguous: 210, Unresolved: 5,
		ResolvedByStatus: 106, ResolvedByToken: 107, ResolvedByResend: 108, ChargedTwice: 109, Lost: 110,
		FaultsInjected: 111, IPNDeliveries: 112, IPNsStored: 113,
		P50: 114 * time.Millisecond, P99: 115 * time.Millisecond, Wall: 116 * time.Second}
	var out bytes.Buffer
	s.Write(&out)
	line := regexp.MustCompile(`^(\S.*\S) {2,}(\S+)$`)
	var figures []string
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		m := line.FindStringSubmatch(strings.TrimLeft(l, " "))
		require.NotNil(t, m, "not a label and one figure: %q", l)
		require.Regexp(t, `[a-z]{3}`, m[1], "the label is words: %q", l)
		figures = append(figures, m[2])
	}
	require.ElementsMatch(t, []string{"101", "102", "103", "104", "205", "106", "107", "108", "5", "109", "110",
		"111", "112", "113", "114ms", "115ms", "1m56s"}, figures)
}
