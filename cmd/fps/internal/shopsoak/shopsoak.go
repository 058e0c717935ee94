// Package shopsoak runs a shop's orders through two app servers of an
// integration.AmazonFPS sharing one database, against the in-process FPS
// simulator with its faults on, one app server stopped and restarted
// midway and an attacker account at work, then checks in the database
// and the simulator's ledger that no order was lost, fulfilled twice,
// paid without money moving, moved by the attacker or moved backwards.
// It is the logic of "fps soak -shop".
package shopsoak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
)

// Defaults of Config.
const (
	DefaultOrders      = 2000
	DefaultFaultRate   = 0.30
	DefaultConcurrency = 16
	DefaultRestarts    = 1
	// DefaultFaultLatency is the delay of a latency fault and how long an
	// IPN is held back.
	DefaultFaultLatency = 20 * time.Millisecond
)

// Timings of a soak: short enough for thousands of orders in minutes.
const (
	// hookTimeout is the app servers' claim on a charge or a callback:
	// how long a dead app server's claims hold.
	hookTimeout = 2 * time.Second
	// downtime is how long a stopped app server stays down.
	downtime = 1500 * time.Millisecond
	// recoverEvery, recoverGrace and recoverMaxAge drive each app
	// server's Recover ticker.
	recoverEvery  = time.Second
	recoverGrace  = time.Second
	recoverMaxAge = time.Minute
	// ipnRetryWindow is how long the simulator retries an IPN; settleFor
	// bounds the wait for the last deliveries after the orders are done.
	ipnRetryWindow = 30 * time.Second
	settleFor      = ipnRetryWindow + 15*time.Second
)

// Config is one shop soak.
type Config struct {
	// Orders is how many orders buyers place; DefaultOrders when 0.
	Orders int
	// Database names the shop's database: "" for an SQLite file in a
	// temporary directory (removed after), an SQLite file path (which
	// must hold no orders), or a postgres:// DSN, in which the soak works
	// in a schema of its own, dropped after.
	Database string
	// FaultRate is the share of API calls that fail (5xx, InternalError,
	// latency, answer lost after commit), of IPNs duplicated or held back
	// so that later ones overtake them, and, a quarter of it, of returns
	// the buyer's browser never brings back.
	FaultRate float64
	// Concurrency is how many buyers shop at once; DefaultConcurrency
	// when 0.
	Concurrency int
	// Restarts is how many times an app server is stopped and restarted
	// during the soak, evenly spread; DefaultRestarts when 0, none when
	// negative.
	Restarts int
	// Seed makes the faults and the buyers' choices repeatable.
	Seed uint64
	// FaultLatency is the delay of a latency fault and of an IPN held
	// back; DefaultFaultLatency when 0.
	FaultLatency time.Duration
	// Progress, when set, is called after each order with the number
	// done so far.
	Progress func(done, total int)

	// test hooks
	logger    *slog.Logger                                                                  // the app servers' logger; discarded when nil
	wrapStore func(integration.Store) integration.Store                                     // wraps each app server's store
	callback  func(ctx context.Context, ch integration.OrderChange, run func() error) error // wraps the shop's callback
	// beforeCheck runs after the orders settled, before the checks, with
	// the shop's store and the simulator.
	beforeCheck func(ctx context.Context, s *soak)
	// settleFor bounds the wait for the orders to settle; settleFor (the
	// constant) when 0.
	settleFor time.Duration
}

// Summary is the outcome of a shop soak, as the checks read it from the
// database and the simulator's ledger.
type Summary struct {
	Database string // where the orders were kept
	Orders   int    // orders attempted

	Paid       int // paid by Pay
	Authorized int // reserved (Reserve), whatever came next
	Captured   int // reserved, then settled
	Voided     int // reserved, then cancelled
	Refunded   int // refunded, in full or in part
	// Failed is the orders that ended for a definite reason: declined by
	// the buyer, a charge FPS refused, a payment that failed.
	Failed, Declined int

	// The promises: each must be 0.
	Lost              int // approved, token held at FPS, no final state and no money taken
	FulfilledTwice    int // a callback ran twice for one change, or money moved twice for one order
	PaidWithoutMoney  int // paid or refunded in the store without that money moving at FPS
	AttackerAccepted  int // an attacker's message changed an order, was stored or ran a hook
	MovedBackwards    int // a history entry earlier in the life cycle than its predecessor
	BehindFPS         int // more money moved at FPS than the store shows (not a promise: IPNs that never came)
	CallbacksRepeated int // a callback run again after its app server died before recording it (at least once)

	// What was done to the shop.
	Faults map[string]int // faults injected, by kind
	// AttackerSent is the attacker's messages by story, and
	// AttackerRefused those the shop answered 403 (story 2: the
	// notifications the simulator delivered, each counted once; story 4
	// replays genuine messages, which the shop answers as it stands).
	AttackerSent, AttackerRefused map[string]int
	Deliveries                    fpstest.DeliveryCounts
	Reloads                       int // returns the buyer's browser loaded again after a failure
	LateReturns                   int // returns brought back after the order was recovered
	ChargesAgain                  int // charges run again (their first run ended without an answer, or never ended)
	Recovered                     int // orders approved by Recover: their return never came
	Restarts                      int
	P50, P90, P99                 time.Duration // from the link to the order's first final or paid status
	Wall                          time.Duration

	// Problems describes each broken promise (a few of each kind).
	Problems []string
}

// Broken reports whether a promise was broken.
func (s *Summary) Broken() bool {
	return s.Lost+s.FulfilledTwice+s.PaidWithoutMoney+s.AttackerAccepted+s.MovedBackwards > 0
}

// Write prints the summary.
func (s *Summary) Write(w io.Writer) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-34s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("database", "%s", s.Database)
	line("orders attempted", "%d", s.Orders)
	line("paid", "%d", s.Paid)
	line("authorized / captured", "%d / %d (%d voided)", s.Authorized, s.Captured, s.Voided)
	line("refunded", "%d", s.Refunded)
	line("failed, definite reason", "%d (%d declined by the buyer)", s.Failed, s.Declined)
	line("orders lost", "%d", s.Lost)
	line("fulfilled twice", "%d", s.FulfilledTwice)
	line("paid without money moving", "%d", s.PaidWithoutMoney)
	var stories []string
	for _, story := range []string{story1, story2, story3, story4} {
		stories = append(stories, fmt.Sprintf("story %s %d/%d", story, s.AttackerSent[story], s.AttackerRefused[story]))
	}
	line("attacker messages accepted", "%d (of %d sent; sent/refused: %s)", s.AttackerAccepted, sum(s.AttackerSent), strings.Join(stories, ", "))
	line("orders moved backwards", "%d", s.MovedBackwards)
	line("orders behind FPS", "%d (more money moved than the store shows: IPNs that never came)", s.BehindFPS)
	line("callbacks run again after a death", "%d (at least once: their app server died before recording them)", s.CallbacksRepeated)
	line("faults injected", "%d (%s)", sum(s.Faults), counts(s.Faults))
	line("IPN deliveries", "%d (%d accepted, %d failed and retried, %d given up)", s.Deliveries.Attempts, s.Deliveries.Delivered, s.Deliveries.Failed, s.Deliveries.GivenUp)
	line("retries", "%d return reloads, %d charges run again, %d orders recovered (%d late returns)", s.Reloads, s.ChargesAgain, s.Recovered, s.LateReturns)
	line("restarts", "%d", s.Restarts)
	line("latency, link to final", "p50 %v  p90 %v  p99 %v", s.P50.Round(time.Millisecond), s.P90.Round(time.Millisecond), s.P99.Round(time.Millisecond))
	line("wall time", "%v", s.Wall.Round(time.Millisecond))
	for _, p := range s.Problems {
		fmt.Fprintf(w, "BROKEN: %s\n", p)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// counts lists m as "name n, ...", by name.
func counts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// soak is one shop soak in progress.
type soak struct {
	cfg      Config
	db       *database
	sim      *fpstest.Server
	front    *front
	replicas [2]*replica
	attacker *attacker
	rng      *lockedRand

	// what the driver counts (faults it injected, retries it made); the
	// outcomes come from the database and the ledger.
	lostReturns, reloads, lateReturns, recovered, restarts atomic.Int64

	later sync.WaitGroup // late returns and refunds still to come

	mu   sync.Mutex
	errs []string // what kept the soak from driving an order
}

// errorf records a failure of the driver itself (not of the shop).
func (s *soak) errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) < 20 {
		s.errs = append(s.errs, fmt.Sprintf(format, args...))
	}
}

// Run runs a shop soak and returns its summary. The error is for a soak
// that could not run, or could not drive its orders; broken promises are
// in the summary (Broken).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Orders <= 0 {
		cfg.Orders = DefaultOrders
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Restarts == 0 {
		cfg.Restarts = DefaultRestarts
	}
	if cfg.FaultLatency <= 0 {
		cfg.FaultLatency = DefaultFaultLatency
	}
	if !(cfg.FaultRate >= 0 && cfg.FaultRate <= 1) {
		return nil, fmt.Errorf("shop soak: fault rate %v must be between 0 and 1", cfg.FaultRate)
	}
	if cfg.settleFor <= 0 {
		cfg.settleFor = settleFor
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	start := time.Now()
	s := &soak{cfg: cfg, rng: &lockedRand{r: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}}
	db, err := openDatabase(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer db.close()
	s.db = db
	if err := s.start(ctx); err != nil {
		s.stop()
		return nil, err
	}
	defer s.stop()

	s.drive(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.settle(ctx)
	faults := s.sim.FaultsByKind()
	if err := s.sim.SetFaults(fpstest.Faults{}); err != nil { // the checks ask FPS with no fault
		return nil, err
	}
	if cfg.beforeCheck != nil {
		cfg.beforeCheck(ctx, s)
	}
	sum, err := s.check(ctx)
	if err != nil {
		return nil, err
	}
	sum.Faults = map[string]int{"returns lost": int(s.lostReturns.Load())}
	for k, n := range faults {
		sum.Faults[faultNames[k]] = n
	}
	sum.Reloads, sum.LateReturns = int(s.reloads.Load()), int(s.lateReturns.Load())
	sum.Recovered, sum.Restarts = int(s.recovered.Load()), int(s.restarts.Load())
	sum.AttackerSent, sum.AttackerRefused = s.attacker.tally()
	sum.Deliveries = s.sim.DeliveryCounts()
	sum.Wall = time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		return sum, fmt.Errorf("shop soak: the soak could not drive every order: %s", strings.Join(s.errs, "; "))
	}
	return sum, nil
}

// faultNames are the summary's names of the simulator's fault kinds.
var faultNames = map[fpstest.FaultKind]string{
	fpstest.Fault500: "HTTP 500", fpstest.Fault503: "HTTP 503", fpstest.FaultInternalError: "InternalError",
	fpstest.FaultLatency: "latency", fpstest.FaultDropAfterCommit: "answers lost after commit",
	fpstest.FaultIPNDuplicate: "IPNs duplicated", fpstest.FaultIPNHoldBack: "IPNs held back",
}

// drive runs the buyers, the attacker and the restarts until every
// order was placed and followed through.
func (s *soak) drive(ctx context.Context) {
	n := s.cfg.Orders
	jobs := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	restartAt := map[int]int{} // orders done → which app server restarts
	for i := 1; i <= s.cfg.Restarts; i++ {
		restartAt[n*i/(s.cfg.Restarts+1)] = i % 2
	}
	var restarts sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s.order(ctx, i)
				d := int(done.Add(1))
				if r, ok := restartAt[d]; ok {
					restarts.Add(1)
					go func() {
						defer restarts.Done()
						s.restart(ctx, s.replicas[r])
					}()
				}
				if s.cfg.Progress != nil {
					s.cfg.Progress(d, n)
				}
			}
		}()
	}
	actx, stopAttacker := context.WithCancel(ctx)
	attacked := make(chan struct{})
	go func() {
		defer close(attacked)
		s.attacker.run(actx, s)
	}()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	s.later.Wait()
	restarts.Wait()
	stopAttacker()
	<-attacked
}

// settle waits until the shop's IPNs were all delivered and none came
// for a second, and no order is left half-way (an approved order not
// charged, a reserve not captured, a callback due, a charge or refund of
// the ledger the order does not show), running Recover meanwhile, for at
// most settleFor. The attacker's refused IPNs, which the simulator keeps
// delivering, are not waited for.
func (s *soak) settle(ctx context.Context) {
	deadline := time.Now().Add(s.cfg.settleFor)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		s.recoverAll(ctx, time.Hour)
		if n, since := s.front.inFlight(); n == 0 && since >= time.Second {
			if open, err := s.unsettled(ctx); err == nil && open == 0 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// recoverAll runs Recover on each app server that is up.
func (s *soak) recoverAll(ctx context.Context, maxAge time.Duration) {
	for _, r := range s.replicas {
		r.recover(ctx, maxAge)
	}
}

// lockedRand is a random source shared by goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) intn(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// retriable reports whether err may go away when the call is made again
// (with the same CallerReference): no answer, a 5xx, a retriable code,
// an app server that is down.
func retriable(err error) bool {
	var ae *fps.APIError
	switch {
	case err == nil:
		return false
	case fps.MayHaveMoved(err), errors.Is(err, errDead):
		return true
	case errors.As(err, &ae):
		return ae.StatusCode >= 500 || ae.Retriable()
	}
	return true
}
