package fpstest_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// TestOnIPNHandsOverEachIPNBeforeTheCallReturns: the hook has the signed
// body when the Pay that caused it answers, and sees a notification once
// however often its delivery is retried.
func TestOnIPNHandsOverEachIPNBeforeTheCallReturns(t *testing.T) {
	k := newSink(t, 2)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL + "/fps/ipn"
	var mu sync.Mutex
	var handed []string
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.IPNRetryWindow, c.IPNFirstDelay = 5*time.Second, 5*time.Millisecond
		c.OnIPN = func(url, body string) {
			mu.Lock()
			handed = append(handed, url+" "+body)
			mu.Unlock()
		}
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "on-ipn"))
	mu.Lock()
	require.Len(t, handed, 1, "the IPN of the Success was handed over before Pay answered")
	first, ok := strings.CutPrefix(handed[0], acct.IPNURL+" ")
	mu.Unlock()
	require.True(t, ok, "handed over with its URL")

	waitFor(t, func() bool { d := s.Deliveries(); return len(d) == 3 && d[2].Err == nil })
	for _, d := range s.Deliveries() {
		require.Equal(t, first, d.Body, "the body handed over is the body sent")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, handed, 1, "retried deliveries are handed over once")
}
