package shopsoak

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
)

// browser is the buyers' browser: it reaches the shop through its front.
var browser = &http.Client{Timeout: 30 * time.Second}

// Bounds of the buyers' and the admin's retries.
const (
	maxReloads   = 8
	maxAttempts  = 12
	firstBackoff = 50 * time.Millisecond
	maxBackoff   = time.Second
	// lateAfter is how long after approving a buyer whose return was lost
	// comes back, when he does: after Recover took his order.
	lateAfter = 3 * recoverEvery
	// refundWait bounds how long the admin waits for an order to be paid
	// before refunding it.
	refundWait = 20 * time.Second
)

func backoff(attempt int) time.Duration {
	return min(firstBackoff<<attempt, maxBackoff)
}

// order runs order i through its life: the product page's link, the
// buyer's approval at FPS (or decline), his return (lost for some, late
// for a few of those, loaded again for others), and for some orders a
// refund by the shop's admin once paid.
func (s *soak) order(ctx context.Context, i int) {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1))
	ref := fmt.Sprintf("soak-%d-%d", s.cfg.Seed, i)
	kind := "pay"
	if rng.IntN(3) == 0 {
		kind = "reserve"
	}
	amount := decimal.New(int64(100+rng.IntN(9900)), -2)
	link, err := s.link(ctx, ref, amount, fmt.Sprintf("soak order %s (%s)", ref, kind))
	if err != nil {
		s.errorf("order %s: the product page: %v", ref, err)
		return
	}
	s.attacker.offer(ref, amount)

	choice := fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: []string{"ABT", "CC"}[rng.IntN(2)]}
	if rng.IntN(50) == 0 {
		choice.Action = fpstest.Decline
	}
	back, err := s.sim.Buy(ctx, link, choice)
	if err != nil {
		s.errorf("order %s: the buyer's approval: %v", ref, err)
		return
	}
	switch {
	case choice.Action == fpstest.Decline:
		s.visit(ctx, ref, back, false)
		return
	case rng.Float64() < s.cfg.FaultRate/4:
		s.lostReturns.Add(1) // the browser never comes back
		if rng.IntN(3) == 0 {
			s.later.Add(1)
			go func() {
				defer s.later.Done()
				time.Sleep(lateAfter)
				s.lateReturns.Add(1)
				s.visit(ctx, ref, back, true)
			}()
		}
	default:
		s.visit(ctx, ref, back, true)
		if rng.IntN(10) == 0 {
			s.visit(ctx, ref, back, true) // loaded again
		}
	}
	if rng.IntN(10) == 0 {
		parts := rng.IntN(3) + 1 // 1: in full; 2: half; 3: half, then the rest
		s.later.Add(1)
		go func() {
			defer s.later.Done()
			s.refund(ctx, ref, parts)
		}()
	}
}

// link returns the signed pipeline URL of a new order from the product
// page of an app server that is up, recording the order.
func (s *soak) link(ctx context.Context, ref string, amount decimal.Decimal, desc string) (link string, err error) {
	err = s.onLive(func(a *integration.AmazonFPS) (err error) {
		link, err = a.WithFields(map[string]string{
			"pipelineName": "SingleUse", "callerReference": ref, "transactionAmount": amount.StringFixed(2), "paymentReason": desc,
		}).LinkURL(ctx)
		return err
	})
	return link, err
}

// onLive makes call through an app server that is up, again (on either)
// while it fails for a reason that may go away.
func (s *soak) onLive(call func(a *integration.AmazonFPS) error) error {
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			time.Sleep(backoff(attempt))
		}
		a, _ := s.live()
		if a == nil {
			err = errDead
			continue
		}
		if err = call(a); !retriable(err) {
			return err
		}
	}
	return fmt.Errorf("after %d attempts: %w", maxAttempts, err)
}

// visit loads the return URL back as the buyer's browser does, loading
// it again while the shop answers 5xx or not at all. A genuine return
// must never be refused.
func (s *soak) visit(ctx context.Context, ref string, back *url.URL, approved bool) {
	var last string
	for attempt := range maxReloads {
		if attempt > 0 {
			s.reloads.Add(1)
			time.Sleep(backoff(attempt))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, back.String(), nil)
		if err != nil {
			s.errorf("order %s: %v", ref, err)
			return
		}
		resp, err := browser.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode >= 500:
			last = resp.Status
			continue
		}
		s.errorf("order %s: the buyer's genuine return was answered %s: %s", ref, resp.Status, strings.TrimSpace(string(body)))
		return
	}
	if approved {
		// The browser gave up: the order is left to Recover, as a lost
		// return.
		s.lostReturns.Add(1)
		_ = last
	}
}

// refund refunds the order ref once it is paid, as the shop's admin
// would: in full (parts 1), half (2), or half and then the rest (3).
func (s *soak) refund(ctx context.Context, ref string, parts int) {
	o, ok := s.awaitPaid(ctx, ref)
	if !ok {
		return // never paid (voided, failed): nothing to refund
	}
	txs, err := s.db.store.Transactions(ctx, ref)
	if err != nil {
		s.errorf("refund of %s: %v", ref, err)
		return
	}
	var txID string
	for _, t := range txs {
		if t.CallerReference == ref && t.ID != "" {
			txID = t.ID
		}
	}
	if txID == "" {
		s.errorf("refund of %s: the order is paid but its transaction id is not known", ref)
		return
	}
	half := o.Paid.Div(decimal.NewFromInt(2)).Round(2)
	amounts := map[int][]decimal.Decimal{1: {o.Paid}, 2: {half}, 3: {half, o.Paid.Sub(half)}}[parts]
	for k, amount := range amounts {
		s.credit(ctx, txID, amount, fmt.Sprintf("%s-refund-%d", ref, k+1))
	}
}

// awaitPaid waits until the order ref is paid, for at most refundWait.
func (s *soak) awaitPaid(ctx context.Context, ref string) (integration.Order, bool) {
	deadline := time.Now().Add(refundWait)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		o, err := s.db.store.Order(ctx, ref)
		switch {
		case err != nil:
		case o.Status == integration.OrderPaid:
			return o, true
		case o.Status == integration.OrderFailed, o.Status == integration.OrderCancelled:
			return o, false
		}
		time.Sleep(200 * time.Millisecond)
	}
	return integration.Order{}, false
}

// credit refunds amount of txID under the refund's reference cref through
// an app server that is up, sending it again (the same reference) while
// its outcome is unknown.
func (s *soak) credit(ctx context.Context, txID string, amount decimal.Decimal, cref string) {
	err := s.onLive(func(a *integration.AmazonFPS) error {
		_, err := a.Credit(ctx, amount, fps.CreditOptions{TransactionID: txID, CallerReference: cref})
		return err
	})
	if err != nil {
		s.errorf("refund %s: %v", cref, err)
	}
}

// page is the shop's TransactionHook: the buyer's page, after the
// charge.
func page(w http.ResponseWriter, ret *fps.PipelineReturn, o integration.Order) {
	if !ret.Status.Success() {
		fmt.Fprintf(w, "not paid (%s)", ret.Status)
		return
	}
	fmt.Fprintf(w, "thank you: order %s is %s", o.CallerReference, o.Status)
}

// charge is the shop's Config.Charge: it records its run, then pays or
// reserves the order's amount on its token, under its reference.
func (s *soak) charge(ctx context.Context, g *generation, a *integration.AmazonFPS, o integration.Order) error {
	if err := s.record(ctx, g, run{kind: "charge", order: o.CallerReference, key: integration.ReturnKey, detail: o.TokenID}); err != nil {
		return err
	}
	opts := fps.PurchaseOptions{TokenID: o.TokenID, CallerReference: o.CallerReference}
	var err error
	if strings.HasSuffix(o.Description, "(reserve)") {
		_, err = a.Authorize(ctx, o.Amount.Value, opts)
	} else {
		_, err = a.Purchase(ctx, o.Amount.Value, opts)
	}
	return err
}

// fulfil is the shop's NotificationCallback: a reserved order is captured
// (or, one in eight, voided); then the change is recorded as fulfilled,
// as the shop's own record of what it did for it.
func (s *soak) fulfil(ctx context.Context, g *generation, ch integration.OrderChange) error {
	do := func() error {
		n := ch.Notification
		ref := ch.Order.CallerReference
		if ch.Entry.To == integration.OrderAuthorized && n.Operation == fps.NotificationOperationReserve {
			var err error
			if voided(ref) {
				_, err = g.a.Void(ctx, n.TransactionID, fps.VoidOptions{Description: "soak: out of stock"})
			} else {
				_, err = g.a.Capture(ctx, decimal.Zero, fps.CaptureOptions{TransactionID: n.TransactionID})
			}
			if err != nil {
				return err
			}
		}
		return s.record(ctx, g, run{kind: "callback", order: ref, key: ch.Entry.Key,
			detail: fmt.Sprintf("%s|%s|%s|%s", ch.Entry.Event, ch.Entry.To, n.TransactionID, n.TransactionAmount)})
	}
	if s.cfg.callback != nil {
		return s.cfg.callback(ctx, ch, do)
	}
	return do()
}

// voided reports whether the shop voids the reserve of order ref rather
// than capture it.
func voided(ref string) bool {
	h := fnv.New32a()
	h.Write([]byte(ref))
	return h.Sum32()%8 == 0
}

// record adds r, done by the app server generation g, to the soak's runs
// table, unless g died.
func (s *soak) record(ctx context.Context, g *generation, r run) error {
	if g.dead.Load() {
		return errDead
	}
	r.replica = g.name
	_, err := s.db.db.ExecContext(ctx, s.db.placeholders("INSERT INTO "+runsTable+" (kind, order_reference, entry_key, detail, replica) VALUES (?, ?, ?, ?, ?)"),
		r.kind, r.order, r.key, r.detail, r.replica)
	return err
}
