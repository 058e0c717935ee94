package fps

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Each delay lies between MinDelay and MinDelay doubled once per earlier
// attempt, never above MaxDelay nor beyond the time left.
func TestWaiterDelay(t *testing.T) {
	const minD, maxD = time.Second, 10 * time.Second
	require.Equal(t, minD, waiterDelay(1, minD, maxD, time.Hour))
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 8; attempt++ {
		ceiling := min(minD<<(attempt-1), maxD)
		for range 200 {
			d := waiterDelay(attempt, minD, maxD, time.Hour)
			require.GreaterOrEqual(t, d, minD)
			require.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
			seen[d] = true
		}
	}
	require.Greater(t, len(seen), 10, "the delays are jittered")
	require.Equal(t, 300*time.Millisecond, waiterDelay(5, minD, maxD, 300*time.Millisecond))
	require.Equal(t, minD, waiterDelay(40, minD, minD, time.Hour))
	huge := time.Duration(math.MaxInt64)
	for _, attempt := range []int{62, 63, 64, 100} {
		d := waiterDelay(attempt, time.Nanosecond, huge, huge)
		require.Positive(t, d, "no overflow at attempt %d", attempt)
	}
}
