package fpstest

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
)

// The handlers of the actions that move money or change a token: each
// reads and checks the request's parameters, then asks the ledger.

// Amount limits per transaction.
var (
	minAmount = decimal.New(1, -2)
	maxAmount = decimal.NewFromInt(10000)
)

// parseAmount reads the amount prefix.Value / prefix.CurrencyCode by the
// amount rule of internal/rules (a plain decimal, at most 2 decimal
// places, USD) and the API's range (AmountOutOfRange); ok is false when
// it is absent and not required.
func parseAmount(rq *request, prefix string, required bool) (d decimal.Decimal, ok bool, e *apiError) {
	valueName, currencyName := prefix+".Value", prefix+".CurrencyCode"
	v, c := rq.get(valueName), rq.get(currencyName)
	if v == "" {
		if required || c != "" {
			return d, false, missing(valueName)
		}
		return d, false, nil
	}
	if c != "" {
		if re := rules.CheckCurrency(currencyName, c); re != nil {
			return d, false, refused(re, c)
		}
	}
	d, re := rules.ParseDecimal(valueName, v)
	if re == nil {
		re = rules.CheckPlaces(valueName, d)
	}
	if re != nil {
		return d, false, refused(re, v)
	}
	if d.LessThan(minAmount) || d.GreaterThan(maxAmount) {
		return d, false, fail("AmountOutOfRange", "The amount %s in %s is out of range: it must be from 0.01 to 10000.00 USD.", v, valueName)
	}
	return d, true, nil
}

// refused is the InvalidParameterValue answer to value, which the rule
// table refused.
func refused(e *rules.Error, value string) *apiError {
	rule := e.Rule
	if rule != "" {
		rule = strings.ToUpper(rule[:1]) + rule[1:] + "."
	}
	return badValue(e.Field, value, rule)
}

func needCallerRef(rq *request, name string) (string, *apiError) {
	v, e := rq.need(name)
	if e != nil {
		return "", e
	}
	if re := rules.CheckCallerReference(name, v); re != nil {
		return "", refused(re, v)
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

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// call is rq as the ledger sees it, under CallerReference ref ("" for
// none).
func (rq *request) call(ref string) call {
	c := call{caller: rq.key, now: rq.now, ref: ref, fp: idemFingerprint(rq.form)}
	if fps.ParameterVersions(rq.action, overrideIPNURLParam) != nil {
		c.ipnURL = rq.get(overrideIPNURLParam)
	}
	return c
}

// txAnswer renders the answer of action op about a transaction: its id
// and status.
func txAnswer(op string) func(tx) []byte {
	return func(t tx) []byte {
		return success(op, func(x *xmlw) {
			x.elem("TransactionId", t.id)
			x.elem("TransactionStatus", t.status)
		})
	}
}

func (s *Server) actPay(rq *request) ([]byte, *apiError)     { return s.payOrReserve(rq, "Pay") }
func (s *Server) actReserve(rq *request) ([]byte, *apiError) { return s.payOrReserve(rq, "Reserve") }

func (s *Server) payOrReserve(rq *request, op string) ([]byte, *apiError) {
	in := payment{op: op, recipient: rq.get("RecipientTokenId"),
		callerDesc: rq.get("CallerDescription"), senderDesc: rq.get("SenderDescription")}
	var e *apiError
	if in.senderToken, e = rq.need("SenderTokenId"); e != nil {
		return nil, e
	}
	if in.amount, _, e = parseAmount(rq, "TransactionAmount", true); e != nil {
		return nil, e
	}
	ref, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	if in.fixedFee, _, e = parseAmount(rq, "MarketplaceFixedFee", false); e != nil {
		return nil, e
	}
	if v := rq.get("MarketplaceVariableFee"); v != "" {
		if re := rules.CheckPercent("MarketplaceVariableFee", v); re != nil {
			return nil, refused(re, v)
		}
		in.variableFee = decimal.RequireFromString(v)
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
	in.chargeFeeTo = rq.get("ChargeFeeTo")
	if in.chargeFeeTo == "" {
		in.chargeFeeTo = "Recipient"
	}
	return s.ledger.pay(rq.call(ref), in, txAnswer(op))
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
	return s.ledger.settle(rq.call(""), id, amount, !given, txAnswer("Settle"))
}

func (s *Server) actRefund(rq *request) ([]byte, *apiError) {
	id, e := needTxID(rq, "TransactionId")
	if e != nil {
		return nil, e
	}
	ref, e := needCallerRef(rq, "CallerReference")
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
	return s.ledger.refund(rq.call(ref), id, amount, !given, rq.get("CallerDescription"), txAnswer("Refund"))
}

func (s *Server) actCancel(rq *request) ([]byte, *apiError) {
	id, e := needTxID(rq, "TransactionId")
	if e != nil {
		return nil, e
	}
	t, e := s.ledger.cancel(rq.call(""), id)
	if e != nil {
		return nil, e
	}
	return txAnswer("Cancel")(t), nil
}

func (s *Server) actCancelToken(rq *request) ([]byte, *apiError) {
	id, e := rq.need("TokenId")
	if e != nil {
		return nil, e
	}
	if e := maxLen(rq, "ReasonText", 1024); e != nil {
		return nil, e
	}
	if e := s.ledger.cancelToken(rq.call(""), id); e != nil {
		return nil, e
	}
	return success("CancelToken", nil), nil
}

func (s *Server) actInstallPaymentInstruction(rq *request) ([]byte, *apiError) {
	in := instruction{friendlyName: rq.get("TokenFriendlyName"), reason: rq.get("PaymentReason")}
	var e *apiError
	if in.instruction, e = rq.need("PaymentInstruction"); e != nil {
		return nil, e
	}
	ref, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	if in.tokenType, e = rq.need("TokenType"); e != nil {
		return nil, e
	}
	if e := enumParam(rq, "TokenType", TokenSingleUse, TokenMultiUse, TokenRecurring, TokenUnrestricted); e != nil {
		return nil, e
	}
	return s.ledger.installInstruction(rq.call(ref), in, func(t token) []byte {
		return success("InstallPaymentInstruction", func(x *xmlw) { x.elem("TokenId", t.id) })
	})
}

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
	in := instrumentPayment{callerDesc: rq.get("CallerDescription"), senderDesc: rq.get("SenderDescription")}
	var e *apiError
	if a.sender {
		if in.senderToken, e = rq.need("SenderTokenId"); e != nil {
			return nil, e
		}
	}
	if in.instrument, e = rq.need(a.instrument); e != nil {
		return nil, e
	}
	if in.amount, _, e = parseAmount(rq, a.amount, true); e != nil {
		return nil, e
	}
	ref, e := needCallerRef(rq, "CallerReference")
	if e != nil {
		return nil, e
	}
	if e := firstErr(maxLen(rq, "CallerDescription", 160), maxLen(rq, "SenderDescription", 160)); e != nil {
		return nil, e
	}
	return s.ledger.moveInstrument(rq.call(ref), a, in, txAnswer(a.action))
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
	ref := rq.get("CallerReference")
	if given && ref == "" {
		return nil, fail("InvalidParams", "CallerReference is required when RefundAmount is given.")
	}
	return s.ledger.cancelSubscription(rq.call(ref), subID, amount, given, func(refundID string) []byte {
		return success("CancelSubscriptionAndRefund", func(x *xmlw) { x.opt("RefundTransactionId", refundID) })
	})
}
