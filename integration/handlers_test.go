package integration_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

const (
	ipnEndpoint    = "https://shop.example/fps/ipn"
	returnEndpoint = "https://shop.example:8443/fps/return?shop=main"
)

// merchant holds the orders of a test shop and counts what its hooks saw.
type merchant struct {
	orders    map[string]fps.Amount
	recipient string // Order.RecipientEmail of every order
	lookupErr error

	mu           sync.Mutex
	callbacks    []*fps.Notification
	transactions []integration.Order
}

func newMerchant() *merchant {
	return &merchant{orders: map[string]fps.Amount{
		"order-1":     fps.USD(decimal.RequireFromString("12.50")),
		"order-cheap": fps.USD(decimal.RequireFromString("1.00")),
	}}
}

func (m *merchant) lookup(ctx context.Context, ref string) (integration.Order, error) {
	if m.lookupErr != nil {
		return integration.Order{}, m.lookupErr
	}
	a, ok := m.orders[ref]
	if !ok {
		return integration.Order{}, fmt.Errorf("order %q: %w", ref, integration.ErrUnknownOrder)
	}
	return integration.Order{CallerReference: ref, Amount: a, RecipientEmail: m.recipient}, nil
}

func (m *merchant) callback(ctx context.Context, n *fps.Notification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.callbacks = append(m.callbacks, n)
	return nil
}

func (m *merchant) transaction(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o integration.Order) {
	m.mu.Lock()
	m.transactions = append(m.transactions, o)
	m.mu.Unlock()
	fmt.Fprintf(w, "thank you for %s (token %s)", o.CallerReference, ret.TokenID)
}

func (m *merchant) calls() (callbacks, transactions int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.callbacks), len(m.transactions)
}

func (m *merchant) ipnHandler(v fps.Verifier, s integration.NotificationStore) *integration.IPNHandler {
	return &integration.IPNHandler{Verifier: v, Endpoint: ipnEndpoint, Store: s, Orders: m.lookup, Callback: m.callback}
}

func (m *merchant) returnHandler(v fps.Verifier) *integration.ReturnHandler {
	return &integration.ReturnHandler{Verifier: v, Endpoint: returnEndpoint, Orders: m.lookup, Transaction: m.transaction}
}

func postIPN(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://10.0.0.7:8080/internal/ipn", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func getReturn(h http.Handler, rawQuery string) *httptest.ResponseRecorder {
	// The request reaches the app behind a proxy: its Host is not the
	// public endpoint, which the handler takes from its configuration.
	r := httptest.NewRequest(http.MethodGet, "http://10.0.0.7:8080/fps/return?"+rawQuery, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func storedCount(t *testing.T, s *store.Memory) int {
	t.Helper()
	list, err := s.List(context.Background())
	require.NoError(t, err)
	return len(list)
}

func TestIPNHandlerStoresThenCallsBack(t *testing.T) {
	m := newMerchant()
	s := store.NewMemory()
	h := m.ipnHandler(msgtest.PinnedVerifier(t), s)
	body := msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, msgtest.PayParams("order-1", "USD 12.50"))

	w := postIPN(h, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	list, err := s.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, body, list[0].RawBody)
	require.Equal(t, "TransactionStatus/14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM/PAY/SUCCESS", list[0].Key)
	require.False(t, list[0].ReceivedAt.IsZero())
	require.Len(t, m.callbacks, 1)
	require.Equal(t, "order-1", m.callbacks[0].CallerReference)
	require.Equal(t, fps.TransactionStatusSuccess, m.callbacks[0].TransactionStatus)

	t.Run("delivered again", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			w := postIPN(h, body)
			require.Equal(t, http.StatusOK, w.Code)
		}
		require.Equal(t, 1, storedCount(t, s))
		callbacks, _ := m.calls()
		require.Equal(t, 1, callbacks)
	})

	t.Run("next status of the same transaction", func(t *testing.T) {
		p := msgtest.PayParams("order-1", "USD 12.50")
		p.Set("transactionStatus", "FAILURE")
		w := postIPN(h, msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, p))
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, 2, storedCount(t, s))
		callbacks, _ := m.calls()
		require.Equal(t, 2, callbacks)
	})
}

func TestIPNHandlerRacingDeliveriesProcessedOnce(t *testing.T) {
	stores := map[string]func(t *testing.T) listingStore{
		"memory": func(t *testing.T) listingStore { return store.NewMemory() },
		"sqlite": func(t *testing.T) listingStore {
			s, err := store.NewSQL(context.Background(), testdb.SQLite(t), store.SQLite)
			require.NoError(t, err)
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			m := newMerchant()
			s := open(t)
			h := m.ipnHandler(msgtest.PinnedVerifier(t), s)
			body := msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, msgtest.PayParams("order-1", "USD 12.50"))
			const n = 16
			var wg sync.WaitGroup
			codes := make(chan int, n)
			start := make(chan struct{})
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					codes <- postIPN(h, body).Code
				}()
			}
			close(start)
			wg.Wait()
			close(codes)
			for code := range codes {
				require.Equal(t, http.StatusOK, code)
			}
			list, err := s.List(context.Background())
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, body, list[0].RawBody)
			callbacks, _ := m.calls()
			require.Equal(t, 1, callbacks)
		})
	}
}

// listingStore is a store whose content a test can list.
type listingStore interface {
	integration.NotificationStore
	List(ctx context.Context) ([]*integration.StoredNotification, error)
}

// failingStore fails every Save.
type failingStore struct{ saves atomic.Int64 }

func (f *failingStore) Save(ctx context.Context, n *integration.StoredNotification) (bool, error) {
	f.saves.Add(1)
	return false, errors.New("database is down")
}

func TestIPNHandlerStoreFailureIs5xx(t *testing.T) {
	m := newMerchant()
	fs := &failingStore{}
	h := m.ipnHandler(msgtest.PinnedVerifier(t), fs)
	w := postIPN(h, msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, msgtest.PayParams("order-1", "USD 12.50")))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.NotContains(t, w.Body.String(), "database")
	require.Equal(t, int64(1), fs.saves.Load())
	callbacks, _ := m.calls()
	require.Zero(t, callbacks)
}

// TestIPNHandlerRefusals covers each way a notification is refused, the
// attacks of Wang et al. ("How to Shop for Free Online") among them: none
// is stored and the callback never runs.
func TestIPNHandlerRefusals(t *testing.T) {
	key := msgtest.Key(t, 0)
	attacker := msgtest.Key(t, 1)
	p := msgtest.NewPKI(t)
	fetching := p.Verifier()
	pinned := msgtest.PinnedVerifier(t)
	signed := func(ref, amount string, change func(url.Values)) string {
		params := msgtest.PayParams(ref, amount)
		if change != nil {
			change(params)
		}
		return msgtest.SignIPN(t, key, ipnEndpoint, msgtest.PinnedCertURL, params)
	}
	cases := []struct {
		name     string
		verifier fps.Verifier
		body     string
		lookup   error
		status   int
		reason   string
	}{
		{"unsigned", pinned, url.Values(msgtest.PayParams("order-1", "USD 12.50")).Encode(), nil, 403, "not signed"},
		{"tampered amount", pinned, strings.Replace(signed("order-1", "USD 1.00", nil), "USD+1.00", "USD+12.50", 1), nil, 403, "signature does not match"},
		{"signed for another endpoint", pinned, msgtest.SignIPN(t, key, "https://attacker.example/ipn", msgtest.PinnedCertURL, msgtest.PayParams("order-1", "USD 12.50")), nil, 403, "signature does not match"},
		{"replayed for another shop's order", pinned, signed("other-shop-order-77", "USD 12.50", nil), nil, 403, "unknown order"},
		{"cheap payment for an expensive order", pinned, signed("order-1", "USD 1.00", nil), nil, 403, "does not match the order"},
		{"other currency", pinned, signed("order-1", "EUR 12.50", nil), nil, 403, "currency EUR"},
		{"refund larger than the order", pinned, signed("order-1", "USD 20.00", func(p url.Values) {
			p.Set("operation", "REFUND")
			p.Del("transactionStatus")
			p.Set("status", "SUCCESS")
		}), nil, 403, "exceeds"},
		{"attacker's certificate URL", pinned, msgtest.SignIPN(t, attacker, ipnEndpoint, "https://attacker.example/PKICert.pem", msgtest.PayParams("order-1", "USD 12.50")), nil, 403, "not allowed"},
		{"certificate over http", pinned, msgtest.SignIPN(t, key, ipnEndpoint, "http://fps.amazonaws.com/certs/test/PKICert.pem", msgtest.PayParams("order-1", "USD 12.50")), nil, 403, "not a plain https URL"},
		{"certificate URL redirected to the attacker", fetching, msgtest.SignIPN(t, attacker, ipnEndpoint, p.CertURL("moved"), msgtest.PayParams("order-1", "USD 12.50")), nil, 503, "try again"},
		{"attacker's certificate on the simulator-like host", fetching, msgtest.SignIPN(t, attacker, ipnEndpoint, p.CertURL("good"), msgtest.PayParams("order-1", "USD 12.50")), nil, 403, "signature does not match"},
		{"order lookup down", pinned, signed("order-1", "USD 12.50", nil), errors.New("orders database is down"), 503, "try again"},
		{"malformed after verification", pinned, signed("order-1", "12.50", nil), nil, 403, "transactionAmount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMerchant()
			m.lookupErr = c.lookup
			s := store.NewMemory()
			w := postIPN(m.ipnHandler(c.verifier, s), c.body)
			require.Equal(t, c.status, w.Code, w.Body.String())
			require.Contains(t, w.Body.String(), c.reason)
			require.Zero(t, storedCount(t, s), "nothing stored")
			callbacks, _ := m.calls()
			require.Zero(t, callbacks, "callback not run")
		})
	}
}

func TestIPNHandlerAcceptsPartialRefundAndCancellation(t *testing.T) {
	m := newMerchant()
	s := store.NewMemory()
	h := m.ipnHandler(msgtest.PinnedVerifier(t), s)
	refund := msgtest.PayParams("order-1", "USD 5.00")
	refund.Set("operation", "REFUND")
	refund.Set("transactionId", "REFUND1")
	refund.Set("parentTransactionId", "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM")
	refund.Del("transactionStatus")
	refund.Set("status", "SUCCESS")
	w := postIPN(h, msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, refund))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	cancel := url.Values{
		"notificationType": {"TokenCancellation"}, "tokenId": {"TOKEN9"}, "tokenType": {"MultiUse"},
		"callerReference": {"order-cheap"}, "dateInstalled": {"Sep 27, 2009"},
	}
	w = postIPN(h, msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, cancel))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	cancel.Set("callerReference", "someone-else")
	cancel.Set("tokenId", "TOKEN10")
	w = postIPN(h, msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, cancel))
	require.Equal(t, http.StatusForbidden, w.Code)

	require.Equal(t, 2, storedCount(t, s))
	require.Len(t, m.callbacks, 2)
	require.Equal(t, fps.NotificationOperationRefund, m.callbacks[0].Operation)
	require.Equal(t, fps.NotificationTypeTokenCancellation, m.callbacks[1].Type)
}

func TestIPNHandlerRequestChecks(t *testing.T) {
	m := newMerchant()
	s := store.NewMemory()
	h := m.ipnHandler(msgtest.PinnedVerifier(t), s)
	h.MaxBodySize = 1 << 10
	body := msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, msgtest.PayParams("order-1", "USD 12.50"))

	w := postIPN(h, body+"&padding="+strings.Repeat("x", 2<<10))
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)

	r := httptest.NewRequest(http.MethodGet, "/ipn?"+body, nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, http.MethodPost, w.Header().Get("Allow"))

	misconfigured := m.ipnHandler(msgtest.PinnedVerifier(t), s)
	misconfigured.Endpoint = "/fps/ipn"
	w = postIPN(misconfigured, body)
	require.Equal(t, http.StatusInternalServerError, w.Code)

	require.Zero(t, storedCount(t, s))
	callbacks, _ := m.calls()
	require.Zero(t, callbacks)
}

func TestReturnHandler(t *testing.T) {
	key := msgtest.Key(t, 0)
	m := newMerchant()
	h := m.returnHandler(msgtest.PinnedVerifier(t))
	ret := url.Values{"status": {"SC"}, "tokenID": {"TOKEN1"}, "callerReference": {"order-1"}, "expiry": {"10/2030"}, "shop": {"main"}}
	w := getReturn(h, msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, ret))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "thank you for order-1 (token TOKEN1)", w.Body.String())
	require.Len(t, m.transactions, 1)
	require.True(t, m.transactions[0].Amount.Value.Equal(decimal.RequireFromString("12.50")))

	// An abandoned pipeline names no order; the hook still shows the page.
	w = getReturn(h, msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, url.Values{"status": {"A"}, "shop": {"main"}}))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, m.transactions, 2)
	require.Equal(t, integration.Order{}, m.transactions[1])
}

func TestReturnHandlerRefusals(t *testing.T) {
	key := msgtest.Key(t, 0)
	attacker := msgtest.Key(t, 1)
	ok := func() url.Values {
		return url.Values{"status": {"SC"}, "tokenID": {"TOKEN1"}, "callerReference": {"order-1"}, "shop": {"main"}}
	}
	with := func(change func(url.Values)) url.Values { v := ok(); change(v); return v }
	cases := []struct {
		name   string
		query  string
		status int
		reason string
	}{
		{"unsigned", ok().Encode(), 403, "not signed"},
		{"tampered token", strings.Replace(msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, ok()), "TOKEN1", "TOKEN2", 1), 403, "signature does not match"},
		{"extra parameter", msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, ok()) + "&id=7", 403, "signature does not match"},
		{"replayed for another shop's order", msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, with(func(v url.Values) { v.Set("callerReference", "other-shop-1") })), 403, "unknown order"},
		{"success without caller reference", msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, with(func(v url.Values) { v.Del("callerReference") })), 403, "callerReference is missing"},
		{"cheap payment for an expensive order", msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, with(func(v url.Values) { v.Set("transactionAmount", "USD 1.00") })), 403, "does not match the order"},
		{"attacker's certificate URL", msgtest.SignReturn(t, attacker, returnEndpoint, "https://attacker.example/PKICert.pem", ok()), 403, "not allowed"},
		{"unknown status", msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, with(func(v url.Values) { v.Set("status", "ZZ") })), 403, "not a Co-Branded UI status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMerchant()
			w := getReturn(m.returnHandler(msgtest.PinnedVerifier(t)), c.query)
			require.Equal(t, c.status, w.Code, w.Body.String())
			require.Contains(t, w.Body.String(), c.reason)
			_, transactions := m.calls()
			require.Zero(t, transactions, "hook not called")
		})
	}

	t.Run("POST", func(t *testing.T) {
		m := newMerchant()
		r := httptest.NewRequest(http.MethodPost, "/fps/return?"+msgtest.SignReturn(t, key, returnEndpoint, msgtest.PinnedCertURL, ok()), nil)
		w := httptest.NewRecorder()
		m.returnHandler(msgtest.PinnedVerifier(t)).ServeHTTP(w, r)
		require.Equal(t, http.StatusMethodNotAllowed, w.Code)
		_, transactions := m.calls()
		require.Zero(t, transactions)
	})
}

func TestReturnHandlerWithRemoteVerifier(t *testing.T) {
	m := newMerchant()
	raw := msgtest.SignReturn(t, msgtest.Key(t, 0), returnEndpoint, msgtest.PinnedCertURL,
		url.Values{"status": {"SC"}, "tokenID": {"TOKEN1"}, "callerReference": {"order-1"}, "shop": {"main"}})
	fake := &msgtest.FakeVerifySignature{Status: fps.VerificationStatusFailure}
	w := getReturn(m.returnHandler(fps.NewRemoteVerifier(fake)), raw)
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Equal(t, []fps.VerifySignatureInput{{URLEndPoint: "https://shop.example:8443/fps/return", HTTPParameters: raw}}, fake.Calls)

	fake.Status = fps.VerificationStatusSuccess
	w = getReturn(m.returnHandler(fps.NewRemoteVerifier(fake)), raw)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	_, transactions := m.calls()
	require.Equal(t, 1, transactions)
}

// TestIPNHandlerChecksRecipient: when the order names the account it is
// paid to, a payment to anyone else (the attacker paying their own account
// under the order's reference and amount) is refused; refunds are not
// checked.
func TestIPNHandlerChecksRecipient(t *testing.T) {
	refund := func(p url.Values) {
		p.Set("operation", "REFUND")
		p.Set("transactionId", "REFUND1")
		p.Del("transactionStatus")
		p.Set("status", "SUCCESS")
	}
	cases := []struct {
		name      string
		recipient string
		change    func(url.Values)
		status    int
	}{
		{"same recipient, other case", "SHOP@example.com", nil, http.StatusOK},
		{"no recipient in the order", "", func(p url.Values) { p.Set("recipientEmail", "attacker@example.com") }, http.StatusOK},
		{"paid to the attacker", "shop@example.com", func(p url.Values) { p.Set("recipientEmail", "attacker@example.com") }, http.StatusForbidden},
		{"recipient missing", "shop@example.com", func(p url.Values) { p.Del("recipientEmail") }, http.StatusForbidden},
		{"refund", "shop@example.com", func(p url.Values) { refund(p); p.Set("recipientEmail", "buyer@example.com") }, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMerchant()
			m.recipient = c.recipient
			s := store.NewMemory()
			p := msgtest.PayParams("order-1", "USD 12.50")
			if c.change != nil {
				c.change(p)
			}
			w := postIPN(m.ipnHandler(msgtest.PinnedVerifier(t), s), msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, p))
			require.Equal(t, c.status, w.Code, w.Body.String())
			callbacks, _ := m.calls()
			if c.status != http.StatusOK {
				require.Contains(t, w.Body.String(), "recipient")
				require.Zero(t, storedCount(t, s))
				require.Zero(t, callbacks)
				return
			}
			require.Equal(t, 1, storedCount(t, s))
			require.Equal(t, 1, callbacks)
		})
	}
}
