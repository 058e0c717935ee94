package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fpskit/fps"
)

// FPSAPI is what the handlers ask FPS before a message moves an order,
// with the shop's own credentials. *fps.Client implements it.
type FPSAPI interface {
	GetTransaction(ctx context.Context, in *fps.GetTransactionInput, optFns ...func(*fps.Options)) (*fps.GetTransactionOutput, error)
	GetTokenByCaller(ctx context.Context, in *fps.GetTokenByCallerInput, optFns ...func(*fps.Options)) (*fps.GetTokenByCallerOutput, error)
}

// ErrNotConfirmed is wrapped by the error of a message that FPS, asked
// with the shop's credentials, does not confirm: a transaction or token
// that is not the shop's, or that says something else than the message.
var ErrNotConfirmed = errors.New("integration: FPS does not confirm it")

// notTheShops are the error codes FPS answers for a transaction, token or
// callerReference that is not the caller's (spec §4.3), or an id that
// names none.
var notTheShops = []fps.ErrorCode{fps.ErrCodeInvalidTransactionID, fps.ErrCodeInvalidTokenID, fps.ErrCodeInvalidCallerReference, fps.ErrCodeInvalidParams}

// asked wraps the error of a confirmation call: ErrNotConfirmed for FPS's
// answer that the thing is not the shop's, the error as it is otherwise
// (FPS could not be reached or answered 5xx: try again later).
func asked(action string, err error) error {
	var ae *fps.APIError
	if errors.As(err, &ae) && slices.Contains(notTheShops, ae.Code) {
		return fmt.Errorf("%w: %s answered %s: %s", ErrNotConfirmed, action, ae.Code, ae.Message)
	}
	return fmt.Errorf("integration: %s: %w", action, err)
}

func notConfirmed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrNotConfirmed}, args...)...)
}

// confirmReturn confirms a successful return: FPS holds ret.TokenID, Active,
// for the shop under ret.CallerReference.
func confirmReturn(ctx context.Context, api FPSAPI, ret *fps.PipelineReturn) error {
	_, err := heldToken(ctx, api, ret.CallerReference, ret.TokenID)
	return err
}

// heldToken returns the token FPS holds for the shop under
// callerReference ref, when it is Active and, unless tokenID is empty,
// is tokenID; else an error wrapping ErrNotConfirmed (or the error of
// the call).
func heldToken(ctx context.Context, api FPSAPI, ref, tokenID string) (*fps.Token, error) {
	out, err := api.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: ref})
	if err != nil {
		return nil, asked("GetTokenByCaller", err)
	}
	switch tok := out.Token; {
	case tok == nil:
		return nil, notConfirmed("FPS holds no token for callerReference %q", ref)
	case (tokenID != "" && tok.TokenID != tokenID) || tok.CallerReference != ref:
		return nil, notConfirmed("the token of callerReference %q is not the return's %s", ref, tokenID)
	case tok.TokenStatus != fps.TokenStatusActive:
		return nil, notConfirmed("token %s is %s", tok.TokenID, tok.TokenStatus)
	default:
		return tok, nil
	}
}

// confirmNotification confirms n with FPS: its transaction is the shop's
// and went through what n says (the transaction as FPS holds it is
// returned), or its token is the shop's (nil is returned).
func confirmNotification(ctx context.Context, api FPSAPI, n *fps.Notification) (*fps.TransactionDetail, error) {
	if n.Type == fps.NotificationTypeTokenCancellation {
		out, err := api.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{TokenID: n.TokenID})
		if err != nil {
			return nil, asked("GetTokenByCaller", err)
		}
		if out.Token == nil || out.Token.TokenID != n.TokenID || out.Token.CallerReference != n.CallerReference {
			return nil, notConfirmed("token %s is not the shop's of callerReference %q", n.TokenID, n.CallerReference)
		}
		return nil, nil
	}
	out, err := api.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: n.TransactionID})
	if err != nil {
		return nil, asked("GetTransaction", err)
	}
	return &out.Transaction, matches(&out.Transaction, n)
}

// fpsOperations are the FPSOperation values a transaction may have for
// each IPN operation: a settled or cancelled Reserve keeps its id.
var fpsOperations = map[fps.NotificationOperation][]fps.FPSOperation{
	fps.NotificationOperationPay:     {fps.FPSOperationPay},
	fps.NotificationOperationReserve: {fps.FPSOperationReserve},
	fps.NotificationOperationSettle:  {fps.FPSOperationReserve, fps.FPSOperationSettle},
	fps.NotificationOperationCancel:  {fps.FPSOperationReserve, fps.FPSOperationPay},
	fps.NotificationOperationRefund:  {fps.FPSOperationRefund},
}

// matches checks that the transaction FPS holds is the one n reports on:
// same id, callerReference, operation and currency, and a status it went
// through, for n's amount.
func matches(d *fps.TransactionDetail, n *fps.Notification) error {
	switch {
	case d.TransactionID != n.TransactionID:
		return notConfirmed("GetTransaction answered transaction %s for %s", d.TransactionID, n.TransactionID)
	case d.CallerReference != n.CallerReference:
		return notConfirmed("transaction %s has callerReference %q, the notification %q", n.TransactionID, d.CallerReference, n.CallerReference)
	case d.FPSOperation != "" && !slices.Contains(fpsOperations[n.Operation], d.FPSOperation):
		return notConfirmed("transaction %s is a %s, the notification reports %s", n.TransactionID, d.FPSOperation, n.Operation)
	case d.TransactionAmount.Currency() != n.TransactionAmount.Currency():
		return notConfirmed("transaction %s is in %s, the notification in %s", n.TransactionID, d.TransactionAmount.Currency(), n.TransactionAmount.Currency())
	}
	if n.TransactionStatus == "" {
		// A status word that is no transaction status (a refund's
		// INITIATED): the transaction is the shop's; it moves nothing.
		return amountMatches(d, n, nil)
	}
	var seen []fps.StatusHistory
	for _, h := range d.StatusHistory {
		if h.TransactionStatus == n.TransactionStatus {
			seen = append(seen, h)
		}
	}
	if len(seen) == 0 && d.TransactionStatus != n.TransactionStatus {
		return notConfirmed("transaction %s never was %s (it is %s)", n.TransactionID, strings.ToUpper(string(n.TransactionStatus)), d.TransactionStatus)
	}
	return amountMatches(d, n, seen)
}

// amountMatches checks n's amount: the amount of one of the history
// entries of its status when FPS gave them one, else the transaction's
// (at most that for a Settle, which may take a part).
func amountMatches(d *fps.TransactionDetail, n *fps.Notification, seen []fps.StatusHistory) error {
	got := n.TransactionAmount.Value
	given := false
	for _, h := range seen {
		if h.Amount.IsZero() {
			continue
		}
		given = true
		if h.Amount.Value.Equal(got) {
			return nil
		}
	}
	want := d.TransactionAmount.Value
	switch {
	case given:
	case n.Operation == "SETTLE" && !got.GreaterThan(want):
		return nil
	case got.Equal(want):
		return nil
	}
	return notConfirmed("transaction %s is not of %s", n.TransactionID, n.TransactionAmount)
}
