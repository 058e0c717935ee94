package fpstest

import (
	"slices"
	"strconv"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// The handlers of the actions that only read: each reads and checks the
// request's parameters, asks the ledger for a copy of what it needs, and
// renders it.

// txOf returns the caller's transaction that TransactionId names.
func (s *Server) txOf(rq *request) (tx, *apiError) {
	id, e := needTxID(rq, "TransactionId")
	if e != nil {
		return tx{}, e
	}
	return s.ledger.transaction(rq.key, id)
}

func (s *Server) actGetTransactionStatus(rq *request) ([]byte, *apiError) {
	t, e := s.txOf(rq)
	if e != nil {
		return nil, e
	}
	return success("GetTransactionStatus", func(x *xmlw) {
		x.elem("TransactionId", t.id)
		x.elem("TransactionStatus", t.status)
		x.elem("CallerReference", t.callerRef)
		x.opt("StatusCode", t.code)
		x.opt("StatusMessage", t.message)
	}), nil
}

// instrumentKindOf returns the kind of the instrument a transaction of op
// moves money into or out of.
func instrumentKindOf(op string) string {
	for _, a := range []instrumentAction{fundPrepaid, settleDebt, writeOffDebt} {
		if a.action == op {
			return a.kind
		}
	}
	return ""
}

func (s *Server) actGetTransaction(rq *request) ([]byte, *apiError) {
	t, e := s.txOf(rq)
	if e != nil {
		return nil, e
	}
	a := s.account(t.owner)
	return success("GetTransaction", func(x *xmlw) {
		x.open("Transaction")
		x.elem("TransactionId", t.id)
		x.elem("CallerReference", t.callerRef)
		x.opt("CallerDescription", t.callerDesc)
		x.opt("SenderDescription", t.senderDesc)
		x.date("DateReceived", t.received)
		x.date("DateCompleted", t.completed)
		x.amount("TransactionAmount", t.amount)
		x.amount("FPSFees", t.fees.fps)
		if !t.fees.market.IsZero() {
			x.amount("MarketplaceFees", t.fees.market)
		}
		x.elem("FPSFeesPaidBy", t.feePayer())
		x.opt("SenderTokenId", t.sender)
		x.opt("RecipientTokenId", t.recipient)
		switch instrumentKindOf(t.op) {
		case "prepaid":
			x.elem("PrepaidInstrumentId", t.instrument)
		case "credit":
			x.elem("CreditInstrumentId", t.instrument)
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
}

func writeToken(x *xmlw, t token) {
	x.open("Token")
	x.elem("TokenId", t.id)
	x.opt("FriendlyName", t.friendlyName)
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
	status, typ, ref, name := rq.get("TokenStatus"), rq.get("TokenType"), rq.get("CallerReference"), rq.get("TokenFriendlyName")
	tokens, e := s.ledger.tokensOf(rq.key)
	if e != nil {
		return nil, e
	}
	return success("GetTokens", func(x *xmlw) {
		for _, t := range tokens {
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
	var t token
	var e *apiError
	if id != "" {
		t, e = s.ledger.token(rq.key, id)
	} else {
		t, e = s.ledger.tokenByCallerReference(rq.key, ref)
	}
	if e != nil {
		return nil, e
	}
	return success("GetTokenByCaller", func(x *xmlw) { writeToken(x, t) }), nil
}

// tokenOf returns the caller's token that TokenId names.
func (s *Server) tokenOf(rq *request) (token, *apiError) {
	id, e := rq.need("TokenId")
	if e != nil {
		return token{}, e
	}
	return s.ledger.token(rq.key, id)
}

func (s *Server) actGetTokenUsage(rq *request) ([]byte, *apiError) {
	t, e := s.tokenOf(rq)
	if e != nil {
		return nil, e
	}
	if t.typ == TokenSingleUse {
		return nil, fail("InvalidTokenType", "GetTokenUsage does not apply to a single-use token.")
	}
	// One entry per limit, in the shape of the docs' sample: an amount
	// limit gives what was paid in its current window and in the window
	// before, a count limit how many payments; both give the start of the
	// current window. The global amount limit is an amount limit whose
	// window is the token's life.
	return success("GetTokenUsage", func(x *xmlw) {
		if !t.globalLimit.IsZero() {
			x.open("TokenUsageLimits")
			x.amount("Amount", t.used)
			x.amount("LastResetAmount", decimal.Zero)
			x.date("LastResetTimestamp", t.installed)
			x.close("TokenUsageLimits")
		}
		for _, u := range t.limits {
			u.roll(rq.now)
			x.open("TokenUsageLimits")
			if u.count {
				x.elem("Count", strconv.Itoa(u.uses))
				x.elem("LastResetCount", strconv.Itoa(u.lastUses))
			} else {
				x.amount("Amount", u.used)
				x.amount("LastResetAmount", u.lastUsed)
			}
			x.date("LastResetTimestamp", u.start)
			x.close("TokenUsageLimits")
		}
	}), nil
}

// activityQuery is a checked GetAccountActivity request.
type activityQuery struct {
	start, end                time.Time
	maxBatch                  int
	operation, method, status string // "" for any
	ascending                 bool
}

func parseActivityQuery(rq *request) (activityQuery, *apiError) {
	q := activityQuery{end: rq.now, maxBatch: 20, operation: rq.get("FPSOperation"),
		method: rq.get("PaymentMethod"), status: rq.get("TransactionStatus"), ascending: rq.get("SortOrderByDate") == "Ascending"}
	startRaw, e := rq.need("StartDate")
	if e != nil {
		return q, e
	}
	var err error
	if q.start, err = parseTimestamp(startRaw); err != nil {
		return q, badValue("StartDate", startRaw, "Must be in ISO8601 format.")
	}
	if v := rq.get("EndDate"); v != "" {
		if q.end, err = parseTimestamp(v); err != nil {
			return q, badValue("EndDate", v, "Must be in ISO8601 format.")
		}
	}
	if q.start.After(rq.now) || q.end.Before(q.start) {
		return q, fail("InvalidDateRange", "The end date is before the start date, or the start date is in the future.")
	}
	if v := rq.get("MaxBatchSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return q, badValue("MaxBatchSize", v, "Must be a positive integer.")
		}
		q.maxBatch = n
	}
	if e := firstErr(
		enumParam(rq, "SortOrderByDate", "Ascending", "Descending"),
		enumParam(rq, "FPSOperation", "Pay", "Refund", "Settle", "SettleDebt", "WriteOffDebt", "FundPrepaid", "Reserve"),
		enumParam(rq, "PaymentMethod", "ABT", "CC", "ACH", "Debt", "Prepaid"),
		enumParam(rq, "TransactionStatus", "Cancelled", "Failure", "Pending", "Reserved", "Success"),
	); e != nil {
		return q, e
	}
	for i := 1; rq.get("Role."+strconv.Itoa(i)) != ""; i++ {
		if e := enumParam(rq, "Role."+strconv.Itoa(i), "Sender", "Caller", "Recipient"); e != nil {
			return q, e
		}
	}
	return q, nil
}

// keeps reports whether t is one of the transactions q asks for.
func (q *activityQuery) keeps(t *tx) bool {
	op := t.op
	if op == "Reserve" && !t.settled.IsZero() && q.operation == "Settle" {
		op = "Settle"
	}
	return (q.operation == "" || q.operation == op) && (q.method == "" || q.method == t.method) &&
		(q.status == "" || q.status == t.status)
}

// writeParts writes the TransactionPart elements of t, as the docs'
// GetAccountActivity sample shows them: the Caller's part with its
// CallerReference and description, then the other party's, the
// Recipient's (the Sender's for a refund, the recipient of the payment
// paying back), each with the fees it paid. name names every party: the
// caller account is the recipient of its payments.
func writeParts(x *xmlw, t tx, name string) {
	x.open("TransactionPart")
	x.elem("Role", "Caller")
	x.elem("Name", name)
	x.elem("Reference", t.callerRef)
	x.opt("Description", t.callerDesc)
	x.amount("FeesPaid", t.fees.callerPays())
	x.close("TransactionPart")
	x.open("TransactionPart")
	if t.op == "Refund" {
		x.elem("Role", "Sender")
	} else {
		x.elem("Role", "Recipient")
	}
	x.elem("Name", name)
	x.amount("FeesPaid", t.fees.recipientOwes())
	x.close("TransactionPart")
}

func (s *Server) actGetAccountActivity(rq *request) ([]byte, *apiError) {
	q, e := parseActivityQuery(rq)
	if e != nil {
		return nil, e
	}
	all, balance, e := s.ledger.activity(rq.key, q.start, q.end)
	if e != nil {
		return nil, e
	}
	list := slices.DeleteFunc(all, func(t tx) bool { return !q.keeps(&t) })
	if !q.ascending {
		slices.Reverse(list)
	}
	var next time.Time
	if len(list) > q.maxBatch {
		next = list[q.maxBatch].received
		list = list[:q.maxBatch]
	}
	a := s.account(rq.key)
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
			writeParts(x, t, a.Name)
			x.elem("PaymentMethod", t.method)
			if t.sender != "" {
				x.elem("SenderName", buyerName)
			}
			x.elem("CallerName", a.Name)
			x.elem("RecipientName", a.Name)
			x.amount("FPSFees", t.fees.fps)
			x.amount("Balance", balance)
			x.opt("SenderTokenId", t.sender)
			x.opt("RecipientTokenId", t.recipient)
			x.close("Transaction")
		}
		x.date("StartTimeForNextTransaction", next)
	}), nil
}

func (s *Server) actGetAccountBalance(rq *request) ([]byte, *apiError) {
	total, pendingIn, pendingOut := s.ledger.accountBalance(rq.key)
	return success("GetAccountBalance", func(x *xmlw) {
		x.open("AccountBalance")
		x.amount("TotalBalance", total)
		x.amount("PendingInBalance", pendingIn)
		x.amount("PendingOutBalance", pendingOut)
		x.open("AvailableBalances")
		x.amount("DisburseBalance", total.Sub(pendingOut))
		x.amount("RefundBalance", total.Sub(pendingOut))
		x.close("AvailableBalances")
		x.close("AccountBalance")
	}), nil
}

// balanceOfOne answers GetPrepaidBalance and GetDebtBalance: the balance of
// the instrument the request names.
func (s *Server) balanceOfOne(rq *request, action string, b instrumentBalance) ([]byte, *apiError) {
	id, e := rq.need(b.param)
	if e != nil {
		return nil, e
	}
	available, pending, e := s.ledger.balanceOf(rq.key, id, b)
	if e != nil {
		return nil, e
	}
	return success(action, func(x *xmlw) {
		x.open(b.one)
		x.amount("AvailableBalance", available)
		x.amount(b.pendingElem, pending)
		x.close(b.one)
	}), nil
}

// balanceOfAll answers GetTotalPrepaidLiability and
// GetOutstandingDebtBalance: the sum over the caller's instruments.
func (s *Server) balanceOfAll(rq *request, action string, b instrumentBalance) ([]byte, *apiError) {
	total, pending := s.ledger.balanceOfAll(rq.key, b)
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
	t, e := s.tokenOf(rq)
	if e != nil {
		return nil, e
	}
	return success("GetPaymentInstruction", func(x *xmlw) {
		writeToken(x, t)
		x.elem("PaymentInstruction", t.instruction)
		x.elem("CallerReference", t.callerRef)
		x.opt("TokenFriendlyName", t.friendlyName)
	}), nil
}

// RecipientVerificationStatus is what GetRecipientVerificationStatus
// answers for a known recipient token in API version: the verified value
// of the version, VerificationComplete (2008-09-17, whose values no
// source gives, and 2010-08-28) or Active (2011-09-20).
func RecipientVerificationStatus(version string) fps.RecipientVerificationStatus {
	if version == fps.APIVersion20110920 {
		return fps.RecipientVerificationActive
	}
	return fps.RecipientVerificationComplete
}

func (s *Server) actGetRecipientVerificationStatus(rq *request) ([]byte, *apiError) {
	id, e := rq.need("RecipientTokenId")
	if e != nil {
		return nil, e
	}
	if _, e := s.ledger.recipientToken(rq.key, id); e != nil {
		return nil, e
	}
	return success("GetRecipientVerificationStatus", func(x *xmlw) {
		x.elem("RecipientVerificationStatus", string(RecipientVerificationStatus(rq.version)))
	}), nil
}
