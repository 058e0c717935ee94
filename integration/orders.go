package integration

import (
	"errors"
	"fmt"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// OrderStatus is where an order stands in FPS's life cycle. It only moves
// forward, along Transitions.
type OrderStatus string

// The statuses of an order, in the order of the life cycle; OrderFailed
// and OrderCancelled end it early.
const (
	// OrderCreated: the link or the call was issued; nothing is approved.
	OrderCreated OrderStatus = "created"
	// OrderApproved: FPS confirmed the token the buyer approved (at his
	// return, or when Recover asked); the order's charge runs (or ran)
	// for it.
	OrderApproved OrderStatus = "approved"
	// OrderPending: a Pay or a Reserve is Pending at FPS.
	OrderPending OrderStatus = "pending"
	// OrderAuthorized: the amount is reserved (Reserve: Reserved).
	OrderAuthorized OrderStatus = "authorized"
	// OrderCapturing: a Settle of the reserved amount is Pending.
	OrderCapturing OrderStatus = "capturing"
	// OrderPaid: the buyer paid (Pay or Settle: Success).
	OrderPaid OrderStatus = "paid"
	// OrderPartlyRefunded: a part of what was paid is refunded.
	OrderPartlyRefunded OrderStatus = "partly-refunded"
	// OrderRefunded: all that was paid is refunded.
	OrderRefunded OrderStatus = "refunded"
	// OrderFailed: the Pay, Reserve or Settle failed.
	OrderFailed OrderStatus = "failed"
	// OrderCancelled: the payment or the reservation was cancelled.
	OrderCancelled OrderStatus = "cancelled"
)

// OrderEvent is what moves an order: the buyer's confirmed return, or a
// confirmed notification of one of its transactions.
type OrderEvent string

// The events of an order.
const (
	// EventReturned: the buyer came back with the token FPS holds for the
	// order.
	EventReturned OrderEvent = "returned"
	// EventPaymentPending: PAY or RESERVE, PENDING.
	EventPaymentPending OrderEvent = "payment pending"
	// EventReserved: RESERVE, RESERVED.
	EventReserved OrderEvent = "reserved"
	// EventPaid: PAY, SUCCESS.
	EventPaid OrderEvent = "paid"
	// EventCapturePending: SETTLE, PENDING.
	EventCapturePending OrderEvent = "capture pending"
	// EventCaptured: SETTLE, SUCCESS.
	EventCaptured OrderEvent = "captured"
	// EventFailed: PAY, RESERVE or SETTLE, FAILURE; or FPS refused the
	// order's charge for good (Config.Charge).
	EventFailed OrderEvent = "failed"
	// EventCancelled: CANCEL (or PAY, RESERVE), CANCELLED.
	EventCancelled OrderEvent = "cancelled"
	// EventRefundedInPart: REFUND, SUCCESS, refunding less than was paid
	// in all.
	EventRefundedInPart OrderEvent = "refunded in part"
	// EventRefundedInFull: REFUND, SUCCESS, refunding all that was paid.
	EventRefundedInFull OrderEvent = "refunded in full"
)

// Transition is one move of an order: From, on Event, To.
type Transition struct {
	From  OrderStatus
	Event OrderEvent
	To    OrderStatus
}

// transitions is the life cycle of an order, the one place it is written.
// An event moves an order only along a row here. Notifications may arrive
// in any order, so an event may skip the statuses before its own (a
// SETTLE SUCCESS delivered before the RESERVED moves a pending order
// straight to paid); no row leads back, and none leaves refunded, failed
// or cancelled. An event with no row for the order's status is kept in
// its history and moves nothing.
var transitions = []Transition{
	{OrderCreated, EventReturned, OrderApproved},

	{OrderCreated, EventPaymentPending, OrderPending},
	{OrderApproved, EventPaymentPending, OrderPending},

	{OrderCreated, EventReserved, OrderAuthorized},
	{OrderApproved, EventReserved, OrderAuthorized},
	{OrderPending, EventReserved, OrderAuthorized},

	{OrderCreated, EventCapturePending, OrderCapturing},
	{OrderApproved, EventCapturePending, OrderCapturing},
	{OrderPending, EventCapturePending, OrderCapturing},
	{OrderAuthorized, EventCapturePending, OrderCapturing},

	{OrderCreated, EventPaid, OrderPaid},
	{OrderApproved, EventPaid, OrderPaid},
	{OrderPending, EventPaid, OrderPaid},

	{OrderCreated, EventCaptured, OrderPaid},
	{OrderApproved, EventCaptured, OrderPaid},
	{OrderPending, EventCaptured, OrderPaid},
	{OrderAuthorized, EventCaptured, OrderPaid},
	{OrderCapturing, EventCaptured, OrderPaid},

	{OrderCreated, EventFailed, OrderFailed},
	{OrderApproved, EventFailed, OrderFailed},
	{OrderPending, EventFailed, OrderFailed},
	{OrderAuthorized, EventFailed, OrderFailed},
	{OrderCapturing, EventFailed, OrderFailed},

	{OrderCreated, EventCancelled, OrderCancelled},
	{OrderApproved, EventCancelled, OrderCancelled},
	{OrderPending, EventCancelled, OrderCancelled},
	{OrderAuthorized, EventCancelled, OrderCancelled},
	{OrderCapturing, EventCancelled, OrderCancelled},

	{OrderCreated, EventRefundedInPart, OrderPartlyRefunded},
	{OrderApproved, EventRefundedInPart, OrderPartlyRefunded},
	{OrderPending, EventRefundedInPart, OrderPartlyRefunded},
	{OrderAuthorized, EventRefundedInPart, OrderPartlyRefunded},
	{OrderCapturing, EventRefundedInPart, OrderPartlyRefunded},
	{OrderPaid, EventRefundedInPart, OrderPartlyRefunded},
	{OrderPartlyRefunded, EventRefundedInPart, OrderPartlyRefunded}, // one more partial refund

	{OrderCreated, EventRefundedInFull, OrderRefunded},
	{OrderApproved, EventRefundedInFull, OrderRefunded},
	{OrderPending, EventRefundedInFull, OrderRefunded},
	{OrderAuthorized, EventRefundedInFull, OrderRefunded},
	{OrderCapturing, EventRefundedInFull, OrderRefunded},
	{OrderPaid, EventRefundedInFull, OrderRefunded},
	{OrderPartlyRefunded, EventRefundedInFull, OrderRefunded},
}

// Transitions returns the life cycle of an order: every move an event
// makes.
func Transitions() []Transition { return append([]Transition(nil), transitions...) }

// NextStatus returns the status event e moves an order in status from
// to, and false when e does not move such an order.
func NextStatus(from OrderStatus, e OrderEvent) (OrderStatus, bool) {
	for _, t := range transitions {
		if t.From == from && t.Event == e {
			return t.To, true
		}
	}
	return from, false
}

// Order is one order of the shop, as the Store keeps it: what the buyer
// is asked to pay under its CallerReference, and where it stands.
type Order struct {
	// CallerReference identifies the order: the callerReference of its
	// pipeline and of its Pay or Reserve.
	CallerReference string
	// Amount is what the buyer pays; zero for a pipeline without an
	// amount.
	Amount fps.Amount
	// Description is the pipeline's paymentReason, or the caller
	// description of the call that created the order.
	Description string
	// RecipientEmail is the email of the account the order is paid to,
	// as FPS named it when it confirmed the order's payment; empty before.
	RecipientEmail string
	// TokenID is the sender token of the buyer's confirmed return.
	TokenID string
	// Status is where the order stands.
	Status OrderStatus
	// Paid is what the buyer paid: Amount once the Pay succeeded, the
	// settled amount once a Settle did.
	Paid decimal.Decimal
	// Refunded is the sum of the refunds that succeeded.
	Refunded decimal.Decimal
	// Created and Updated are when the order was recorded and last
	// changed.
	Created, Updated time.Time
	// Version counts the order's changes. A Store refuses a Change made
	// from an older version (ErrConflict).
	Version int64
}

// Transaction is one transaction of an order: its Pay or Reserve (under
// the order's CallerReference) or one of its refunds (under a reference
// of its own).
type Transaction struct {
	// CallerReference is the transaction's own: every one the
	// integration issues maps to its order.
	CallerReference string
	// ID is FPS's transaction id; empty until FPS answered or notified.
	ID string
	// Operation is fps.FPSOperationPay, FPSOperationReserve or
	// FPSOperationRefund.
	Operation fps.FPSOperation
	// Amount is the amount asked for.
	Amount fps.Amount
	// ParentID is the refunded transaction of a refund.
	ParentID string
	// Step is the last step confirmed: PAY, RESERVE, SETTLE, CANCEL or
	// REFUND; empty before any.
	Step fps.NotificationOperation
	// Status is the status of that step; empty before any.
	Status fps.TransactionStatus
}

// HistoryEntry is one thing that happened to an order: its confirmed
// return, or a confirmed notification, whether it moved the order or
// came late and moved nothing.
type HistoryEntry struct {
	At time.Time
	// Key identifies the entry in the order's history: "return", or the
	// notification's Key.
	Key string
	// Event is what the entry reports; empty for a notification that
	// moves no order (a refund pending or failed, a token cancelled).
	Event OrderEvent
	// From and To are the order's status before and after; equal when
	// the entry did not move the order.
	From, To OrderStatus
	// Moved reports whether the entry changed the order's status (or,
	// for one more partial refund, what it refunded).
	Moved bool
	// Note says what happened, in words.
	Note string
	// CallbackDue is true for a change whose notification callback has not
	// succeeded yet, and for the approval (ReturnKey) whose charge has
	// not ended yet (a charge whose app server died stays so once an IPN
	// moved the order past approved: it is never run again then).
	CallbackDue bool
}

// The history keys of the entries that come from no notification.
const (
	// ReturnKey is the key of the order's approval: the buyer's confirmed
	// return, or Recover's finding that FPS holds his token. The claim of
	// the order's charge is kept on it.
	ReturnKey = "return"
	// ChargeKey is the key of the entry of a charge FPS refused for good.
	ChargeKey = "charge"
)

// Errors of the orders; test with errors.Is.
var (
	// ErrUnknownOrder: no order of the shop has that callerReference (or
	// that transaction id).
	ErrUnknownOrder = errors.New("integration: unknown order")
	// ErrOrderMismatch: a message or a call does not match its order:
	// another amount, another currency, another order's reference.
	ErrOrderMismatch = errors.New("integration: does not match the order")
)

// operationOf is the transaction operation a notification's step belongs
// to.
var operationOf = map[fps.NotificationOperation]fps.FPSOperation{
	fps.NotificationOperationPay: fps.FPSOperationPay, fps.NotificationOperationReserve: fps.FPSOperationReserve,
	fps.NotificationOperationSettle: fps.FPSOperationReserve, fps.NotificationOperationCancel: fps.FPSOperationReserve,
	fps.NotificationOperationRefund: fps.FPSOperationRefund,
}

// stepOf reports whether step (an IPN operation) is a step of a
// transaction of operation op.
func stepOf(step fps.NotificationOperation, op fps.FPSOperation) bool {
	return operationOf[step] == op || (step == fps.NotificationOperationCancel && op == fps.FPSOperationPay)
}

// eventOf is the order event that the confirmed notification n reports
// for o, or "" when it reports none.
func eventOf(o Order, n *fps.Notification) OrderEvent {
	st := n.TransactionStatus
	switch n.Operation {
	case fps.NotificationOperationPay, fps.NotificationOperationReserve:
		switch st {
		case fps.TransactionStatusPending:
			return EventPaymentPending
		case fps.TransactionStatusReserved:
			if n.Operation == fps.NotificationOperationReserve {
				return EventReserved
			}
		case fps.TransactionStatusSuccess:
			if n.Operation == fps.NotificationOperationPay {
				return EventPaid
			}
		case fps.TransactionStatusFailure:
			return EventFailed
		case fps.TransactionStatusCancelled:
			return EventCancelled
		}
	case fps.NotificationOperationSettle:
		switch st {
		case fps.TransactionStatusPending:
			return EventCapturePending
		case fps.TransactionStatusSuccess:
			return EventCaptured
		case fps.TransactionStatusFailure:
			return EventFailed
		}
	case fps.NotificationOperationCancel:
		if st == fps.TransactionStatusCancelled {
			return EventCancelled
		}
	case fps.NotificationOperationRefund:
		if st == fps.TransactionStatusSuccess {
			paid := o.Paid
			if !paid.IsPositive() { // its PAY or SETTLE SUCCESS not seen yet
				paid = o.Amount.Value
			}
			if o.Refunded.Add(n.TransactionAmount.Value).LessThan(paid) {
				return EventRefundedInPart
			}
			return EventRefundedInFull
		}
	}
	return ""
}

// approved is the change the confirmed token tokenID makes to o (note
// says how it was learnt), and false when o is past created (approved
// already). Its entry holds the claim of the order's charge, due.
func approved(o Order, tokenID, note string, at time.Time) (Change, bool) {
	to, ok := NextStatus(o.Status, EventReturned)
	if !ok {
		return Change{}, false
	}
	e := HistoryEntry{At: at, Key: ReturnKey, Event: EventReturned, From: o.Status, To: to, Moved: true, CallbackDue: true,
		Note: fmt.Sprintf("%s, token %s", note, tokenID)}
	o.Status, o.TokenID, o.Updated = to, tokenID, at
	return Change{Order: o, Entry: e}, true
}

// refused is the change a charge FPS refused for good (err) makes to o,
// and false when o is no longer approved.
func refused(o Order, err error, at time.Time) (Change, bool) {
	to, ok := NextStatus(o.Status, EventFailed)
	if !ok || o.Status != OrderApproved {
		return Change{}, false
	}
	e := HistoryEntry{At: at, Key: ChargeKey, Event: EventFailed, From: o.Status, To: to, Moved: true,
		Note: "FPS refused the charge: " + err.Error()}
	o.Status, o.Updated = to, at
	return Change{Order: o, Entry: e}, true
}

// notified is the change the confirmed notification sn makes to o, whose
// transactions are txs; d is its transaction as FPS holds it (nil for a
// TokenCancellation). callback tells whether a change will have its
// callback run.
func notified(o Order, txs []Transaction, sn *StoredNotification, d *fps.TransactionDetail, callback bool) Change {
	n := &sn.Notification
	at := sn.ReceivedAt
	e := HistoryEntry{At: at, Key: sn.Key, From: o.Status, To: o.Status, Note: describe(n)}
	c := Change{Entry: e, Notification: sn}
	if n.Type != fps.NotificationTypeTransactionStatus {
		o.Updated = at
		c.Order = o
		return c
	}
	t := Transaction{CallerReference: n.CallerReference, ID: n.TransactionID, Operation: operationOf[n.Operation],
		Amount: n.TransactionAmount, ParentID: n.ParentTransactionID}
	for _, x := range txs {
		if x.CallerReference == n.CallerReference {
			t = x
		}
	}
	if t.ID == "" {
		t.ID = n.TransactionID
	}
	ev := eventOf(o, n)
	switch {
	case ev == "":
	case !stepOf(n.Operation, t.Operation) || t.ID != n.TransactionID:
		c.Entry.Note += fmt.Sprintf("; not a step of the order's %s %s", t.Operation, t.ID)
		ev = ""
	case (n.Operation == fps.NotificationOperationPay || n.Operation == fps.NotificationOperationReserve) && !o.Amount.IsZero() &&
		(n.TransactionAmount.Currency() != o.Amount.Currency() || !n.TransactionAmount.Value.Equal(o.Amount.Value)):
		c.Entry.Note += fmt.Sprintf("; %v: the order is %s", ErrOrderMismatch, o.Amount)
		ev = ""
	}
	c.Entry.Event = ev
	if ev != "" && o.RecipientEmail == "" && d != nil && t.Operation != fps.FPSOperationRefund {
		o.RecipientEmail = d.RecipientEmail
	}
	switch ev {
	case EventPaid, EventCaptured:
		o.Paid = n.TransactionAmount.Value
	case EventRefundedInPart, EventRefundedInFull:
		o.Refunded = o.Refunded.Add(n.TransactionAmount.Value)
	}
	if to, ok := NextStatus(o.Status, ev); ok && ev != "" {
		o.Status = to
		c.Entry.To, c.Entry.Moved, c.Entry.CallbackDue = to, true, callback
	}
	if c.Entry.Moved || t.Status == "" || (t.Operation == fps.FPSOperationRefund && !t.Status.Final()) {
		t.Step, t.Status = n.Operation, n.TransactionStatus
	}
	o.Updated = at
	c.Order, c.Transaction = o, &t
	return c
}

// describe says what a notification reports.
func describe(n *fps.Notification) string {
	if n.Type == fps.NotificationTypeTokenCancellation {
		return fmt.Sprintf("token %s cancelled", n.TokenID)
	}
	return fmt.Sprintf("%s %s %s, transaction %s", n.Operation, n.Status, n.TransactionAmount, n.TransactionID)
}
