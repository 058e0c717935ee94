package fpstest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

// ipnSink records the IPNs it receives; the first failN answer 500.
type ipnSink struct {
	mu     sync.Mutex
	bodies []string
	failN  int
	srv    *httptest.Server
}

func newSink(t *testing.T, failN int) *ipnSink {
	k := &ipnSink{failN: failN}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.bodies = append(k.bodies, string(b))
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if k.failN > 0 {
			k.failN--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *ipnSink) received() []url.Values {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []url.Values
	for _, b := range k.bodies {
		v, _ := url.ParseQuery(b)
		out = append(out, v)
	}
	return out
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 10*time.Millisecond)
}

func verifyIPN(s *fpstest.Server, endpoint string, v url.Values, method string) error {
	u, _ := url.Parse(endpoint)
	return sigv2.VerifyRSASHA1(s.PublicKey(), []byte(fps.OutboundStringToSign(method, u, v)), v.Get("signature"))
}

func TestIPNForPaymentLifecycle(t *testing.T) {
	k := newSink(t, 0)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL + "/ipn"
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.PendingDelay = -1
	})
	tok := install(t, s, "CC", fpstest.TokenMultiUse)
	p := okTxFn(t)(pay(t, s, "Pay", tok, "2.22", "ipn-1"))
	waitFor(t, func() bool { return len(k.received()) == 1 })
	require.NoError(t, s.CompletePending(t.Context()))
	waitFor(t, func() bool { return len(k.received()) == 2 })

	byStatus := map[string]url.Values{}
	for _, v := range k.received() {
		byStatus[v.Get("transactionStatus")] = v
	}
	pend, done := byStatus["PENDING"], byStatus["SUCCESS"]
	require.NotNil(t, pend)
	require.NotNil(t, done)
	require.Equal(t, "TransactionStatus", done.Get("notificationType"))
	require.Equal(t, p.TransactionID, done.Get("transactionId"))
	require.Equal(t, "ipn-1", done.Get("callerReference"))
	require.Equal(t, "PAY", done.Get("operation"))
	require.Equal(t, "USD 2.22", done.Get("transactionAmount"))
	require.Regexp(t, `^\d{10}$`, done.Get("transactionDate"))
	require.Equal(t, "Success", done.Get("statusCode"))
	require.Equal(t, "PendingNetworkResponse", pend.Get("statusCode"))
	require.Equal(t, "CC", done.Get("paymentMethod"))
	require.Equal(t, acct.Name, done.Get("recipientName"))
	require.Equal(t, s.CertificateURL(), done.Get("certificateUrl"))

	for _, v := range []url.Values{pend, done} {
		require.NoError(t, verifyIPN(s, acct.IPNURL, v, "POST"))
		require.ErrorIs(t, verifyIPN(s, acct.IPNURL, v, "GET"), fps.ErrSignatureMismatch, "method")
		require.ErrorIs(t, verifyIPN(s, k.srv.URL+"/ipn/", v, "POST"), fps.ErrSignatureMismatch, "endpoint")
		for name := range v {
			if name == "signature" {
				continue
			}
			c := url.Values{}
			for kk, vv := range v {
				c[kk] = append([]string(nil), vv...)
			}
			c.Set(name, c.Get(name)+"1")
			require.ErrorIs(t, verifyIPN(s, acct.IPNURL, c, "POST"), fps.ErrSignatureMismatch, name)
		}
	}

	// A refund is announced with status and parentTransactionId.
	r := okTxFn(t)(call(t, s, "Refund", map[string]string{"TransactionId": p.TransactionID, "CallerReference": "ipn-rf"}))
	waitFor(t, func() bool { return len(k.received()) == 3 })
	last := k.received()[2]
	require.Equal(t, "REFUND", last.Get("operation"))
	require.Equal(t, r.TransactionID, last.Get("transactionId"))
	require.Equal(t, p.TransactionID, last.Get("parentTransactionId"))
	require.Equal(t, "PENDING", last.Get("status"))
	require.Empty(t, last.Get("transactionStatus"))
	require.NoError(t, verifyIPN(s, acct.IPNURL, last, "POST"))
}

func TestIPNTokenCancellation(t *testing.T) {
	k := newSink(t, 0)
	s := newServer(t)
	require.NoError(t, s.SetIPNURL(fpstest.DefaultAccessKeyID, k.srv.URL))
	tok := install(t, s, "ABT", fpstest.TokenRecurring)
	status, body := call(t, s, "CancelToken", map[string]string{"TokenId": tok})
	require.Equal(t, 200, status, body)
	waitFor(t, func() bool { return len(k.received()) == 1 })
	v := k.received()[0]
	require.Equal(t, "TokenCancellation", v.Get("notificationType"))
	require.Equal(t, tok, v.Get("tokenId"))
	require.Equal(t, "Recurring", v.Get("tokenType"))
	require.Regexp(t, `^[A-Z][a-z]{2} \d{1,2}, \d{4}$`, v.Get("dateInstalled"))
	require.NotEmpty(t, v.Get("customerName"))
	require.NoError(t, verifyIPN(s, k.srv.URL, v, "POST"))
}

func TestIPNRetriedAndRecorded(t *testing.T) {
	k := newSink(t, 2) // the receiver fails twice
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.IPNRetryWindow, c.IPNFirstDelay = 5*time.Second, 5*time.Millisecond
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "retry"))
	waitFor(t, func() bool { d := s.Deliveries(); return len(d) == 3 && d[2].Err == nil })
	d := s.Deliveries()
	require.Equal(t, []int{1, 2, 3}, []int{d[0].Attempt, d[1].Attempt, d[2].Attempt})
	require.Equal(t, 500, d[0].StatusCode)
	require.Error(t, d[0].Err)
	require.Equal(t, 200, d[2].StatusCode)
	require.Equal(t, d[0].Body, d[2].Body, "a retry sends the same notification")
	require.Len(t, k.received(), 3)
}

func TestIPNFailFirstOnPurpose(t *testing.T) {
	k := newSink(t, 0)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.IPNFailFirst = 1
		c.IPNRetryWindow, c.IPNFirstDelay = 5*time.Second, 5*time.Millisecond
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "dup-ipn"))
	waitFor(t, func() bool { return len(s.Deliveries()) == 2 })
	d := s.Deliveries()
	require.ErrorIs(t, d[0].Err, fpstest.ErrDeliveryFailedOnPurpose)
	require.NoError(t, d[1].Err)
	got := k.received()
	require.Len(t, got, 2, "the receiver saw the notification twice")
	require.Equal(t, got[0].Get("transactionId"), got[1].Get("transactionId"))
}

func TestIPNGivesUpAfterWindow(t *testing.T) {
	k := newSink(t, 1000)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = k.srv.URL
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.IPNRetryWindow, c.IPNFirstDelay = 100*time.Millisecond, 10*time.Millisecond
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "give-up"))
	time.Sleep(time.Second)
	n := len(s.Deliveries())
	require.GreaterOrEqual(t, n, 2)
	require.LessOrEqual(t, n, 5)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, n, len(s.Deliveries()))
}

func TestIPNOverTLSWithClient(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	acct := fpstest.DefaultAccount()
	acct.IPNURL = srv.URL + "/ipn"
	s := newServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{acct}
		c.IPNClient = srv.Client()
	})
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "tls-ipn"))
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	mu.Lock()
	v, err := url.ParseQuery(got[0])
	mu.Unlock()
	require.NoError(t, err)
	require.NoError(t, verifyIPN(s, acct.IPNURL, v, "POST"))
}

// TestCloseStopsIPNDeliveries: an IPN still being retried (long window,
// long back-off) and one blocked on a receiver that does not answer both
// end with Close, which returns promptly; nothing is sent after it.
func TestCloseStopsIPNDeliveries(t *testing.T) {
	failing := newSink(t, 1000)
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)

	acct := fpstest.DefaultAccount()
	acct.IPNURL = failing.srv.URL
	s, err := fpstest.Start(fpstest.Config{
		PlainHTTP: true, Accounts: []fpstest.Account{acct},
		IPNRetryWindow: time.Hour, IPNFirstDelay: time.Hour, IPNTimeout: time.Hour,
	})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) }) // runs first: a Close that failed here can then end
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "close-retrying"))
	require.NoError(t, s.SetIPNURL(acct.AccessKeyID, hanging.URL))
	okTxFn(t)(pay(t, s, "Pay", tok, "1", "close-blocked"))
	waitFor(t, func() bool { return len(failing.received()) == 1 })
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the second IPN never reached its receiver")
	}

	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while IPN deliveries were waiting")
	}
	n := len(s.Deliveries())
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, n, len(s.Deliveries()), "an IPN was attempted after Close")
	require.Len(t, failing.received(), 1)
}
