package fpstest

import (
	"slices"
	"time"
)

// What the ledger forgets, so that a simulator runs for weeks in memory
// that stays flat: the answers it keeps for idempotency (under a
// CallerReference, of a Settle) and the results of approved pipelines,
// IdempotencyWindow after they were first given; a completed transaction
// and a token that can no longer pay, the retention after their last
// change.

// DefaultRetention is how long (simulator time) a simulator keeps a
// completed transaction and a token that can no longer pay when
// Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// expiryKind names the map an expiring entry is in.
type expiryKind uint8

const (
	expiresAnswer   expiryKind = iota // Ledger.idem
	expiresSettle                     // Ledger.settles, key.callerRef the Reserve's id
	expiresApproval                   // Ledger.approved
)

// expiry is an entry made at at, to forget IdempotencyWindow later.
type expiry struct {
	kind expiryKind
	key  idemKey
	at   time.Time
}

// remember queues the entry of kind under key, made at at, to be
// forgotten. Called with l locked.
func (l *Ledger) remember(kind expiryKind, key idemKey, at time.Time) {
	l.expiries = append(l.expiries, expiry{kind: kind, key: key, at: at})
}

// forget drops what fell due at now: the entries queued by remember (in
// the order made; an entry made again since is kept), then, at most once
// per retention sweep interval, the completed transactions and spent
// tokens past the retention. Called with l locked.
func (l *Ledger) forget(now time.Time) {
	for len(l.expiries) > l.expHead && now.Sub(l.expiries[l.expHead].at) >= IdempotencyWindow {
		e := l.expiries[l.expHead]
		l.expiries[l.expHead] = expiry{}
		l.expHead++
		switch e.kind {
		case expiresAnswer:
			if x, ok := l.idem[e.key]; ok && x.at.Equal(e.at) {
				delete(l.idem, e.key)
				l.store.removedEntry(recordAnswer, e.key)
			}
		case expiresSettle:
			if x, ok := l.settles[e.key.callerRef]; ok && x.at.Equal(e.at) {
				delete(l.settles, e.key.callerRef)
				l.store.removedEntry(recordSettle, e.key)
			}
		case expiresApproval:
			if x, ok := l.approved[e.key]; ok && x.at.Equal(e.at) {
				delete(l.approved, e.key)
				l.store.removedEntry(recordApproval, e.key)
			}
		}
	}
	// The queue's memory is given back once most of it was read.
	if l.expHead > 64 && 2*l.expHead > len(l.expiries) {
		l.expiries = slices.Clone(l.expiries[l.expHead:])
		l.expHead = 0
	}
	if l.cfg.retention > 0 && !now.Before(l.nextRetain) {
		l.retain(now)
		l.nextRetain = now.Add(retainEvery(l.cfg.retention))
	}
}

// retainEvery is how often (simulator time) the retention is applied: a
// thirtieth of it, at least a minute.
func retainEvery(retention time.Duration) time.Duration {
	return max(retention/30, time.Minute)
}

// retain forgets the transactions completed (Success, Failure or
// Cancelled) before now less the retention, and the tokens that can no
// longer pay whose last change is that old. Called with l locked.
func (l *Ledger) retain(now time.Time) {
	cut := now.Add(-l.cfg.retention)
	kept := l.order[:0]
	for _, t := range l.order {
		if completed(t.status) && t.completed.Before(cut) {
			delete(l.txs, t.id)
			l.store.removed(recordTx, t.id)
			continue
		}
		kept = append(kept, t)
	}
	clear(l.order[len(kept):])
	l.order = kept
	for id, t := range l.tokens {
		if spent, since := t.spent(now); spent && since.Before(cut) {
			delete(l.tokens, id)
			l.store.removed(recordToken, id)
		}
	}
}

// completed reports whether a transaction in status can change no more.
func completed(status string) bool {
	return status == "Success" || status == "Failure" || status == "Cancelled"
}

// spent reports whether t can pay no more at now (cancelled, expired, or
// a single-use token used), and since when.
func (t *token) spent(now time.Time) (bool, time.Time) {
	switch {
	case t.status != "Active", t.typ == TokenSingleUse && t.uses > 0:
		return true, t.changed
	case !t.expiry.IsZero() && !now.Before(t.expiry):
		if t.expiry.After(t.changed) {
			return true, t.expiry
		}
		return true, t.changed
	}
	return false, time.Time{}
}
