package fps

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"

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
