package fpstest_test

import (
	"reflect"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/actionmethods"
	"github.com/stretchr/testify/require"
)

// TestServesTheClientsActions: the simulator serves exactly the actions
// the client has as methods, none missing and none more.
func TestServesTheClientsActions(t *testing.T) {
	var client []string
	for _, m := range actionmethods.Of(reflect.TypeFor[*fps.Client]()) {
		client = append(client, m.Name)
	}
	require.NotEmpty(t, client)
	served := fpstest.Actions()
	for _, name := range client {
		require.Contains(t, served, name, "the client has %s, the simulator does not serve it", name)
	}
	for _, name := range served {
		require.Contains(t, client, name, "the simulator serves %s, the client has no method for it", name)
	}
}
