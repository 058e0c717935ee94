package fpstest

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Amount limits per transaction.
var (
	minAmount = decimal.New(1, -2)
	maxAmount = decimal.NewFromInt(10000)
)

// parseAmount reads the amount prefix.Value / prefix.CurrencyCode; ok is
// false when it is absent and not required.
func parseAmount(rq *request, prefix string, required bool) (d decimal.Decimal, ok bool, e *apiError) {
	v := rq.get(prefix + ".Value")
	if v == "" {
		if required {
			return d, false, missing(prefix + ".Value")
		}
		if c := rq.get(prefix + ".CurrencyCode"); c != "" {
			return d, false, missing(prefix + ".Value")
		}
		return d, false, nil
	}
	if c := rq.get(prefix + ".CurrencyCode"); c != "" && c != "USD" {
		return d, false, badValue(prefix+".CurrencyCode", c, "Must be USD.")
	}
	d, err := decimal.NewFromString(v)
	if err != nil || strings.ContainsAny(v, "eE") {
		return d, false, badValue(prefix+".Value", v, "Must be a decimal number.")
	}
	if !d.Equal(d.Truncate(2)) {
		return d, false, badValue(prefix+".Value", v, "Must have at most 2 decimal places.")
	}
	if d.LessThan(minAmount) || d.GreaterThan(maxAmount) {
		return d, false, fail("AmountOutOfRange", "The amount %s in %s is out of range: it must be from 0.01 to 10000.00 USD.", v, prefix+".Value")
	}
	return d, true, nil
}

func needCallerRef(rq *request, name string) (string, *apiError) {
	v, e := rq.need(name)
	if e != nil {
		return "", e
	}
	if utf8.RuneCountInString(v) > 128 {
		return "", badValue(name, v, "Must be at most 128 characters.")
	}
	return v, nil
}

func needTxID(rq *request, name string) (string, *apiError) {
	v, e := rq.need(name)
	if e != nil {
		return "", e
	}
	if !isID(v, 35) {
		return "", fail("InvalidParams", "%s has to be a valid transaction ID. Specified value: %s", name, v)
	}
	return v, nil
}

func enumParam(rq *request, name string, allowed ...string) *apiError {
	v := rq.get(name)
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return badValue(name, v, "Must be one of "+strings.Join(allowed, ", ")+".")
}

func maxLen(rq *request, name string, n int) *apiError {
	if v := rq.get(name); utf8.RuneCountInString(v) > n {
		return badValue(name, v, "Must be at most "+strconv.Itoa(n)+" characters.")
	}
	return nil
}

func intParam(rq *request, name string) *apiError {
	if v := rq.get(name); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return badValue(name, v, "Must be a non-negative integer.")
		}
	}
	return nil
}

func txResult(op string, t *tx) []byte {
	return success(op, func(x *xmlw) {
		x.elem("TransactionId", t.id)
		x.elem("TransactionStatus", t.status)
	})
}

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (s *Server) actPay(rq *request) ([]byte, *apiError)     { return s.payOrReserve(rq, "Pay") }
func (s *Server) actReserve(rq *request) ([]byte, *apiError) { return s.payOrReserve(rq, "Reserve") }

func (s *Server) payOrReserve(rq *request, op string) ([]byte, *apiError) {
	senderID, e := rq.need("SenderTokenId")
	if e != nil {
		return nil, e
	}
	amount, _, e := parseAmount(rq, "TransactionAmount", true)
	if e != nil {
		return nil, e
	}
	callerRef, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	if _, _, e := parseAmount(rq, "MarketplaceFixedFee", false); e != nil {
		return nil, e
	}
	if v := rq.get("MarketplaceVariableFee"); v != "" {
		if d, err := decimal.NewFromString(v); err != nil || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
			return nil, badValue("MarketplaceVariableFee", v, "Must be a percentage from 0 to 100.")
		}
	}
	if e := firstErr(
		enumParam(rq, "ChargeFeeTo", "Caller", "Recipient"),
		enumParam(rq, "DescriptorPolicy.SoftDescriptorType", "Static", "Dynamic"),
		enumParam(rq, "DescriptorPolicy.CSOwner", "Caller", "Recipient"),
		maxLen(rq, "CallerDescription", 160),
		maxLen(rq, "SenderDescription", 160),
		intParam(rq, "TransactionTimeoutInMins"),
	); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	return l.withIdem(rq, callerRef, func() ([]byte, *apiError) {
		tok, e := l.senderToken(rq, senderID)
		if e != nil {
			return nil, e
		}
		recipient := rq.get("RecipientTokenId")
		if recipient != "" {
			rt, ok := l.tokens[recipient]
			if !ok || rt.role == "sender" || rt.role == "refund" {
				return nil, fail("InvalidTokenId_Recipient", "The recipient token %s is not valid.", recipient)
			}
			if rt.status != "Active" {
				return nil, fail("TokenNotActive_Recipient", "The recipient token is not active.")
			}
		}
		if e := l.charge(tok, amount, rq.now); e != nil {
			return nil, e
		}
		t := l.newTx(rq.key, op, callerRef, amount, rq.now)
		t.method, t.sender, t.recipient = tok.method, tok.id, recipient
		t.callerDesc, t.senderDesc = rq.get("CallerDescription"), rq.get("SenderDescription")
		l.start(t, strings.ToUpper(op), rq.now)
		return txResult(op, t), nil
	})
}

func (s *Server) actSettle(rq *request) ([]byte, *apiError) {
	id, e := needTxID(rq, "ReserveTransactionId")
	if e != nil {
		return nil, e
	}
	amount, given, e := parseAmount(rq, "TransactionAmount", false)
	if e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	fp := idemFingerprint(rq.form)
	if prev, ok := l.settles[id]; ok {
		if prev.fp == fp {
			return prev.body, nil
		}
		return nil, fail("InvalidTransactionState", "The reserve transaction %s was already settled.", id)
	}
	t, ok := l.txs[id]
	if !ok || t.owner != rq.key {
		return nil, fail("InvalidTransactionId", "The transaction %s was not found.", id)
	}
	if t.op != "Reserve" {
		return nil, fail("InvalidTransactionId", "The transaction %s is not a Reserve transaction.", id)
	}
	if t.status != "Reserved" {
		return nil, fail("InvalidTransactionState", "The transaction is %s; only a Reserved transaction can be settled.", t.status)
	}
	if !given {
		amount = t.amount
	}
	if amount.GreaterThan(t.amount) {
		return nil, fail("SettleAmountGreaterThanReserveAmount", "The settle amount %s is greater than the reserved amount %s.", amount.StringFixed(2), t.amount.StringFixed(2))
	}
	t.settled = amount
	l.settleCount[id]++
	if tok := l.tokens[t.sender]; tok != nil && amount.LessThan(t.amount) {
		l.release(tok, t.amount.Sub(amount))
		tok.used = tok.used.Sub(t.amount.Sub(amount))
	}
	l.start(t, "SETTLE", rq.now)
	body := txResult("Settle", t)
	l.settles[id] = &idemEntry{fp: fp, body: body, at: rq.now}
	return body, nil
}

func (s *Server) actRefund(rq *request) ([]byte, *apiError) {
	id, e := needTxID(rq, "TransactionId")
	if e != nil {
		return nil, e
	}
	callerRef, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	amount, given, e := parseAmount(rq, "RefundAmount", false)
	if e != nil {
		return nil, e
	}
	if e := firstErr(
		maxLen(rq, "CallerDescription", 160),
		enumParam(rq, "MarketplaceRefundPolicy", "MasterTxnOnly", "MarketplaceTxnOnly", "MasterAndMarketplaceTxn"),
	); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	return l.withIdem(rq, callerRef, func() ([]byte, *apiError) {
		p, ok := l.txs[id]
		if !ok || p.owner != rq.key {
			return nil, fail("InvalidTransactionId", "The transaction %s was not found.", id)
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
			return nil, fail("TransactionFullyRefundedAlready", "The transaction %s was already fully refunded.", id)
		}
		if !given {
			amount = remaining
		}
		if amount.GreaterThan(remaining) {
			return nil, fail("RefundAmountExceeded", "The refund amount %s exceeds the refundable amount %s.", amount.StringFixed(2), remaining.StringFixed(2))
		}
		r := l.newTx(rq.key, "Refund", callerRef, amount, rq.now)
		r.parent, r.method, r.sender, r.recipient = p.id, p.method, p.sender, p.recipient
		r.callerDesc = rq.get("CallerDescription")
		p.refunded = p.refunded.Add(amount)
		p.refunds = append(p.refunds, r.id)
		l.release(l.tokens[p.sender], amount)
		l.start(r, "REFUND", rq.now)
		return txResult("Refund", r), nil
	})
}

func (s *Server) actCancel(rq *request) ([]byte, *apiError) {
	return withLocked(s, rq, s.txOf, func(l *Ledger, t *tx) ([]byte, *apiError) {
		switch t.status {
		case "Cancelled":
			return txResult("Cancel", t), nil // cancelling again changes nothing
		case "Pending", "Reserved":
		default:
			return nil, fail("InvalidTransactionState", "The transaction is %s; only a Pending or Reserved transaction can be cancelled.", t.status)
		}
		switch t.pendingOp {
		case "REFUND":
			if p := l.txs[t.parent]; p != nil {
				p.refunded = p.refunded.Sub(t.amount)
			}
			l.release(l.tokens[t.sender], t.amount.Neg()) // the buyer does not get it back
		case "PAY", "RESERVE":
			l.release(l.tokens[t.sender], t.amount)
		case "SETTLE":
			l.release(l.tokens[t.sender], t.settled) // the rest went back at Settle
		}
		t.due = time.Time{}
		delete(l.pending, t)
		t.pendingOp = "CANCEL"
		t.completed = rq.now
		l.setStatus(t, "Cancelled", "Cancelled", msgCancel, rq.now)
		return txResult("Cancel", t), nil
	})
}

func (s *Server) actCancelToken(rq *request) ([]byte, *apiError) {
	id, e := rq.need("TokenId")
	if e != nil {
		return nil, e
	}
	if e := maxLen(rq, "ReasonText", 1024); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	t, ok := l.tokens[id]
	if !ok || t.owner != rq.key {
		return nil, fail("InvalidTokenId", "You did not install the token you tried to cancel.")
	}
	if t.status == "Active" {
		l.cancelToken(t, rq.now)
	}
	return success("CancelToken", nil), nil
}

func (l *Ledger) cancelToken(t *token, now time.Time) {
	t.status = "Inactive"
	l.queueTokenIPN(t, now)
}

func (s *Server) actInstallPaymentInstruction(rq *request) ([]byte, *apiError) {
	instr, e := rq.need("PaymentInstruction")
	if e != nil {
		return nil, e
	}
	callerRef, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	typ, e := rq.need("TokenType")
	if e != nil {
		return nil, e
	}
	if e := enumParam(rq, "TokenType", TokenSingleUse, TokenMultiUse, TokenRecurring, TokenUnrestricted); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	return l.withIdem(rq, callerRef, func() ([]byte, *apiError) {
		t := l.newToken(rq.key, typ, "caller", callerRef)
		t.instruction = instr
		t.friendlyName = rq.get("TokenFriendlyName")
		t.reason = rq.get("PaymentReason")
		return success("InstallPaymentInstruction", func(x *xmlw) { x.elem("TokenId", t.id) }), nil
	})
}

func (s *Server) instrumentOf(rq *request, name, kind string) (*instrument, *apiError) {
	id, e := rq.need(name)
	if e != nil {
		return nil, e
	}
	in, ok := s.ledger.instruments[id]
	if !ok || in.kind != kind {
		return nil, fail("InvalidParams", "%s %s is not a valid %s instrument.", name, id, kind)
	}
	if in.owner != rq.key {
		return nil, fail("InstrumentAccessDenied", "You are not the holder of instrument %s.", id)
	}
	return in, nil
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

func (s *Server) actFundPrepaid(rq *request) ([]byte, *apiError) {
	return s.instrumentTx(rq, fundPrepaid)
}

func (s *Server) actSettleDebt(rq *request) ([]byte, *apiError) {
	return s.instrumentTx(rq, settleDebt)
}

func (s *Server) actWriteOffDebt(rq *request) ([]byte, *apiError) {
	return s.instrumentTx(rq, writeOffDebt)
}

// instrumentTx answers the action a describes.
func (s *Server) instrumentTx(rq *request, a instrumentAction) ([]byte, *apiError) {
	var senderID string
	if a.sender {
		id, e := rq.need("SenderTokenId")
		if e != nil {
			return nil, e
		}
		senderID = id
	}
	if _, e := rq.need(a.instrument); e != nil {
		return nil, e
	}
	amount, _, e := parseAmount(rq, a.amount, true)
	if e != nil {
		return nil, e
	}
	callerRef, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	if e := firstErr(maxLen(rq, "CallerDescription", 160), maxLen(rq, "SenderDescription", 160)); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	return l.withIdem(rq, callerRef, func() ([]byte, *apiError) {
		in, e := s.instrumentOf(rq, a.instrument, a.kind)
		if e != nil {
			return nil, e
		}
		if a.boundedByBalance && amount.GreaterThan(in.balance) {
			return nil, fail("SettleAmountGreaterThanDebt", "The amount %s is greater than the debt %s.", amount.StringFixed(2), in.balance.StringFixed(2))
		}
		method, sender := "Debt", ""
		if a.sender {
			tok, e := l.senderToken(rq, senderID)
			if e != nil {
				return nil, e
			}
			if a.kind == "credit" && tok.method == "Debt" {
				return nil, fail("InvalidTokenId_Sender", "A postpaid token cannot settle its own debt.")
			}
			if e := l.charge(tok, amount, rq.now); e != nil {
				return nil, e
			}
			method, sender = tok.method, tok.id
		}
		t := l.newTx(rq.key, a.action, callerRef, amount, rq.now)
		t.method, t.sender, t.instrument = method, sender, in.id
		t.callerDesc = rq.get("CallerDescription")
		if a.sender {
			t.senderDesc = rq.get("SenderDescription")
		}
		l.start(t, a.step, rq.now)
		return txResult(a.action, t), nil
	})
}

func (s *Server) actCancelSubscriptionAndRefund(rq *request) ([]byte, *apiError) {
	subID, e := rq.need("SubscriptionId")
	if e != nil {
		return nil, e
	}
	amount, given, e := parseAmount(rq, "RefundAmount", false)
	if e != nil {
		return nil, e
	}
	callerRef := rq.get("CallerReference")
	if given && callerRef == "" {
		return nil, fail("InvalidParams", "CallerReference is required when RefundAmount is given.")
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	do := func() ([]byte, *apiError) {
		tok, ok := l.tokens[subID]
		if !ok || tok.owner != rq.key || tok.typ != TokenRecurring {
			return nil, fail("InvalidParams", "SubscriptionId %s is not a valid subscription.", subID)
		}
		var refundID string
		if given {
			var last *tx
			for _, t := range l.order {
				if t.sender == tok.id && t.op == "Pay" && t.status == "Success" {
					last = t
				}
			}
			if last == nil || amount.GreaterThan(last.amount.Sub(last.refunded)) {
				return nil, fail("RefundAmountExceeded", "The refund amount exceeds the refundable amount of the subscription.")
			}
			r := l.newTx(rq.key, "Refund", callerRef, amount, rq.now)
			r.parent, r.method, r.sender = last.id, last.method, last.sender
			last.refunded = last.refunded.Add(amount)
			last.refunds = append(last.refunds, r.id)
			l.start(r, "REFUND", rq.now)
			refundID = r.id
		}
		if tok.status == "Active" {
			l.cancelToken(tok, rq.now)
		}
		return success("CancelSubscriptionAndRefund", func(x *xmlw) { x.opt("RefundTransactionId", refundID) }), nil
	}
	if callerRef != "" {
		return l.withIdem(rq, callerRef, do)
	}
	return do()
}
