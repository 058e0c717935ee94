package fpstest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Store keeps a ledger's state, so that a simulator started again on the
// same Store continues where the last one stopped (Config.State; `fps
// sandbox -state FILE` keeps it in SQLite). The ledger hands it the
// records each change touches, at once, before the change is answered;
// a Store only keeps them. Implementations must be safe for use by one
// goroutine at a time (the ledger calls them under its lock).
type Store interface {
	// Load calls fn with every record kept, in any order.
	Load(fn func(Record) error) error
	// Save applies records at once, atomically: each replaces the
	// record of the same Kind and Key, or removes it when its Data is
	// nil.
	Save(records []Record) error
}

// Record is one piece of a ledger's state: an account, a token, a
// transaction, an instrument, a kept answer, the buyers' balance, the
// clock. Data is the ledger's own encoding (JSON, StateFormat), which a
// Store keeps as it is.
type Record struct {
	Kind string
	Key  string
	Data []byte
}

// StateFormat is the version of the encoding of the records a ledger
// hands to its Store. A ledger refuses to load records of another
// version.
const StateFormat = 1

// Kinds of records.
const (
	recordMeta       = "meta"    // key "format": StateFormat
	recordAccount    = "account" // key: access key id
	recordToken      = "token"   // key: token id
	recordTx         = "tx"      // key: transaction id
	recordInstrument = "instrument"
	recordAnswer     = "answer"   // key: entryKey
	recordSettle     = "settle"   // key: the Reserve's id
	recordApproval   = "approval" // key: entryKey
	recordBuyer      = "buyer"    // key "abt": the buyers' ABT balance
	recordClock      = "clock"    // key "offset": the simulator clock's offset
)

// recordRef names a record; ik is the map key of an answer, settle
// answer or approval.
type recordRef struct {
	kind, key string
	ik        idemKey
}

// ledgerStore collects the records a change touches and saves them when
// the change is done. A nil *ledgerStore keeps nothing.
type ledgerStore struct {
	st     Store
	dirty  map[recordRef]bool // true: changed, false: removed
	failed error              // the last Save's error, nil once one succeeds
}

func (s *ledgerStore) changed(kind, key string) {
	if s != nil {
		s.dirty[recordRef{kind: kind, key: key}] = true
	}
}

func (s *ledgerStore) removed(kind, key string) {
	if s != nil {
		s.dirty[recordRef{kind: kind, key: key}] = false
	}
}

// changedEntry and removedEntry note an answer, settle answer or
// approval kept under k.
func (s *ledgerStore) changedEntry(kind string, k idemKey) {
	if s != nil {
		s.dirty[recordRef{kind: kind, key: entryKey(kind, k), ik: k}] = true
	}
}

func (s *ledgerStore) removedEntry(kind string, k idemKey) {
	if s != nil {
		s.dirty[recordRef{kind: kind, key: entryKey(kind, k), ik: k}] = false
	}
}

// entryKey is the record key of an entry kept under k: the Reserve's id
// of a settle answer, the caller and CallerReference of the others.
func entryKey(kind string, k idemKey) string {
	if kind == recordSettle {
		return k.callerRef
	}
	return k.owner + " " + k.callerRef
}

// save hands the records changed since the last save to the Store. On
// failure they stay to be saved with the next change. Called with l
// locked.
func (l *Ledger) save() {
	s := l.store
	if s == nil || len(s.dirty) == 0 {
		return
	}
	records := make([]Record, 0, len(s.dirty))
	for ref, changed := range s.dirty {
		r := Record{Kind: ref.kind, Key: ref.key}
		if changed {
			r.Data = l.encode(ref)
		}
		records = append(records, r)
	}
	if err := s.st.Save(records); err != nil {
		s.failed = err
		return
	}
	s.failed = nil
	clear(s.dirty)
}

// unsaved returns the error of the last save, nil when every change is
// saved (or there is no Store).
func (l *Ledger) unsaved() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	return l.store.failed
}

// The encoded records.

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

// encode returns the record ref in the ledger's current state, nil when
// it is gone. Called with l locked.
func (l *Ledger) encode(ref recordRef) []byte {
	switch ref.kind {
	case recordMeta:
		return []byte(fmt.Sprint(StateFormat))
	case recordBuyer:
		return mustJSON(l.buyerABT)
	case recordClock:
		return mustJSON(l.clockOffset)
	case recordAccount:
		if a, ok := l.accounts[ref.key]; ok {
			return mustJSON(accountRecord{IPNURL: a.IPNURL, Balance: a.balance})
		}
	case recordToken:
		if t, ok := l.tokens[ref.key]; ok {
			return mustJSON(t.record())
		}
	case recordTx:
		if t, ok := l.txs[ref.key]; ok {
			return mustJSON(t.record())
		}
	case recordInstrument:
		if in, ok := l.instruments[ref.key]; ok {
			return mustJSON(instrumentRecord{Owner: in.owner, Kind: in.kind, Balance: in.balance, CreditLimit: in.creditLimit})
		}
	case recordAnswer:
		if e, ok := l.idem[ref.ik]; ok {
			return mustJSON(e.record(ref.ik))
		}
	case recordSettle:
		if e, ok := l.settles[ref.key]; ok {
			return mustJSON(e.record(ref.ik))
		}
	case recordApproval:
		if a, ok := l.approved[ref.ik]; ok {
			return mustJSON(approvalRecord{Owner: ref.ik.owner, CallerReference: ref.ik.callerRef, Params: a.params.Encode(), At: a.at})
		}
	}
	return nil
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
		Amount: t.amount, Refunded: t.refunded, Settled: t.settled,
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
		amount: r.Amount, refunded: r.Refunded, settled: r.Settled,
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

// errStateFormat refuses records of another StateFormat.
var errStateFormat = errors.New("fpstest: the state was written in another format")

// load fills the ledger, new and not yet shared, with st's records:
// the accounts' balances and IPN URLs (of the configured accounts; a
// configured IPN URL wins over the one kept), the buyers' balance, the
// clock offset, tokens, transactions, instruments, and the answers and
// approvals still within IdempotencyWindow.
func (l *Ledger) load(st Store) error {
	var (
		answers   []expiry
		formatted bool
	)
	err := st.Load(func(r Record) error {
		var err error
		switch r.Kind {
		case recordMeta:
			if r.Key == "format" {
				formatted = true
				if string(r.Data) != fmt.Sprint(StateFormat) {
					return fmt.Errorf("%w: %s, this simulator reads %d", errStateFormat, r.Data, StateFormat)
				}
			}
		case recordBuyer:
			err = json.Unmarshal(r.Data, &l.buyerABT)
		case recordClock:
			err = json.Unmarshal(r.Data, &l.clockOffset)
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
			var t tokenRecord
			if err = json.Unmarshal(r.Data, &t); err == nil {
				l.tokens[r.Key] = t.token(r.Key)
			}
		case recordTx:
			var t txRecord
			if err = json.Unmarshal(r.Data, &t); err == nil {
				l.txs[r.Key] = t.tx(r.Key)
			}
		case recordInstrument:
			var in instrumentRecord
			if err = json.Unmarshal(r.Data, &in); err == nil {
				l.instruments[r.Key] = &instrument{id: r.Key, owner: in.Owner, kind: in.Kind, balance: in.Balance, creditLimit: in.CreditLimit}
			}
		case recordAnswer:
			var a answerRecord
			if err = json.Unmarshal(r.Data, &a); err == nil {
				k := idemKey{a.Owner, a.CallerReference}
				l.idem[k] = a.entry()
				answers = append(answers, expiry{kind: expiresAnswer, key: k, at: a.At})
			}
		case recordSettle:
			var a answerRecord
			if err = json.Unmarshal(r.Data, &a); err == nil {
				l.settles[r.Key] = a.entry()
				answers = append(answers, expiry{kind: expiresSettle, key: idemKey{callerRef: r.Key}, at: a.At})
			}
		case recordApproval:
			var a approvalRecord
			if err = json.Unmarshal(r.Data, &a); err == nil {
				params, perr := url.ParseQuery(a.Params)
				if perr != nil {
					return fmt.Errorf("fpstest: state: approval %s: %w", r.Key, perr)
				}
				k := idemKey{a.Owner, a.CallerReference}
				l.approved[k] = approval{params: params, at: a.At}
				answers = append(answers, expiry{kind: expiresApproval, key: k, at: a.At})
			}
		}
		if err != nil {
			return fmt.Errorf("fpstest: state: %s %s: %w", r.Kind, r.Key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range l.txs {
		l.order = append(l.order, t)
		l.seq = max(l.seq, t.seq)
		if t.status == "Pending" {
			l.pending[t] = struct{}{}
		}
	}
	slices.SortFunc(l.order, func(a, b *tx) int { return cmp.Compare(a.seq, b.seq) })
	slices.SortStableFunc(answers, func(a, b expiry) int { return a.at.Compare(b.at) })
	l.expiries = answers
	if !formatted {
		l.store.changed(recordMeta, "format")
	}
	return nil
}
