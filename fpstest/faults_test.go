package fpstest_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestFaultKinds(t *testing.T) {
	s := newServer(t)
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	for _, tc := range []struct {
		kind   fpstest.FaultKind
		status int
		code   string
	}{
		{fpstest.Fault500, 500, ""},
		{fpstest.Fault503, 503, ""},
		{fpstest.FaultInternalError, 500, "InternalError"},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			require.NoError(t, s.SetFaults(fpstest.Faults{Rate: 1, Actions: []string{"Pay"}, Kinds: []fpstest.FaultKind{tc.kind}}))
			ref := "fault-" + tc.kind.String()
			status, body := pay(t, s, "Pay", tok, "1", ref)
			if tc.code != "" {
				requireError(t, status, body, tc.status, tc.code)
			} else {
				require.Equal(t, tc.status, status)
			}
			require.Equal(t, 0, s.Ledger().ChargeCount(ref), "nothing was done")
			// Other actions are not hit.
			st, b := call(t, s, "GetAccountBalance", nil)
			require.Equal(t, 200, st, b)
			require.NoError(t, s.SetFaults(fpstest.Faults{}))
			okTxFn(t)(pay(t, s, "Pay", tok, "1", ref))
		})
	}
}

func TestFaultDropAfterCommitThenReplay(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) {
		c.Faults = fpstest.Faults{Rate: 1, Actions: []string{"Pay"}, Kinds: []fpstest.FaultKind{fpstest.FaultDropAfterCommit}, Limit: 1}
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	form := signed(t, s, http.MethodPost, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "9", "TransactionAmount.CurrencyCode": "USD", "CallerReference": "drop"})
	resp, err := s.HTTPClient().Post(s.APIEndpoint(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection is dropped without an answer")
	require.Equal(t, 1, s.Ledger().ChargeCount("drop"), "but the payment was made")
	// The retry with the same CallerReference gets the stored answer.
	d := okTxFn(t)(pay(t, s, "Pay", tok, "9", "drop"))
	require.Equal(t, s.Ledger().Transactions()[0].ID, d.TransactionID)
	require.Equal(t, 1, s.Ledger().ChargeCount("drop"))
	require.Equal(t, 1, s.FaultsInjected())
}

func TestFaultRateIsSeededAndDeterministic(t *testing.T) {
	pattern := func() []int {
		s := newServer(t, func(c *fpstest.Config) { c.Faults = fpstest.Faults{Rate: 0.3, Seed: 42} })
		var out []int
		for i := 0; i < 30; i++ {
			st, _ := call(t, s, "GetAccountBalance", nil)
			out = append(out, st)
		}
		return out
	}
	a, b := pattern(), pattern()
	require.Equal(t, a, b)
	failed := 0
	for _, st := range a {
		if st != 200 {
			require.Equal(t, 500, st)
			failed++
		}
	}
	require.Greater(t, failed, 2)
	require.Less(t, failed, 20)
}

func TestFaultLatency(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) {
		c.Faults = fpstest.Faults{Rate: 1, Kinds: []fpstest.FaultKind{fpstest.FaultLatency}, Latency: 150 * time.Millisecond}
	})
	start := time.Now()
	st, body := call(t, s, "GetAccountBalance", nil)
	require.Equal(t, 200, st, body)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}

func TestConcurrentPayments(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.PendingDelay = time.Millisecond })
	abt := install(t, s, "ABT", fpstest.TokenMultiUse)
	cc := install(t, s, "CC", fpstest.TokenMultiUse)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, workers*each*3)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := strconv.Itoa(w) + "-" + strconv.Itoa(i)
				for _, c := range []struct{ tok, ref string }{{abt, "abt-" + id}, {cc, "cc-" + id}, {abt, "shared"}} {
					// Everyone also replays one shared CallerReference.
					if st, body := pay(t, s, "Pay", c.tok, "1", c.ref); st != 200 {
						errs <- body
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	require.Equal(t, 1, s.Ledger().ChargeCount("shared"))
	require.Len(t, s.Ledger().Transactions(), workers*each*2+1)
	require.NoError(t, s.CompletePending(t.Context()))
	// Each 1.00 payment leaves 0.90: the FPS fee of 1.00 is 0.10.
	require.Equal(t, decimal.NewFromInt(workers*each*2+1).Mul(decimal.RequireFromString("0.9")).StringFixed(6), balance(t, s).Total)
}

// BenchmarkSimulatorPay measures signed Pay calls per second over
// loopback TLS; BenchmarkBareHTTP is a bare handler answering a body of
// the same size over the same setting.

// ipnFaultServer is a simulator whose IPNs go to a new sink, with faults.
func ipnFaultServer(t *testing.T, f fpstest.Faults) (*fpstest.Server, *ipnSink) {
	k := newSink(t, 0)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL + "/ipn"
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.Faults = f
	})
	return s, k
}

func TestFaultIPNDuplicate(t *testing.T) {
	s, k := ipnFaultServer(t, fpstest.Faults{Rate: 1, Kinds: []fpstest.FaultKind{fpstest.FaultIPNDuplicate}})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "3", "dup-1")) // API calls are not hit by an IPN kind
	waitFor(t, func() bool { return len(k.received()) == 2 })
	got := k.received()
	require.Equal(t, got[0], got[1], "the same signed body, twice")
	require.Equal(t, "dup-1", got[0].Get("callerReference"))
	require.Equal(t, map[fpstest.FaultKind]int{fpstest.FaultIPNDuplicate: 1}, s.FaultsByKind())
	// A delivery is counted once its answer came back, after the
	// receiver saw it.
	waitFor(t, func() bool { return s.DeliveryCounts().Delivered == 2 })
	require.Equal(t, 2, s.DeliveryCounts().Attempts, "no third attempt")
	require.Equal(t, 1, s.Ledger().ChargeCount("dup-1"))
}

func TestFaultIPNHoldBack(t *testing.T) {
	s, k := ipnFaultServer(t, fpstest.Faults{Rate: 1, Kinds: []fpstest.FaultKind{fpstest.FaultIPNHoldBack}, Limit: 1, Latency: 300 * time.Millisecond})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "held"))
	okTxFn(t)(pay(t, s, "Pay", tok, "2", "overtaking"))
	waitFor(t, func() bool { return len(k.received()) == 2 })
	got := k.received()
	require.Equal(t, "overtaking", got[0].Get("callerReference"), "the IPN sent second arrives first")
	require.Equal(t, "held", got[1].Get("callerReference"))
	require.Equal(t, map[fpstest.FaultKind]int{fpstest.FaultIPNHoldBack: 1}, s.FaultsByKind())
}

func TestFaultsByKindCountsAPIKinds(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) {
		c.Faults = fpstest.Faults{Rate: 1, Actions: []string{"GetAccountBalance"}, Kinds: []fpstest.FaultKind{fpstest.Fault503, fpstest.FaultIPNDuplicate}, Limit: 3}
	})
	for range 5 {
		call(t, s, "GetAccountBalance", nil)
	}
	require.Equal(t, map[fpstest.FaultKind]int{fpstest.Fault503: 3}, s.FaultsByKind(), "an API call draws from the API kinds alone")
	require.Equal(t, 3, s.FaultsInjected())
	require.Equal(t, "FaultIPNHoldBack", fpstest.FaultIPNHoldBack.String())
	require.Error(t, s.SetFaults(fpstest.Faults{Kinds: []fpstest.FaultKind{fpstest.FaultIPNHoldBack + 1}}))
}
