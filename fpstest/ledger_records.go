package fpstest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// The ledger's records as a Store keeps them: their JSON encoding and
// their Index.

type accountRecord struct {
	IPNURL  string          `json:"ipnUrl,omitempty"`
	Balance decimal.Decimal `json:"balance"`
}

type limitRecord struct {
	Count         bool            `json:"count,omitempty"`
	Amount        decimal.Decimal `json:"amount"`
	Times         int             `json:"times,omitempty"`
	Period        string          `json:"period,omitempty"`
	Start         time.Time       `json:"start"`
	PreviousStart time.Time       `json:"previousStart"`
	Used          decimal.Decimal `json:"used"`
	LastUsed      decimal.Decimal `json:"lastUsed"`
	Uses          int             `json:"uses,omitempty"`
	LastUses      int             `json:"lastUses,omitempty"`
}

type tokenRecord struct {
	Type, Status, CallerReference string
	FriendlyName, Reason          string `json:",omitempty"`
	Owner, Method, Role           string
	Instruction, Instrument       string `json:",omitempty"`
	Installed, Changed            time.Time
	ValidFrom, Expiry             time.Time
	Amount                        decimal.Decimal
	AmountType                    string `json:",omitempty"`
	GlobalLimit, Used             decimal.Decimal
	Uses                          int
	Limits                        []limitRecord `json:",omitempty"`
}

type feesRecord struct {
	Payer                                  string `json:",omitempty"`
	FPS, Fixed, Variable, Market, Refunded decimal.Decimal
}

type historyRecord struct {
	At           time.Time
	Status, Code string
	Amount       decimal.Decimal
}

type txRecord struct {
	Seq                                 uint64
	CallerReference, Operation, Status  string
	Code, Message                       string
	Method, Sender, Recipient, Parent   string
	Owner, CallerDescription            string
	SenderDescription, Instrument, From string
	IPNURL                              string `json:",omitempty"`
	Amount, Refunded, Settled           decimal.Decimal
	Fees                                feesRecord
	Received, Completed, Due            time.Time
	PendingOp                           string
	Settles                             int
	History                             []historyRecord
	Refunds                             []string
}

type instrumentRecord struct {
	Owner, Kind          string
	Balance, CreditLimit decimal.Decimal
}

type durationRecord struct {
	Value int    `json:",omitempty"`
	Unit  string `json:",omitempty"`
}

type subscriptionRecord struct {
	Owner, Status, Token      string
	Description               string `json:",omitempty"`
	Amount, PromotionalAmount decimal.Decimal
	PromotionalPayments       int `json:",omitempty"`
	Frequency, Period         durationRecord
	PaymentMethod             string
	OverrideIPNURL            string `json:",omitempty"`
	Start, Next               time.Time
	Payments                  []string
}

type answerRecord struct {
	Owner, CallerReference string
	Fingerprint            string
	Body                   []byte
	ErrStatus              int    `json:",omitempty"`
	ErrCode, ErrMessage    string `json:",omitempty"`
	At                     time.Time
}

type approvalRecord struct {
	Owner, CallerReference string
	Params                 string // url.Values encoded
	At                     time.Time
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("fpstest: encoding the ledger's state: " + err.Error())
	}
	return b
}

// The Index of each kind of record.

func (t *tx) index() Index {
	return Index{Owner: t.owner, Ref: t.callerRef, Link: t.sender, At: t.received, Seq: t.seq, Live: !completed(t.status)}
}

func (t *token) index(now time.Time) Index {
	return Index{Owner: t.owner, Ref: t.callerRef, At: t.installed, Live: !t.spent(now)}
}

func (s *subscription) index() Index {
	return Index{Live: s.status == "Active"}
}

// record returns the record ref in the ledger's current state at now,
// with nil Data when it is gone. Called with l locked.
func (l *Ledger) record(ref recordRef, now time.Time) Record {
	r := Record{Kind: ref.kind, Key: ref.key, Index: Index{Live: true}}
	switch ref.kind {
	case recordMeta:
		switch ref.key {
		case "format":
			r.Data = []byte(fmt.Sprint(StateFormat))
		case "seq":
			r.Data = mustJSON(l.seq)
		}
	case recordBuyer:
		r.Data = mustJSON(l.buyerABT)
	case recordClock:
		r.Data = mustJSON(l.clockOffset)
	case recordKeys:
		r.Data = l.keys
	case recordAccount:
		if a, ok := l.accounts[ref.key]; ok {
			r.Data = mustJSON(accountRecord{IPNURL: a.IPNURL, Balance: a.balance})
		}
	case recordToken:
		if t, ok := l.tokens[ref.key]; ok {
			r.Index, r.Data = t.index(now), mustJSON(t.record())
		}
	case recordTx:
		if t, ok := l.txs[ref.key]; ok {
			r.Index, r.Data = t.index(), mustJSON(t.record())
		}
	case recordInstrument:
		if in, ok := l.instruments[ref.key]; ok {
			r.Data = mustJSON(instrumentRecord{Owner: in.owner, Kind: in.kind, Balance: in.balance, CreditLimit: in.creditLimit})
		}
	case recordSubscription:
		if s, ok := l.subscriptions[ref.key]; ok {
			r.Index, r.Data = s.index(), mustJSON(s.record())
		}
	case recordAnswer:
		if e, ok := l.idem[ref.ik]; ok {
			r.Index, r.Data = Index{At: e.at}, mustJSON(e.record(ref.ik))
		}
	case recordSettle:
		if e, ok := l.settles[ref.key]; ok {
			r.Index, r.Data = Index{At: e.at}, mustJSON(e.record(ref.ik))
		}
	case recordApproval:
		if a, ok := l.approved[ref.ik]; ok {
			r.Index = Index{At: a.at}
			r.Data = mustJSON(approvalRecord{Owner: ref.ik.owner, CallerReference: ref.ik.callerRef, Params: a.params.Encode(), At: a.at})
		}
	}
	return r
}

func (t *token) record() tokenRecord {
	r := tokenRecord{
		Type: t.typ, Status: t.status, CallerReference: t.callerRef, FriendlyName: t.friendlyName, Reason: t.reason,
		Owner: t.owner, Method: t.method, Role: t.role, Instruction: t.instruction, Instrument: t.instrument,
		Installed: t.installed, Changed: t.changed, ValidFrom: t.validFrom, Expiry: t.expiry,
		Amount: t.amount, AmountType: t.amountType, GlobalLimit: t.globalLimit, Used: t.used, Uses: t.uses,
	}
	for _, u := range t.limits {
		r.Limits = append(r.Limits, limitRecord{
			Count: u.count, Amount: u.amount, Times: u.times, Period: u.per.String(), Start: u.start, PreviousStart: u.previousStart,
			Used: u.used, LastUsed: u.lastUsed, Uses: u.uses, LastUses: u.lastUses,
		})
	}
	return r
}

func (r tokenRecord) token(id string) *token {
	t := &token{
		id: id, typ: r.Type, status: r.Status, callerRef: r.CallerReference, friendlyName: r.FriendlyName, reason: r.Reason,
		owner: r.Owner, method: r.Method, role: r.Role, instruction: r.Instruction, instrument: r.Instrument,
		installed: r.Installed, changed: r.Changed, validFrom: r.ValidFrom, expiry: r.Expiry,
		amount: r.Amount, amountType: r.AmountType, globalLimit: r.GlobalLimit, used: r.Used, uses: r.Uses,
	}
	for _, u := range r.Limits {
		per, _ := parsePeriod(u.Period)
		t.limits = append(t.limits, usageLimit{
			count: u.Count, amount: u.Amount, times: u.Times, per: per, start: u.Start, previousStart: u.PreviousStart,
			used: u.Used, lastUsed: u.LastUsed, uses: u.Uses, lastUses: u.LastUses,
		})
	}
	return t
}

func (t *tx) record() txRecord {
	r := txRecord{
		Seq: t.seq, CallerReference: t.callerRef, Operation: t.op, Status: t.status, Code: t.code, Message: t.message,
		Method: t.method, Sender: t.sender, Recipient: t.recipient, Parent: t.parent, Owner: t.owner,
		CallerDescription: t.callerDesc, SenderDescription: t.senderDesc, Instrument: t.instrument, From: t.from,
		IPNURL: t.ipnURL, Amount: t.amount, Refunded: t.refunded, Settled: t.settled,
		Fees: feesRecord{Payer: t.fees.payer, FPS: t.fees.fps, Fixed: t.fees.fixed, Variable: t.fees.variable,
			Market: t.fees.market, Refunded: t.fees.refunded},
		Received: t.received, Completed: t.completed, Due: t.due, PendingOp: t.pendingOp, Settles: t.settles,
		Refunds: t.refunds,
	}
	for _, h := range t.history {
		r.History = append(r.History, historyRecord{At: h.at, Status: h.status, Code: h.code, Amount: h.amount})
	}
	return r
}

func (r txRecord) tx(id string) *tx {
	t := &tx{
		id: id, seq: r.Seq, callerRef: r.CallerReference, op: r.Operation, status: r.Status, code: r.Code, message: r.Message,
		method: r.Method, sender: r.Sender, recipient: r.Recipient, parent: r.Parent, owner: r.Owner,
		callerDesc: r.CallerDescription, senderDesc: r.SenderDescription, instrument: r.Instrument, from: r.From,
		ipnURL: r.IPNURL, amount: r.Amount, refunded: r.Refunded, settled: r.Settled,
		fees: fees{payer: r.Fees.Payer, fps: r.Fees.FPS, fixed: r.Fees.Fixed, variable: r.Fees.Variable,
			market: r.Fees.Market, refunded: r.Fees.Refunded},
		received: r.Received, completed: r.Completed, due: r.Due, pendingOp: r.PendingOp, settles: r.Settles,
		refunds: r.Refunds,
	}
	for _, h := range r.History {
		t.history = append(t.history, histEntry{at: h.At, status: h.Status, code: h.Code, amount: h.Amount})
	}
	return t
}

func (s *subscription) record() subscriptionRecord {
	return subscriptionRecord{
		Owner: s.owner, Status: s.status, Token: s.tokenID, Description: s.Description,
		Amount: s.Amount, PromotionalAmount: s.PromotionalAmount, PromotionalPayments: s.PromotionalPayments,
		Frequency:     durationRecord{Value: s.Frequency.Value, Unit: string(s.Frequency.TimeUnit)},
		Period:        durationRecord{Value: s.Period.Value, Unit: string(s.Period.TimeUnit)},
		PaymentMethod: s.PaymentMethod, OverrideIPNURL: s.OverrideIPNURL,
		Start: s.start, Next: s.next, Payments: s.payments,
	}
}

func (r subscriptionRecord) subscription(id string) *subscription {
	return &subscription{
		Subscription: Subscription{
			Description: r.Description, Amount: r.Amount, PromotionalAmount: r.PromotionalAmount,
			PromotionalPayments: r.PromotionalPayments,
			Frequency:           fps.Duration{Value: r.Frequency.Value, TimeUnit: fps.TimeUnit(r.Frequency.Unit)},
			Period:              fps.Duration{Value: r.Period.Value, TimeUnit: fps.TimeUnit(r.Period.Unit)},
			PaymentMethod:       r.PaymentMethod, OverrideIPNURL: r.OverrideIPNURL,
		},
		id: id, owner: r.Owner, status: r.Status, tokenID: r.Token, start: r.Start, next: r.Next, payments: r.Payments,
	}
}

func (e *idemEntry) record(k idemKey) answerRecord {
	r := answerRecord{Owner: k.owner, CallerReference: k.callerRef, Fingerprint: e.fp, Body: e.body, At: e.at}
	if e.err != nil {
		r.ErrStatus, r.ErrCode, r.ErrMessage = e.err.status, e.err.code, e.err.message
	}
	return r
}

func (r answerRecord) entry() *idemEntry {
	e := &idemEntry{fp: r.Fingerprint, body: r.Body, at: r.At}
	if r.ErrCode != "" {
		e.err = &apiError{status: r.ErrStatus, code: r.ErrCode, message: r.ErrMessage}
	}
	return e
}

// The decoders of the records read back by id.

// decodeAs returns the decoder of the record kind id, encoded as an R
// that build turns into a V.
func decodeAs[R, V any](kind, id string, build func(R, string) V) func([]byte) (V, error) {
	return func(b []byte) (V, error) {
		var r R
		if err := json.Unmarshal(b, &r); err != nil {
			var zero V
			return zero, fmt.Errorf("%s %s: %w", kind, id, err)
		}
		return build(r, id), nil
	}
}

func decodeTx(id string) func([]byte) (*tx, error) { return decodeAs(recordTx, id, txRecord.tx) }

func decodeToken(id string) func([]byte) (*token, error) {
	return decodeAs(recordToken, id, tokenRecord.token)
}

func decodeSubscription(id string) func([]byte) (*subscription, error) {
	return decodeAs(recordSubscription, id, subscriptionRecord.subscription)
}

func decodeAnswer(b []byte) (*idemEntry, error) {
	var r answerRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	return r.entry(), nil
}

func decodeApproval(b []byte) (approval, error) {
	var r approvalRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return approval{}, fmt.Errorf("approval: %w", err)
	}
	params, err := url.ParseQuery(r.Params)
	if err != nil {
		return approval{}, fmt.Errorf("approval: %w", err)
	}
	return approval{params: params, at: r.At}, nil
}

// loadRecord puts the record r in the ledger's memory. Called on a new
// ledger, not yet shared.
func (l *Ledger) loadRecord(r Record) error {
	var err error
	switch r.Kind {
	case recordMeta:
		if r.Key == "seq" {
			err = json.Unmarshal(r.Data, &l.seq)
		}
	case recordBuyer:
		err = json.Unmarshal(r.Data, &l.buyerABT)
	case recordClock:
		err = json.Unmarshal(r.Data, &l.clockOffset)
	case recordKeys:
		l.keys = r.Data
	case recordAccount:
		var a accountRecord
		if err = json.Unmarshal(r.Data, &a); err == nil {
			if acct, ok := l.accounts[r.Key]; ok {
				acct.balance = a.Balance
				if acct.IPNURL == "" {
					acct.IPNURL = a.IPNURL
				} else if acct.IPNURL != a.IPNURL {
					l.store.changed(recordAccount, r.Key)
				}
			}
		}
	case recordToken:
		var t *token
		if t, err = decodeToken(r.Key)(r.Data); err == nil {
			l.tokens[r.Key] = t
		}
	case recordTx:
		var t *tx
		if t, err = decodeTx(r.Key)(r.Data); err == nil {
			l.txs[r.Key] = t
		}
	case recordInstrument:
		var in instrumentRecord
		if err = json.Unmarshal(r.Data, &in); err == nil {
			l.instruments[r.Key] = &instrument{id: r.Key, owner: in.Owner, kind: in.Kind, balance: in.Balance, creditLimit: in.CreditLimit}
		}
	case recordSubscription:
		var s *subscription
		if s, err = decodeSubscription(r.Key)(r.Data); err == nil {
			l.subscriptions[r.Key] = s
		}
	case recordAnswer:
		var a answerRecord
		if err = json.Unmarshal(r.Data, &a); err == nil {
			l.idem[idemKey{a.Owner, a.CallerReference}] = a.entry()
		}
	case recordSettle:
		var e *idemEntry
		if e, err = decodeAnswer(r.Data); err == nil {
			l.settles[r.Key] = e
		}
	case recordApproval:
		var a approvalRecord
		if err = json.Unmarshal(r.Data, &a); err == nil {
			var ap approval
			if ap, err = decodeApproval(r.Data); err == nil {
				l.approved[idemKey{a.Owner, a.CallerReference}] = ap
			}
		}
	}
	if err != nil {
		return fmt.Errorf("fpstest: state: %s %s: %w", r.Kind, r.Key, err)
	}
	return nil
}
