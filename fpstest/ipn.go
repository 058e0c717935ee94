package fpstest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
)

// Delivery is one attempt to deliver an IPN.
type Delivery struct {
	URL        string
	Body       string // the form body as sent
	Attempt    int    // 1 for the first attempt
	StatusCode int    // 0 when no answer came
	Err        error  // transport error, non-2xx answer, or failure on purpose
	Time       time.Time
}

// ErrDeliveryFailedOnPurpose marks the attempts failed by IPNFailFirst.
var ErrDeliveryFailedOnPurpose = errors.New("fpstest: IPN delivery failed on purpose")

// MaxDeliveries is how many IPN delivery attempts a simulator keeps for
// Server.Deliveries: the latest. DeliveryCounts counts them all. (Each
// keeps its signed body, about a kilobyte: the record is full, and the
// simulator's memory flat, after the first hundred attempts.)
const MaxDeliveries = 100

// MaxIPNsInFlight bounds the IPNs a simulator is delivering or waiting to
// retry at once. Past it the oldest is given up (counted in
// DeliveryCounts.GivenUp), so that a receiver that stays down cannot make
// the simulator's memory grow.
const MaxIPNsInFlight = 1000

// DeliveryCounts counts a simulator's IPN deliveries since it started.
type DeliveryCounts struct {
	Attempts  int // delivery attempts made
	Delivered int // IPNs the receiver accepted (2xx)
	Failed    int // attempts that failed
	// GivenUp counts the IPNs no longer retried though never accepted:
	// their retry window ended, or MaxIPNsInFlight others came after them.
	GivenUp int
}

type ipnSender struct {
	s        *Server
	wg       sync.WaitGroup
	mu       sync.Mutex
	recent   []Delivery // the latest MaxDeliveries attempts, a ring from next
	next     int
	counts   DeliveryCounts
	inFlight []*flight // oldest first
	failLeft int
	closed   bool
}

// flight is one IPN being delivered; cancel gives it up.
type flight struct{ cancel context.CancelFunc }

// close stops new deliveries and waits for those in flight (they stop at
// their next back-off, as the server's context is cancelled first).
func (p *ipnSender) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

// Deliveries returns the latest IPN delivery attempts (at most
// MaxDeliveries), oldest first.
func (s *Server) Deliveries() []Delivery {
	s.ipn.mu.Lock()
	defer s.ipn.mu.Unlock()
	r := s.ipn.recent
	if len(r) < MaxDeliveries {
		return slices.Clone(r)
	}
	return append(slices.Clone(r[s.ipn.next:]), r[:s.ipn.next]...)
}

// DeliveryCounts counts the IPN deliveries since the simulator started.
func (s *Server) DeliveryCounts() DeliveryCounts {
	s.ipn.mu.Lock()
	defer s.ipn.mu.Unlock()
	return s.ipn.counts
}

// record keeps attempt d. Called with p.mu locked.
func (p *ipnSender) record(d Delivery) {
	p.counts.Attempts++
	if d.Err != nil {
		p.counts.Failed++
	} else {
		p.counts.Delivered++
	}
	if len(p.recent) < MaxDeliveries {
		p.recent = append(p.recent, d)
		return
	}
	p.recent[p.next] = d
	p.next = (p.next + 1) % MaxDeliveries
}

// signOutbound adds the v2 signature fields to params and signs them for
// method and endpoint (the receiving URL, its query ignored by the string
// to sign; params must already hold the query's own parameters).
func (s *Server) signOutbound(method string, endpoint *url.URL, params url.Values) error {
	params.Set("signatureVersion", fps.OutboundSignatureVersion)
	params.Set("signatureMethod", fps.OutboundSignatureMethod)
	params.Set("certificateUrl", s.CertificateURL())
	params.Del("signature")
	sig, err := sigv2.SignRSASHA1(s.pki.signKey, sigv2.OutboundStringToSign(method, endpoint, params))
	if err != nil {
		return err
	}
	params.Set("signature", sig)
	return nil
}

// send signs n and delivers it in the background, retrying with
// back-off; it never blocks its caller.
func (p *ipnSender) send(n notification) {
	p.handOver(n)
	ctx, cancel := context.WithCancel(p.s.ctx)
	f := &flight{cancel: cancel}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		cancel()
		return
	}
	if len(p.inFlight) >= MaxIPNsInFlight {
		p.inFlight[0].cancel()
		p.inFlight = slices.Delete(p.inFlight, 0, 1)
	}
	p.inFlight = append(p.inFlight, f)
	p.wg.Add(1)
	p.mu.Unlock()
	fault := p.s.faults.pickIPN()
	go func() {
		defer p.wg.Done()
		defer p.land(f)
		u, err := url.Parse(n.url)
		if err != nil {
			return
		}
		// The body alone is signed (what a verifier hands to
		// VerifySignature as HttpParameters), under the URL's host and path.
		params := n.params
		if err := p.s.signOutbound(http.MethodPost, u, params); err != nil {
			return
		}
		if !p.deliverWith(ctx, fault, n.url, params.Encode()) && p.s.ctx.Err() == nil {
			p.mu.Lock()
			p.counts.GivenUp++
			p.mu.Unlock()
		}
	}()
}

// deliverWith delivers body to target as fault says: held back first
// (FaultIPNHoldBack), or twice at once (FaultIPNDuplicate). It reports
// whether a delivery was accepted.
func (p *ipnSender) deliverWith(ctx context.Context, fault FaultKind, target, body string) bool {
	switch fault {
	case FaultIPNHoldBack:
		select {
		case <-ctx.Done():
			return false
		case <-time.After(p.s.faults.latency()):
		}
	case FaultIPNDuplicate:
		again := make(chan bool, 1)
		go func() { again <- p.deliver(ctx, target, body) }()
		first := p.deliver(ctx, target, body)
		return <-again || first
	}
	return p.deliver(ctx, target, body)
}

// land ends flight f.
func (p *ipnSender) land(f *flight) {
	f.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.inFlight, f); i >= 0 {
		p.inFlight = slices.Delete(p.inFlight, i, i+1)
	}
}

// deliver posts body to target until it is accepted, the retry window
// ends or ctx is done; it reports whether it was accepted.
func (p *ipnSender) deliver(ctx context.Context, target, body string) bool {
	cfg := p.s.cfg
	deadline := time.Now().Add(cfg.IPNRetryWindow)
	delay := cfg.IPNFirstDelay
	for attempt := 1; ; attempt++ {
		d := Delivery{URL: target, Body: body, Attempt: attempt, Time: p.s.clock.Now()}
		actx, cancel := context.WithTimeout(ctx, cfg.IPNTimeout)
		req, err := http.NewRequestWithContext(actx, http.MethodPost, target, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
			var resp *http.Response
			if resp, err = cfg.IPNClient.Do(req); err == nil {
				resp.Body.Close()
				d.StatusCode = resp.StatusCode
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					err = errors.New("fpstest: IPN answered HTTP " + strconv.Itoa(resp.StatusCode))
				}
			}
		}
		cancel()
		p.mu.Lock()
		if err == nil && p.failLeft > 0 {
			p.failLeft--
			err = ErrDeliveryFailedOnPurpose
		}
		d.Err = err
		p.record(d)
		p.mu.Unlock()
		if err == nil {
			return true
		}
		if time.Now().Add(delay).After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay *= 2
	}
}
