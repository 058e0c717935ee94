package fpstest

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// The ledger is the simulator's state and its business rules: accounts,
// tokens, transactions, instruments, CallerReference idempotency and the
// approved pipelines. It knows nothing of HTTP, signatures or XML: the
// API and CBUI handlers check a request, then call one ledger method
// with the caller account and the simulator time, and render what it
// returns. Its state changes only through its methods, under its lock.
// The notifications its changes cause are queued, and handed to the
// notify function of its config once the lock is released.

// IdempotencyWindow is how long a CallerReference stays bound to the
// request that first used it (simulator time).
const IdempotencyWindow = 7 * 24 * time.Hour

// Token types.
const (
	// TokenSingleUse is a token that pays once (SingleUse pipeline).
	TokenSingleUse = "SingleUse"
	// TokenMultiUse is a token that pays up to a global limit (MultiUse pipeline).
	TokenMultiUse = "MultiUse"
	// TokenRecurring is a token that pays a fixed amount per period (Recurring pipeline).
	TokenRecurring = "Recurring"
	// TokenUnrestricted is the type of recipient, refund, prepaid and
	// postpaid tokens, and of InstallPaymentInstruction tokens that ask for it.
	TokenUnrestricted = "Unrestricted"
)

// Status codes and messages of transactions (spec §4.2).
const (
	codePending = "PendingNetworkResponse"
	msgPending  = "The transaction is awaiting a response from the backend payment processor."
	codeSuccess = "Success"
	msgSuccess  = "The transaction was successful and the payment instrument was charged."
	msgReserved = "The transaction was successful and the funds were reserved on the payment instrument."
	msgCancel   = "The transaction was cancelled."
)

// buyerName is the name of every simulated buyer.
const (
	buyerName  = "Test Buyer"
	buyerEmail = "buyer@example.com"
)

// account is a caller account's ledger state.
type account struct {
	Account
	balance decimal.Decimal
}

// token is an installed payment token.
type token struct {
	id, typ, status, callerRef, friendlyName, reason string
	owner                                            string // caller access key id
	method                                           string // ABT, ACH, CC, Prepaid, Debt
	instruction                                      string
	role                                             string // sender, recipient, refund, funding, settlement, caller
	instrument                                       string // prepaid or credit instrument of prepaid/postpaid sender tokens
	ipnURL                                           string // OverrideIPNURL of the CancelToken, "" for none
	installed, validFrom, expiry                     time.Time
	amount                                           decimal.Decimal // per-transaction amount (zero: any)
	amountType                                       string          // Exact, Maximum, Minimum
	globalLimit                                      decimal.Decimal // zero: none
	used                                             decimal.Decimal // paid and held, over the token's life
	uses                                             int             // payments, over the token's life
	changed                                          time.Time       // the last change: install, use, give back, cancel, edit
	limits                                           []usageLimit    // usageLimitType1/2
}

// copy returns t with slices of its own, to be read outside the lock.
func (t *token) copy() token {
	c := *t
	c.limits = slices.Clone(t.limits)
	return c
}

type histEntry struct {
	at     time.Time
	status string
	code   string
	amount decimal.Decimal
}

// tx is one transaction.
type tx struct {
	id, callerRef, op, status, code, message string
	method, sender, recipient, parent, owner string
	callerDesc, senderDesc, instrument       string
	ipnURL                                   string // the last OverrideIPNURL given for it, "" for none
	from                                     string // the instrument a Prepaid or Debt sender token draws on
	amount, refunded, settled                decimal.Decimal
	fees                                     fees
	received, completed, due                 time.Time
	pendingOp                                string // the last step: PAY, RESERVE, SETTLE, REFUND, FUNDPREPAID, SETTLEDEBT, WRITEOFFDEBT or CANCEL
	settles                                  int    // Reserve: how many times it was settled
	seq                                      uint64 // the order made in
	history                                  []histEntry
	refunds                                  []string
}

// copy returns t with slices of its own, to be read outside the lock.
func (t *tx) copy() tx {
	c := *t
	c.history = slices.Clone(t.history)
	c.refunds = slices.Clone(t.refunds)
	return c
}

type instrument struct {
	id, owner, kind string // kind: prepaid or credit
	balance         decimal.Decimal
	creditLimit     decimal.Decimal
}

type idemKey struct{ owner, callerRef string }

// idemEntry is the answer given to the first request under a
// CallerReference (or to the Settle of a Reserve).
type idemEntry struct {
	fp   string // idemFingerprint of the request
	body []byte
	err  *apiError
	at   time.Time
}

// ledgerConfig is what a ledger starts from and the little it needs from
// the server.
type ledgerConfig struct {
	accounts     []Account
	buyerBalance decimal.Decimal
	// pendingDelay is how long CC and ACH steps stay Pending; negative
	// keeps them Pending until completeDue with all set.
	pendingDelay time.Duration
	// clock is the time of the changes made through the exported
	// methods (InstallToken); the others are given the time.
	clock func() time.Time
	// notify receives each notification once the change that caused it
	// is made and the lock released; it must not block.
	notify func(notification)
	// store keeps the state, of which the ledger then holds in memory
	// only what is live; nil keeps it all in memory.
	store Store
}

// Ledger is the simulator's state: accounts, tokens, transactions,
// instruments, subscriptions. It is safe for concurrent use; one mutex
// guards it all. Without a Store its maps hold everything; with one
// they hold what is live, and what a change reads or makes until it is
// saved (ledger_state.go): the rest is read from the Store by id
// (txByID, tokenByID, ...) or by Query (findTxs, findTokens).
type Ledger struct {
	cfg           ledgerConfig
	mu            sync.Mutex
	accounts      map[string]*account
	buyerABT      decimal.Decimal
	tokens        map[string]*token
	txs           map[string]*tx
	pending       map[*tx]struct{} // the Pending transactions
	idem          map[idemKey]*idemEntry
	settles       map[string]*idemEntry // by Reserve transaction id
	instruments   map[string]*instrument
	approved      map[idemKey]approval     // approved pipelines by caller and callerReference
	subscriptions map[string]*subscription // by id
	outbox        []notification
	seq           uint64        // numbers the transactions in the order made
	expiries      []expiry      // what to forget, oldest first, from expHead on; without a Store only
	expHead       int           //
	clockOffset   time.Duration // the simulator clock's offset, kept with the state
	keys          []byte        // the simulator's CA and signing key, kept with the state (pki.go)
	store         *ledgerStore  // nil: no Store
}

// newLedger returns the ledger cfg describes, with the state of
// cfg.store when there is one.
func newLedger(cfg ledgerConfig) (*Ledger, error) {
	l := &Ledger{
		cfg:           cfg,
		accounts:      map[string]*account{},
		buyerABT:      cfg.buyerBalance,
		tokens:        map[string]*token{},
		txs:           map[string]*tx{},
		pending:       map[*tx]struct{}{},
		idem:          map[idemKey]*idemEntry{},
		settles:       map[string]*idemEntry{},
		instruments:   map[string]*instrument{},
		approved:      map[idemKey]approval{},
		subscriptions: map[string]*subscription{},
	}
	for _, a := range cfg.accounts {
		l.accounts[a.AccessKeyID] = &account{Account: a, balance: a.Balance}
	}
	if cfg.store == nil {
		return l, nil
	}
	l.store = &ledgerStore{st: cfg.store, dirty: map[recordRef]bool{}, touched: map[recordRef]struct{}{}}
	if err := l.load(cfg.store); err != nil {
		return nil, err
	}
	l.lock()
	l.unlock()
	if err := l.unsaved(); err != nil {
		return nil, fmt.Errorf("fpstest: saving the state: %w", err)
	}
	return l, nil
}

func (l *Ledger) lock() { l.mu.Lock() }

// unlock saves what changed to the Store, releases the ledger and hands
// the notifications queued meanwhile to cfg.notify.
func (l *Ledger) unlock() {
	l.save()
	out := l.outbox
	l.outbox = nil
	l.mu.Unlock()
	for _, n := range out {
		l.cfg.notify(n)
	}
}

// setIPNURL changes where the account's IPNs go.
func (l *Ledger) setIPNURL(key, url string) error {
	l.lock()
	defer l.unlock()
	a, ok := l.accounts[key]
	if !ok {
		return errUnknownAccount
	}
	a.IPNURL = url
	l.store.changed(recordAccount, key)
	return nil
}

// setClockOffset keeps the simulator clock's offset with the state.
func (l *Ledger) setClockOffset(d time.Duration) {
	l.lock()
	defer l.unlock()
	l.clockOffset = d
	l.store.changed(recordClock, "offset")
}

// savedClockOffset returns the clock offset the state was loaded with.
func (l *Ledger) savedClockOffset() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clockOffset
}

// keptKeys returns the simulator's keys kept with the state (pki.go),
// nil when none are.
func (l *Ledger) keptKeys() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys
}

// keepKeys keeps the simulator's keys with the state.
func (l *Ledger) keepKeys(keys []byte) error {
	l.lock()
	l.keys = keys
	l.store.changed(recordKeys, "simulator")
	l.unlock()
	return l.unsaved()
}

// The primitives below are called with l locked.

func (l *Ledger) newToken(owner, typ, role, callerRef string, now time.Time) *token {
	t := &token{
		id: newID(64), typ: typ, status: "Active", callerRef: callerRef,
		owner: owner, role: role, installed: now, changed: now, method: "ABT",
	}
	l.tokens[t.id] = t
	l.store.changed(recordToken, t.id)
	return t
}

func (l *Ledger) newTx(owner, op, callerRef string, amount decimal.Decimal, now time.Time) *tx {
	l.seq++
	t := &tx{id: newID(35), seq: l.seq, owner: owner, op: op, callerRef: callerRef, amount: amount, received: now}
	l.txs[t.id] = t
	l.store.changed(recordTx, t.id)
	l.store.changed(recordMeta, "seq")
	return t
}

// asynchronous reports whether a payment method completes later (CC and
// ACH) rather than at once.
func asynchronous(method string) bool { return method == "CC" || method == "ACH" }

// start puts t in its first state for step (PAY, RESERVE, SETTLE,
// REFUND, ...): Pending for CC and ACH, final at once otherwise.
func (l *Ledger) start(t *tx, step string, now time.Time) {
	t.pendingOp = step
	if asynchronous(t.method) {
		t.due = time.Time{}
		if l.cfg.pendingDelay >= 0 {
			t.due = now.Add(l.cfg.pendingDelay)
		}
		l.pending[t] = struct{}{}
		l.setStatus(t, "Pending", codePending, msgPending, now)
		return
	}
	l.finish(t, now)
}

// finish completes the step in flight of t.
func (l *Ledger) finish(t *tx, now time.Time) {
	t.due = time.Time{}
	delete(l.pending, t)
	switch t.pendingOp {
	case "RESERVE":
		l.setStatus(t, "Reserved", codeSuccess, msgReserved, now)
		return
	case "PAY":
		l.receive(t, t.amount)
	case "SETTLE":
		l.receive(t, t.settled)
	case "REFUND":
		l.receive(t, t.amount.Neg())
	case "FUNDPREPAID":
		l.credit(t.owner, t.amount.Sub(t.fees.fps))
		l.addToInstrument(t.instrument, t.amount)
	case "SETTLEDEBT", "WRITEOFFDEBT":
		l.credit(t.owner, t.fees.fps.Neg())
		l.addToInstrument(t.instrument, t.amount.Neg())
	}
	t.completed = now
	l.setStatus(t, "Success", codeSuccess, msgSuccess, now)
}

// receive credits the caller of t with amount (negative: debits it) less
// the FPS fee of t. A payment from a prepaid instrument moves nothing:
// the money came in when the instrument was funded (as in the docs'
// GetAccountActivity sample).
func (l *Ledger) receive(t *tx, amount decimal.Decimal) {
	if t.method != "Prepaid" {
		l.credit(t.owner, amount.Sub(t.fees.fps))
	}
}

func (l *Ledger) credit(owner string, d decimal.Decimal) {
	if a, ok := l.accounts[owner]; ok {
		a.balance = a.balance.Add(d)
		l.store.changed(recordAccount, owner)
	}
}

// addToInstrument adds d to the balance of instrument id, if it exists.
func (l *Ledger) addToInstrument(id string, d decimal.Decimal) {
	if in := l.instruments[id]; in != nil {
		in.balance = in.balance.Add(d)
		l.store.changed(recordInstrument, id)
	}
}

// addToBuyer adds d to the buyers' ABT balance.
func (l *Ledger) addToBuyer(d decimal.Decimal) {
	l.buyerABT = l.buyerABT.Add(d)
	l.store.changed(recordBuyer, "abt")
}

// setStatus records a status change and queues its IPN.
func (l *Ledger) setStatus(t *tx, status, code, message string, now time.Time) {
	t.status, t.code, t.message = status, code, message
	amt := t.amount
	if t.pendingOp == "SETTLE" {
		amt = t.settled
	}
	t.history = append(t.history, histEntry{at: now, status: status, code: code, amount: amt})
	l.store.changed(recordTx, t.id)
	l.queueTxIPN(t, now)
}

// completeDue completes the Pending transactions due at now (all of them
// when all is set), oldest first.
func (l *Ledger) completeDue(now time.Time, all bool) {
	l.lock()
	defer l.unlock()
	var due []*tx
	for t := range l.pending {
		if all || (!t.due.IsZero() && !t.due.After(now)) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *tx) int { return a.received.Compare(b.received) })
	for _, t := range due {
		l.finish(t, now)
	}
	l.forget(now)
}

// call is one API request as the ledger sees it: who asks, when, and
// what makes it the same request again.
type call struct {
	caller string    // the caller's access key id
	now    time.Time // simulator time
	ref    string    // the request's CallerReference, "" when it has none
	fp     string    // idemFingerprint of the request
	ipnURL string    // the request's OverrideIPNURL, "" when it has none
}

// route sends the IPNs of t to the call's OverrideIPNURL from now on, when
// it has one.
func (c call) route(t *tx) {
	if c.ipnURL != "" {
		t.ipnURL = c.ipnURL
	}
}

// once answers c under its CallerReference idempotency: an identical
// request within IdempotencyWindow answers what the first answered, a
// different one DuplicateRequest; otherwise do answers, and its answer is
// kept. Called with l locked.
func (l *Ledger) once(c call, do func() ([]byte, *apiError)) ([]byte, *apiError) {
	k := idemKey{c.caller, c.ref}
	if e := l.answerFor(k); e != nil && c.now.Sub(e.at) < IdempotencyWindow {
		if e.fp != c.fp {
			return nil, fail("DuplicateRequest", "A different request associated with this caller reference already exists.")
		}
		return e.body, e.err
	}
	if e := l.readFailure(); e != nil {
		return nil, e // whether it was answered is unknown
	}
	body, err := do()
	l.idem[k] = &idemEntry{fp: c.fp, body: body, err: err, at: c.now}
	l.store.changedEntry(recordAnswer, k)
	l.remember(expiresAnswer, k, c.now)
	return body, err
}

// senderToken returns the caller's sender token id, if it is Active and
// can pay now.
func (l *Ledger) senderToken(c call, id string) (*token, *apiError) {
	t, ok := l.ownToken(c.caller, id)
	if !ok || t.role == "recipient" || t.role == "refund" {
		return nil, l.notFound(fail("InvalidTokenId_Sender", "The sender token %s is not valid.", id))
	}
	if t.status != "Active" {
		return nil, fail("TokenNotActive_Sender", "The sender token is not active (it was cancelled).")
	}
	if !t.expiry.IsZero() && !c.now.Before(t.expiry) {
		return nil, fail("TokenNotActive_Sender", "The sender token expired.")
	}
	if !t.validFrom.IsZero() && c.now.Before(t.validFrom) {
		return nil, fail("TokenNotActive_Sender", "The sender token is not valid yet.")
	}
	return t, nil
}

// charge checks amount against the token's limits and funds, and records
// the use.
func (l *Ledger) charge(t *token, amount decimal.Decimal, now time.Time) *apiError {
	if e := t.allows(amount, now); e != nil {
		return e
	}
	limits := fail("InsufficientBalance", "The transaction exceeds the account/instrument limits.")
	switch t.method {
	case "ABT":
		if amount.GreaterThan(l.buyerABT) {
			return limits
		}
		l.addToBuyer(amount.Neg())
	case "Prepaid":
		in := l.instruments[t.instrument]
		if in == nil || amount.GreaterThan(in.balance) {
			return limits
		}
		l.addToInstrument(in.id, amount.Neg())
	case "Debt":
		in := l.instruments[t.instrument]
		if in == nil || in.balance.Add(amount).GreaterThan(in.creditLimit) {
			return limits
		}
		l.addToInstrument(in.id, amount)
	}
	l.store.changed(recordToken, t.id)
	t.used = t.used.Add(amount)
	t.uses++
	t.changed = now
	for i := range t.limits {
		t.limits[i].take(amount, now)
	}
	return nil
}

// allows checks amount against the limits of the token itself at now:
// its uses, its amount and amount type, its global limit, its usage
// limits.
func (t *token) allows(amount decimal.Decimal, now time.Time) *apiError {
	limits := fail("InsufficientBalance", "The transaction exceeds the account/instrument limits.")
	if t.typ == TokenSingleUse && t.uses > 0 {
		return fail("TokenUsageError", "The single-use token was already used.")
	}
	if !t.amount.IsZero() {
		switch t.amountType {
		case "Exact", "":
			if t.typ == TokenSingleUse || t.typ == TokenRecurring {
				if amount.GreaterThan(t.amount) {
					return limits
				}
			} else if !amount.Equal(t.amount) {
				return fail("TransactionDenied", "The amount must be exactly %s.", t.amount.StringFixed(2))
			}
		case "Maximum":
			if amount.GreaterThan(t.amount) {
				return limits
			}
		case "Minimum":
			if amount.LessThan(t.amount) {
				return fail("TransactionDenied", "The amount must be at least %s.", t.amount.StringFixed(2))
			}
		}
	}
	if !t.globalLimit.IsZero() && t.used.Add(amount).GreaterThan(t.globalLimit) {
		return limits
	}
	for i := range t.limits {
		u := &t.limits[i]
		if u.allows(amount, now) {
			continue
		}
		limit := u.amount.StringFixed(2) + " USD"
		if u.count {
			limit = strconv.Itoa(u.times) + " payments"
		}
		per := "over the token's life"
		if u.per.n > 0 {
			per = "per " + u.per.String()
		}
		return fail("TokenUsageError", "The token's usage limit of %s %s was reached.", limit, per)
	}
	return nil
}

// giveBackToBuyer gives amount back to the funds t drew on (a negative
// amount takes it again): the buyer's ABT balance, or the prepaid or
// credit instrument of the sender token.
func (l *Ledger) giveBackToBuyer(t *tx, amount decimal.Decimal) {
	switch t.method {
	case "ABT":
		l.addToBuyer(amount)
	case "Prepaid":
		l.addToInstrument(t.from, amount)
	case "Debt":
		l.addToInstrument(t.from, amount.Neg())
	}
}

// giveBackToToken gives amount (and the use, when use is set) of the
// payment t back to its sender token: to its global limit and to the
// windows of its usage limits that counted it.
func (l *Ledger) giveBackToToken(t *tx, amount decimal.Decimal, use bool, now time.Time) {
	tok := l.tokenByID(t.sender)
	if tok == nil {
		return
	}
	tok.used = tok.used.Sub(amount)
	if use {
		tok.uses--
	}
	for i := range tok.limits {
		tok.limits[i].give(amount, use, t.received, now)
	}
	tok.changed = now
	l.store.changed(recordToken, tok.id)
}
