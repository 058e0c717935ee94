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

// heapAt is the live heap at a simulated hour.
type heapAt struct {
	hour int
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

// longRunReport is what a long run measured.
type longRunReport struct {
	firstHour   uint64   // the live heap after the first simulated hour
	checkpoints []heapAt // after hour 2, then after each day
	orders      int
	oldRefunds  int // refunds of payments more than 30 days old
	oldest      time.Duration
}

// longRun drives a simulator configured as `fps sandbox` configures its
// own (CC pending 5 s, IPNs retried for a day, to a receiver, the state
// in a SQLite file) through days of simulated time: ordersPerDay orders a
// day spread over its hours, each a SingleUse pipeline approved by the
// headless buyer and paid by card through the SDK; every third order a
// Reserve settled in part instead, every fifth refunded in part. Once a
// day it goes back to the first payment of an earlier day: it reads it
// (GetTransaction), lists its hour (GetAccountActivity) and, from day 36
// on, refunds 1.00 of a payment made 35 days before, which must succeed.
// The clock moves an hour at a time; the live heap is measured after the
// first hour, the second, and each day.
func longRun(tb testing.TB, days, ordersPerDay int) longRunReport {
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
		c.BuyerBalance = decimal.NewFromInt(1_000_000)
	})
	c := s.Client(tb)
	ctx := context.Background()
	usd := func(v int64) fps.Amount { return fps.USD(decimal.NewFromInt(v)) }
	// The first payment of each day and when it was made: all the run
	// keeps of its past, allocated once.
	firstPay := make([]string, days+1)
	firstAt := make([]time.Time, days+1)
	var report longRunReport
	order := func(day, n int) {
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
		if firstPay[day] == "" {
			firstPay[day], firstAt[day] = paid.TransactionID, s.Clock().Now()
		}
		if n%5 == 0 {
			require.NoError(tb, s.CompletePending(ctx))
			_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: usd(5), CallerReference: ref + "-refund"})
			require.NoError(tb, err)
		}
		_, err = c.GetTransactionStatus(ctx, &fps.GetTransactionStatusInput{TransactionID: paid.TransactionID})
		require.NoError(tb, err)
	}
	// pastDay goes back to day back of the run, on day today.
	pastDay := func(today, back int) {
		id, at := firstPay[back], firstAt[back]
		got, err := c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: id})
		require.NoError(tb, err, "day %d: the first payment of day %d", today, back)
		require.Equal(tb, fps.TransactionStatusSuccess, got.Transaction.TransactionStatus)
		activity, err := c.GetAccountActivity(ctx, &fps.GetAccountActivityInput{StartDate: at.Add(-time.Minute), EndDate: at, MaxBatchSize: 20})
		require.NoError(tb, err)
		listed := false
		for _, t := range activity.Transactions {
			listed = listed || t.TransactionID == id
		}
		require.True(tb, listed, "day %d: the activity around the first payment of day %d lists it", today, back)
		if old := today - 35; old >= 1 && firstPay[old] != "" {
			_, err := c.Refund(ctx, &fps.RefundInput{TransactionID: firstPay[old], RefundAmount: usd(1),
				CallerReference: "old-refund-" + strconv.Itoa(today)})
			require.NoError(tb, err, "day %d: a refund of the first payment of day %d", today, old)
			report.oldRefunds++
			report.oldest = max(report.oldest, s.Clock().Now().Sub(firstAt[old]))
		}
	}
	for hour := 1; hour <= 24*days; hour++ {
		day := (hour-1)/24 + 1
		for range hour*ordersPerDay/24 - (hour-1)*ordersPerDay/24 {
			report.orders++
			order(day, report.orders)
		}
		if hour%24 == 12 && day > 1 {
			pastDay(day, max(1, day/2))
		}
		s.Clock().Advance(time.Hour)
		switch {
		case hour == 1:
			report.firstHour = liveHeap()
		case hour == 2, hour%24 == 0:
			report.checkpoints = append(report.checkpoints, heapAt{hour: hour, heap: liveHeap()})
		}
	}
	counts := s.DeliveryCounts()
	require.Positive(tb, counts.Delivered)
	tb.Logf("%d orders over %d simulated days; %d refunds of payments over 30 days old (the oldest %s); IPN deliveries %+v; kept attempts %d",
		report.orders, days, report.oldRefunds, report.oldest.Round(time.Hour), counts, len(s.Deliveries()))
	return report
}

func mib(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// band is how far the live heap may be from its figure after the second
// simulated hour: 10% of it, or 0.5 MiB when that is more.
func band(ref uint64) uint64 { return max(ref/10, 1<<19) }

// TestLongRunMemoryIsFlat runs 42 simulated days of steady traffic with
// the state in a file: the ledger holds in memory only what can still
// change, so the live heap stays within a small band of its figure after
// the second hour, while payments more than 30 days old are read and
// refunded.
func TestLongRunMemoryIsFlat(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("a long run; its heap figures mean nothing under -race")
	}
	r := longRun(t, 42, 36)
	require.Positive(t, r.oldRefunds)
	require.Greater(t, r.oldest, 30*24*time.Hour)
	t.Logf("live heap after the first simulated hour: %s", mib(r.firstHour))
	ref := r.checkpoints[0].heap
	for _, c := range r.checkpoints {
		t.Logf("live heap after hour %4d (day %2d): %s", c.hour, c.hour/24, mib(c.heap))
	}
	for _, c := range r.checkpoints {
		require.InDelta(t, float64(ref), float64(c.heap), float64(band(ref)),
			"hour %d: %s, %s after hour 2 (band %s)", c.hour, mib(c.heap), mib(ref), mib(band(ref)))
	}
}

// BenchmarkLongRunMemory is the long run over 180 simulated days (run it
// with -bench LongRunMemory -benchtime 1x); it reports the live heap
// after the first and second hours, its largest value after, and at the
// end.
func BenchmarkLongRunMemory(b *testing.B) {
	for range b.N {
		r := longRun(b, 180, 36)
		var peak uint64
		for _, c := range r.checkpoints {
			peak = max(peak, c.heap)
		}
		b.ReportMetric(float64(r.firstHour)/(1<<20), "MiB-first-hour")
		b.ReportMetric(float64(r.checkpoints[0].heap)/(1<<20), "MiB-hour-2")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-after")
		b.ReportMetric(float64(r.checkpoints[len(r.checkpoints)-1].heap)/(1<<20), "MiB-last-day")
		b.ReportMetric(float64(r.orders), "orders")
	}
}
