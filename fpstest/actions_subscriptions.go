package fpstest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// The subscription actions of API 2010-08-28, and the form that creates a
// subscription the way a Simple Pay subscription button did.

func (s *Server) actGetSubscriptionDetails(rq *request) ([]byte, *apiError) {
	id, e := rq.need("SubscriptionId")
	if e != nil {
		return nil, e
	}
	sub, payments, e := s.ledger.subscriptionOf(rq.key, id)
	if e != nil {
		return nil, e
	}
	a := s.account(rq.key)
	return success("GetSubscriptionDetails", func(x *xmlw) {
		x.open("SubscriptionDetails")
		x.elem("SubscriptionId", sub.id)
		x.elem("Description", sub.Description)
		x.amount("SubscriptionAmount", sub.Amount)
		if !sub.next.IsZero() {
			x.amount("NextTransactionAmount", sub.amountOf(len(payments)+1))
		}
		if sub.PromotionalPayments > 0 {
			x.amount("PromotionalAmount", sub.PromotionalAmount)
		}
		x.elem("NumberOfPromotionalTransactions", strconv.Itoa(sub.PromotionalPayments))
		x.date("StartDate", sub.start)
		x.date("EndDate", sub.end())
		if sub.Period.Value > 0 {
			x.duration("SubscriptionPeriod", sub.Period)
		}
		x.duration("SubscriptionFrequency", sub.Frequency)
		x.opt("OverrideIPNUrl", sub.OverrideIPNURL)
		x.elem("SubscriptionStatus", sub.status)
		x.elem("NumberOfTransactionsProcessed", strconv.Itoa(len(payments)))
		x.elem("RecipientEmail", a.Email)
		x.elem("RecipientName", a.Name)
		x.elem("SenderEmail", buyerEmail)
		x.elem("SenderName", buyerName)
		x.date("NextTransactionDate", sub.next)
		x.close("SubscriptionDetails")
	}), nil
}

func (s *Server) actGetTransactionsForSubscription(rq *request) ([]byte, *apiError) {
	id, e := rq.need("SubscriptionId")
	if e != nil {
		return nil, e
	}
	_, payments, e := s.ledger.subscriptionOf(rq.key, id)
	if e != nil {
		return nil, e
	}
	return success("GetTransactionsForSubscription", func(x *xmlw) {
		for i, t := range payments {
			x.open("SubscriptionTransaction")
			x.elem("TransactionId", t.id)
			x.date("TransactionDate", t.received)
			x.elem("TransactionSerialNumber", strconv.Itoa(i+1))
			x.amount("TransactionAmount", t.amount)
			x.elem("Description", t.callerDesc)
			x.elem("TransactionStatus", t.status)
			x.close("SubscriptionTransaction")
		}
	}), nil
}

// duration writes a Duration: Value, then TimeUnit.
func (x *xmlw) duration(name string, d fps.Duration) {
	x.open(name)
	x.elem("Value", strconv.Itoa(d.Value))
	x.elem("TimeUnit", string(d.TimeUnit))
	x.close(name)
}

// SubscribeEndpoint returns the URL of the form that creates a
// subscription, as a Simple Pay subscription button did: POST
//
//	accessKey=<caller's AWSAccessKeyId>&amount=USD 9.99&recurringFrequency=1 month
//	[&subscriptionPeriod=12 month][&description=...]
//	[&promotionAmount=USD 1.00&noOfPromotionTransactions=1]
//	[&paymentMethod=ABT|ACH|CC][&ipnUrl=...]
//
// (Simple Pay's own field names) answers 201 Created with the
// subscription id as the body. Ledger.Subscribe does the same in Go.
func (s *Server) SubscribeEndpoint() string { return s.URL + subscribePath }

const subscribePath = "/simplepay/subscribe"

func (s *Server) serveSubscribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sub, err := parseSubscription(r.PostForm)
	if err == nil {
		var id string
		if id, err = s.ledger.Subscribe(r.PostForm.Get("accessKey"), sub); err == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintln(w, id)
			return
		}
	}
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// parseSubscription reads the fields of a Simple Pay subscription button.
func parseSubscription(form map[string][]string) (Subscription, error) {
	get := func(name string) string {
		if v := form[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	sub := Subscription{Description: get("description"), PaymentMethod: get("paymentMethod"), OverrideIPNURL: get("ipnUrl")}
	var err error
	if sub.Amount, err = parseUSD("amount", get("amount")); err != nil {
		return sub, err
	}
	if sub.Frequency, err = parseDuration("recurringFrequency", get("recurringFrequency")); err != nil {
		return sub, err
	}
	if v := get("subscriptionPeriod"); v != "" {
		if sub.Period, err = parseDuration("subscriptionPeriod", v); err != nil {
			return sub, err
		}
	}
	if v := get("noOfPromotionTransactions"); v != "" {
		if sub.PromotionalPayments, err = strconv.Atoi(v); err != nil {
			return sub, fmt.Errorf("noOfPromotionTransactions %q is not a whole number", v)
		}
		if sub.PromotionalAmount, err = parseUSD("promotionAmount", get("promotionAmount")); err != nil {
			return sub, err
		}
	}
	return sub, nil
}

// parseUSD reads "USD 9.99" (a bare "9.99" is taken too).
func parseUSD(field, v string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimPrefix(v, "USD "))
	if err != nil {
		return d, fmt.Errorf("%s %q is not an amount such as USD 9.99", field, v)
	}
	return d, nil
}

// parseDuration reads "1 month", "2 weeks": a count and a unit (day,
// week, month or year, in any case, singular or plural).
func parseDuration(field, v string) (fps.Duration, error) {
	count, unit, _ := strings.Cut(v, " ")
	n, err := strconv.Atoi(count)
	u := fps.TimeUnit(strings.TrimSuffix(strings.ToLower(unit), "s"))
	switch u {
	case fps.TimeUnitDay, fps.TimeUnitWeek, fps.TimeUnitMonth, fps.TimeUnitYear:
		if err == nil && n > 0 {
			return fps.Duration{Value: n, TimeUnit: u}, nil
		}
	}
	return fps.Duration{}, fmt.Errorf("%s %q is not a count and a unit such as 1 month", field, v)
}
