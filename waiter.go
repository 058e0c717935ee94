package fps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// GetTransactionStatusAPIClient is a client that implements the
// GetTransactionStatus action: *Client, or a fake in tests.
type GetTransactionStatusAPIClient interface {
	GetTransactionStatus(context.Context, *GetTransactionStatusInput, ...func(*Options)) (*GetTransactionStatusOutput, error)
}

// Default delays of TransactionCompletedWaiter.
const (
	// DefaultWaiterMinDelay is the first wait between two polls.
	DefaultWaiterMinDelay = 2 * time.Second
	// DefaultWaiterMaxDelay caps the wait between two polls.
	DefaultWaiterMaxDelay = 2 * time.Minute
)

// ErrWaitTimeout is wrapped by the error of a waiter whose maximum wait
// passed while the transaction was still Pending.
var ErrWaitTimeout = errors.New("fps: exceeded the maximum wait")

// TransactionCompletedWaiterOptions configures a
// TransactionCompletedWaiter.
type TransactionCompletedWaiterOptions struct {
	// ClientOptions are passed to every GetTransactionStatus call.
	ClientOptions []func(*Options)

	// MinDelay is the first wait between two polls; DefaultWaiterMinDelay
	// when zero. Each later wait is up to twice the one before, with
	// jitter, never less than MinDelay.
	MinDelay time.Duration

	// MaxDelay caps the wait between two polls; DefaultWaiterMaxDelay
	// when zero. It must not be less than MinDelay.
	MaxDelay time.Duration

	// Clock returns the current time, against which the maximum wait is
	// measured; time.Now when nil.
	Clock func() time.Time

	// Sleep waits d, or until ctx ends (returning its error); a timer on
	// the real clock when nil. A test gives one that moves a simulated
	// clock instead (with Clock reading it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// TransactionCompletedWaiter waits for a transaction to leave Pending, by
// polling GetTransactionStatus with growing, jittered delays. A card or
// bank payment (Pay, Reserve, Settle, Refund) is Pending first; its final
// answer also comes by IPN, which a shop should act on: the waiter is
// for code that cannot receive IPNs, and for tests.
type TransactionCompletedWaiter struct {
	client  GetTransactionStatusAPIClient
	options TransactionCompletedWaiterOptions
}

// NewTransactionCompletedWaiter returns a waiter that polls client,
// configured by optFns.
func NewTransactionCompletedWaiter(client GetTransactionStatusAPIClient, optFns ...func(*TransactionCompletedWaiterOptions)) *TransactionCompletedWaiter {
	var o TransactionCompletedWaiterOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return &TransactionCompletedWaiter{client: client, options: o}
}

// Wait polls the status of transaction transactionID until it is no
// longer Pending, and returns that status: Success, Failure, Cancelled,
// Reserved, or a status FPS sends that this package does not know. It
// gives up after maxWait (an error wrapping ErrWaitTimeout), when ctx
// ends, or on the first error of GetTransactionStatus (the client has
// retried transient ones already). optFns change the waiter's options for
// this wait.
func (w *TransactionCompletedWaiter) Wait(ctx context.Context, transactionID string, maxWait time.Duration, optFns ...func(*TransactionCompletedWaiterOptions)) (TransactionStatus, error) {
	out, err := w.WaitForOutput(ctx, transactionID, maxWait, optFns...)
	if err != nil {
		return "", err
	}
	return out.TransactionStatus, nil
}

// WaitForOutput is Wait, returning the last answer of
// GetTransactionStatus (with StatusCode and StatusMessage).
func (w *TransactionCompletedWaiter) WaitForOutput(ctx context.Context, transactionID string, maxWait time.Duration, optFns ...func(*TransactionCompletedWaiterOptions)) (*GetTransactionStatusOutput, error) {
	o := w.options
	o.ClientOptions = append([]func(*Options){}, o.ClientOptions...)
	for _, fn := range optFns {
		fn(&o)
	}
	if maxWait <= 0 {
		return nil, fmt.Errorf("fps: the maximum wait must be more than 0, got %v", maxWait)
	}
	if o.MinDelay == 0 {
		o.MinDelay = DefaultWaiterMinDelay
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = DefaultWaiterMaxDelay
	}
	if o.MinDelay < 0 || o.MaxDelay < o.MinDelay {
		return nil, fmt.Errorf("fps: waiter delays: MinDelay %v must be more than 0 and not more than MaxDelay %v", o.MinDelay, o.MaxDelay)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	// The wait is bounded twice: by the clock (for the delays), and by a
	// context (for a call that would outlast it).
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, maxWait)
	defer cancel()
	timeout := func() error {
		return fmt.Errorf("%w of %v for transaction %s to leave Pending", ErrWaitTimeout, maxWait, transactionID)
	}
	deadline := o.Clock().Add(maxWait)
	in := &GetTransactionStatusInput{TransactionID: transactionID}
	for attempt := 1; ; attempt++ {
		out, err := w.client.GetTransactionStatus(ctx, in, o.ClientOptions...)
		switch {
		case err != nil && parent.Err() == nil && ctx.Err() != nil:
			return nil, timeout()
		case err != nil:
			return nil, err
		case out.TransactionStatus != TransactionStatusPending:
			return out, nil
		}
		remaining := deadline.Sub(o.Clock())
		if remaining <= 0 {
			return nil, timeout()
		}
		if err := o.Sleep(ctx, waiterDelay(attempt, o.MinDelay, o.MaxDelay, remaining)); err != nil {
			if parent.Err() == nil && ctx.Err() != nil {
				return nil, timeout()
			}
			return nil, fmt.Errorf("fps: waiting for transaction %s to leave Pending: %w", transactionID, err)
		}
	}
}

// waiterDelay is the wait after poll attempt (1 for the first): up to
// minDelay doubled attempt-1 times, capped at maxDelay, drawn at random
// from minDelay on, and cut to remaining so that the last poll is made
// at the deadline.
func waiterDelay(attempt int, minDelay, maxDelay, remaining time.Duration) time.Duration {
	ceiling := minDelay
	for i := 1; i < attempt && ceiling < maxDelay; i++ {
		if ceiling > maxDelay/2 {
			ceiling = maxDelay
			break
		}
		ceiling *= 2
	}
	d := minDelay
	if ceiling > minDelay {
		d += rand.N(ceiling - minDelay + 1)
	}
	return min(d, remaining)
}
