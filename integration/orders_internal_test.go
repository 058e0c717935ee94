package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// lifeCycle is the order of the statuses along FPS's life cycle, as the
// tests see it: no transition may lead to an earlier one.
var lifeCycle = []OrderStatus{
	OrderCreated, OrderApproved, OrderPending, OrderAuthorized, OrderCapturing,
	OrderPaid, OrderPartlyRefunded, OrderRefunded,
}

var allEvents = []OrderEvent{
	EventReturned, EventPaymentPending, EventReserved, EventCapturePending, EventPaid, EventCaptured,
	EventFailed, EventCancelled, EventRefundedInPart, EventRefundedInFull,
}

// expected is the life cycle written out as a grid: one row per status,
// one column per event (in allEvents' order), "-" where the event moves
// nothing.
const expected = `
created          approved pending authorized capturing paid paid failed cancelled partly-refunded refunded
approved         -        pending authorized capturing paid paid failed cancelled partly-refunded refunded
pending          -        -       authorized capturing paid paid failed cancelled partly-refunded refunded
authorized       -        -       -          capturing -    paid failed cancelled partly-refunded refunded
capturing        -        -       -          -         -    paid failed cancelled partly-refunded refunded
paid             -        -       -          -         -    -    -      -         partly-refunded refunded
partly-refunded  -        -       -          -         -    -    -      -         partly-refunded refunded
refunded         -        -       -          -         -    -    -      -         -               -
failed           -        -       -          -         -    -    -      -         -               -
cancelled        -        -       -          -         -    -    -      -         -               -
`

// TestTransitionsExhaustively checks every status against every event:
// the move the grid gives, and nothing else.
func TestTransitionsExhaustively(t *testing.T) {
	rows := strings.Split(strings.TrimSpace(expected), "\n")
	require.Len(t, rows, len(lifeCycle)+2)
	seen := 0
	for _, row := range rows {
		cells := strings.Fields(row)
		require.Len(t, cells, len(allEvents)+1, row)
		from := OrderStatus(cells[0])
		for i, e := range allEvents {
			to, ok := NextStatus(from, e)
			if cells[i+1] == "-" {
				require.False(t, ok, "%s on %s moves to %s", from, e, to)
				require.Equal(t, from, to)
				continue
			}
			require.True(t, ok, "%s on %s moves nothing", from, e)
			require.Equal(t, OrderStatus(cells[i+1]), to, "%s on %s", from, e)
			seen++
		}
	}
	require.Len(t, Transitions(), seen, "the table has no other row")
}

// TestTransitionsNeverGoBack: no move leads to an earlier status of the
// life cycle, or out of refunded, failed or cancelled.
func TestTransitionsNeverGoBack(t *testing.T) {
	rank := map[OrderStatus]int{}
	for i, s := range lifeCycle {
		rank[s] = i
	}
	rank[OrderFailed], rank[OrderCancelled] = len(lifeCycle), len(lifeCycle)
	for _, tr := range Transitions() {
		require.GreaterOrEqual(t, rank[tr.To], rank[tr.From], "%+v goes back", tr)
		require.NotContains(t, []OrderStatus{OrderRefunded, OrderFailed, OrderCancelled}, tr.From, "%+v leaves an end", tr)
		if tr.From == tr.To {
			require.Equal(t, EventRefundedInPart, tr.Event, "only one more partial refund keeps the status")
		}
	}
}

// flow is one transaction's notifications of an order of 30.00.
type step struct {
	ref, id string
	op      fps.NotificationOperation
	status  fps.NotificationStatus
	amount  string
}

func (s step) notification(at time.Time) *StoredNotification {
	a, err := fps.ParseAmount("USD " + s.amount)
	if err != nil {
		panic(err)
	}
	n := fps.Notification{Type: fps.NotificationTypeTransactionStatus, TransactionID: s.id, CallerReference: s.ref,
		Operation: s.op, TransactionAmount: a, Status: s.status}
	n.TransactionStatus, _ = fps.ParseTransactionStatus(string(s.status))
	return &StoredNotification{Key: n.Key(), Notification: n, ReceivedAt: at}
}

// permutations calls f with every order of steps.
func permutations(steps []step, f func([]step)) {
	var rec func(k int)
	rec = func(k int) {
		if k == len(steps) {
			f(steps)
			return
		}
		for i := k; i < len(steps); i++ {
			steps[k], steps[i] = steps[i], steps[k]
			rec(k + 1)
			steps[k], steps[i] = steps[i], steps[k]
		}
	}
	rec(0)
}

// TestNotificationsInAnyOrder delivers the notifications of whole flows
// in every order: each order of delivery ends where the flow ends, and
// no notification moves the order back on the way.
func TestNotificationsInAnyOrder(t *testing.T) {
	rank := map[OrderStatus]int{}
	for i, s := range lifeCycle {
		rank[s] = i
	}
	const ref = "order-1"
	for _, tc := range []struct {
		name     string
		steps    []step
		want     OrderStatus
		paid     string
		refunded string
	}{
		{"pay", []step{{ref, "PAY", "PAY", "PENDING", "30"}, {ref, "PAY", "PAY", "SUCCESS", "30"}}, OrderPaid, "30", "0"},
		{"authorize and capture a part", []step{
			{ref, "RES", "RESERVE", "PENDING", "30"}, {ref, "RES", "RESERVE", "RESERVED", "30"},
			{ref, "RES", "SETTLE", "PENDING", "20"}, {ref, "RES", "SETTLE", "SUCCESS", "20"},
		}, OrderPaid, "20", "0"},
		{"authorize and void", []step{
			{ref, "RES", "RESERVE", "PENDING", "30"}, {ref, "RES", "RESERVE", "RESERVED", "30"}, {ref, "RES", "CANCEL", "CANCELLED", "30"},
		}, OrderCancelled, "0", "0"},
		{"pay and refund in two parts", []step{
			{ref, "PAY", "PAY", "PENDING", "30"}, {ref, "PAY", "PAY", "SUCCESS", "30"},
			{"refund-1", "R1", "REFUND", "PENDING", "10"}, {"refund-1", "R1", "REFUND", "SUCCESS", "10"},
			{"refund-2", "R2", "REFUND", "SUCCESS", "20"},
		}, OrderRefunded, "30", "30"},
		{"pay and refund a part", []step{
			{ref, "PAY", "PAY", "SUCCESS", "30"}, {"refund-1", "R1", "REFUND", "PENDING", "10"}, {"refund-1", "R1", "REFUND", "SUCCESS", "10"},
		}, OrderPartlyRefunded, "30", "10"},
		{"a failed payment", []step{{ref, "PAY", "PAY", "PENDING", "30"}, {ref, "PAY", "PAY", "FAILURE", "30"}}, OrderFailed, "0", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			payment := operationOf[tc.steps[0].op] // before the steps are shuffled
			permutations(tc.steps, func(order []step) {
				runs++
				o := Order{CallerReference: ref, Amount: fps.USD(decimal.NewFromInt(30)), Status: OrderCreated}
				txs := []Transaction{{CallerReference: ref, Operation: payment, Amount: o.Amount}}
				for _, s := range tc.steps {
					if s.op == "REFUND" && !containsRef(txs, s.ref) {
						txs = append(txs, Transaction{CallerReference: s.ref, Operation: fps.FPSOperationRefund})
					}
				}
				var path []string
				for i, s := range order {
					c := notified(o, txs, s.notification(time.Unix(int64(i), 0)), nil, true)
					path = append(path, fmt.Sprintf("%s %s: %s", s.op, s.status, c.Order.Status))
					require.GreaterOrEqual(t, rankOf(rank, c.Order.Status), rankOf(rank, o.Status), "back: %v", path)
					require.Equal(t, c.Entry.From != c.Entry.To || c.Entry.Event == EventRefundedInPart && c.Entry.Moved, c.Entry.Moved, "%v", path)
					o = c.Order
					for j := range txs {
						if txs[j].CallerReference == c.Transaction.CallerReference {
							txs[j] = *c.Transaction
						}
					}
				}
				require.Equal(t, tc.want, o.Status, "%v", path)
				require.Equal(t, tc.paid, o.Paid.String(), "paid: %v", path)
				require.Equal(t, tc.refunded, o.Refunded.String(), "refunded: %v", path)
			})
			require.Positive(t, runs)
		})
	}
}

func containsRef(txs []Transaction, ref string) bool {
	for _, t := range txs {
		if t.CallerReference == ref {
			return true
		}
	}
	return false
}

func rankOf(rank map[OrderStatus]int, s OrderStatus) int {
	if r, ok := rank[s]; ok {
		return r
	}
	return len(lifeCycle) // failed, cancelled
}

// TestNotificationsThatMoveNothing: a step of another transaction, or an
// amount other than the order's, is kept in the history and moves
// nothing.
func TestNotificationsThatMoveNothing(t *testing.T) {
	o := Order{CallerReference: "order-1", Amount: fps.USD(decimal.NewFromInt(30)), Status: OrderApproved}
	txs := []Transaction{{CallerReference: "order-1", ID: "PAY", Operation: fps.FPSOperationPay, Amount: o.Amount}}
	for _, s := range []step{
		{"order-1", "PAY", "PAY", "SUCCESS", "1"},           // another amount
		{"order-1", "OTHER", "PAY", "SUCCESS", "30"},        // another transaction under the order's reference
		{"order-1", "PAY", "REFUND", "SUCCESS", "30"},       // a refund step of a Pay
		{"order-1", "PAY", "PAY", "INITIATED", "30"},        // no transaction status
		{"order-1", "PAY", "RESERVE", "RESERVED", "30"},     // a Reserve step of a Pay
		{"order-1", "PAY", "SETTLE", "SUCCESS", "30"},       // a Settle step of a Pay
		{"order-1", "PAY", "CANCEL", "SUCCESS", "30"},       // no such status of a Cancel
		{"order-1", "PAY", "PAY", "RESERVED", "30"},         // no such status of a Pay
		{"order-1", "PAY", "FUND_PREPAID", "SUCCESS", "30"}, // not an order's step
	} {
		c := notified(o, txs, s.notification(time.Unix(1, 0)), &fps.TransactionDetail{RecipientEmail: "shop@example.com"}, true)
		require.False(t, c.Entry.Moved, "%+v", s)
		require.False(t, c.Entry.CallbackDue, "%+v", s)
		require.Equal(t, OrderApproved, c.Order.Status, "%+v", s)
		require.True(t, c.Order.Paid.IsZero(), "%+v", s)
		require.Empty(t, c.Order.RecipientEmail, "%+v", s)
	}
}
