package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fpskit/fps"
)

// Order is what the merchant expects to be paid: the CallerReference it
// put in the pipeline or the API call, and the amount.
type Order struct {
	CallerReference string
	Amount          fps.Amount
	// RecipientEmail, when set, is the email of the Amazon Payments
	// account the order is paid to: the merchant's own, or a marketplace
	// seller's. A TransactionStatus notification (other than a refund's)
	// naming another recipientEmail is refused. Without it, anyone with an
	// account of their own can pay themselves under the order's caller
	// reference and amount, with their IPN URL set to the merchant's, and
	// have the order taken as paid.
	RecipientEmail string
}

// OrderLookup returns the order the merchant started with callerReference,
// or an error wrapping ErrUnknownOrder when there is none. Any other error
// is taken as a temporary failure.
type OrderLookup func(ctx context.Context, callerReference string) (Order, error)

// Errors of the order check; test with errors.Is.
var (
	// ErrUnknownOrder: the caller reference names no order of the merchant.
	ErrUnknownOrder = errors.New("integration: unknown order")
	// ErrOrderMismatch: the amount or currency does not match the order.
	ErrOrderMismatch = errors.New("integration: does not match the order")
)

// lookupOrder finds the order of ref; the lookup must answer with the
// order of that very reference.
func lookupOrder(ctx context.Context, orders OrderLookup, ref string) (Order, error) {
	if ref == "" {
		return Order{}, fmt.Errorf("%w: callerReference is missing", ErrUnknownOrder)
	}
	o, err := orders(ctx, ref)
	if err != nil {
		return Order{}, err
	}
	if o.CallerReference != ref {
		return Order{}, fmt.Errorf("%w: callerReference %q", ErrUnknownOrder, ref)
	}
	return o, nil
}

// checkAmountAgainst compares a received amount with the order's: same
// currency, and the same value, or at most the order's value when partial
// is true (refunds, settlements).
func checkAmountAgainst(got fps.Amount, o Order, partial bool) error {
	if got.Currency() != o.Amount.Currency() {
		return fmt.Errorf("%w: currency %s, order is in %s", ErrOrderMismatch, got.Currency(), o.Amount.Currency())
	}
	if partial {
		if got.Value.GreaterThan(o.Amount.Value) {
			return fmt.Errorf("%w: amount %s exceeds the order's %s", ErrOrderMismatch, got, o.Amount)
		}
		return nil
	}
	if !got.Value.Equal(o.Amount.Value) {
		return fmt.Errorf("%w: amount %s, order is %s", ErrOrderMismatch, got, o.Amount)
	}
	return nil
}

// checkNotificationOrder refuses a notification that does not belong to an
// order of the merchant. A TransactionStatus notification must carry the
// order's amount and currency (a refund or a settlement may carry less)
// and, when the order names its recipient, be paid to that recipient
// (refunds excepted). A TokenCancellation must name a known caller
// reference.
func checkNotificationOrder(ctx context.Context, orders OrderLookup, n *fps.Notification) error {
	o, err := lookupOrder(ctx, orders, n.CallerReference)
	if err != nil || n.Type == fps.NotificationTypeTokenCancellation {
		return err
	}
	if o.RecipientEmail != "" && n.Operation != "REFUND" && !strings.EqualFold(n.RecipientEmail, o.RecipientEmail) {
		return fmt.Errorf("%w: paid to recipient %q, not to %q", ErrOrderMismatch, n.RecipientEmail, o.RecipientEmail)
	}
	return checkAmountAgainst(n.TransactionAmount, o, n.Operation == "REFUND" || n.Operation == "SETTLE")
}

// checkReturnOrder refuses a return that does not belong to an order of
// the merchant: a successful return must name a known caller reference,
// and a transactionAmount, when present, must match the order. A failed
// or abandoned return without a caller reference gets the zero Order.
func checkReturnOrder(ctx context.Context, orders OrderLookup, ret *fps.PipelineReturn) (Order, error) {
	if !ret.Status.Success() && ret.CallerReference == "" {
		return Order{}, nil
	}
	o, err := lookupOrder(ctx, orders, ret.CallerReference)
	if err != nil {
		return Order{}, err
	}
	if s := ret.Params.Get("transactionAmount"); s != "" {
		got, err := fps.ParseAmount(s)
		if err != nil {
			return Order{}, fmt.Errorf("%w: %w", fps.ErrMalformed, &fps.ValidationError{Field: "transactionAmount", Rule: fmt.Sprintf("must be a currency code, a space and a decimal, got %q", s)})
		}
		if err := checkAmountAgainst(got, o, false); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// OrderBook records the orders the integration starts and finds them
// again for the return and IPN handlers. A shop keeping orders in its
// database implements it there.
type OrderBook interface {
	// Record keeps o under o.CallerReference, replacing an order of the
	// same reference.
	Record(ctx context.Context, o Order) error
	// Lookup is an OrderLookup: the order of callerReference, or an
	// error wrapping ErrUnknownOrder.
	Lookup(ctx context.Context, callerReference string) (Order, error)
}

// MemoryOrderBook is an in-memory OrderBook, safe for concurrent use. Its
// orders are lost when the process ends, and it keeps every order it
// records: good for tests and a single small process.
type MemoryOrderBook struct {
	mu     sync.Mutex
	orders map[string]Order
}

// NewMemoryOrderBook returns an empty MemoryOrderBook.
func NewMemoryOrderBook() *MemoryOrderBook {
	return &MemoryOrderBook{orders: map[string]Order{}}
}

// Record implements OrderBook.
func (m *MemoryOrderBook) Record(ctx context.Context, o Order) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.CallerReference == "" {
		return &fps.ValidationError{Field: "CallerReference", Rule: "is required"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[o.CallerReference] = o
	return nil
}

// Lookup implements OrderBook.
func (m *MemoryOrderBook) Lookup(ctx context.Context, callerReference string) (Order, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[callerReference]
	if !ok {
		return Order{}, fmt.Errorf("%w: callerReference %q", ErrUnknownOrder, callerReference)
	}
	return o, nil
}
