package shopsoak

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
)

// What the checks read: the shop's database (its orders, their
// transactions and histories, the notifications stored, the runs of its
// hooks) and the simulator's ledger, and FPS's answer, with the shop's
// keys, to which token it holds for an order.

// ledger is the simulator's ledger as the checks read it.
type ledger struct {
	payments map[string][]fpstest.Transaction // the shop's Pay and Reserve, by callerReference
	refunds  map[string][]fpstest.Transaction // the shop's refunds, by refunded transaction
	shop     map[string]fpstest.Transaction   // the shop's transactions, by id
	attacker map[string]bool                  // the attacker's transaction ids
	settles  func(id string) int
}

func (s *soak) readLedger() ledger {
	l := ledger{payments: map[string][]fpstest.Transaction{}, refunds: map[string][]fpstest.Transaction{},
		shop: map[string]fpstest.Transaction{}, attacker: map[string]bool{}, settles: s.sim.Ledger().SettleCount}
	for _, t := range s.sim.Ledger().Transactions() {
		switch {
		case t.AccessKeyID == attackerAccount.AccessKeyID:
			l.attacker[t.ID] = true
		case t.AccessKeyID != shopAccount.AccessKeyID:
		case t.Operation == "Refund":
			l.shop[t.ID] = t
			l.refunds[t.ParentID] = append(l.refunds[t.ParentID], t)
		default:
			l.shop[t.ID] = t
			l.payments[t.CallerReference] = append(l.payments[t.CallerReference], t)
		}
	}
	return l
}

// money is what FPS moved for an order, under the references refs of its
// Pay or Reserve: the charges that moved money, what they took, and what
// was refunded of them.
type money struct {
	charges      []fpstest.Transaction // Pay Success, Reserve settled
	reserved     bool                  // a Reserve was made
	paid         decimal.Decimal
	refunded     decimal.Decimal
	pending      bool // a charge or a refund not final yet
	refundsCount int
}

func (l ledger) money(refs []string) money {
	var m money
	var payments []fpstest.Transaction
	for _, ref := range refs {
		payments = append(payments, l.payments[ref]...)
	}
	for _, t := range payments {
		if t.Operation == "Reserve" {
			m.reserved = true
		}
		switch {
		case t.Operation == "Pay" && t.Status == fps.TransactionStatusSuccess:
			m.charges = append(m.charges, t)
			m.paid = m.paid.Add(t.Amount)
		case t.Operation == "Reserve" && t.SettledAmount.IsPositive():
			m.charges = append(m.charges, t)
			m.paid = m.paid.Add(t.SettledAmount)
		case !t.Status.Final() && t.Status != fps.TransactionStatusReserved:
			m.pending = true
		}
		for _, r := range l.refunds[t.ID] {
			switch {
			case r.Status == fps.TransactionStatusSuccess:
				m.refunded = m.refunded.Add(r.Amount)
				m.refundsCount++
			case !r.Status.Final():
				m.pending = true
			}
		}
	}
	return m
}

// view is an order as the database holds it.
type view struct {
	o    integration.Order
	txs  []integration.Transaction
	hist []integration.HistoryEntry
}

// payments are the references of the order's Pay and Reserve: its own,
// and any other the store maps to it.
func (v view) payments() []string {
	refs := []string{v.o.CallerReference}
	for _, t := range v.txs {
		if t.Operation != fps.FPSOperationRefund && t.CallerReference != v.o.CallerReference {
			refs = append(refs, t.CallerReference)
		}
	}
	return refs
}

// orders reads every order of the shop with its transactions and history.
func (s *soak) orders(ctx context.Context) ([]view, error) {
	list, err := s.db.store.Orders(ctx, 1<<30)
	if err != nil {
		return nil, err
	}
	out := make([]view, 0, len(list))
	for _, o := range list {
		v := view{o: o}
		if v.txs, err = s.db.store.Transactions(ctx, o.CallerReference); err != nil {
			return nil, err
		}
		if v.hist, err = s.db.store.History(ctx, o.CallerReference); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// paidStatus reports whether an order in status st was paid.
func paidStatus(st integration.OrderStatus) bool {
	return st == integration.OrderPaid || st == integration.OrderPartlyRefunded || st == integration.OrderRefunded
}

// final reports whether st ends an order, or leaves it paid.
func final(st integration.OrderStatus) bool {
	return paidStatus(st) || st == integration.OrderFailed || st == integration.OrderCancelled
}

// unsettled counts the orders still on their way: a charge or a callback
// due, a reserve not captured or voided, a charge or refund of the ledger
// the order does not show yet, an order created whose token FPS holds.
func (s *soak) unsettled(ctx context.Context) (int, error) {
	views, err := s.orders(ctx)
	if err != nil {
		return 0, err
	}
	l := s.readLedger()
	shop, err := s.shopClient()
	if err != nil {
		return 0, err
	}
	open := 0
	for _, v := range views {
		m := l.money(v.payments())
		due := slices.ContainsFunc(v.hist, func(e integration.HistoryEntry) bool {
			// The charge of an order past approved never runs again.
			return e.CallbackDue && (e.Key != integration.ReturnKey || v.o.Status == integration.OrderApproved)
		})
		switch {
		case due, m.pending, !final(v.o.Status) && v.o.Status != integration.OrderCreated:
			open++
		case len(m.charges) > 0 && !paidStatus(v.o.Status), !m.refunded.Equal(v.o.Refunded):
			open++
		case v.o.Status == integration.OrderCreated:
			if _, held, err := tokenOf(ctx, shop, v.o.CallerReference); err != nil || held {
				open++
			}
		}
	}
	return open, nil
}

// shopClient is a client of the simulator with the shop's keys.
func (s *soak) shopClient() (*fps.Client, error) {
	return fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(shopAccount.AccessKeyID, shopAccount.SecretAccessKey),
		APIEndpoint: s.sim.APIEndpoint(), CBUIEndpoint: s.sim.CBUIEndpoint(), HTTPClient: s.sim.HTTPClient(),
	})
}

// tokenOf asks FPS, with the shop's keys, for the token it holds for the
// shop under ref: held is false when it holds none.
func tokenOf(ctx context.Context, c *fps.Client, ref string) (tok *fps.Token, held bool, err error) {
	out, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: ref})
	var ae *fps.APIError
	switch {
	case errors.As(err, &ae) && (ae.Code == fps.ErrCodeInvalidCallerReference || ae.Code == fps.ErrCodeInvalidTokenID):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return out.Token, out.Token != nil, nil
}

// tokenIs reports whether FPS holds token id for the shop (under any
// callerReference).
func tokenIs(ctx context.Context, c *fps.Client, id string) (bool, error) {
	_, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{TokenID: id})
	var ae *fps.APIError
	if errors.As(err, &ae) && (ae.Code == fps.ErrCodeInvalidTokenID || ae.Code == fps.ErrCodeInvalidCallerReference) {
		return false, nil
	}
	return err == nil, err
}

// checker accumulates the checks' findings.
type checker struct {
	sum      *Summary
	problems map[string]int // by kind, to keep a few of each
}

func (c *checker) broken(n *int, kind, format string, args ...any) {
	*n++
	if c.problems[kind] < 5 {
		c.sum.Problems = append(c.sum.Problems, kind+": "+fmt.Sprintf(format, args...))
	}
	c.problems[kind]++
}

// check reads the database and the ledger and counts what the orders
// came to, and every broken promise.
func (s *soak) check(ctx context.Context) (*Summary, error) {
	views, err := s.orders(ctx)
	if err != nil {
		return nil, fmt.Errorf("shop soak: reading the orders: %w", err)
	}
	runs, err := s.db.runs(ctx)
	if err != nil {
		return nil, fmt.Errorf("shop soak: reading the runs of the hooks: %w", err)
	}
	deaths, err := s.db.deaths(ctx)
	if err != nil {
		return nil, fmt.Errorf("shop soak: reading the deaths: %w", err)
	}
	notes, err := s.db.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("shop soak: reading the notifications: %w", err)
	}
	shop, err := s.shopClient()
	if err != nil {
		return nil, err
	}
	l := s.readLedger()
	sum := &Summary{Database: s.db.label, Orders: s.cfg.Orders}
	c := &checker{sum: sum, problems: map[string]int{}}
	if len(views) != s.cfg.Orders {
		s.errorf("%d orders in the database, %d placed", len(views), s.cfg.Orders)
	}

	var latencies []time.Duration
	for _, v := range views {
		o, ref := v.o, v.o.CallerReference
		m := l.money(v.payments())
		tok, held, err := tokenOf(ctx, shop, ref)
		if err != nil {
			return nil, fmt.Errorf("shop soak: asking FPS for the token of %s: %w", ref, err)
		}
		reserve := slices.ContainsFunc(v.txs, func(t integration.Transaction) bool { return t.Operation == fps.FPSOperationReserve })

		// What the order came to.
		switch {
		case o.Status == integration.OrderCreated && !held:
			sum.Declined++
			sum.Failed++
		case o.Status == integration.OrderFailed:
			sum.Failed++
		case reserve && o.Status == integration.OrderCancelled:
			sum.Voided++
		case paidStatus(o.Status) && reserve:
			sum.Captured++
		case paidStatus(o.Status):
			sum.Paid++
		}
		if reserve && slices.ContainsFunc(v.hist, func(e integration.HistoryEntry) bool { return e.Moved && e.To == integration.OrderAuthorized }) {
			sum.Authorized++
		}
		if o.Refunded.IsPositive() {
			sum.Refunded++
		}
		if d, ok := latency(v); ok {
			latencies = append(latencies, d)
		}

		// The promises.
		if held && !final(o.Status) && len(m.charges) == 0 {
			c.broken(&sum.Lost, "order lost", "%s: the buyer approved (FPS holds token %s), the order is %s and no money moved", ref, tok.TokenID, o.Status)
		}
		if (len(m.charges) > 0 && !paidStatus(o.Status)) || o.Paid.LessThan(m.paid) || o.Refunded.LessThan(m.refunded) {
			sum.BehindFPS++
		}
		switch {
		case (paidStatus(o.Status) || o.Paid.IsPositive()) && len(m.charges) == 0:
			c.broken(&sum.PaidWithoutMoney, "paid without money moving", "%s is %s (paid %s) but FPS moved no money for it", ref, o.Status, o.Paid)
		case o.Paid.GreaterThan(m.paid):
			c.broken(&sum.PaidWithoutMoney, "paid without money moving", "%s: paid %s in the store, %s at FPS", ref, o.Paid, m.paid)
		case o.Refunded.GreaterThan(m.refunded):
			c.broken(&sum.PaidWithoutMoney, "paid without money moving", "%s: refunded %s in the store, %s at FPS", ref, o.Refunded, m.refunded)
		}
		if len(m.charges) > 1 {
			c.broken(&sum.FulfilledTwice, "fulfilled twice", "%s: FPS charged the order %d times", ref, len(m.charges))
		}
		for _, t := range m.charges {
			if n := l.settles(t.ID); n > 1 {
				c.broken(&sum.FulfilledTwice, "fulfilled twice", "%s: reserve %s settled %d times", ref, t.ID, n)
			}
		}
		if m.refunded.GreaterThan(m.paid) {
			c.broken(&sum.FulfilledTwice, "fulfilled twice", "%s: refunded %s of %s paid", ref, m.refunded, m.paid)
		}
		if why, bad := backwards(v.hist, o.Status); bad {
			c.broken(&sum.MovedBackwards, "order moved backwards", "%s: %s", ref, why)
		}

		// The attacker's messages.
		if o.TokenID != "" && (!held || tok.TokenID != o.TokenID) {
			c.broken(&sum.AttackerAccepted, "attacker message accepted", "%s holds token %s, not the shop's for it", ref, o.TokenID)
		}
		for _, t := range v.txs {
			if t.ID != "" && l.attacker[t.ID] {
				c.broken(&sum.AttackerAccepted, "attacker message accepted", "%s records the attacker's transaction %s", ref, t.ID)
			}
		}
	}
	for _, sn := range notes {
		n := sn.Notification
		switch {
		case n.Type == fps.NotificationTypeTokenCancellation:
			ok, err := tokenIs(ctx, shop, n.TokenID)
			if err != nil {
				return nil, fmt.Errorf("shop soak: asking FPS for token %s: %w", n.TokenID, err)
			}
			if !ok {
				c.broken(&sum.AttackerAccepted, "attacker message accepted", "notification %s of a token not the shop's was stored", sn.Key)
			}
		case l.attacker[n.TransactionID]:
			c.broken(&sum.AttackerAccepted, "attacker message accepted", "the attacker's notification %s was stored", sn.Key)
		case l.shop[n.TransactionID].ID == "":
			c.broken(&sum.AttackerAccepted, "attacker message accepted", "notification %s of a transaction FPS does not hold for the shop was stored", sn.Key)
		}
	}
	s.checkRuns(c, runs, deaths, l)

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	sum.P50, sum.P90, sum.P99 = percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99)
	sort.Strings(sum.Problems)
	return sum, nil
}

// checkRuns counts the callbacks run twice for one change (a change run
// again by another app server after its first run's app server died
// before recording it is at least once, counted apart), the changes
// fulfilled under two history entries, the charges run again, and the
// hooks run for the attacker's transactions.
func (s *soak) checkRuns(c *checker, runs []run, deaths map[string]bool, l ledger) {
	sum := c.sum
	byKey := map[[2]string][]run{}    // callback runs by order and history key
	byChange := map[string][]string{} // history keys by order and what the change reported
	charges := map[string]int{}
	for _, r := range runs {
		switch r.kind {
		case "charge":
			charges[r.order]++
		case "callback":
			k := [2]string{r.order, r.key}
			if len(byKey[k]) == 0 {
				change := r.order + " " + r.detail
				byChange[change] = append(byChange[change], r.key)
			}
			byKey[k] = append(byKey[k], r)
			if parts := strings.Split(r.detail, "|"); len(parts) > 2 && l.attacker[parts[2]] {
				c.broken(&sum.AttackerAccepted, "attacker message accepted", "the callback ran for the attacker's transaction %s of %s", parts[2], r.order)
			}
		}
	}
	for k, rs := range byKey {
		if len(rs) < 2 {
			continue
		}
		// Run again after a death: each run by another app server
		// generation, all of them dead but one.
		gens, dead := map[string]bool{}, 0
		for _, r := range rs {
			gens[r.replica] = true
			if deaths[r.replica] {
				dead++
			}
		}
		if len(gens) == len(rs) && dead >= len(rs)-1 {
			sum.CallbacksRepeated += len(rs) - 1
			continue
		}
		c.broken(&sum.FulfilledTwice, "fulfilled twice", "the callback of %s, change %s, ran %d times", k[0], k[1], len(rs))
	}
	for change, keys := range byChange {
		if len(keys) > 1 {
			c.broken(&sum.FulfilledTwice, "fulfilled twice", "the change %s was fulfilled under %d entries: %s", change, len(keys), strings.Join(keys, ", "))
		}
	}
	for _, n := range charges {
		sum.ChargesAgain += n - 1
	}
}

// The life cycle as the checks know it, apart from the integration's
// table: ranks along the way, and the ends.
var rank = map[integration.OrderStatus]int{
	integration.OrderCreated: 0, integration.OrderApproved: 1, integration.OrderPending: 2, integration.OrderAuthorized: 3,
	integration.OrderCapturing: 4, integration.OrderPaid: 5, integration.OrderPartlyRefunded: 6, integration.OrderRefunded: 7,
}

// forward reports whether an order may move from one status to another:
// on along the way, or to failed or cancelled before it is paid; nothing
// leaves refunded, failed or cancelled; a partly refunded order may be
// refunded in part again.
func forward(from, to integration.OrderStatus) bool {
	switch {
	case from == integration.OrderFailed, from == integration.OrderCancelled, from == integration.OrderRefunded:
		return false
	case to == integration.OrderFailed, to == integration.OrderCancelled:
		return rank[from] < rank[integration.OrderPaid]
	case from == to:
		return from == integration.OrderPartlyRefunded
	}
	_, known := rank[to]
	return known && rank[to] > rank[from]
}

// backwards checks an order's history: its moves, taken in the order
// they were made (each starts where the one before it ended), only go
// forward and end at the order's status; an entry that moved nothing
// changes no status. It says what is wrong.
func backwards(hist []integration.HistoryEntry, status integration.OrderStatus) (string, bool) {
	var moves []integration.HistoryEntry
	for _, e := range hist {
		if e.Moved {
			moves = append(moves, e)
		} else if e.From != e.To {
			return fmt.Sprintf("entry %s moved nothing but says %s → %s", e.Key, e.From, e.To), true
		}
	}
	cur, used := integration.OrderCreated, make([]bool, len(moves))
	for range moves {
		next := -1
		for i, e := range moves { // a move that stays (one more partial refund) first
			if !used[i] && e.From == cur && (next < 0 || e.To == cur) {
				next = i
			}
		}
		if next < 0 {
			return fmt.Sprintf("no entry moves on from %s (the history has a move made from a status the order was not in)", cur), true
		}
		used[next] = true
		e := moves[next]
		if !forward(e.From, e.To) {
			return fmt.Sprintf("entry %s moved it back, %s → %s", e.Key, e.From, e.To), true
		}
		cur = e.To
	}
	if cur != status {
		return fmt.Sprintf("the order is %s, its history ends at %s", status, cur), true
	}
	return "", false
}

// latency is the time from the order's link to its first final or paid
// status.
func latency(v view) (time.Duration, bool) {
	for _, e := range v.hist {
		if e.Moved && final(e.To) {
			return e.At.Sub(v.o.Created), true
		}
	}
	return 0, false
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
