package fpstest

import (
	"time"

	"github.com/shopspring/decimal"
)

// The ledger's answers to the actions that only read: copies of its
// state, the caller's own only, to be rendered outside the lock.

// An account sees its own transactions and tokens only. Every action that
// names a transaction or a token, by id or by CallerReference, finds it
// through ownTx, ownToken or the caller's own list (sortedTokens), which
// answer for another account's exactly as for one that does not exist
// (spec §4.3: InvalidTransactionId "not found, not yours",
// InvalidTokenId, InvalidCallerReference). Called with l locked.

// ownTx returns the caller's transaction id, or false when there is none
// of the caller's with that id.
func (l *Ledger) ownTx(caller, id string) (*tx, bool) {
	t := l.txByID(id)
	if t == nil || t.owner != caller {
		return nil, false
	}
	return t, true
}

// ownToken returns the caller's token id, or false when there is none of
// the caller's with that id.
func (l *Ledger) ownToken(caller, id string) (*token, bool) {
	t := l.tokenByID(id)
	if t == nil || t.owner != caller {
		return nil, false
	}
	return t, true
}

// txOf returns the caller's transaction id, or InvalidTransactionId.
func (l *Ledger) txOf(caller, id string) (*tx, *apiError) {
	t, ok := l.ownTx(caller, id)
	if !ok {
		return nil, l.notFound(fail("InvalidTransactionId", "The transaction %s was not found.", id))
	}
	return t, nil
}

// transaction returns the caller's transaction id.
func (l *Ledger) transaction(caller, id string) (tx, *apiError) {
	l.lock()
	defer l.unlock()
	t, e := l.txOf(caller, id)
	if e != nil {
		return tx{}, e
	}
	return t.copy(), nil
}

// token returns the caller's token id.
func (l *Ledger) token(caller, id string) (token, *apiError) {
	l.lock()
	defer l.unlock()
	t, ok := l.ownToken(caller, id)
	if !ok {
		return token{}, l.notFound(fail("InvalidTokenId", "The token %s was not found.", id))
	}
	return t.copy(), nil
}

// tokensOf returns the caller's tokens, oldest first.
func (l *Ledger) tokensOf(caller string) ([]token, *apiError) {
	l.lock()
	defer l.unlock()
	var out []token
	for _, t := range l.findTokens(Query{Owner: caller}) {
		out = append(out, t.copy())
	}
	return out, l.readFailure()
}

// tokenByCallerReference returns the caller's latest token installed
// under ref, refund tokens aside.
func (l *Ledger) tokenByCallerReference(caller, ref string) (token, *apiError) {
	l.lock()
	defer l.unlock()
	var found *token
	for _, t := range l.findTokens(Query{Owner: caller, Ref: ref}) {
		if t.role != "refund" {
			found = t
		}
	}
	if e := l.readFailure(); e != nil {
		return token{}, e
	}
	if found == nil {
		return token{}, fail("InvalidCallerReference", "No token is associated with the caller reference %s.", ref)
	}
	return found.copy(), nil
}

// recipientToken returns the caller's recipient (or caller) token id.
func (l *Ledger) recipientToken(caller, id string) (token, *apiError) {
	l.lock()
	defer l.unlock()
	t, ok := l.ownToken(caller, id)
	if !ok || (t.role != "recipient" && t.role != "caller") {
		return token{}, l.notFound(fail("InvalidTokenId_Recipient", "The recipient token %s is not valid.", id))
	}
	return t.copy(), nil
}

// activity returns the caller's transactions received from start to end
// (at the millisecond precision dates are published in, so that a
// StartTimeForNextTransaction passed back as EndDate includes the
// transaction it names), oldest first, and the caller's balance.
func (l *Ledger) activity(caller string, start, end time.Time) ([]tx, decimal.Decimal, *apiError) {
	l.lock()
	defer l.unlock()
	var list []tx
	for _, t := range l.findTxs(Query{Owner: caller, From: publishedFrom(start), To: publishedTo(end)}) {
		list = append(list, t.copy())
	}
	var balance decimal.Decimal
	if a := l.accounts[caller]; a != nil {
		balance = a.balance
	}
	return list, balance, l.readFailure()
}

// publishedFrom is the earliest time whose millisecond (the precision
// dates are published in) is not before start.
func publishedFrom(start time.Time) time.Time {
	if t := start.Truncate(time.Millisecond); !t.Equal(start) {
		return t.Add(time.Millisecond)
	}
	return start
}

// publishedTo is the latest time whose millisecond is not after end.
func publishedTo(end time.Time) time.Time {
	return end.Truncate(time.Millisecond).Add(time.Millisecond - 1)
}

// accountBalance returns the caller's balance and what its Pending
// transactions will add and take.
func (l *Ledger) accountBalance(caller string) (total, pendingIn, pendingOut decimal.Decimal) {
	l.lock()
	defer l.unlock()
	if a := l.accounts[caller]; a != nil {
		total = a.balance
	}
	for t := range l.pending {
		if t.owner != caller {
			continue
		}
		switch t.pendingOp {
		case "PAY", "FUNDPREPAID":
			pendingIn = pendingIn.Add(t.amount)
		case "SETTLE":
			pendingIn = pendingIn.Add(t.settled)
		case "REFUND":
			pendingOut = pendingOut.Add(t.amount)
		}
	}
	return total, pendingIn, pendingOut
}

// instrumentOf returns the caller's instrument id of kind; param is the
// request parameter that named it. Called with l locked.
func (l *Ledger) instrumentOf(caller, param, id, kind string) (*instrument, *apiError) {
	in, ok := l.instruments[id]
	if !ok || in.kind != kind {
		return nil, fail("InvalidParams", "%s %s is not a valid %s instrument.", param, id, kind)
	}
	if in.owner != caller {
		return nil, fail("InstrumentAccessDenied", "You are not the holder of instrument %s.", id)
	}
	return in, nil
}

// pendingFor sums the Pending transactions of step on instrument id.
// Called with l locked.
func (l *Ledger) pendingFor(id, step string) decimal.Decimal {
	var d decimal.Decimal
	for t := range l.pending {
		if t.instrument == id && t.pendingOp == step {
			d = d.Add(t.amount)
		}
	}
	return d
}

// instrumentBalance describes the balance answers of one kind of
// instrument: prepaid instruments hold money paid in (pending in), credit
// instruments hold debt (pending out).
type instrumentBalance struct {
	param, kind, step       string // request parameter, instrument kind, step of its pending transactions
	one, total, pendingElem string // result elements
}

var (
	prepaidBalance = instrumentBalance{"PrepaidInstrumentId", "prepaid", "FUNDPREPAID", "PrepaidBalance", "OutstandingPrepaidLiability", "PendingInBalance"}
	debtBalance    = instrumentBalance{"CreditInstrumentId", "credit", "SETTLEDEBT", "DebtBalance", "OutstandingDebt", "PendingOutBalance"}
)

// balanceOf returns the balance of the caller's instrument id of b's kind
// and the sum of its Pending transactions of b's step.
func (l *Ledger) balanceOf(caller, id string, b instrumentBalance) (available, pending decimal.Decimal, e *apiError) {
	l.lock()
	defer l.unlock()
	in, e := l.instrumentOf(caller, b.param, id, b.kind)
	if e != nil {
		return available, pending, e
	}
	return in.balance, l.pendingFor(in.id, b.step), nil
}

// balanceOfAll sums balanceOf over the caller's instruments of b's kind.
func (l *Ledger) balanceOfAll(caller string, b instrumentBalance) (total, pending decimal.Decimal) {
	l.lock()
	defer l.unlock()
	for _, in := range l.instruments {
		if in.owner == caller && in.kind == b.kind {
			total = total.Add(in.balance)
			pending = pending.Add(l.pendingFor(in.id, b.step))
		}
	}
	return total, pending
}
