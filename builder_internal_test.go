package fps

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A builder keeps more parameters than its array holds, in order, and a
// released one starts empty.
func TestBuilderBeyondItsArray(t *testing.T) {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("id", "secret")})
	require.NoError(t, err)
	for _, n := range []int{0, 1, 19, 20, 21, 40, 41, 100} {
		b := c.builders.Get().(*builder)
		var want []param
		for i := range n {
			p := param{Name: fmt.Sprintf("N%d", i), Value: fmt.Sprintf("v%d", i)}
			b.add(p.Name, p.Value)
			b.add("Empty", "") // not sent
			want = append(want, p)
		}
		if n == 0 {
			require.Empty(t, b.params())
		} else {
			require.Equal(t, want, b.params(), "n=%d", n)
		}
		b.fail("N0", "is bad")
		c.release(b)
		require.Empty(t, b.params())
		require.Nil(t, b.errs)
		require.Equal(t, [len(b.buf)]param{}, b.buf)
	}
}

// A request with many parameters is signed whole.
func TestRequestBodyManyParams(t *testing.T) {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("id", "secret")})
	require.NoError(t, err)
	var params []param
	for i := range 40 {
		params = append(params, param{Name: fmt.Sprintf("P%02d", i), Value: "v"})
	}
	body, err := c.requestBody(context.Background(), &c.options, c.api, "Pay", params)
	require.NoError(t, err)
	for _, p := range params {
		require.Contains(t, string(body), "&"+p.Name+"=v&")
	}
}
