package fpstest

import (
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// txOf returns the caller's transaction that TransactionId names. The
// ledger must be locked.
func (s *Server) txOf(rq *request) (*tx, *apiError) {
	id, e := needTxID(rq, "TransactionId")
	if e != nil {
		return nil, e
	}
	t, ok := s.ledger.txs[id]
	if !ok || t.owner != rq.key {
		return nil, fail("InvalidTransactionId", "The transaction %s was not found.", id)
	}
	return t, nil
}

// withLocked answers a request about one of the caller's transactions or
// tokens: under the ledger's lock, find looks it up (txOf, tokenOf) and f
// answers; find's error is the answer when there is nothing to find.
func withLocked[T any](s *Server, rq *request, find func(*request) (T, *apiError), f func(*Ledger, T) ([]byte, *apiError)) ([]byte, *apiError) {
	l := s.ledger
	l.lock()
	defer l.unlock()
	v, e := find(rq)
	if e != nil {
		return nil, e
	}
	return f(l, v)
}

// tokenOf returns the caller's token that TokenId names. The ledger must
// be locked.
func (s *Server) tokenOf(rq *request) (*token, *apiError) {
	id, e := rq.need("TokenId")
	if e != nil {
		return nil, e
	}
	t, ok := s.ledger.tokens[id]
	if !ok || t.owner != rq.key {
		return nil, fail("InvalidTokenId", "The token %s was not found.", id)
	}
	return t, nil
}

func (s *Server) actGetTransactionStatus(rq *request) ([]byte, *apiError) {
	return withLocked(s, rq, s.txOf, func(l *Ledger, t *tx) ([]byte, *apiError) {
		return success("GetTransactionStatus", func(x *xmlw) {
			x.elem("TransactionId", t.id)
			x.elem("TransactionStatus", t.status)
			x.elem("CallerReference", t.callerRef)
			x.opt("StatusCode", t.code)
			x.opt("StatusMessage", t.message)
		}), nil
	})
}

func (s *Server) actGetTransaction(rq *request) ([]byte, *apiError) {
	return withLocked(s, rq, s.txOf, func(l *Ledger, t *tx) ([]byte, *apiError) {
		a := l.accounts[t.owner]
		return success("GetTransaction", func(x *xmlw) {
			x.open("Transaction")
			x.elem("TransactionId", t.id)
			x.elem("CallerReference", t.callerRef)
			x.opt("CallerDescription", t.callerDesc)
			x.opt("SenderDescription", t.senderDesc)
			x.date("DateReceived", t.received)
			x.date("DateCompleted", t.completed)
			x.amount("TransactionAmount", t.amount)
			x.amount("FPSFees", decimal.Zero)
			x.elem("FPSFeesPaidBy", "Recipient")
			x.opt("SenderTokenId", t.sender)
			x.opt("RecipientTokenId", t.recipient)
			if in := l.instruments[t.instrument]; in != nil {
				if in.kind == "prepaid" {
					x.elem("PrepaidInstrumentId", in.id)
				} else {
					x.elem("CreditInstrumentId", in.id)
				}
			}
			x.elem("FPSOperation", t.op)
			x.elem("PaymentMethod", t.method)
			x.elem("TransactionStatus", t.status)
			x.opt("StatusCode", t.code)
			x.opt("StatusMessage", t.message)
			if t.sender != "" {
				x.elem("SenderName", buyerName)
				x.elem("SenderEmail", buyerEmail)
			}
			x.elem("CallerName", a.Name)
			x.elem("RecipientName", a.Name)
			x.opt("RecipientEmail", a.Email)
			if t.parent != "" {
				x.open("RelatedTransaction")
				x.elem("TransactionId", t.parent)
				x.elem("RelationType", "Parent")
				x.close("RelatedTransaction")
			}
			for _, r := range t.refunds {
				x.open("RelatedTransaction")
				x.elem("TransactionId", r)
				x.elem("RelationType", "Refund")
				x.close("RelatedTransaction")
			}
			for _, h := range t.history {
				x.open("StatusHistory")
				x.date("Date", h.at)
				x.elem("TransactionStatus", h.status)
				x.opt("StatusCode", h.code)
				x.amount("Amount", h.amount)
				x.close("StatusHistory")
			}
			x.close("Transaction")
		}), nil
	})
}

func writeToken(x *xmlw, t *token) {
	x.open("Token")
	x.elem("TokenId", t.id)
	x.elem("FriendlyName", t.friendlyName)
	x.elem("TokenStatus", t.status)
	x.date("DateInstalled", t.installed)
	x.elem("CallerReference", t.callerRef)
	x.elem("TokenType", t.typ)
	x.opt("PaymentReason", t.reason)
	x.close("Token")
}

func (s *Server) actGetTokens(rq *request) ([]byte, *apiError) {
	if e := firstErr(
		enumParam(rq, "TokenStatus", "Active", "Inactive"),
		enumParam(rq, "TokenType", TokenSingleUse, TokenMultiUse, TokenRecurring, TokenUnrestricted),
	); e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	status, typ, ref, name := rq.get("TokenStatus"), rq.get("TokenType"), rq.get("CallerReference"), rq.get("TokenFriendlyName")
	return success("GetTokens", func(x *xmlw) {
		for _, t := range l.sortedTokens(rq.key) {
			if (status == "" || t.status == status) && (typ == "" || t.typ == typ) &&
				(ref == "" || t.callerRef == ref) && (name == "" || t.friendlyName == name) {
				writeToken(x, t)
			}
		}
	}), nil
}

func (s *Server) actGetTokenByCaller(rq *request) ([]byte, *apiError) {
	id, ref := rq.get("TokenId"), rq.get("CallerReference")
	if (id == "") == (ref == "") {
		return nil, fail("InvalidParams", "Exactly one of TokenId and CallerReference is required.")
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	var found *token
	if id != "" {
		t, e := s.tokenOf(rq)
		if e != nil {
			return nil, e
		}
		found = t
	} else {
		for _, t := range l.sortedTokens(rq.key) {
			if t.callerRef == ref && t.role != "refund" {
				found = t
			}
		}
		if found == nil {
			return nil, fail("InvalidCallerReference", "No token is associated with the caller reference %s.", ref)
		}
	}
	return success("GetTokenByCaller", func(x *xmlw) { writeToken(x, found) }), nil
}

func (s *Server) actGetTokenUsage(rq *request) ([]byte, *apiError) {
	return withLocked(s, rq, s.tokenOf, func(l *Ledger, t *token) ([]byte, *apiError) {
		if t.typ == TokenSingleUse {
			return nil, fail("InvalidTokenType", "GetTokenUsage does not apply to a single-use token.")
		}
		return success("GetTokenUsage", func(x *xmlw) {
			if t.globalLimit.IsZero() {
				return
			}
			x.open("TokenUsageLimits")
			x.elem("Count", strconv.Itoa(t.uses))
			x.amount("Amount", t.globalLimit)
			x.amount("LastResetAmount", t.globalLimit.Sub(t.used))
			x.date("LastResetTimestamp", t.installed)
			x.close("TokenUsageLimits")
		}), nil
	})
}

func (s *Server) actGetAccountActivity(rq *request) ([]byte, *apiError) {
	startRaw, e := rq.need("StartDate")
	if e != nil {
		return nil, e
	}
	start, err := parseTimestamp(startRaw)
	if err != nil {
		return nil, badValue("StartDate", startRaw, "Must be in ISO8601 format.")
	}
	end := rq.now
	if v := rq.get("EndDate"); v != "" {
		if end, err = parseTimestamp(v); err != nil {
			return nil, badValue("EndDate", v, "Must be in ISO8601 format.")
		}
	}
	if start.After(rq.now) || end.Before(start) {
		return nil, fail("InvalidDateRange", "The end date is before the start date, or the start date is in the future.")
	}
	maxBatch := 20
	if v := rq.get("MaxBatchSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, badValue("MaxBatchSize", v, "Must be a positive integer.")
		}
		maxBatch = n
	}
	if e := firstErr(
		enumParam(rq, "SortOrderByDate", "Ascending", "Descending"),
		enumParam(rq, "FPSOperation", "Pay", "Refund", "Settle", "SettleDebt", "WriteOffDebt", "FundPrepaid", "Reserve"),
		enumParam(rq, "PaymentMethod", "ABT", "CC", "ACH", "Debt", "Prepaid"),
		enumParam(rq, "TransactionStatus", "Cancelled", "Failure", "Pending", "Reserved", "Success"),
	); e != nil {
		return nil, e
	}
	for i := 1; rq.get("Role."+strconv.Itoa(i)) != ""; i++ {
		if e := enumParam(rq, "Role."+strconv.Itoa(i), "Sender", "Caller", "Recipient"); e != nil {
			return nil, e
		}
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	var list []*tx
	for _, t := range l.order {
		// Compare at the precision dates are published in (milliseconds),
		// so that a StartTimeForNextTransaction passed back as EndDate
		// includes the transaction it names.
		at := t.received.Truncate(time.Millisecond)
		if t.owner != rq.key || at.Before(start) || at.After(end) {
			continue
		}
		op := t.op
		if op == "Reserve" && !t.settled.IsZero() && rq.get("FPSOperation") == "Settle" {
			op = "Settle"
		}
		if v := rq.get("FPSOperation"); v != "" && v != op {
			continue
		}
		if v := rq.get("PaymentMethod"); v != "" && v != t.method {
			continue
		}
		if v := rq.get("TransactionStatus"); v != "" && v != t.status {
			continue
		}
		list = append(list, t)
	}
	if rq.get("SortOrderByDate") != "Ascending" {
		slices.Reverse(list)
	}
	var next time.Time
	if len(list) > maxBatch {
		next = list[maxBatch].received
		list = list[:maxBatch]
	}
	a := l.accounts[rq.key]
	return success("GetAccountActivity", func(x *xmlw) {
		x.elem("BatchSize", strconv.Itoa(len(list)))
		for _, t := range list {
			x.open("Transaction")
			x.elem("TransactionId", t.id)
			x.date("CallerTransactionDate", t.received)
			x.date("DateReceived", t.received)
			x.date("DateCompleted", t.completed)
			x.amount("TransactionAmount", t.amount)
			x.elem("FPSOperation", t.op)
			x.elem("TransactionStatus", t.status)
			x.opt("StatusMessage", t.message)
			x.opt("StatusCode", t.code)
			x.opt("OriginalTransactionId", t.parent)
			x.open("TransactionPart")
			x.elem("Role", "Recipient")
			x.elem("Name", a.Name)
			x.elem("Reference", t.callerRef)
			x.opt("Description", t.callerDesc)
			x.amount("FeesPaid", decimal.Zero)
			x.close("TransactionPart")
			x.elem("PaymentMethod", t.method)
			if t.sender != "" {
				x.elem("SenderName", buyerName)
			}
			x.elem("CallerName", a.Name)
			x.elem("RecipientName", a.Name)
			x.amount("FPSFees", decimal.Zero)
			x.amount("Balance", a.balance)
			x.opt("SenderTokenId", t.sender)
			x.opt("RecipientTokenId", t.recipient)
			x.close("Transaction")
		}
		x.date("StartTimeForNextTransaction", next)
	}), nil
}

func (s *Server) actGetAccountBalance(rq *request) ([]byte, *apiError) {
	l := s.ledger
	l.lock()
	defer l.unlock()
	a := l.accounts[rq.key]
	var pendingIn, pendingOut decimal.Decimal
	for _, t := range l.order {
		if t.owner != rq.key || t.status != "Pending" {
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
	return success("GetAccountBalance", func(x *xmlw) {
		x.open("AccountBalance")
		x.amount("TotalBalance", a.balance)
		x.amount("PendingInBalance", pendingIn)
		x.amount("PendingOutBalance", pendingOut)
		x.open("AvailableBalances")
		x.amount("DisburseBalance", a.balance.Sub(pendingOut))
		x.amount("RefundBalance", a.balance.Sub(pendingOut))
		x.close("AvailableBalances")
		x.close("AccountBalance")
	}), nil
}

// pendingFor sums the Pending transactions of step on instrument id.
func (l *Ledger) pendingFor(id, step string) decimal.Decimal {
	var d decimal.Decimal
	for _, t := range l.order {
		if t.instrument == id && t.status == "Pending" && t.pendingOp == step {
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

// balanceOfOne answers GetPrepaidBalance and GetDebtBalance: the balance of
// the instrument the request names.
func (s *Server) balanceOfOne(rq *request, action string, b instrumentBalance) ([]byte, *apiError) {
	l := s.ledger
	l.lock()
	defer l.unlock()
	in, e := s.instrumentOf(rq, b.param, b.kind)
	if e != nil {
		return nil, e
	}
	return success(action, func(x *xmlw) {
		x.open(b.one)
		x.amount("AvailableBalance", in.balance)
		x.amount(b.pendingElem, l.pendingFor(in.id, b.step))
		x.close(b.one)
	}), nil
}

// balanceOfAll answers GetTotalPrepaidLiability and
// GetOutstandingDebtBalance: the sum over the caller's instruments.
func (s *Server) balanceOfAll(rq *request, action string, b instrumentBalance) ([]byte, *apiError) {
	l := s.ledger
	l.lock()
	defer l.unlock()
	var total, pending decimal.Decimal
	for _, in := range l.instruments {
		if in.owner == rq.key && in.kind == b.kind {
			total = total.Add(in.balance)
			pending = pending.Add(l.pendingFor(in.id, b.step))
		}
	}
	return success(action, func(x *xmlw) {
		x.open(b.total)
		x.amount("OutstandingBalance", total)
		x.amount(b.pendingElem, pending)
		x.close(b.total)
	}), nil
}

func (s *Server) actGetPrepaidBalance(rq *request) ([]byte, *apiError) {
	return s.balanceOfOne(rq, "GetPrepaidBalance", prepaidBalance)
}

func (s *Server) actGetTotalPrepaidLiability(rq *request) ([]byte, *apiError) {
	return s.balanceOfAll(rq, "GetTotalPrepaidLiability", prepaidBalance)
}

func (s *Server) actGetDebtBalance(rq *request) ([]byte, *apiError) {
	return s.balanceOfOne(rq, "GetDebtBalance", debtBalance)
}

func (s *Server) actGetOutstandingDebtBalance(rq *request) ([]byte, *apiError) {
	return s.balanceOfAll(rq, "GetOutstandingDebtBalance", debtBalance)
}

func (s *Server) actGetPaymentInstruction(rq *request) ([]byte, *apiError) {
	return withLocked(s, rq, s.tokenOf, func(l *Ledger, t *token) ([]byte, *apiError) {
		return success("GetPaymentInstruction", func(x *xmlw) {
			writeToken(x, t)
			x.elem("PaymentInstruction", t.instruction)
			x.elem("CallerReference", t.callerRef)
			x.opt("TokenFriendlyName", t.friendlyName)
		}), nil
	})
}

// RecipientVerificationStatus is what GetRecipientVerificationStatus
// answers for a known recipient token (the 2008-09-17 values are not
// documented; this is the 2011 "Active").
const RecipientVerificationStatus = "Active"

func (s *Server) actGetRecipientVerificationStatus(rq *request) ([]byte, *apiError) {
	id, e := rq.need("RecipientTokenId")
	if e != nil {
		return nil, e
	}
	l := s.ledger
	l.lock()
	defer l.unlock()
	t, ok := l.tokens[id]
	if !ok || t.owner != rq.key || (t.role != "recipient" && t.role != "caller") {
		return nil, fail("InvalidTokenId_Recipient", "The recipient token %s is not valid.", id)
	}
	return success("GetRecipientVerificationStatus", func(x *xmlw) {
		x.elem("RecipientVerificationStatus", RecipientVerificationStatus)
	}), nil
}
