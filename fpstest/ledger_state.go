package fpstest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Store keeps a ledger's state (Config.State; `fps sandbox` keeps it in
// SQLite), so that a simulator started again on the same Store continues
// where the last one stopped, and so that the ledger's memory holds only
// what can still change: the ledger hands the Store the records each
// change touches, at once, before the change is answered, and keeps in
// memory the live records alone (Index.Live: pending and reserved
// transactions, tokens that can still pay, active subscriptions, the
// accounts, instruments and balances). It reads the others back from the
// Store when it needs them (Get, Find): completed transactions, tokens
// that can no longer pay, ended subscriptions, kept answers and approved
// pipelines. A Store only keeps records and finds them by their Index.
// Implementations must be safe for use by one goroutine at a time (the
// ledger calls them under its lock).
type Store interface {
	// Load calls fn with every record saved with Index.Live set, in any
	// order.
	Load(fn func(Record) error) error
	// Save applies records at once, atomically: each replaces the
	// record of the same Kind and Key, or removes it when its Data is
	// nil.
	Save(records []Record) error
	// Get returns the record of kind and key; ok is false when there is
	// none.
	Get(kind, key string) (r Record, ok bool, err error)
	// Find calls fn with every record that q selects (Query.Matches),
	// ordered by Index.At, then Index.Seq, then Key. fn does not call
	// the Store.
	Find(q Query, fn func(Record) error) error
}

// Record is one piece of a ledger's state: an account, a token, a
// transaction, an instrument, a subscription, a kept answer, the buyers'
// balance, the clock, the simulator's keys. Data is the ledger's own
// encoding (JSON, StateFormat), which a Store keeps as it is, beside the
// Index the ledger finds the record by.
type Record struct {
	Kind string
	Key  string
	Index
	Data []byte
}

// Index is what a Store finds a Record by. The ledger sets only the
// fields it looks the record's Kind up by; the others are zero (a Store
// may leave a record out of its index of a field that is zero).
type Index struct {
	// Owner is the caller account of a transaction or token.
	Owner string
	// Ref is the CallerReference of a transaction or token.
	Ref string
	// Link is the sender token of a transaction.
	Link string
	// At is when a transaction was received, a token installed, a kept
	// answer or approval given.
	At time.Time
	// Seq numbers the transactions in the order they were made.
	Seq uint64
	// Live marks what the ledger keeps in memory while it runs: what
	// Store.Load gives it when it starts.
	Live bool
}

// Query selects records of one Kind by their Index (Store.Find).
type Query struct {
	Kind string
	// Owner, Ref and Link select the records with that Index value;
	// empty selects any.
	Owner, Ref, Link string
	// From and To select the records whose Index.At is within them,
	// both included; the zero time leaves that side open.
	From, To time.Time
}

// Matches reports whether q selects r.
func (q Query) Matches(r Record) bool {
	return r.Kind == q.Kind && (q.Owner == "" || r.Owner == q.Owner) && (q.Ref == "" || r.Ref == q.Ref) &&
		(q.Link == "" || r.Link == q.Link) && (q.From.IsZero() || !r.At.Before(q.From)) && (q.To.IsZero() || !r.At.After(q.To))
}

// compareRecords orders records as Store.Find gives them.
func compareRecords(a, b Record) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// StateFormat is the version of the encoding of the records a ledger
// hands to its Store. A ledger reads the records of format 1 (without
// their Index) and saves them again in this one; it refuses any other.
const StateFormat = 2

// Kinds of records.
const (
	recordMeta         = "meta"    // key "format": StateFormat; key "seq": the last transaction's Seq
	recordAccount      = "account" // key: access key id
	recordToken        = "token"   // key: token id
	recordTx           = "tx"      // key: transaction id
	recordInstrument   = "instrument"
	recordSubscription = "subscription" // key: subscription id
	recordAnswer       = "answer"       // key: entryKey
	recordSettle       = "settle"       // key: the Reserve's id
	recordApproval     = "approval"     // key: entryKey
	recordBuyer        = "buyer"        // key "abt": the buyers' ABT balance
	recordClock        = "clock"        // key "offset": the simulator clock's offset
	recordKeys         = "keys"         // key "simulator": the CA and the signing key
)

// recordRef names a record; ik is the map key of an answer, settle
// answer or approval.
type recordRef struct {
	kind, key string
	ik        idemKey
}

// ledgerStore collects the records a change touches and saves them when
// the change is done; then the records that are no longer live leave the
// ledger's memory. A nil *ledgerStore keeps nothing.
type ledgerStore struct {
	st      Store
	dirty   map[recordRef]bool     // true: changed, false: removed; until saved
	touched map[recordRef]struct{} // read from the Store or changed while the ledger is locked
	failed  error                  // the last save's error, or a read's, until a save succeeds
	readErr error                  // a read of the Store that failed while the ledger is locked
	sweep   time.Time              // when to look for expired records next (simulator time)
}

func (s *ledgerStore) changed(kind, key string) {
	if s != nil {
		s.mark(recordRef{kind: kind, key: key}, true)
	}
}

// changedEntry notes an answer, settle answer or approval kept under k.
func (s *ledgerStore) changedEntry(kind string, k idemKey) {
	if s != nil {
		s.mark(recordRef{kind: kind, key: entryKey(kind, k), ik: k}, true)
	}
}

func (s *ledgerStore) mark(ref recordRef, changed bool) {
	s.dirty[ref] = changed
	s.touched[ref] = struct{}{}
}

// entryKey is the record key of an entry kept under k: the Reserve's id
// of a settle answer, the caller and CallerReference of the others.
func entryKey(kind string, k idemKey) string {
	if kind == recordSettle {
		return k.callerRef
	}
	return k.owner + " " + k.callerRef
}

// write hands the records changed since the last write to the Store. On
// failure they stay to be written with the next change. Called with l
// locked.
func (l *Ledger) write() {
	s := l.store
	if s == nil {
		return
	}
	if len(s.dirty) == 0 {
		s.failed = nil
		return
	}
	now := l.cfg.clock()
	records := make([]Record, 0, len(s.dirty))
	for ref, changed := range s.dirty {
		r := Record{Kind: ref.kind, Key: ref.key}
		if changed {
			r = l.record(ref, now)
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

// save writes what changed to the Store, then lets go of what was read
// or changed and is no longer live (what is not saved yet stays). A read
// that failed makes the change unsaved: it is answered InternalError.
// Called with l locked, as it is released.
func (l *Ledger) save() {
	s := l.store
	if s == nil {
		return
	}
	l.write()
	if s.readErr != nil {
		s.failed, s.readErr = s.readErr, nil
	}
	now := l.cfg.clock()
	for ref := range s.touched {
		if _, unsaved := s.dirty[ref]; unsaved {
			continue
		}
		delete(s.touched, ref)
		if !l.live(ref, now) {
			l.drop(ref)
		}
	}
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

// live reports whether the record ref is one the ledger keeps in memory
// at now: a transaction not completed, a token that can pay, an active
// subscription, and what is not found by id (accounts, instruments,
// balances, the clock, the keys); never a kept answer or approval.
// Called with l locked.
func (l *Ledger) live(ref recordRef, now time.Time) bool {
	switch ref.kind {
	case recordTx:
		t := l.txs[ref.key]
		return t != nil && t.index().Live
	case recordToken:
		t := l.tokens[ref.key]
		return t != nil && t.index(now).Live
	case recordSubscription:
		s := l.subscriptions[ref.key]
		return s != nil && s.index().Live
	case recordAnswer, recordSettle, recordApproval:
		return false
	}
	return true
}

// drop lets go of the record ref in memory. Called with l locked.
func (l *Ledger) drop(ref recordRef) {
	switch ref.kind {
	case recordTx:
		delete(l.txs, ref.key)
	case recordToken:
		delete(l.tokens, ref.key)
	case recordSubscription:
		delete(l.subscriptions, ref.key)
	case recordAnswer:
		delete(l.idem, ref.ik)
	case recordSettle:
		delete(l.settles, ref.key)
	case recordApproval:
		delete(l.approved, ref.ik)
	}
}

// readFailed records that the Store could not be read. Called with l
// locked.
func (l *Ledger) readFailed(err error) {
	l.store.readErr = fmt.Errorf("fpstest: reading the state: %w", err)
}

// readFailure returns InternalError when the Store could not be read
// since the ledger was locked, nil otherwise. Called with l locked.
func (l *Ledger) readFailure() *apiError {
	if l.store != nil && l.store.readErr != nil {
		return errInternal()
	}
	return nil
}

// notFound returns e, the answer for what was looked up and not found,
// or InternalError when the Store could not be read: then whether it
// exists is unknown. Called with l locked.
func (l *Ledger) notFound(e *apiError) *apiError {
	if f := l.readFailure(); f != nil {
		return f
	}
	return e
}

// lookup returns m[k], or else the record ref read from the Store and
// decoded by dec; keep keeps it in m until the ledger is released (so
// that a change to it is saved), else it is the caller's alone, to read.
// ok is false when there is none. Called with l locked.
func lookup[K comparable, V any](l *Ledger, m map[K]V, k K, ref recordRef, keep bool, dec func([]byte) (V, error)) (v V, ok bool) {
	if v, ok = m[k]; ok || l.store == nil {
		return v, ok
	}
	r, ok, err := l.store.st.Get(ref.kind, ref.key)
	if err == nil && ok {
		v, err = dec(r.Data)
	}
	if err != nil {
		l.readFailed(err)
		return v, false
	}
	if !ok {
		return v, false
	}
	if keep {
		m[k] = v
		l.store.touched[ref] = struct{}{}
	}
	return v, true
}

// txByID returns the transaction id, nil when there is none. Called with
// l locked.
func (l *Ledger) txByID(id string) *tx {
	t, _ := lookup(l, l.txs, id, recordRef{kind: recordTx, key: id}, true, decodeTx(id))
	return t
}

// readTx is txByID for a transaction only read. Called with l locked.
func (l *Ledger) readTx(id string) *tx {
	t, _ := lookup(l, l.txs, id, recordRef{kind: recordTx, key: id}, false, decodeTx(id))
	return t
}

// tokenByID returns the token id, nil when there is none. Called with l
// locked.
func (l *Ledger) tokenByID(id string) *token {
	t, _ := lookup(l, l.tokens, id, recordRef{kind: recordToken, key: id}, true, decodeToken(id))
	return t
}

// answerFor returns the answer kept under k, nil when there is none.
// Called with l locked.
func (l *Ledger) answerFor(k idemKey) *idemEntry {
	e, _ := lookup(l, l.idem, k, recordRef{kind: recordAnswer, key: entryKey(recordAnswer, k), ik: k}, true, decodeAnswer)
	return e
}

// settleOf returns the answer of the Settle of the Reserve id, nil when
// there is none. Called with l locked.
func (l *Ledger) settleOf(id string) *idemEntry {
	k := idemKey{callerRef: id}
	e, _ := lookup(l, l.settles, id, recordRef{kind: recordSettle, key: id, ik: k}, true, decodeAnswer)
	return e
}

// approvalFor returns the pipeline approved under k. Called with l
// locked.
func (l *Ledger) approvalFor(k idemKey) (approval, bool) {
	return lookup(l, l.approved, k, recordRef{kind: recordApproval, key: entryKey(recordApproval, k), ik: k}, true, decodeApproval)
}

// subscriptionByID returns the subscription id, nil when there is none.
// Called with l locked.
func (l *Ledger) subscriptionByID(id string) *subscription {
	s, _ := lookup(l, l.subscriptions, id, recordRef{kind: recordSubscription, key: id}, true, decodeSubscription(id))
	return s
}

// find calls fn with the records of the Store that q selects, in the
// order of Store.Find, once the changes made are written. Called with l
// locked.
func (l *Ledger) find(q Query, fn func(Record) error) {
	l.write()
	if err := l.store.st.Find(q, fn); err != nil {
		l.readFailed(err)
	}
}

// findTxs returns the transactions q selects (its Kind aside), in the
// order of Store.Find; those not in memory are decoded for the caller
// alone, to read. Called with l locked.
func (l *Ledger) findTxs(q Query) []*tx {
	q.Kind = recordTx
	return findAll(l, q, l.txs, (*tx).index, decodeTx)
}

// findTokens returns the tokens q selects (its Kind aside), in the order
// of Store.Find (installed, then id); those not in memory are decoded
// for the caller alone, to read. Called with l locked.
func (l *Ledger) findTokens(q Query) []*token {
	q.Kind = recordToken
	now := l.cfg.clock()
	return findAll(l, q, l.tokens, func(t *token) Index { return t.index(now) }, decodeToken)
}

// findAll returns the values of kind q.Kind that q selects, in the order
// of Store.Find: those of m, where all are, when the ledger has no
// Store; else those the Store finds, as m holds them when it does, else
// decoded by decode for the caller alone, to read. index gives the Index
// of a value of m. Called with l locked.
func findAll[V any](l *Ledger, q Query, m map[string]V, index func(V) Index, decode func(id string) func([]byte) (V, error)) []V {
	var out []V
	if l.store == nil {
		var found []Record
		for id, v := range m {
			if r := (Record{Kind: q.Kind, Key: id, Index: index(v)}); q.Matches(r) {
				found = append(found, r)
			}
		}
		sortRecords(found)
		for _, r := range found {
			out = append(out, m[r.Key])
		}
		return out
	}
	l.find(q, func(r Record) error {
		v, ok := m[r.Key]
		if !ok {
			var err error
			if v, err = decode(r.Key)(r.Data); err != nil {
				return err
			}
		}
		out = append(out, v)
		return nil
	})
	return out
}

func sortRecords(rs []Record) {
	slices.SortFunc(rs, compareRecords)
}

// forgetExpired removes from the Store, at most once a simulated minute,
// the answers and approvals IdempotencyWindow old, and saves again the
// tokens in memory that can no longer pay (they expired), which then
// leave memory. Called with l locked.
func (l *Ledger) forgetExpired(now time.Time) {
	s := l.store
	if now.Before(s.sweep) {
		return
	}
	s.sweep = now.Add(time.Minute)
	cut := now.Add(-IdempotencyWindow)
	for _, kind := range []string{recordAnswer, recordSettle, recordApproval} {
		l.find(Query{Kind: kind, To: cut}, func(r Record) error {
			ik, err := entryOf(r)
			if err == nil {
				s.mark(recordRef{kind: kind, key: r.Key, ik: ik}, false)
			}
			return err
		})
	}
	for id, t := range l.tokens {
		if t.spent(now) {
			s.changed(recordToken, id)
		}
	}
}

// entryOf returns the map key of the answer, settle answer or approval
// r.
func entryOf(r Record) (idemKey, error) {
	if r.Kind == recordSettle {
		return idemKey{callerRef: r.Key}, nil
	}
	var e struct{ Owner, CallerReference string }
	if err := json.Unmarshal(r.Data, &e); err != nil {
		return idemKey{}, fmt.Errorf("%s %s: %w", r.Kind, r.Key, err)
	}
	return idemKey{e.Owner, e.CallerReference}, nil
}

// errStateFormat refuses records of another StateFormat.
var errStateFormat = errors.New("fpstest: the state was written in another format")

// load fills the ledger, new and not yet shared, with the live records
// of st: the accounts' balances and IPN URLs (of the configured accounts;
// a configured IPN URL wins over the one kept), the buyers' balance, the
// clock offset, the keys, and the live tokens, transactions, instruments
// and subscriptions. Records of format 1 are all read once and saved
// again with their Index.
func (l *Ledger) load(st Store) error {
	format, ok, err := st.Get(recordMeta, "format")
	if err != nil {
		return fmt.Errorf("fpstest: state: %w", err)
	}
	switch {
	case ok && string(format.Data) == "1":
		return l.upgrade(st)
	case ok && string(format.Data) != fmt.Sprint(StateFormat):
		return fmt.Errorf("%w: %s, this simulator reads %d", errStateFormat, format.Data, StateFormat)
	case !ok:
		l.store.changed(recordMeta, "format")
	}
	if err := st.Load(l.loadRecord); err != nil {
		return err
	}
	for _, t := range l.txs {
		if t.status == "Pending" {
			l.pending[t] = struct{}{}
		}
	}
	return nil
}

// kindsOfFormat1 are the kinds of records of StateFormat 1.
var kindsOfFormat1 = []string{recordAccount, recordToken, recordTx, recordInstrument, recordAnswer, recordSettle,
	recordApproval, recordBuyer, recordClock}

// upgrade reads every record of format 1 and marks it changed, so that
// it is saved again with its Index (and leaves memory unless live).
func (l *Ledger) upgrade(st Store) error {
	for _, kind := range kindsOfFormat1 {
		err := st.Find(Query{Kind: kind}, func(r Record) error {
			if err := l.loadRecord(r); err != nil {
				return err
			}
			switch kind {
			case recordAnswer, recordApproval, recordSettle:
				ik, err := entryOf(r)
				if err != nil {
					return err
				}
				l.store.changedEntry(kind, ik)
			default:
				l.store.changed(kind, r.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range l.txs {
		l.seq = max(l.seq, t.seq)
		if t.status == "Pending" {
			l.pending[t] = struct{}{}
		}
	}
	l.store.changed(recordMeta, "format")
	l.store.changed(recordMeta, "seq")
	return nil
}
