package actionmethods_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/fpskit/fps/internal/actionmethods"
	"github.com/stretchr/testify/require"
)

type (
	Options     struct{}
	PayInput    struct{}
	PayOutput   struct{}
	ShipInput   struct{}
	CloseInput  struct{}
	CloseOutput struct{}
	client      struct{}
)

// Pay has the shape of an action.
func (*client) Pay(context.Context, *PayInput, ...func(*Options)) (*PayOutput, error) {
	return nil, nil
}

// Refund takes another action's input: not an action.
func (*client) Refund(context.Context, *PayInput, ...func(*Options)) (*PayOutput, error) {
	return nil, nil
}

// Ship has no option functions.
func (*client) Ship(context.Context, *ShipInput) (*PayOutput, error) { return nil, nil }

// Close returns no error.
func (*client) Close(context.Context, *CloseInput, ...func(*Options)) *CloseOutput { return nil }

// Settle takes an input of no such name.
func (*client) Settle(context.Context, string, ...func(*Options)) (*PayOutput, error) {
	return nil, nil
}

func TestOfKeepsOnlyActionShapes(t *testing.T) {
	got := actionmethods.Of(reflect.TypeFor[*client]())
	require.Len(t, got, 1)
	require.Equal(t, "Pay", got[0].Name)
	require.Equal(t, reflect.TypeFor[*PayInput](), got[0].Input)
	require.Equal(t, reflect.TypeFor[*PayOutput](), got[0].Output)
	out := got[0].Func.Call([]reflect.Value{reflect.ValueOf(&client{}), reflect.ValueOf(context.Background()), reflect.ValueOf(&PayInput{})})
	require.Len(t, out, 2)
}
