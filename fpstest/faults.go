package fpstest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// FaultKind is one way an API call fails on purpose.
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
)

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
	}
	return "none"
}

// DefaultFaultLatency is the delay of FaultLatency when Faults.Latency is
// zero.
const DefaultFaultLatency = 2 * time.Second

// Faults makes API calls fail on purpose, deterministically for a Seed.
// A call is eligible when Actions is empty or names its action; an
// eligible call fails with probability Rate (1 means every one), with a
// kind drawn from Kinds (Fault500 when empty). Faults hit only calls that
// passed authentication.
type Faults struct {
	Rate    float64
	Seed    int64
	Actions []string
	Kinds   []FaultKind
	// Latency is the delay of FaultLatency; DefaultFaultLatency when zero.
	Latency time.Duration
	// Limit, when positive, stops injecting after that many faults.
	Limit int
}

func (f Faults) check() error {
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("Faults.Rate %v must be between 0 and 1", f.Rate)
	}
	for _, k := range f.Kinds {
		if k <= faultNone || k > FaultDropAfterCommit {
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
}

// pick decides whether a call to action fails, and how.
func (fs *faultState) pick(action string) FaultKind {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	if f.Rate == 0 || (f.Limit > 0 && fs.injected >= f.Limit) {
		return faultNone
	}
	if len(f.Actions) > 0 && !slices.Contains(f.Actions, action) {
		return faultNone
	}
	if fs.rng.Float64() >= f.Rate {
		return faultNone
	}
	fs.injected++
	if len(f.Kinds) == 0 {
		return Fault500
	}
	return f.Kinds[fs.rng.IntN(len(f.Kinds))]
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
