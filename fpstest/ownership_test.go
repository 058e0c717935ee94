package fpstest_test

import (
	"context"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// intruder is a second merchant account of the ownership tests.
var intruder = fpstest.Account{AccessKeyID: "AKIAINTRUDER", SecretAccessKey: "intruder-secret", Name: "Intruder", Email: "intruder@example.com"}

// callAs POSTs action signed with the keys of account a.
func callAs(t testing.TB, s *fpstest.Server, a fpstest.Account, action string, params map[string]string) (int, string) {
	t.Helper()
	return send(t, s, http.MethodPost, signedAs(t, s, a.AccessKeyID, a.SecretAccessKey, http.MethodPost, action, params))
}

// TestAnAccountSeesOnlyItsOwn names the default account's transactions,
// tokens and callerReferences in every action that takes one, signed by
// another account: each is answered with the error FPS gives for one
// that does not exist (spec §4.3), word for word but for the id, and
// leaves the default account's state as it was.
func TestAnAccountSeesOnlyItsOwn(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.Accounts = []fpstest.Account{fpstest.DefaultAccount(), intruder} })
	ctx := context.Background()
	multi := install(t, s, "ABT", fpstest.TokenMultiUse)
	recurring := install(t, s, "ABT", fpstest.TokenRecurring)
	paid := okTxFn(t)(pay(t, s, "Pay", multi, "5", "own-pay"))
	reserved := okTxFn(t)(pay(t, s, "Reserve", multi, "5", "own-res"))
	okTxFn(t)(pay(t, s, "Pay", recurring, "5", "own-sub-pay"))
	rcp, err := s.Buy(ctx, pipelineURL(t, s, map[string]string{"pipelineName": "Recipient", "callerReference": "own-rcp",
		"returnURL": "http://127.0.0.1:9/r", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}), fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	recipient := rcp.Query().Get("tokenID")
	single, err := s.Buy(ctx, pipelineURL(t, s, singleUse("own-single")), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	singleToken := single.Query().Get("tokenID")
	require.NotEmpty(t, singleToken)

	// Each case names one of the default account's things (mine) and an
	// id that exists nowhere (none); the intruder gets the same answer
	// for both.
	const none = "NOSUCHID0NOSUCHID0NOSUCHID0NOSUCH00"
	cases := []struct {
		action string
		params func(id string) map[string]string
		mine   string
		code   string
	}{
		{"GetTransaction", func(id string) map[string]string { return map[string]string{"TransactionId": id} }, paid.TransactionID, "InvalidTransactionId"},
		{"GetTransactionStatus", func(id string) map[string]string { return map[string]string{"TransactionId": id} }, paid.TransactionID, "InvalidTransactionId"},
		{"Refund", func(id string) map[string]string {
			return map[string]string{"TransactionId": id, "CallerReference": "intruder-refund-" + id, "RefundAmount.Value": "1", "RefundAmount.CurrencyCode": "USD"}
		}, paid.TransactionID, "InvalidTransactionId"},
		{"Cancel", func(id string) map[string]string { return map[string]string{"TransactionId": id} }, reserved.TransactionID, "InvalidTransactionId"},
		{"Settle", func(id string) map[string]string { return map[string]string{"ReserveTransactionId": id} }, reserved.TransactionID, "InvalidTransactionId"},
		{"GetTokenByCaller", func(id string) map[string]string { return map[string]string{"TokenId": id} }, multi, "InvalidTokenId"},
		{"GetTokenByCaller", func(ref string) map[string]string { return map[string]string{"CallerReference": ref} }, "own-single", "InvalidCallerReference"},
		{"GetTokenUsage", func(id string) map[string]string { return map[string]string{"TokenId": id} }, multi, "InvalidTokenId"},
		{"GetPaymentInstruction", func(id string) map[string]string { return map[string]string{"TokenId": id} }, multi, "InvalidTokenId"},
		{"CancelToken", func(id string) map[string]string { return map[string]string{"TokenId": id} }, multi, "InvalidTokenId"},
		{"Pay", func(id string) map[string]string {
			return map[string]string{"SenderTokenId": id, "TransactionAmount.Value": "1", "TransactionAmount.CurrencyCode": "USD", "CallerReference": "intruder-pay-" + id}
		}, singleToken, "InvalidTokenId_Sender"},
		{"Reserve", func(id string) map[string]string {
			return map[string]string{"SenderTokenId": id, "TransactionAmount.Value": "1", "TransactionAmount.CurrencyCode": "USD", "CallerReference": "intruder-res-" + id}
		}, multi, "InvalidTokenId_Sender"},
		{"GetRecipientVerificationStatus", func(id string) map[string]string { return map[string]string{"RecipientTokenId": id} }, recipient, "InvalidTokenId_Recipient"},
		{"CancelSubscriptionAndRefund", func(id string) map[string]string { return map[string]string{"SubscriptionId": id} }, recurring, "InvalidParams"},
	}
	for _, tc := range cases {
		t.Run(tc.action+"/"+strings.Join(slices.Sorted(maps.Keys(tc.params("x"))), ","), func(t *testing.T) {
			status, body := callAs(t, s, intruder, tc.action, tc.params(tc.mine))
			requireError(t, status, body, http.StatusBadRequest, tc.code)
			var e errorDoc
			require.NoError(t, xml.Unmarshal([]byte(body), &e))
			status, body = callAs(t, s, intruder, tc.action, tc.params(none))
			requireError(t, status, body, http.StatusBadRequest, tc.code)
			var f errorDoc
			require.NoError(t, xml.Unmarshal([]byte(body), &f))
			require.Equal(t, strings.ReplaceAll(f.Message, none, "ID"), strings.ReplaceAll(e.Message, tc.mine, "ID"),
				"another account's %s is answered as one that does not exist", tc.mine)
		})
	}

	// Lists hold the caller's own alone.
	status, body := callAs(t, s, intruder, "GetTokens", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, "<Token>")
	status, body = callAs(t, s, intruder, "GetAccountActivity", map[string]string{"StartDate": s.Clock().Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<BatchSize>0</BatchSize>")

	// Nothing of the default account changed.
	for id, want := range map[string]string{multi: "Active", recurring: "Active", singleToken: "Active"} {
		got, ok := s.Ledger().TokenStatus(id)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	for _, tx := range s.Ledger().Transactions() {
		require.Equal(t, fpstest.DefaultAccessKeyID, tx.AccessKeyID, "no transaction of the intruder's: %+v", tx)
		require.True(t, tx.RefundedAmount.IsZero())
		require.True(t, tx.SettledAmount.IsZero())
	}
	status, body = call(t, s, "GetTransactionStatus", map[string]string{"TransactionId": reserved.TransactionID})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<TransactionStatus>Reserved</TransactionStatus>")
}

// TestSettleReplayIsTheCallersOwn: the identical Settle sent again by the
// account that settled answers the first answer again; the same Settle
// signed by another account is InvalidTransactionId, never the owner's
// answer.
func TestSettleReplayIsTheCallersOwn(t *testing.T) {
	s := newServer(t, func(c *fpstest.Config) { c.Accounts = []fpstest.Account{fpstest.DefaultAccount(), intruder} })
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	reserved := okTxFn(t)(pay(t, s, "Reserve", tok, "5", "replay-res"))
	params := map[string]string{"ReserveTransactionId": reserved.TransactionID, "TransactionAmount.Value": "5", "TransactionAmount.CurrencyCode": "USD"}
	status, first := call(t, s, "Settle", params)
	okTx(t, status, first)

	status, body := callAs(t, s, intruder, "Settle", params)
	requireError(t, status, body, http.StatusBadRequest, "InvalidTransactionId")
	require.NotContains(t, body, reserved.TransactionID+"</TransactionId>")

	status, again := call(t, s, "Settle", params)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, first, again, "the owner's replay answers the first answer")
	require.Equal(t, 1, s.Ledger().SettleCount(reserved.TransactionID))
}
