package fpstest_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// The record of IPN delivery attempts keeps the latest MaxDeliveries and
// counts them all; past MaxIPNsInFlight IPNs waiting to be retried, the
// oldest are given up.
func TestDeliveryRecordIsBounded(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = down.URL
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts, c.PlainHTTP = []fpstest.Account{acct}, true
		c.IPNRetryWindow, c.IPNFirstDelay = 3*time.Hour, time.Hour // one attempt, then a long wait
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	const extra = 50
	n := fpstest.MaxIPNsInFlight + extra
	for i := range n {
		okTxFn(t)(pay(t, s, "Pay", tok, "1", "bounded-"+strconv.Itoa(i)))
	}
	require.Eventually(t, func() bool {
		c := s.DeliveryCounts()
		return c.Attempts == n && c.GivenUp == extra
	}, 10*time.Second, 10*time.Millisecond, "%+v", s.DeliveryCounts())
	c := s.DeliveryCounts()
	require.Equal(t, fpstest.DeliveryCounts{Attempts: n, Failed: n, GivenUp: extra}, c)

	d := s.Deliveries()
	require.Len(t, d, fpstest.MaxDeliveries)
	kept := map[string]bool{}
	for _, a := range d {
		require.Equal(t, http.StatusServiceUnavailable, a.StatusCode)
		v, err := url.ParseQuery(a.Body)
		require.NoError(t, err)
		kept[v.Get("callerReference")] = true
	}
	require.True(t, kept["bounded-"+strconv.Itoa(n-1)], "the latest attempts are kept")
	require.False(t, kept["bounded-0"], "the oldest are not")
}
