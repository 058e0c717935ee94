package fps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// appendTimestamp must write what time.Format writes with the layout, in
// UTC, whatever the zone of t.
func TestAppendTimestampIsTimeFormat(t *testing.T) {
	zone := time.FixedZone("X", -7*3600-30*60)
	times := []time.Time{
		time.Date(2026, 11, 27, 9, 5, 3, 999_999_999, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 0, zone), // next year in UTC
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // beyond four digits
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9)).In(zone))
	}
	for _, tm := range times {
		want := tm.UTC().Format("2006-01-02T15:04:05Z")
		require.Equal(t, want, string(appendTimestamp([]byte("x"), tm))[1:], "%v", tm)
	}
}

// A builder keeps more parameters than its array holds, in order, and a
// released one starts empty.
func TestBuilderBeyondItsArray(t *testing.T) {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("id", "secret")})
	require.NoError(t, err)
	for _, n := range []int{0, 1, 19, 20, 21, 40, 41, 100} {
		b := c.builders.Get().(*builder)
		var want []Param
		for i := range n {
			p := Param{fmt.Sprintf("N%d", i), fmt.Sprintf("v%d", i)}
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
		require.NoError(t, b.err)
		require.Equal(t, [len(b.buf)]Param{}, b.buf)
	}
}

// A request with more parameters than requestBody's array holds is signed
// whole.
func TestRequestBodyManyParams(t *testing.T) {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("id", "secret")})
	require.NoError(t, err)
	var params []Param
	for i := range 40 {
		params = append(params, Param{fmt.Sprintf("P%02d", i), "v"})
	}
	body, err := c.requestBody(context.Background(), "Pay", params)
	require.NoError(t, err)
	for _, p := range params {
		require.Contains(t, body, "&"+p.Name+"=v&")
	}
}
