package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fpskit/fps/cmd/fps/internal/soak"
)

const soakUsage = `
Usage: fps soak [flags]

Runs payments through pipeline, approval, Pay or Reserve+Settle and some refunds against an
in-process simulator that injects faults (5xx, InternalError, latency, answers dropped after
commit, lost return URLs, refused IPN deliveries), then checks that no order was charged twice
and none was lost. It exits 1 when a promise is broken.
`

func runSoak(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("soak", soakUsage)
	n := fs.Int("n", soak.DefaultPayments, "number of payments (at least 1)")
	rate := fs.Float64("fault-rate", soak.DefaultFaultRate, "share of API calls, return URLs and first IPN deliveries that fail on purpose (0 to 1)")
	conc := fs.Int("concurrency", soak.DefaultConcurrency, "payments running at once (at least 1)")
	seed := fs.Uint64("seed", 1, "seed of the faults and choices")
	latency := fs.Duration("fault-latency", soak.DefaultFaultLatency, "delay of a latency fault")
	if ok, code := fs.parseNoArgs(args, stdout, stderr); !ok {
		return code
	}
	if err := checkSoak(*n, *conc, *rate, *latency); err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	p := newProgress(stdout, isTerminal(stdout))
	sum, err := soak.Run(ctx, soak.Config{
		Payments: *n, FaultRate: *rate, Concurrency: *conc, Seed: *seed, FaultLatency: *latency,
		Progress: p.update,
	})
	p.finish()
	if err != nil {
		return failed(stderr, "soak", err)
	}
	sum.Write(stdout)
	if sum.Broken() {
		fmt.Fprintln(stderr, "fps soak: a promise is broken")
		return exitFail
	}
	return exitOK
}

// checkSoak refuses counts below 1, a fault rate outside 0 to 1 and a
// latency that is not positive.
func checkSoak(n, concurrency int, rate float64, latency time.Duration) error {
	switch {
	case n < 1:
		return fmt.Errorf("-n must be at least 1, got %d", n)
	case concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1, got %d", concurrency)
	case !(rate >= 0 && rate <= 1):
		return fmt.Errorf("--fault-rate must be from 0 to 1, got %v", rate)
	case latency <= 0:
		return fmt.Errorf("--fault-latency must be more than 0, got %v", latency)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a bar on a terminal, or prints a plain line every few
// seconds otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, tty bool) *progress {
	now := time.Now()
	return &progress{w: w, tty: tty, start: now, last: now}
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && done != total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Round(time.Second)
	if !p.tty {
		fmt.Fprintf(p.w, "soak: %d/%d payments, %v\n", done, total, elapsed)
		return
	}
	const width = 40
	filled := width * done / total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %v ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, elapsed)
	p.drawn = true
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
