package fpstest

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fpskit/fps"
)

// notification is one IPN to deliver: the ledger queues it, the server
// signs and sends it.
type notification struct {
	url    string
	params url.Values
}

// ipnOperation names a step the way IPNs do.
func ipnOperation(t *tx) string {
	switch t.pendingOp {
	case "FUNDPREPAID":
		return "FUND_PREPAID"
	case "SETTLEDEBT":
		return "SETTLE_DEBT"
	case "WRITEOFFDEBT":
		return "WRITE_OFF_DEBT"
	}
	return t.pendingOp
}

// queueTxIPN queues the TransactionStatus IPN of t's current status.
// Called with l locked.
func (l *Ledger) queueTxIPN(t *tx, now time.Time) {
	a := l.accounts[t.owner]
	dest := ipnDestination(a, t.ipnURL)
	if dest == "" {
		return
	}
	amt := t.amount
	if t.pendingOp == "SETTLE" {
		amt = t.settled
	}
	v := url.Values{}
	v.Set("notificationType", "TransactionStatus")
	v.Set("transactionId", t.id)
	v.Set("callerReference", t.callerRef)
	v.Set("operation", ipnOperation(t))
	v.Set("transactionAmount", fps.USD(amt).String())
	v.Set("transactionDate", strconv.FormatInt(now.Unix(), 10))
	v.Set("paymentMethod", t.method)
	v.Set("buyerName", buyerName)
	v.Set("recipientName", a.Name)
	v.Set("recipientEmail", a.Email)
	reason := t.callerDesc
	if tok := l.tokenByID(t.sender); tok != nil && tok.reason != "" {
		reason = tok.reason
	}
	if t.op == "Refund" {
		v.Set("status", strings.ToUpper(t.status))
		v.Set("parentTransactionId", t.parent)
		if reason == "" {
			reason = "Refund"
		}
	} else {
		v.Set("transactionStatus", strings.ToUpper(t.status))
		v.Set("statusCode", t.code)
		v.Set("statusMessage", t.message)
	}
	if reason != "" {
		v.Set("paymentReason", reason)
	}
	l.outbox = append(l.outbox, notification{url: dest, params: v})
}

// ipnDestination is where an IPN goes: to override when it is set (the
// OverrideIPNURL of API 2010-08-28), else to the account's IPN URL; ""
// for nowhere.
func ipnDestination(a *account, override string) string {
	switch {
	case override != "":
		return override
	case a == nil:
		return ""
	}
	return a.IPNURL
}

// queueTokenIPN queues the TokenCancellation IPN of t. Called with l
// locked.
func (l *Ledger) queueTokenIPN(t *token, now time.Time) {
	a := l.accounts[t.owner]
	dest := ipnDestination(a, t.ipnURL)
	if dest == "" {
		return
	}
	v := url.Values{}
	v.Set("notificationType", "TokenCancellation")
	v.Set("tokenId", t.id)
	v.Set("tokenType", t.typ)
	v.Set("callerReference", t.callerRef)
	v.Set("dateInstalled", t.installed.In(pacific).Format("Jan 2, 2006"))
	v.Set("customerName", buyerName)
	v.Set("customerEmail", buyerEmail)
	if t.reason != "" {
		v.Set("paymentReason", t.reason)
	}
	l.outbox = append(l.outbox, notification{url: dest, params: v})
}
