package fpstest

import (
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// The ledger's side of the Co-Branded UI: what an approved pipeline
// installs, and the approvals kept by caller and callerReference.

// approval remembers the result of an approved pipeline, so the same
// callerReference gets the same tokens again.
type approval struct {
	params url.Values
	at     time.Time
}

var tokenTypeOf = map[string]string{"SingleUse": TokenSingleUse, "MultiUse": TokenMultiUse, "Recurring": TokenRecurring}

var statusOfMethod = map[string]string{"ABT": "SA", "ACH": "SB", "CC": "SC"}

// approval returns the result of the caller's pipeline approved under
// callerReference ref, if there is one.
func (l *Ledger) approval(caller, ref string) (url.Values, bool) {
	l.lock()
	defer l.unlock()
	a, ok := l.approvalFor(idemKey{caller, ref})
	if !ok || l.cfg.clock().Sub(a.at) >= IdempotencyWindow {
		return nil, false
	}
	return cloneValues(a.params), true
}

// isSenderToken reports whether id is one of the caller's sender tokens
// (what an EditToken pipeline may edit).
func (l *Ledger) isSenderToken(caller, id string) bool {
	l.lock()
	defer l.unlock()
	t, ok := l.ownToken(caller, id)
	return ok && t.role == "sender"
}

// approvePipeline installs what the pipeline called name, with the
// checked parameters q, installs for the caller when its buyer approves
// paying with method; it keeps and returns the result parameters.
func (l *Ledger) approvePipeline(caller, name string, q url.Values, method string, now time.Time) url.Values {
	l.lock()
	defer l.unlock()
	res := url.Values{}
	ref := q.Get("callerReference")
	expiry := now.AddDate(3, 0, 0).Format("01/2006")
	sender := func(typ, callerRef string) *token {
		t := l.newToken(caller, typ, "sender", callerRef, now)
		t.method = method
		t.reason = q.Get("paymentReason")
		if v, err := strconv.ParseInt(q.Get("validityStart"), 10, 64); err == nil {
			t.validFrom = time.Unix(v, 0)
		}
		if v, err := strconv.ParseInt(q.Get("validityExpiry"), 10, 64); err == nil {
			t.expiry = time.Unix(v, 0)
		}
		return t
	}
	// setup installs an instrument of kind (SetupPrepaid, SetupPostpaid),
	// the sender token that spends from it with method, and the token,
	// in role, that pays into it.
	setup := func(kind, method, role, payerRefParam string) (in *instrument, spend, payer *token) {
		in = &instrument{id: newID(64), owner: caller, kind: kind}
		l.instruments[in.id] = in
		l.store.changed(recordInstrument, in.id)
		spend = sender(TokenUnrestricted, q.Get("callerReferenceSender"))
		spend.method, spend.instrument = method, in.id
		payer = sender(TokenMultiUse, q.Get(payerRefParam))
		payer.role = role
		return in, spend, payer
	}
	dec := func(name string) decimal.Decimal {
		d, _ := decimal.NewFromString(q.Get(name))
		return d
	}
	switch name {
	case "SingleUse", "MultiUse", "Recurring":
		t := sender(tokenTypeOf[name], ref)
		t.amount = dec("transactionAmount")
		t.amountType = q.Get("amountType")
		if name == "MultiUse" {
			t.globalLimit = dec("globalAmountLimit")
			t.limits = usageLimits(q, now)
		}
		res.Set("tokenID", t.id)
		res.Set("status", statusOfMethod[method])
		res.Set("callerReference", ref)
		res.Set("expiry", expiry)
	case "Recipient":
		rt := l.newToken(caller, TokenUnrestricted, "recipient", ref, now)
		ft := l.newToken(caller, TokenUnrestricted, "refund", ref, now)
		res.Set("tokenID", rt.id)
		res.Set("refundTokenID", ft.id)
		res.Set("status", "SR")
		res.Set("callerReference", ref)
	case "EditToken":
		// The start of the pipeline checked that the token is the
		// caller's, and tokens are never removed.
		t := l.tokenByID(q.Get("tokenId"))
		if t == nil { // the state could not be read
			res.Set("status", "SE")
			res.Set("errorMessage", "A system error occurred; please try again.")
			return res
		}
		status := statusOfMethod[method]
		if t.method == method {
			status = "SU"
		}
		t.method, t.changed = method, now
		l.store.changed(recordToken, t.id)
		res.Set("tokenID", t.id)
		res.Set("status", status)
		res.Set("callerReference", ref)
	case "SetupPrepaid":
		in, ps, ft := setup("prepaid", "Prepaid", "funding", "callerReferenceFunding")
		res.Set("prepaidInstrumentID", in.id)
		res.Set("prepaidSenderTokenID", ps.id)
		res.Set("fundingTokenID", ft.id)
		res.Set("status", statusOfMethod[method])
		res.Set("callerReference", ref)
	case "SetupPostpaid":
		in, cs, st := setup("credit", "Debt", "settlement", "callerReferenceSettlement")
		in.creditLimit, cs.globalLimit = dec("creditLimit"), dec("globalAmountLimit")
		cs.limits = usageLimits(q, now)
		res.Set("creditInstrumentID", in.id)
		res.Set("creditSenderTokenID", cs.id)
		res.Set("settlementTokenID", st.id)
		res.Set("status", statusOfMethod[method])
		res.Set("expiry", expiry)
	}
	k := idemKey{caller, ref}
	l.approved[k] = approval{params: cloneValues(res), at: now}
	l.store.changedEntry(recordApproval, k)
	l.remember(expiresApproval, k, now)
	return res
}

// usageLimits reads the usage limits 1 and 2 of q (checked before by the
// rule table), for a token installed at now.
func usageLimits(q url.Values, now time.Time) []usageLimit {
	var out []usageLimit
	for _, n := range []string{"1", "2"} {
		if u, ok := newUsageLimit(q.Get("usageLimitType"+n), q.Get("usageLimitValue"+n), q.Get("usageLimitPeriod"+n), now); ok {
			out = append(out, u)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
