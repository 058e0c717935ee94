package shopsoak

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
)

// The attacker's stories, as the summary names them.
const (
	story1 = "1 (a return signature posted as an IPN)"
	story2 = "2 (another merchant's IPNs)"
	story3 = "3 (another merchant's return)"
	story4 = "4 (replays)"
)

// attackEvery is how many orders the buyers place per attack.
const attackEvery = 10

// attacker is a merchant account of its own at FPS, with its IPN URL set
// to the shop's, playing stories 1 to 4 against the shop's orders while
// the buyers shop.
type attacker struct {
	s      *soak
	client *fps.Client

	mu      sync.Mutex
	orders  []target         // the shop's orders he saw (their pipeline URLs are public)
	ids     map[string]bool  // his own tokens, to tell his IPNs at the shop's door
	stories map[string]*sent // by story
	// his IPNs, delivered to the shop by the simulator, with the shop's
	// answer: a 2xx once, or else a 403 once
	delivered map[string]int
}

// target is an order of the shop as its pipeline URL shows it.
type target struct {
	ref    string
	amount decimal.Decimal
}

// sent counts an attacker's messages of a story and the shop's refusals.
type sent struct{ n, refused int }

func newAttacker(s *soak) (*attacker, error) {
	c, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(attackerAccount.AccessKeyID, attackerAccount.SecretAccessKey),
		APIEndpoint: s.sim.APIEndpoint(), CBUIEndpoint: s.sim.CBUIEndpoint(), HTTPClient: s.sim.HTTPClient(),
	})
	if err != nil {
		return nil, err
	}
	// Story 2: the attacker's notifications go to the shop.
	if err := s.sim.SetIPNURL(attackerAccount.AccessKeyID, s.front.url+integration.NotifyPath); err != nil {
		return nil, err
	}
	a := &attacker{s: s, client: c, ids: map[string]bool{}, stories: map[string]*sent{}, delivered: map[string]int{}}
	watch := a.watch
	s.front.watch.Store(&watch)
	return a, nil
}

// offer shows the attacker a new order of the shop.
func (a *attacker) offer(ref string, amount decimal.Decimal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orders = append(a.orders, target{ref: ref, amount: amount})
}

// count counts a message of story answered status.
func (a *attacker) count(story string, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.stories[story]
	if t == nil {
		t = &sent{}
		a.stories[story] = t
	}
	t.n++
	if status == http.StatusForbidden {
		t.refused++
	}
}

// mine remembers a token of the attacker.
func (a *attacker) mine(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[id] = true
}

// watch tells, at the shop's front, the deliveries of the attacker's own
// notifications (story 2), and keeps the shop's answer to each.
func (a *attacker) watch(body string, status int) bool {
	p, err := url.ParseQuery(body)
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.Get("recipientEmail") != attackerAccount.Email && !a.ids[p.Get("tokenId")] {
		return false
	}
	if prev := a.delivered[body]; prev/100 != 2 && (prev != http.StatusForbidden || status/100 == 2) {
		a.delivered[body] = status
	}
	return true
}

// tally returns the messages sent, and those the shop refused, by
// story.
func (a *attacker) tally() (sent, refused map[string]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sent, refused = map[string]int{}, map[string]int{}
	for story, t := range a.stories {
		sent[story] += t.n
		refused[story] += t.refused
	}
	for _, status := range a.delivered {
		sent[story2]++
		if status == http.StatusForbidden {
			refused[story2]++
		}
	}
	return sent, refused
}

// run plays the stories in turn, one per attackEvery orders, until ctx
// ends.
func (a *attacker) run(ctx context.Context, s *soak) {
	for round := 0; ctx.Err() == nil; {
		a.mu.Lock()
		n := len(a.orders)
		var t target
		if n > 0 {
			t = a.orders[s.rng.intn(n)]
		}
		a.mu.Unlock()
		if n < (round+1)*attackEvery {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		switch round % 4 {
		case 0:
			a.forgedIPN(ctx, t)
		case 1:
			a.othersIPNs(ctx, t)
		case 2:
			a.othersReturn(ctx, t)
		case 3:
			a.replay(ctx)
		}
		round++
	}
}

// pays makes the attacker pay himself t's amount under t's
// callerReference, approving his own pipeline; his IPN URL is the shop's,
// so the genuinely signed PAY goes there. It returns his token and
// transaction.
func (a *attacker) pays(ctx context.Context, t target) (token, txID string, ok bool) {
	link, err := a.client.LinkURL(ctx, fps.PipelineFields{"pipelineName": "SingleUse", "transactionAmount": t.amount.StringFixed(2),
		"callerReference": t.ref, "returnURL": "https://attacker.example/return"})
	if err != nil {
		return "", "", false
	}
	back, err := a.s.sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	if err != nil {
		return "", "", false
	}
	token = back.Query().Get("tokenID")
	a.mine(token)
	for range maxAttempts {
		res, err := a.client.Purchase(ctx, t.amount, fps.PurchaseOptions{TokenID: token, CallerReference: t.ref})
		if err == nil {
			return token, res.TransactionID, true
		}
		if !retriable(err) {
			return token, "", false
		}
	}
	return token, "", false
}

// forgedIPN is story 1: a pipeline of the attacker's whose returnURL is
// the shop's IPN URL with IPN fields in its query (his own payment of
// the order's amount under its callerReference, said SUCCESS), approved,
// and its signed query posted to the shop as an IPN.
func (a *attacker) forgedIPN(ctx context.Context, t target) {
	_, txID, ok := a.pays(ctx, t)
	if !ok {
		return
	}
	fields := url.Values{
		"notificationType": {"TransactionStatus"}, "transactionId": {txID}, "operation": {"PAY"},
		"transactionStatus": {"SUCCESS"}, "transactionAmount": {"USD " + t.amount.StringFixed(2)}, "statusCode": {"Success"},
	}
	link, err := a.client.LinkURL(ctx, fps.PipelineFields{"pipelineName": "SingleUse", "transactionAmount": t.amount.StringFixed(2),
		"callerReference": t.ref, "returnURL": a.s.front.url + integration.NotifyPath + "?" + fields.Encode()})
	if err != nil {
		return
	}
	signed, err := a.s.sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	if err != nil {
		return
	}
	a.count(story1, a.send(ctx, http.MethodPost, a.s.front.url+integration.NotifyPath, signed.RawQuery))
}

// othersIPNs is story 2: the attacker pays himself t's amount under its
// callerReference, refunds it under another order's, and cancels his
// token, his IPN URL being the shop's: the simulator delivers each
// genuinely signed notification to the shop (counted at its door).
func (a *attacker) othersIPNs(ctx context.Context, t target) {
	token, txID, ok := a.pays(ctx, t)
	if !ok {
		return
	}
	a.mu.Lock()
	other := a.orders[a.s.rng.intn(len(a.orders))].ref
	a.mu.Unlock()
	for range maxAttempts {
		if _, err := a.client.Credit(ctx, t.amount, fps.CreditOptions{TransactionID: txID, CallerReference: other}); err == nil || !retriable(err) {
			break
		}
	}
	for range maxAttempts {
		if _, err := a.client.CancelToken(ctx, &fps.CancelTokenInput{TokenID: token}); err == nil || !retriable(err) {
			break
		}
	}
}

// othersReturn is story 3: the attacker's own pipeline with t's
// callerReference and the shop's return URL, approved, and its genuinely
// signed return loaded at the shop.
func (a *attacker) othersReturn(ctx context.Context, t target) {
	link, err := a.client.LinkURL(ctx, fps.PipelineFields{"pipelineName": "SingleUse", "transactionAmount": t.amount.StringFixed(2),
		"callerReference": t.ref, "returnURL": a.s.front.url + integration.ReturnPath})
	if err != nil {
		return
	}
	back, err := a.s.sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	if err != nil {
		return
	}
	a.mine(back.Query().Get("tokenID"))
	a.count(story3, a.send(ctx, http.MethodGet, back.String(), ""))
}

// replay is story 4: a message the shop accepted earlier (a buyer's
// return, an IPN), sent again, late and out of its order.
func (a *attacker) replay(ctx context.Context) {
	m, ok := a.s.front.pick(a.s.rng)
	if !ok {
		return
	}
	target := strings.TrimSuffix(a.s.front.url, "/") + m.path
	if m.method == http.MethodGet {
		target += "?" + m.query
	}
	a.count(story4, a.send(ctx, m.method, target, m.body))
}

// send sends a message to the shop, again while the shop answers 5xx or
// not at all, and returns its answer's status (0 when none came).
func (a *attacker) send(ctx context.Context, method, target, body string) int {
	status := 0
	for attempt := range maxAttempts {
		if attempt > 0 {
			time.Sleep(backoff(attempt))
		}
		req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
		if err != nil {
			return 0
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set(attackerHeader, "1")
		resp, err := browser.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if status = resp.StatusCode; status < 500 {
			break
		}
	}
	return status
}
