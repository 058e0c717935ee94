package fpstest

import (
	"slices"
	"time"
)

// What the ledger forgets: the answers it keeps for idempotency (under a
// CallerReference, of a Settle) and the results of approved pipelines,
// IdempotencyWindow after they were first given, as FPS did. Nothing
// else: every transaction, token, subscription and instrument stays
// answerable for the life of the state. Without a Store the entries to
// forget wait in a queue in memory; with one they are found in the Store
// by their time (forgetExpired).

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
// forgotten, when the ledger has no Store. Called with l locked.
func (l *Ledger) remember(kind expiryKind, key idemKey, at time.Time) {
	if l.store == nil {
		l.expiries = append(l.expiries, expiry{kind: kind, key: key, at: at})
	}
}

// forget drops what fell due at now: with a Store, what forgetExpired
// finds; without, the entries queued by remember, in the order made (an
// entry made again since is kept). Called with l locked.
func (l *Ledger) forget(now time.Time) {
	if l.store != nil {
		l.forgetExpired(now)
		return
	}
	for len(l.expiries) > l.expHead && now.Sub(l.expiries[l.expHead].at) >= IdempotencyWindow {
		e := l.expiries[l.expHead]
		l.expiries[l.expHead] = expiry{}
		l.expHead++
		switch e.kind {
		case expiresAnswer:
			if x, ok := l.idem[e.key]; ok && x.at.Equal(e.at) {
				delete(l.idem, e.key)
			}
		case expiresSettle:
			if x, ok := l.settles[e.key.callerRef]; ok && x.at.Equal(e.at) {
				delete(l.settles, e.key.callerRef)
			}
		case expiresApproval:
			if x, ok := l.approved[e.key]; ok && x.at.Equal(e.at) {
				delete(l.approved, e.key)
			}
		}
	}
	// The queue's memory is given back once most of it was read.
	if l.expHead > 64 && 2*l.expHead > len(l.expiries) {
		l.expiries = slices.Clone(l.expiries[l.expHead:])
		l.expHead = 0
	}
}

// completed reports whether a transaction in status can change no more.
func completed(status string) bool {
	return status == "Success" || status == "Failure" || status == "Cancelled"
}

// spent reports whether t can pay no more at now: cancelled, expired, or
// a single-use token used (until a Cancel gives the use back).
func (t *token) spent(now time.Time) bool {
	return t.status != "Active" || t.typ == TokenSingleUse && t.uses > 0 || !t.expiry.IsZero() && !now.Before(t.expiry)
}
