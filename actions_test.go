package fps

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/fpskit/fps/internal/actionmethods"
	"github.com/stretchr/testify/require"
)

// clientActions are the action methods of *Client.
func clientActions(t *testing.T) []actionmethods.Method {
	t.Helper()
	methods := actionmethods.Of(reflect.TypeFor[*Client]())
	require.NotEmpty(t, methods)
	return methods
}

// TestEveryActionIsNamedAfterItsMethod calls every action method with its
// zero input: the error, whether the input was refused before sending or
// FPS answered, names the method's action, and so does a request sent.
func TestEveryActionIsNamedAfterItsMethod(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 400, errBody("InvalidParams", "recorded"))
	})
	c := newTestClient(t, f)
	for _, m := range clientActions(t) {
		t.Run(m.Name, func(t *testing.T) {
			sent := f.hits.Load()
			res := m.Func.Call([]reflect.Value{reflect.ValueOf(c), reflect.ValueOf(context.Background()), reflect.New(m.Input.Elem())})
			err, _ := res[1].Interface().(error)
			require.Error(t, err)
			var oe *smithy.OperationError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, m.Name, oe.OperationName)
			if f.hits.Load() > sent {
				require.Equal(t, m.Name, f.form(int(sent)).Get("Action"))
			}
		})
	}
}

// TestPerCallOptionsReachTheRequest: option functions given to one call
// sign and log that call, and leave the client's own options as they were.
func TestPerCallOptionsReachTheRequest(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, form url.Values, _ int) {
		writeXML(w, 200, inVersion(sampleGetTransactionStatus, form.Get("Version")))
	})
	c := newTestClient(t, f)
	var logged bytes.Buffer
	at := time.Date(2011, 5, 6, 7, 8, 9, 0, time.UTC)
	ctx := context.Background()
	in := &GetTransactionStatusInput{TransactionID: "T1"}
	_, err := c.GetTransactionStatus(ctx, in, func(o *Options) {
		o.Clock = func() time.Time { return at }
		o.APIVersion = "2010-08-28"
		o.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	require.NoError(t, err)
	require.Equal(t, "2011-05-06T07:08:09Z", f.form(0).Get("Timestamp"))
	require.Equal(t, "2010-08-28", f.form(0).Get("Version"))
	require.Contains(t, logged.String(), "action=GetTransactionStatus")

	logged.Reset()
	_, err = c.GetTransactionStatus(ctx, in)
	require.NoError(t, err)
	require.Equal(t, DefaultAPIVersion, f.form(1).Get("Version"))
	require.NotEqual(t, "2011-05-06T07:08:09Z", f.form(1).Get("Timestamp"))
	require.Empty(t, logged.String(), "the client's own options are unchanged")
}

// TestReconcilerUsesTheCallsOptions: the status lookup after a lost
// Settle answer runs with the option functions of the Settle call.
func TestReconcilerUsesTheCallsOptions(t *testing.T) {
	f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") != "GetTransactionStatus" {
			return false
		}
		writeXML(w, 200, inVersion(statusBody("RESERVE1", TransactionStatusSuccess), APIVersion20100828))
		return true
	}))
	c := newTestClient(t, f)
	out, err := c.Settle(context.Background(), &SettleInput{ReserveTransactionID: "RESERVE1"},
		func(o *Options) { o.APIVersion = "2010-08-28" })
	require.NoError(t, err)
	require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
	require.Equal(t, 1, countAction(f, "GetTransactionStatus"))
	for i := range int(f.hits.Load()) {
		require.Equal(t, "2010-08-28", f.form(i).Get("Version"), "request %d", i)
	}
}
