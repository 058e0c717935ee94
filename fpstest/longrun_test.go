package fpstest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/fpstest/statefile"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// heapAt is the live heap after a simulated day.
type heapAt struct {
	day  int
	heap uint64 // bytes live after a collection
}

// liveHeap returns the bytes live after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// longRun drives a simulator configured as `fps sandbox` configures its
// own (CC pending 5 s, IPNs retried for a day, to a receiver, the state
// in a SQLite file) through days of simulated time: ordersPerDay orders a
// day spread over its hours, each a SingleUse pipeline approved by the
// headless buyer and paid by card through the SDK; every third order a
// Reserve settled in part instead, every fifth refunded in part; then the
// clock moves an hour. It returns the live heap after the first hour and
// after each day.
func longRun(tb testing.TB, days, ordersPerDay int) (firstHour uint64, daily []heapAt, orders int) {
	ipn := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tb.Cleanup(ipn.Close)
	state, err := statefile.Open(filepath.Join(tb.TempDir(), "state.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { state.Close() })
	acct := fpstest.DefaultAccount()
	acct.IPNURL = ipn.URL
	s := newServer(tb, func(c *fpstest.Config) {
		c.Accounts, c.State = []fpstest.Account{acct}, state
		c.PendingDelay, c.IPNRetryWindow, c.IPNFirstDelay = 5*time.Second, 24*time.Hour, time.Second
	})
	c := s.Client(tb)
	ctx := context.Background()
	usd := func(v int64) fps.Amount { return fps.USD(decimal.NewFromInt(v)) }
	order := func(n int) {
		ref := "order-" + strconv.Itoa(n)
		link, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
			PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/return", CallerReference: ref},
			TransactionAmount: decimal.NewFromInt(50), PaymentReason: "order " + strconv.Itoa(n),
		})
		require.NoError(tb, err)
		u, err := s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
		require.NoError(tb, err)
		token := u.Query().Get("tokenID")
		amount := int64(10 + n%40)
		if n%3 == 0 {
			res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: token, TransactionAmount: usd(amount), CallerReference: ref})
			require.NoError(tb, err)
			require.NoError(tb, s.CompletePending(ctx))
			_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd(amount - 1)})
			require.NoError(tb, err)
			return
		}
		paid, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd(amount), CallerReference: ref,
			CallerDescription: "order " + strconv.Itoa(n)})
		require.NoError(tb, err)
		if n%5 == 0 {
			require.NoError(tb, s.CompletePending(ctx))
			_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: usd(5), CallerReference: ref + "-refund"})
			require.NoError(tb, err)
		}
		_, err = c.GetTransactionStatus(ctx, &fps.GetTransactionStatusInput{TransactionID: paid.TransactionID})
		require.NoError(tb, err)
	}
	for hour := 1; hour <= 24*days; hour++ {
		for range hour*ordersPerDay/24 - (hour-1)*ordersPerDay/24 {
			orders++
			order(orders)
		}
		s.Clock().Advance(time.Hour)
		switch {
		case hour == 1:
			firstHour = liveHeap()
		case hour%24 == 0:
			daily = append(daily, heapAt{day: hour / 24, heap: liveHeap()})
		}
	}
	counts := s.DeliveryCounts()
	require.Positive(tb, counts.Delivered)
	tb.Logf("%d orders over %d simulated days; IPN deliveries %+v; kept attempts %d", orders, days, counts, len(s.Deliveries()))
	return firstHour, daily, orders
}

func mib(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// TestLongRunMemoryIsFlat runs 38 simulated days. The live heap grows
// while the windows of what the ledger keeps fill (seven days of kept
// answers, DefaultRetention of completed transactions and spent tokens);
// once they are full it stays flat.
func TestLongRunMemoryIsFlat(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("a long run; its heap figures mean nothing under -race")
	}
	first, daily, _ := longRun(t, 38, 36)
	t.Logf("live heap after the first simulated hour: %s", mib(first))
	for _, d := range daily {
		t.Logf("live heap after day %2d: %s", d.day, mib(d.heap))
	}
	full := int(DefaultRetentionDays) + 2 // the retention, and its sweep a day later at most
	steady := daily[full-1].heap
	for _, d := range daily[full:] {
		require.LessOrEqual(t, d.heap, steady+steady/20,
			"day %d: %s, steady from day %d at %s", d.day, mib(d.heap), full, mib(steady))
	}
}

// DefaultRetentionDays is DefaultRetention in days.
const DefaultRetentionDays = fpstest.DefaultRetention / (24 * time.Hour)

// BenchmarkLongRunMemory is the long run over 180 simulated days (run it
// with -bench LongRunMemory -benchtime 1x); it reports the live heap at
// the end and its largest daily value after the windows are full.
func BenchmarkLongRunMemory(b *testing.B) {
	for range b.N {
		first, daily, orders := longRun(b, 180, 36)
		full := int(DefaultRetentionDays) + 2
		var peak uint64
		for _, d := range daily[full:] {
			peak = max(peak, d.heap)
		}
		b.ReportMetric(float64(first)/(1<<20), "MiB-first-hour")
		b.ReportMetric(float64(daily[full-1].heap)/(1<<20), "MiB-when-full")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-after")
		b.ReportMetric(float64(daily[len(daily)-1].heap)/(1<<20), "MiB-last-day")
		b.ReportMetric(float64(orders), "orders")
	}
}
