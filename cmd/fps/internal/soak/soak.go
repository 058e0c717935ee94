// Package soak runs payments through their full life against the FPS
// simulator under injected faults, and checks the promises of package fps:
// no payment is charged twice, none is lost, every stored IPN matches the
// ledger. It is the logic of "fps soak".
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

// Defaults of Config.
const (
	DefaultPayments    = 10000
	DefaultFaultRate   = 0.30
	DefaultConcurrency = 16
	// DefaultFaultLatency is the delay of a latency fault in a soak: long
	// enough to be felt, short enough for thousands of payments.
	DefaultFaultLatency = 20 * time.Millisecond
)

// Config is one soak.
type Config struct {
	// Payments is how many payments to run; DefaultPayments when 0.
	Payments int
	// FaultRate is the share of API calls that fail on purpose (5xx,
	// InternalError, latency, answer dropped after commit), of return URLs
	// lost on the way back, and of first IPN deliveries refused.
	FaultRate float64
	// Concurrency is how many payments run at once; DefaultConcurrency
	// when 0.
	Concurrency int
	// Seed makes the faults and choices repeatable.
	Seed uint64
	// FaultLatency is the delay of a latency fault; DefaultFaultLatency
	// when 0.
	FaultLatency time.Duration
	// Progress, when set, is called after each payment with the number
	// done so far.
	Progress func(done, total int)

	// resendReference, when set, gives the CallerReference of an idempotent
	// resend: a test puts a broken one here to check that a double charge
	// is caught.
	resendReference func(ref string, attempt int) string
	// clientOptions are added to the client's options (tests).
	clientOptions []func(*fps.Options)
	// beforeCheck runs after the payments, before the checks (tests).
	beforeCheck func(ctx context.Context, r *run)
}

// Summary is the outcome of a soak.
type Summary struct {
	Attempted int
	Succeeded int
	// Failed is the payments that ended with a definite answer that no
	// money moved (a declined buyer, a refused call).
	Failed int
	// Ambiguous is the payments where some call left the outcome open;
	// ResolvedByStatus, ResolvedByToken and ResolvedByResend say how each
	// open question was closed (GetTransactionStatus, GetTokenByCaller,
	// the same call sent again with the same CallerReference); one payment
	// can need more than one of them, so they may add up to more than
	// Ambiguous.
	Ambiguous                                           int
	ResolvedByStatus, ResolvedByToken, ResolvedByResend int
	// Unresolved is the payments whose outcome stayed unknown.
	Unresolved int
	Refunded   int
	// ChargedTwice is the orders the ledger charged more than once.
	ChargedTwice int
	// Lost is the ledger transactions the caller does not know as it is
	// (unknown, or known as failed while money moved), plus the stored
	// IPNs that do not match the ledger.
	Lost int
	// IPNsStored is how many notifications the IPN handler stored;
	// IPNDeliveries how many delivery attempts the simulator made.
	IPNsStored, IPNDeliveries int
	FaultsInjected            int
	P50, P99                  time.Duration
	Wall                      time.Duration
	// Problems describes each broken promise (at most a few of each).
	Problems []string
}

// Broken reports whether a promise was broken.
func (s *Summary) Broken() bool {
	return s.ChargedTwice > 0 || s.Lost > 0 || s.Unresolved > 0 || len(s.Problems) > 0
}

// Write prints the summary, one labelled figure a line.
func (s *Summary) Write(w io.Writer) {
	rows := []struct {
		label string
		value any
	}{
		{"payments attempted", s.Attempted},
		{"succeeded", s.Succeeded},
		{"  of which refunded", s.Refunded},
		{"failed, with a definite answer", s.Failed},
		{"ambiguous, then resolved", s.Ambiguous - s.Unresolved},
		{"  resolved by GetTransactionStatus", s.ResolvedByStatus},
		{"  resolved by GetTokenByCaller", s.ResolvedByToken},
		{"  resolved by an idempotent resend", s.ResolvedByResend},
		{"unresolved", s.Unresolved},
		{"charged twice", s.ChargedTwice},
		{"lost", s.Lost},
		{"API calls given a fault (5xx, latency, ...)", s.FaultsInjected},
		{"IPN delivery attempts", s.IPNDeliveries},
		{"IPNs stored by the shop", s.IPNsStored},
		{"latency per payment, median", s.P50.Round(time.Microsecond)},
		{"latency per payment, 99th percentile", s.P99.Round(time.Microsecond)},
		{"wall time", s.Wall.Round(time.Millisecond)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-44s %v\n", r.label, r.value)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "BROKEN: %s\n", p)
	}
}

// order is one payment as the caller knows it.
type order struct {
	ref     string
	amount  decimal.Decimal
	reserve bool
	// refs are every CallerReference sent for this order's money.
	refs []string
	// txID is the transaction that charged the order, when it succeeded.
	txID      string
	refundRef string
	refundID  string
	outcome   outcome
	latency   time.Duration
}

type outcome int

const (
	outcomeFailed outcome = iota + 1
	outcomeSucceeded
	outcomeUnresolved
)

// run is one soak in progress.
type run struct {
	cfg    Config
	sim    *fpstest.Server
	client *fps.Client
	ret    *fps.LocalVerifier
	mem    *store.Memory // the IPN handler's orders and notifications

	mu     sync.Mutex
	orders map[string]*order // by every CallerReference the caller sent
	sum    Summary
}

const returnURL = "https://shop.example/fps/return"

// Run runs a soak against an in-process simulator and returns its summary.
// The error is for a soak that could not run; broken promises are in the
// summary (Broken).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Payments <= 0 {
		cfg.Payments = DefaultPayments
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.FaultLatency <= 0 {
		cfg.FaultLatency = DefaultFaultLatency
	}
	if cfg.FaultRate < 0 || cfg.FaultRate > 1 {
		return nil, fmt.Errorf("soak: fault rate %v must be between 0 and 1", cfg.FaultRate)
	}
	start := time.Now()
	mem := store.NewMemory()
	r := &run{cfg: cfg, orders: make(map[string]*order), mem: mem}
	ipn, err := r.startSimulator(mem)
	if err != nil {
		return nil, err
	}
	defer ipn.Close()
	defer r.sim.Close()

	jobs := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r.pay(ctx, i)
				n := done.Add(1)
				if cfg.Progress != nil {
					cfg.Progress(int(n), cfg.Payments)
				}
			}
		}()
	}
	for i := 0; i < cfg.Payments && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.beforeCheck != nil {
		cfg.beforeCheck(ctx, r)
	}
	r.waitForIPNs(ctx)
	r.check(ctx, mem)
	r.sum.Wall = time.Since(start)
	return &r.sum, nil
}

// startSimulator starts the simulator and the merchant's IPN endpoint (an
// integration.IPNHandler over mem that refuses a share of first
// deliveries).
func (r *run) startSimulator(mem *store.Memory) (*httptest.Server, error) {
	cfg := r.cfg
	kinds := []fpstest.FaultKind{fpstest.Fault500, fpstest.Fault503, fpstest.FaultInternalError, fpstest.FaultLatency, fpstest.FaultDropAfterCommit}
	sim, err := fpstest.Start(fpstest.Config{
		PendingDelay:   time.Nanosecond, // CC payments complete by the next call
		BuyerBalance:   decimal.NewFromInt(1 << 40),
		Faults:         fpstest.Faults{Rate: cfg.FaultRate, Seed: int64(cfg.Seed), Kinds: kinds, Latency: cfg.FaultLatency},
		IPNRetryWindow: 30 * time.Second,
		IPNFirstDelay:  10 * time.Millisecond,
		IPNFailFirst:   10,
	})
	if err != nil {
		return nil, fmt.Errorf("soak: simulator: %w", err)
	}
	r.sim = sim
	r.client, err = fps.New(fps.Options{
		Environment:  fps.Sandbox,
		Credentials:  fps.StaticCredentials(fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey),
		APIEndpoint:  sim.APIEndpoint(),
		CBUIEndpoint: sim.CBUIEndpoint(),
		HTTPClient:   sim.HTTPClient(),
		Clock:        sim.Clock().Now,
	}, cfg.clientOptions...)
	if err != nil {
		sim.Close()
		return nil, err
	}
	simURL, err := url.Parse(sim.URL)
	if err != nil {
		sim.Close()
		return nil, err
	}
	trust := func(o *fps.LocalVerifierOptions) {
		o.RootCAs = sim.CAPool()
		o.AllowedHosts = append(o.AllowedHosts, simURL.Host)
	}
	r.ret = fps.NewLocalVerifier(trust)

	var ipnURL string
	h := &integration.IPNHandler{Verifier: fps.NewLocalVerifier(trust), FPS: r.client, Store: mem}
	var seen sync.Map
	refuse := cfg.FaultRate
	ipn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A share of first deliveries is refused, so that the simulator
		// delivers them again.
		body, err := io.ReadAll(io.LimitReader(req.Body, integration.DefaultMaxIPNBodySize+1))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if _, again := seen.LoadOrStore(string(body), true); !again && rand.Float64() < refuse {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		h.ServeHTTP(w, req)
	}))
	ipnURL = ipn.URL + "/fps/ipn"
	h.Endpoint = ipnURL
	if err := sim.SetIPNURL(fpstest.DefaultAccessKeyID, ipnURL); err != nil {
		ipn.Close()
		sim.Close()
		return nil, err
	}
	return ipn, nil
}

// remember records ref as a callerReference of o: its own, a second
// charge's or its refund's, in the caller's map and in the order store
// of the IPN handler.
func (r *run) remember(o *order, ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.refs = append(o.refs, ref)
	r.orders[ref] = o
	ctx := context.Background()
	if ref == o.ref {
		_ = r.mem.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: fps.USD(o.amount)})
		return
	}
	op := fps.FPSOperationPay
	switch {
	case ref == o.refundRef:
		op = fps.FPSOperationRefund
	case o.reserve:
		op = fps.FPSOperationReserve
	}
	_ = r.mem.AddTransaction(ctx, o.ref, integration.Transaction{CallerReference: ref, Operation: op, Amount: fps.USD(o.amount)})
}

// pay runs payment i through its life and records what the caller learnt.
func (r *run) pay(ctx context.Context, i int) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))
	o := &order{
		ref:     fmt.Sprintf("soak-%d-%d", r.cfg.Seed, i),
		amount:  decimal.New(int64(100+rng.IntN(9900)), -2),
		reserve: rng.IntN(3) == 0,
	}
	r.remember(o, o.ref)
	start := time.Now()
	o.outcome = r.life(ctx, o, rng)
	o.latency = time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Attempted++
	switch o.outcome {
	case outcomeSucceeded:
		r.sum.Succeeded++
	case outcomeFailed:
		r.sum.Failed++
	case outcomeUnresolved:
		r.sum.Unresolved++
		r.problem("payment %s: outcome unknown", o.ref)
	}
	if o.refundID != "" {
		r.sum.Refunded++
	}
}

// maxResends bounds the resends of one call; at a fault rate below 1 it
// is never reached in practice.
const maxResends = 20

func (r *run) life(ctx context.Context, o *order, rng *rand.Rand) outcome {
	c := r.client
	link, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: returnURL, CallerReference: o.ref},
		TransactionAmount: o.amount,
		PaymentReason:     "soak order " + o.ref,
		Reserve:           &o.reserve,
	})
	if err != nil {
		r.problemLocked("pipeline %s: %v", o.ref, err)
		return outcomeUnresolved
	}
	action := fpstest.Approve
	if rng.IntN(50) == 0 {
		action = fpstest.Decline
	}
	back, err := r.sim.Buy(ctx, link, fpstest.BuyerChoice{Action: action, PaymentMethod: "CC"})
	if err != nil {
		r.problemLocked("approval %s: %v", o.ref, err)
		return outcomeUnresolved
	}
	ambiguous := false
	var tokenID string
	if rng.Float64() < r.cfg.FaultRate/4 {
		// The buyer's browser never came back: ask FPS which token the
		// pipeline made, if any.
		ambiguous = true
		out, _, err := resend(ctx, func() (*fps.GetTokenByCallerOutput, error) {
			return c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: o.ref})
		})
		if err != nil {
			var ae *fps.APIError
			if !errors.As(err, &ae) || ae.StatusCode >= 500 {
				return r.resolved(ambiguous, outcomeUnresolved, nil)
			}
			// No token under that reference: the buyer declined.
			return r.resolved(ambiguous, outcomeFailed, &r.sum.ResolvedByToken)
		}
		tokenID = out.Token.TokenID
		r.count(&r.sum.ResolvedByToken)
	} else {
		ret, err := fps.VerifyReturn(ctx, r.ret, returnURL, back.RawQuery)
		if err != nil {
			r.problemLocked("return %s: %v", o.ref, err)
			return outcomeUnresolved
		}
		if !ret.Status.Success() {
			return outcomeFailed
		}
		tokenID = ret.TokenID
	}

	// Pay or Reserve, sent again with the same CallerReference while the
	// answer is lost.
	charge := func(attempt int) (*fps.TransactionOutput, error) {
		ref := o.ref
		if attempt > 0 && r.cfg.resendReference != nil {
			ref = r.cfg.resendReference(o.ref, attempt)
			if ref != o.ref {
				r.remember(o, ref)
			}
		}
		in := fps.PayInput{SenderTokenID: tokenID, TransactionAmount: fps.USD(o.amount), CallerReference: ref}
		if o.reserve {
			rin := fps.ReserveInput(in)
			return c.Reserve(ctx, &rin)
		}
		return c.Pay(ctx, &in)
	}
	attempt := 0
	tx, lostAnswer, err := resend(ctx, func() (*fps.TransactionOutput, error) {
		attempt++
		return charge(attempt - 1)
	})
	ambiguous = ambiguous || lostAnswer
	switch {
	case err != nil && fps.MayHaveMoved(err):
		return r.resolved(ambiguous, outcomeUnresolved, nil)
	case err != nil:
		return r.resolved(ambiguous, outcomeFailed, &r.sum.ResolvedByResend)
	case lostAnswer:
		r.count(&r.sum.ResolvedByResend)
	}
	if tx.TransactionStatus == fps.TransactionStatusFailure || tx.TransactionStatus == fps.TransactionStatusCancelled {
		return r.resolved(ambiguous, outcomeFailed, nil)
	}
	o.txID = tx.TransactionID

	if o.reserve {
		// Settle checks GetTransactionStatus itself after a lost answer;
		// what is still open is asked here the same way.
		_, lostAnswer, err := resend(ctx, func() (*fps.SettleOutput, error) {
			return c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: o.txID})
		})
		if lostAnswer || (err != nil && fps.MayHaveMoved(err)) {
			// Settle asks GetTransactionStatus itself after a lost answer;
			// the caller checks the end state the same way.
			ambiguous = true
			st, _, err := resend(ctx, func() (*fps.GetTransactionStatusOutput, error) {
				return c.GetTransactionStatus(ctx, &fps.GetTransactionStatusInput{TransactionID: o.txID})
			})
			if err != nil || !st.TransactionStatus.Final() {
				return r.resolved(ambiguous, outcomeUnresolved, nil)
			}
			r.count(&r.sum.ResolvedByStatus)
		} else if err != nil {
			r.problemLocked("settle %s: %v", o.ref, err)
			return r.resolved(ambiguous, outcomeUnresolved, nil)
		}
	}

	if rng.IntN(10) == 0 {
		o.refundRef = o.ref + "-refund"
		r.remember(o, o.refundRef)
		out, lostAnswer, err := resend(ctx, func() (*fps.RefundOutput, error) {
			return c.Refund(ctx, &fps.RefundInput{TransactionID: o.txID, CallerReference: o.refundRef})
		})
		switch {
		case err == nil:
			o.refundID = out.TransactionID
			if lostAnswer {
				ambiguous = true
				r.count(&r.sum.ResolvedByResend)
			}
		case fps.MayHaveMoved(err):
			return r.resolved(true, outcomeUnresolved, nil)
		default:
			r.problemLocked("refund %s: %v", o.ref, err)
		}
	}
	return r.resolved(ambiguous, outcomeSucceeded, nil)
}

// resend calls call again while its outcome is unknown or the failure is
// temporary (5xx, a retriable code, no answer), up to maxResends times:
// every call resent here is idempotent. ambiguous reports whether some
// call left the outcome open.
func resend[T any](ctx context.Context, call func() (T, error)) (out T, ambiguous bool, err error) {
	for range maxResends + 1 {
		out, err = call()
		if err == nil || ctx.Err() != nil {
			return out, ambiguous, err
		}
		if fps.MayHaveMoved(err) {
			ambiguous = true
			continue
		}
		var ae *fps.APIError
		if errors.As(err, &ae) && ae.StatusCode < 500 && !ae.Retriable() {
			return out, ambiguous, err
		}
	}
	return out, ambiguous, err
}

// resolved counts an ambiguous payment and returns its outcome.
func (r *run) resolved(ambiguous bool, out outcome, how *int) outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ambiguous {
		r.sum.Ambiguous++
	}
	if how != nil && ambiguous {
		*how++
	}
	return out
}

func (r *run) count(n *int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*n++
}

func (r *run) problemLocked(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problem(format, args...)
}

// problem records a broken promise; r.mu is held.
func (r *run) problem(format string, args ...any) {
	if len(r.sum.Problems) < 20 {
		r.sum.Problems = append(r.sum.Problems, fmt.Sprintf(format, args...))
	}
}

// waitForIPNs waits until the simulator has made no delivery attempt for
// a while (retries included).
func (r *run) waitForIPNs(ctx context.Context) {
	last, quiet := -1, 0
	for quiet < 10 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		n := r.sim.DeliveryCounts().Attempts
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
}

// check compares what the caller knows with the simulator's ledger and
// the stored IPNs.
func (r *run) check(ctx context.Context, mem *store.Memory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ledger := r.sim.Ledger()
	txs := ledger.Transactions()
	byID := make(map[string]fpstest.Transaction, len(txs))
	charged := make(map[*order]int)
	for _, t := range txs {
		byID[t.ID] = t
		o, ok := r.orders[t.CallerReference]
		if !ok {
			r.sum.Lost++
			r.problem("ledger transaction %s (%s) has a CallerReference the caller never sent", t.ID, t.CallerReference)
			continue
		}
		moved := t.Status != fps.TransactionStatusFailure && t.Status != fps.TransactionStatusCancelled
		if t.Operation == "Refund" {
			if moved && o.refundID != t.ID && o.outcome != outcomeUnresolved {
				r.sum.Lost++
				r.problem("refund %s of %s is not known to the caller", t.ID, o.ref)
			}
			continue
		}
		if !moved {
			continue
		}
		charged[o]++
		if o.txID != t.ID {
			r.sum.Lost++
			r.problem("transaction %s of %s (%s) is not the one the caller knows (%q)", t.ID, o.ref, t.Status, o.txID)
		}
	}
	for o, n := range charged {
		if n > 1 {
			r.sum.ChargedTwice++
			r.problem("order %s charged %d times", o.ref, n)
		}
	}
	for ref, o := range r.orders {
		if ledger.ChargeCount(ref) > 1 {
			r.sum.ChargedTwice++
			r.problem("CallerReference %s has %d transactions", ref, ledger.ChargeCount(ref))
		}
		if ref == o.ref && o.reserve && o.txID != "" && ledger.SettleCount(o.txID) > 1 {
			r.sum.ChargedTwice++
			r.problem("reserve %s settled %d times", o.txID, ledger.SettleCount(o.txID))
		}
		if ref == o.ref && o.outcome == outcomeSucceeded && o.txID != "" {
			if _, ok := byID[o.txID]; !ok {
				r.sum.Lost++
				r.problem("payment %s: transaction %s is not in the ledger", o.ref, o.txID)
			}
		}
	}

	stored, err := mem.List(ctx)
	if err != nil {
		r.problem("listing the stored IPNs: %v", err)
		r.sum.Lost++
		return
	}
	r.sum.IPNsStored = len(stored)
	r.sum.IPNDeliveries = r.sim.DeliveryCounts().Attempts
	r.sum.FaultsInjected = r.sim.FaultsInjected()
	for _, s := range stored {
		n := s.Notification
		if n.Type != fps.NotificationTypeTransactionStatus {
			continue
		}
		t, ok := byID[n.TransactionID]
		switch {
		case !ok:
			r.sum.Lost++
			r.problem("stored IPN %s names transaction %s, not in the ledger", s.Key, n.TransactionID)
		case t.CallerReference != n.CallerReference || !t.Amount.Equal(n.TransactionAmount.Value):
			r.sum.Lost++
			r.problem("stored IPN %s (%s %s) does not match the ledger (%s %s)", s.Key, n.CallerReference, n.TransactionAmount, t.CallerReference, t.Amount)
		case n.TransactionStatus.Final() && n.TransactionStatus != t.Status:
			r.sum.Lost++
			r.problem("stored IPN %s says %s, the ledger %s", s.Key, n.TransactionStatus, t.Status)
		}
	}

	lat := make([]time.Duration, 0, len(r.orders))
	seen := make(map[*order]bool)
	for _, o := range r.orders {
		if !seen[o] {
			seen[o] = true
			lat = append(lat, o.latency)
		}
	}
	slices.Sort(lat)
	r.sum.P50, r.sum.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	sort.Strings(r.sum.Problems)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
