package fpstest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// FaultKind is one way an API call or an IPN delivery goes wrong on
// purpose.
type FaultKind int

// The fault kinds.
const (
	faultNone FaultKind = iota
	// Fault500 answers HTTP 500 with a plain-text body, without acting.
	Fault500
	// Fault503 answers HTTP 503 with a plain-text body, without acting.
	Fault503
	// FaultInternalError answers HTTP 500 with the InternalError XML error,
	// without acting.
	FaultInternalError
	// FaultLatency waits Faults.Latency, then answers normally.
	FaultLatency
	// FaultDropAfterCommit performs the action (the ledger changes), then
	// closes the connection without an answer.
	FaultDropAfterCommit
	// FaultIPNDuplicate delivers an IPN twice: a second delivery of the
	// same signed body goes out alongside the first, each retried on its
	// own until the receiver accepts it, as a network that duplicates
	// messages would.
	FaultIPNDuplicate
	// FaultIPNHoldBack holds an IPN back for Faults.Latency before its
	// first delivery, so that the IPNs sent after it (a payment's SUCCESS
	// after its PENDING) overtake it.
	FaultIPNHoldBack

	lastFault = FaultIPNHoldBack
)

// ipn reports whether k is a fault of IPN deliveries rather than of API
// calls.
func (k FaultKind) ipn() bool { return k == FaultIPNDuplicate || k == FaultIPNHoldBack }

// String names the kind.
func (k FaultKind) String() string {
	switch k {
	case Fault500:
		return "Fault500"
	case Fault503:
		return "Fault503"
	case FaultInternalError:
		return "FaultInternalError"
	case FaultLatency:
		return "FaultLatency"
	case FaultDropAfterCommit:
		return "FaultDropAfterCommit"
	case FaultIPNDuplicate:
		return "FaultIPNDuplicate"
	case FaultIPNHoldBack:
		return "FaultIPNHoldBack"
	}
	return "none"
}

// DefaultFaultLatency is the delay of FaultLatency when Faults.Latency is
// zero.
const DefaultFaultLatency = 2 * time.Second

// Faults makes API calls and IPN deliveries go wrong on purpose,
// deterministically for a Seed. An API call is eligible when Actions is
// empty or names its action; an eligible call fails with probability
// Rate (1 means every one), with a kind drawn from the API kinds of Kinds
// (Fault500 when Kinds is empty; none when Kinds names IPN kinds alone).
// Faults hit only calls that passed authentication. Each IPN the
// simulator sends is hit with probability Rate by a kind drawn from the
// IPN kinds of Kinds (FaultIPNDuplicate, FaultIPNHoldBack), when it
// names any.
type Faults struct {
	Rate    float64
	Seed    int64
	Actions []string
	Kinds   []FaultKind
	// Latency is the delay of FaultLatency and FaultIPNHoldBack;
	// DefaultFaultLatency when zero.
	Latency time.Duration
	// Limit, when positive, stops injecting after that many faults.
	Limit int
}

func (f Faults) check() error {
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("Faults.Rate %v must be between 0 and 1", f.Rate)
	}
	for _, k := range f.Kinds {
		if k <= faultNone || k > lastFault {
			return fmt.Errorf("Faults.Kinds: unknown kind %d", int(k))
		}
	}
	return nil
}

type faultState struct {
	mu       sync.Mutex
	f        Faults
	rng      *rand.Rand
	injected int
	byKind   map[FaultKind]int
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.f.Actions = slices.Clone(f.Actions)
	fs.f.Kinds = slices.Clone(f.Kinds)
	fs.rng = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	fs.injected = 0
	fs.byKind = map[FaultKind]int{}
}

// pick decides whether a call to action fails, and how.
func (fs *faultState) pick(action string) FaultKind {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.f.Actions) > 0 && !slices.Contains(fs.f.Actions, action) {
		return faultNone
	}
	kinds := []FaultKind{Fault500}
	if len(fs.f.Kinds) > 0 {
		kinds = slices.DeleteFunc(slices.Clone(fs.f.Kinds), FaultKind.ipn)
	}
	return fs.draw(kinds)
}

// pickIPN decides whether an IPN's delivery goes wrong, and how.
func (fs *faultState) pickIPN() FaultKind {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.draw(slices.DeleteFunc(slices.Clone(fs.f.Kinds), func(k FaultKind) bool { return !k.ipn() }))
}

// draw injects a fault of kinds with probability Rate, within Limit.
// Called with fs.mu held.
func (fs *faultState) draw(kinds []FaultKind) FaultKind {
	f := fs.f
	if f.Rate == 0 || len(kinds) == 0 || (f.Limit > 0 && fs.injected >= f.Limit) {
		return faultNone
	}
	if fs.rng.Float64() >= f.Rate {
		return faultNone
	}
	k := kinds[0]
	if len(f.Kinds) > 0 {
		k = kinds[fs.rng.IntN(len(kinds))]
	}
	fs.injected++
	fs.byKind[k]++
	return k
}

func (fs *faultState) latency() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.Latency > 0 {
		return fs.f.Latency
	}
	return DefaultFaultLatency
}

// SetFaults replaces the fault configuration (and restarts its random
// sequence from the new Seed). Faults{} turns faults off.
func (s *Server) SetFaults(f Faults) error {
	if err := f.check(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// FaultsInjected returns how many faults were injected since the last
// SetFaults (or the start).
func (s *Server) FaultsInjected() int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.injected
}

// FaultsByKind returns how many faults of each kind were injected since
// the last SetFaults (or the start); kinds never injected are left out.
func (s *Server) FaultsByKind() map[FaultKind]int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return maps.Clone(s.faults.byKind)
}
