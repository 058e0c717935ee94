package fps

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fields lists the Field of every problem in err, which must be an
// *InvalidParamsError.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var ipe *InvalidParamsError
	require.ErrorAs(t, err, &ipe)
	names := make([]string, len(ipe.Errs))
	for i, ve := range ipe.Errs {
		names[i] = ve.Field
		require.NotEmpty(t, ve.Rule, ve.Field)
	}
	return names
}

// An action with several bad parameters names them all, in the order of
// its parameters, before anything is sent; errors.As still finds a
// *ValidationError, the first.
func TestInvalidParamsListsEveryField(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 500, "")
	})
	c := newTestClient(t, f)
	ctx := context.Background()

	_, err := c.Pay(ctx, &PayInput{
		TransactionAmount:      Amount{Value: dec("1.005"), CurrencyCode: "EUR"},
		ChargeFeeTo:            "Nobody",
		CallerDescription:      strings.Repeat("x", MaxCallerDescriptionLength+1),
		DescriptorPolicy:       DescriptorPolicy{CSOwner: "caller"},
		MarketplaceVariableFee: dec("101"),
	})
	want := []string{"SenderTokenId", "TransactionAmount.CurrencyCode", "TransactionAmount.Value", "ChargeFeeTo",
		"CallerReference", "CallerDescription", "DescriptorPolicy.CSOwner", "MarketplaceVariableFee"}
	require.Equal(t, want, fields(t, err))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "SenderTokenId", ve.Field, "errors.As finds the first")
	require.Contains(t, err.Error(), "operation error FPS: Pay, fps: 8 invalid parameters: SenderTokenId: is required; ")
	for _, f := range want {
		require.Contains(t, err.Error(), " "+f+": ")
	}
	require.False(t, MayHaveMoved(err))

	_, err = c.Refund(ctx, &RefundInput{})
	require.EqualError(t, err, "operation error FPS: Refund, fps: 2 invalid parameters: TransactionId: is required; CallerReference: is required")

	_, err = c.GetAccountActivity(ctx, &GetAccountActivityInput{
		MaxBatchSize: -1, SortOrderByDate: "Sideways", Role: []TransactionalRole{RoleSender, "Buyer"}, TransactionStatus: "Done",
	})
	require.Equal(t, []string{"StartDate", "MaxBatchSize", "SortOrderByDate", "Role.2", "TransactionStatus"}, fields(t, err))

	// One problem reads as that problem alone.
	_, err = c.Cancel(ctx, &CancelInput{})
	require.Equal(t, []string{"TransactionId"}, fields(t, err))
	require.EqualError(t, err, "operation error FPS: Cancel, fps: invalid TransactionId: is required")

	require.Zero(t, f.hits.Load(), "no request may be sent for invalid input")
}

// Unwrap gives every *ValidationError to errors.Is and errors.As.
func TestInvalidParamsUnwrap(t *testing.T) {
	a, b := invalid("A", "is required"), invalid("B", "must be %d", 2)
	err := error(&InvalidParamsError{Errs: []*ValidationError{a, b}})
	require.ErrorIs(t, err, a)
	require.ErrorIs(t, err, b)
	require.False(t, errors.Is(err, invalid("A", "is required")), "the same values are another error")
	require.Equal(t, []error{a, b}, err.(*InvalidParamsError).Unwrap())
	require.EqualError(t, err, "fps: 2 invalid parameters: A: is required; B: must be 2")
	require.Nil(t, invalidParams(nil))
}
