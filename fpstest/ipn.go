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

type ipnSender struct {
	s          *Server
	wg         sync.WaitGroup
	mu         sync.Mutex
	deliveries []Delivery
	failLeft   int
	closed     bool
}

// close stops new deliveries and waits for those in flight (they stop at
// their next back-off, as the server's context is cancelled first).
func (p *ipnSender) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

// Deliveries returns every IPN delivery attempt so far, in order.
func (s *Server) Deliveries() []Delivery {
	s.ipn.mu.Lock()
	defer s.ipn.mu.Unlock()
	return slices.Clone(s.ipn.deliveries)
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
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
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
		p.deliver(n.url, params.Encode())
	}()
}

func (p *ipnSender) deliver(target, body string) {
	cfg := p.s.cfg
	deadline := time.Now().Add(cfg.IPNRetryWindow)
	delay := cfg.IPNFirstDelay
	for attempt := 1; ; attempt++ {
		d := Delivery{URL: target, Body: body, Attempt: attempt, Time: p.s.clock.Now()}
		ctx, cancel := context.WithTimeout(p.s.ctx, cfg.IPNTimeout)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
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
		p.deliveries = append(p.deliveries, d)
		p.mu.Unlock()
		if err == nil || time.Now().Add(delay).After(deadline) {
			return
		}
		select {
		case <-p.s.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}
