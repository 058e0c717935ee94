package fpstest

import (
	"slices"
	"strings"
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
	installed, validFrom, expiry                     time.Time
	amount                                           decimal.Decimal // per-transaction amount (zero: any)
	amountType                                       string          // Exact, Maximum, Minimum
	globalLimit                                      decimal.Decimal // zero: none
	used                                             decimal.Decimal
	uses                                             int
	lastUsed                                         time.Time
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
	amount, refunded, settled                decimal.Decimal
	received, completed, due                 time.Time
	pendingOp                                string // the last step: PAY, RESERVE, SETTLE, REFUND, FUNDPREPAID, SETTLEDEBT, WRITEOFFDEBT or CANCEL
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
}

// Ledger is the simulator's state: accounts, tokens, transactions,
// instruments. It is safe for concurrent use; one mutex guards it all.
type Ledger struct {
	cfg         ledgerConfig
	mu          sync.Mutex
	accounts    map[string]*account
	buyerABT    decimal.Decimal
	tokens      map[string]*token
	txs         map[string]*tx
	order       []*tx
	pending     map[*tx]struct{} // the Pending transactions
	idem        map[idemKey]*idemEntry
	settles     map[idemKey]*idemEntry // by caller and Reserve transaction id
	settleCount map[string]int
	instruments map[string]*instrument
	approved    map[idemKey]approval // approved pipelines by caller and callerReference
	outbox      []notification
}

func newLedger(cfg ledgerConfig) *Ledger {
	l := &Ledger{
		cfg:         cfg,
		accounts:    map[string]*account{},
		buyerABT:    cfg.buyerBalance,
		tokens:      map[string]*token{},
		txs:         map[string]*tx{},
		pending:     map[*tx]struct{}{},
		idem:        map[idemKey]*idemEntry{},
		settles:     map[idemKey]*idemEntry{},
		settleCount: map[string]int{},
		instruments: map[string]*instrument{},
		approved:    map[idemKey]approval{},
	}
	for _, a := range cfg.accounts {
		l.accounts[a.AccessKeyID] = &account{Account: a, balance: a.Balance}
	}
	return l
}

func (l *Ledger) lock() { l.mu.Lock() }

// unlock releases the ledger and hands the notifications queued meanwhile
// to cfg.notify.
func (l *Ledger) unlock() {
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
	return nil
}

// The primitives below are called with l locked.

func (l *Ledger) newToken(owner, typ, role, callerRef string, now time.Time) *token {
	t := &token{
		id: newID(64), typ: typ, status: "Active", callerRef: callerRef,
		owner: owner, role: role, installed: now, method: "ABT",
	}
	l.tokens[t.id] = t
	return t
}

func (l *Ledger) newTx(owner, op, callerRef string, amount decimal.Decimal, now time.Time) *tx {
	t := &tx{id: newID(35), owner: owner, op: op, callerRef: callerRef, amount: amount, received: now}
	l.txs[t.id] = t
	l.order = append(l.order, t)
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
		l.credit(t.owner, t.amount)
	case "FUNDPREPAID":
		l.credit(t.owner, t.amount)
		if in := l.instruments[t.instrument]; in != nil {
			in.balance = in.balance.Add(t.amount)
		}
	case "SETTLEDEBT", "WRITEOFFDEBT":
		if in := l.instruments[t.instrument]; in != nil {
			in.balance = in.balance.Sub(t.amount)
		}
	case "SETTLE":
		l.credit(t.owner, t.settled)
	case "REFUND":
		l.credit(t.owner, t.amount.Neg())
	}
	t.completed = now
	l.setStatus(t, "Success", codeSuccess, msgSuccess, now)
}

func (l *Ledger) credit(owner string, d decimal.Decimal) {
	if a, ok := l.accounts[owner]; ok {
		a.balance = a.balance.Add(d)
	}
}

// setStatus records a status change and queues its IPN.
func (l *Ledger) setStatus(t *tx, status, code, message string, now time.Time) {
	t.status, t.code, t.message = status, code, message
	amt := t.amount
	if t.pendingOp == "SETTLE" {
		amt = t.settled
	}
	t.history = append(t.history, histEntry{at: now, status: status, code: code, amount: amt})
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
}

// call is one API request as the ledger sees it: who asks, when, and
// what makes it the same request again.
type call struct {
	caller string    // the caller's access key id
	now    time.Time // simulator time
	ref    string    // the request's CallerReference, "" when it has none
	fp     string    // idemFingerprint of the request
}

// once answers c under its CallerReference idempotency: an identical
// request within IdempotencyWindow answers what the first answered, a
// different one DuplicateRequest; otherwise do answers, and its answer is
// kept. Called with l locked.
func (l *Ledger) once(c call, do func() ([]byte, *apiError)) ([]byte, *apiError) {
	k := idemKey{c.caller, c.ref}
	if e, ok := l.idem[k]; ok && c.now.Sub(e.at) < IdempotencyWindow {
		if e.fp != c.fp {
			return nil, fail("DuplicateRequest", "A different request associated with this caller reference already exists.")
		}
		return e.body, e.err
	}
	body, err := do()
	l.idem[k] = &idemEntry{fp: c.fp, body: body, err: err, at: c.now}
	return body, err
}

// senderToken returns the caller's sender token id, if it is Active and
// can pay now.
func (l *Ledger) senderToken(c call, id string) (*token, *apiError) {
	t, ok := l.ownToken(c.caller, id)
	if !ok || t.role == "recipient" || t.role == "refund" {
		return nil, fail("InvalidTokenId_Sender", "The sender token %s is not valid.", id)
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
	if e := t.allows(amount); e != nil {
		return e
	}
	limits := fail("InsufficientBalance", "The transaction exceeds the account/instrument limits.")
	switch t.method {
	case "ABT":
		if amount.GreaterThan(l.buyerABT) {
			return limits
		}
		l.buyerABT = l.buyerABT.Sub(amount)
	case "Prepaid":
		in := l.instruments[t.instrument]
		if in == nil || amount.GreaterThan(in.balance) {
			return limits
		}
		in.balance = in.balance.Sub(amount)
	case "Debt":
		in := l.instruments[t.instrument]
		if in == nil || in.balance.Add(amount).GreaterThan(in.creditLimit) {
			return limits
		}
		in.balance = in.balance.Add(amount)
	}
	t.used = t.used.Add(amount)
	t.uses++
	t.lastUsed = now
	return nil
}

// allows checks amount against the limits of the token itself: its uses,
// its amount and amount type, its global limit.
func (t *token) allows(amount decimal.Decimal) *apiError {
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
	return nil
}

// release gives back what charge took from the buyer (cancel, refund).
func (l *Ledger) release(t *token, amount decimal.Decimal) {
	if t == nil {
		return
	}
	switch t.method {
	case "ABT":
		l.buyerABT = l.buyerABT.Add(amount)
	case "Prepaid":
		if in := l.instruments[t.instrument]; in != nil {
			in.balance = in.balance.Add(amount)
		}
	case "Debt":
		if in := l.instruments[t.instrument]; in != nil {
			in.balance = in.balance.Sub(amount)
		}
	}
}

// sortedTokens returns the tokens of owner, oldest first.
func (l *Ledger) sortedTokens(owner string) []*token {
	var out []*token
	for _, t := range l.tokens {
		if t.owner == owner {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *token) int {
		if c := a.installed.Compare(b.installed); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}
