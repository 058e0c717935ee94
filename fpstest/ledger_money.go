package fpstest

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The ledger's operations that move money or change a token, one per
// action. Each takes the request as a call (the caller, the time, the
// CallerReference and fingerprint) and its checked parameters. Those
// under CallerReference idempotency take answer, which renders the
// outcome as the action's answer: the ledger keeps that answer and gives
// it again to an identical request.

// payment is a Pay or Reserve.
type payment struct {
	op                     string // Pay or Reserve
	senderToken, recipient string // recipient: "" for none
	amount                 decimal.Decimal
	callerDesc, senderDesc string
	chargeFeeTo            string          // Caller or Recipient
	fixedFee, variableFee  decimal.Decimal // the marketplace fee
}

// errFeeLiability refuses a payment that would not pay the recipient's
// fees.
func errFeeLiability() *apiError {
	return fail("InvalidParams", "Transaction amount must be greater than Recipient Fee liability.")
}

// pay charges the sender token and records the Pay or Reserve.
func (l *Ledger) pay(c call, in payment, answer func(tx) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	return l.once(c, func() ([]byte, *apiError) {
		tok, e := l.senderToken(c, in.senderToken)
		if e != nil {
			return nil, e
		}
		if in.recipient != "" {
			rt, ok := l.ownToken(c.caller, in.recipient)
			if !ok || rt.role == "sender" || rt.role == "refund" {
				return nil, l.notFound(fail("InvalidTokenId_Recipient", "The recipient token %s is not valid.", in.recipient))
			}
			if rt.status != "Active" {
				return nil, fail("TokenNotActive_Recipient", "The recipient token is not active.")
			}
		}
		f := fees{payer: in.chargeFeeTo, fixed: in.fixedFee, variable: in.variableFee}
		f.charge(tok.method, in.amount)
		if !in.amount.GreaterThan(f.recipientOwes()) {
			return nil, errFeeLiability()
		}
		if e := l.charge(tok, in.amount, c.now); e != nil {
			return nil, e
		}
		t := l.newTx(c.caller, in.op, c.ref, in.amount, c.now)
		c.route(t)
		t.method, t.sender, t.recipient, t.from = tok.method, tok.id, in.recipient, tok.instrument
		t.callerDesc, t.senderDesc = in.callerDesc, in.senderDesc
		t.fees = f
		if in.op == "Reserve" {
			t.fees.fps, t.fees.market = decimal.Zero, decimal.Zero // charged at Settle
		}
		l.start(t, strings.ToUpper(in.op), c.now)
		return answer(t.copy()), nil
	})
}

// settle settles the caller's Reserve reserveID for amount (its whole
// amount when whole is set). Settle has no CallerReference: the identical
// Settle again answers what the first answered, another one is
// InvalidTransactionState.
func (l *Ledger) settle(c call, reserveID string, amount decimal.Decimal, whole bool, answer func(tx) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	t, e := l.txOf(c.caller, reserveID)
	if e != nil {
		return nil, e
	}
	// The reserve is the caller's: its id alone keys the replay.
	if prev := l.settleOf(reserveID); prev != nil && c.now.Sub(prev.at) < IdempotencyWindow {
		if prev.fp == c.fp {
			return prev.body, nil
		}
		return nil, fail("InvalidTransactionState", "The reserve transaction %s was already settled.", reserveID)
	}
	if t.op != "Reserve" {
		return nil, fail("InvalidTransactionId", "The transaction %s is not a Reserve transaction.", reserveID)
	}
	if t.status != "Reserved" {
		return nil, fail("InvalidTransactionState", "The transaction is %s; only a Reserved transaction can be settled.", t.status)
	}
	if whole {
		amount = t.amount
	}
	if amount.GreaterThan(t.amount) {
		return nil, fail("SettleAmountGreaterThanReserveAmount", "The settle amount %s is greater than the reserved amount %s.", amount.StringFixed(2), t.amount.StringFixed(2))
	}
	f := t.fees
	f.charge(t.method, amount)
	if !amount.GreaterThan(f.recipientOwes()) {
		return nil, errFeeLiability()
	}
	t.settled, t.fees = amount, f
	t.settles++
	if rest := t.amount.Sub(amount); rest.IsPositive() {
		l.giveBackToBuyer(t, rest)
		l.giveBackToToken(t, rest, false, c.now)
	}
	c.route(t)
	l.start(t, "SETTLE", c.now)
	body := answer(t.copy())
	l.settles[reserveID] = &idemEntry{fp: c.fp, body: body, at: c.now}
	l.store.changedEntry(recordSettle, idemKey{callerRef: reserveID})
	l.remember(expiresSettle, idemKey{callerRef: reserveID}, c.now)
	return body, nil
}

// refund refunds amount (what is left to refund when whole is set) of the
// caller's Pay or settled Reserve txID.
func (l *Ledger) refund(c call, txID string, amount decimal.Decimal, whole bool, callerDesc string, answer func(tx) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	return l.once(c, func() ([]byte, *apiError) {
		p, e := l.txOf(c.caller, txID)
		if e != nil {
			return nil, e
		}
		var base decimal.Decimal
		switch p.op {
		case "Pay":
			base = p.amount
		case "Reserve":
			base = p.settled
		default:
			return nil, fail("TransactionTypeNotRefundable", "A %s transaction cannot be refunded.", p.op)
		}
		if p.status != "Success" {
			return nil, fail("InvalidTransactionState", "The transaction is %s; only a successful transaction can be refunded.", p.status)
		}
		remaining := base.Sub(p.refunded)
		if !remaining.IsPositive() {
			return nil, fail("TransactionFullyRefundedAlready", "The transaction %s was already fully refunded.", txID)
		}
		if whole {
			amount = remaining
		}
		if amount.GreaterThan(remaining) {
			return nil, fail("RefundAmountExceeded", "The refund amount %s exceeds the refundable amount %s.", amount.StringFixed(2), remaining.StringFixed(2))
		}
		r := l.newRefund(c, p, base, amount)
		r.recipient, r.callerDesc = p.recipient, callerDesc
		l.start(r, "REFUND", c.now)
		return answer(r.copy()), nil
	})
}

// newRefund records a refund of amount of p (of which base can be
// refunded) under c's CallerReference: the buyer gets the amount back at
// once, and the caller the share of the FPS fee it refunds. The token
// that paid keeps its use and limits (the simulator's choice: the token
// did pay).
func (l *Ledger) newRefund(c call, p *tx, base, amount decimal.Decimal) *tx {
	r := l.newTx(c.caller, "Refund", c.ref, amount, c.now)
	c.route(r)
	r.parent, r.method, r.sender, r.from = p.id, p.method, p.sender, p.from
	r.fees = fees{payer: p.fees.payer, fps: p.fees.refundShare(amount, base, p.refunded).Neg()}
	p.fees.refunded = p.fees.refunded.Sub(r.fees.fps)
	p.refunded = p.refunded.Add(amount)
	p.refunds = append(p.refunds, r.id)
	l.store.changed(recordTx, p.id)
	l.giveBackToBuyer(r, amount)
	return r
}

// cancel cancels the caller's Pending or Reserved transaction txID and
// gives the buyer back what it took; cancelling again changes nothing.
func (l *Ledger) cancel(c call, txID string) (tx, *apiError) {
	l.lock()
	defer l.unlock()
	t, e := l.txOf(c.caller, txID)
	if e != nil {
		return tx{}, e
	}
	switch t.status {
	case "Cancelled":
		return t.copy(), nil
	case "Pending", "Reserved":
	default:
		return tx{}, fail("InvalidTransactionState", "The transaction is %s; only a Pending or Reserved transaction can be cancelled.", t.status)
	}
	// Give back what the step in flight held: a Pay, Reserve or
	// instrument payment its amount and the token's use; a Settle what it
	// settled (the rest went back at Settle); a refund is taken back from
	// the buyer.
	switch t.pendingOp {
	case "REFUND":
		if p := l.txByID(t.parent); p != nil {
			p.refunded = p.refunded.Sub(t.amount)
			p.fees.refunded = p.fees.refunded.Add(t.fees.fps)
			l.store.changed(recordTx, p.id)
		}
		l.giveBackToBuyer(t, t.amount.Neg())
	case "SETTLE":
		l.giveBackToBuyer(t, t.settled)
		l.giveBackToToken(t, t.settled, true, c.now)
	default: // PAY, RESERVE, FUNDPREPAID, SETTLEDEBT
		l.giveBackToBuyer(t, t.amount)
		l.giveBackToToken(t, t.amount, true, c.now)
	}
	t.fees.fps, t.fees.market = decimal.Zero, decimal.Zero
	t.due = time.Time{}
	delete(l.pending, t)
	t.pendingOp = "CANCEL"
	c.route(t)
	t.completed = c.now
	l.setStatus(t, "Cancelled", "Cancelled", msgCancel, c.now)
	return t.copy(), nil
}

// cancelToken makes the caller's token tokenID Inactive.
func (l *Ledger) cancelToken(c call, tokenID string) *apiError {
	l.lock()
	defer l.unlock()
	t, ok := l.ownToken(c.caller, tokenID)
	if !ok {
		return l.notFound(fail("InvalidTokenId", "You did not install the token you tried to cancel."))
	}
	if c.ipnURL != "" {
		t.ipnURL = c.ipnURL
	}
	l.deactivate(t, c.now)
	return nil
}

// deactivate makes t Inactive, once, and queues its IPN.
func (l *Ledger) deactivate(t *token, now time.Time) {
	if t.status == "Active" {
		t.status, t.changed = "Inactive", now
		l.store.changed(recordToken, t.id)
		l.queueTokenIPN(t, now)
	}
}

// instruction is an InstallPaymentInstruction.
type instruction struct {
	instruction, tokenType, friendlyName, reason string
}

// installInstruction installs a caller token with in's payment
// instruction.
func (l *Ledger) installInstruction(c call, in instruction, answer func(token) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	return l.once(c, func() ([]byte, *apiError) {
		t := l.newToken(c.caller, in.tokenType, "caller", c.ref, c.now)
		t.instruction, t.friendlyName, t.reason = in.instruction, in.friendlyName, in.reason
		return answer(*t), nil
	})
}

// instrumentAction describes one of the actions that move money into or
// out of an instrument: FundPrepaid pays into a prepaid instrument,
// SettleDebt pays off and WriteOffDebt forgives the debt of a credit
// instrument.
type instrumentAction struct {
	action, step     string // action name, step of its pending transaction
	instrument, kind string // instrument request parameter, instrument kind
	amount           string // amount request parameter
	sender           bool   // a SenderTokenId pays the amount
	boundedByBalance bool   // the amount may not exceed the instrument's balance (debt)
}

var (
	fundPrepaid  = instrumentAction{"FundPrepaid", "FUNDPREPAID", "PrepaidInstrumentId", "prepaid", "FundingAmount", true, false}
	settleDebt   = instrumentAction{"SettleDebt", "SETTLEDEBT", "CreditInstrumentId", "credit", "SettlementAmount", true, true}
	writeOffDebt = instrumentAction{"WriteOffDebt", "WRITEOFFDEBT", "CreditInstrumentId", "credit", "AdjustmentAmount", false, true}
)

// instrumentPayment is the request of an instrumentAction.
type instrumentPayment struct {
	instrument, senderToken string // senderToken: "" when the action has none
	amount                  decimal.Decimal
	callerDesc, senderDesc  string
}

// moveInstrument performs the action a describes.
func (l *Ledger) moveInstrument(c call, a instrumentAction, in instrumentPayment, answer func(tx) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	return l.once(c, func() ([]byte, *apiError) {
		inst, e := l.instrumentOf(c.caller, a.instrument, in.instrument, a.kind)
		if e != nil {
			return nil, e
		}
		if a.boundedByBalance && in.amount.GreaterThan(inst.balance) {
			return nil, fail("SettleAmountGreaterThanDebt", "The amount %s is greater than the debt %s.", in.amount.StringFixed(2), inst.balance.StringFixed(2))
		}
		method, sender, from := "Debt", "", ""
		if a.sender {
			tok, e := l.senderToken(c, in.senderToken)
			if e != nil {
				return nil, e
			}
			if a.kind == "credit" && tok.method == "Debt" {
				return nil, fail("InvalidTokenId_Sender", "A postpaid token cannot settle its own debt.")
			}
			if e := l.charge(tok, in.amount, c.now); e != nil {
				return nil, e
			}
			method, sender, from = tok.method, tok.id, tok.instrument
		}
		t := l.newTx(c.caller, a.action, c.ref, in.amount, c.now)
		c.route(t)
		t.method, t.sender, t.instrument, t.from = method, sender, inst.id, from
		t.fees = fees{payer: "Recipient", fps: fpsFee(method, in.amount)}
		t.callerDesc = in.callerDesc
		if a.sender {
			t.senderDesc = in.senderDesc
		}
		l.start(t, a.step, c.now)
		return answer(t.copy()), nil
	})
}

// cancelSubscription cancels the caller's Recurring token subscriptionID
// and, when refund is set, refunds amount of its last successful payment.
// It is under CallerReference idempotency when c has a CallerReference.
func (l *Ledger) cancelSubscription(c call, subscriptionID string, amount decimal.Decimal, refund bool, answer func(refundID string) []byte) ([]byte, *apiError) {
	l.lock()
	defer l.unlock()
	do := func() ([]byte, *apiError) {
		tok, sub, e := l.subscriptionToken(c.caller, subscriptionID, refund)
		if e != nil {
			return nil, e
		}
		var refundID string
		if refund {
			var last *tx
			for _, t := range l.findTxs(Query{Owner: c.caller, Link: tok.id}) {
				if t.op == "Pay" && t.status == "Success" {
					last = t
				}
			}
			if e := l.readFailure(); e != nil {
				return nil, e
			}
			if last != nil {
				last = l.txByID(last.id) // to change
			}
			if last == nil || amount.GreaterThan(last.amount.Sub(last.refunded)) {
				return nil, fail("RefundAmountExceeded", "The refund amount exceeds the refundable amount of the subscription.")
			}
			r := l.newRefund(c, last, last.amount, amount)
			l.start(r, "REFUND", c.now)
			refundID = r.id
		}
		l.deactivate(tok, c.now)
		l.cancelled(sub)
		return answer(refundID), nil
	}
	if c.ref != "" {
		return l.once(c, do)
	}
	return do()
}
