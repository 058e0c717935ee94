package integration

import (
	"context"
	"fmt"
	"sync"

	"github.com/fpskit/fps"
)

// OrderBook records the orders the integration starts and finds them
// again for the return and IPN handlers. A shop keeping orders in its
// database implements it there.
type OrderBook interface {
	// Record keeps o under o.CallerReference, replacing an order of the
	// same reference.
	Record(ctx context.Context, o fps.Order) error
	// Lookup is an fps.OrderLookup: the order of callerReference, or an
	// error wrapping fps.ErrUnknownOrder.
	Lookup(ctx context.Context, callerReference string) (fps.Order, error)
}

// MemoryOrderBook is an in-memory OrderBook, safe for concurrent use. Its
// orders are lost when the process ends, and it keeps every order it
// records: good for tests and a single small process.
type MemoryOrderBook struct {
	mu     sync.Mutex
	orders map[string]fps.Order
}

// NewMemoryOrderBook returns an empty MemoryOrderBook.
func NewMemoryOrderBook() *MemoryOrderBook {
	return &MemoryOrderBook{orders: map[string]fps.Order{}}
}

// Record implements OrderBook.
func (m *MemoryOrderBook) Record(ctx context.Context, o fps.Order) error {
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
func (m *MemoryOrderBook) Lookup(ctx context.Context, callerReference string) (fps.Order, error) {
	if err := ctx.Err(); err != nil {
		return fps.Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[callerReference]
	if !ok {
		return fps.Order{}, fmt.Errorf("%w: callerReference %q", fps.ErrUnknownOrder, callerReference)
	}
	return o, nil
}
