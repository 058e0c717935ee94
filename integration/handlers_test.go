package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The handlers on their own: messages signed with test keys, an order
// store in memory, and a fake FPS that answers the confirmations.

const (
	ipnEndpoint    = "https://shop.example/fps/ipn"
	returnEndpoint = "https://shop.example:8443/fps/return?shop=main"
	payTx          = "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM" // msgtest.PayParams's
	theToken       = "TOKEN0000000000000000000000000000000000000000000000000000000001"
)

// fakeFPS answers GetTransaction and GetTokenByCaller from what it holds,
// as FPS answers the shop's account: what it does not hold is another
// account's, or none.
type fakeFPS struct {
	mu     sync.Mutex
	txs    map[string]fps.TransactionDetail
	tokens []fps.Token
	err    error // answered to every call when set
	calls  int
}

func newFakeFPS() *fakeFPS { return &fakeFPS{txs: map[string]fps.TransactionDetail{}} }

// pay holds a Pay of ref for amount, through statuses.
func (f *fakeFPS) pay(id, ref, amount string, statuses ...fps.TransactionStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := fps.ParseAmount(amount)
	if err != nil {
		panic(err)
	}
	d := fps.TransactionDetail{TransactionID: id, CallerReference: ref, TransactionAmount: a, FPSOperation: fps.FPSOperationPay,
		RecipientEmail: "shop@example.com"}
	for _, st := range statuses {
		d.StatusHistory = append(d.StatusHistory, fps.StatusHistory{TransactionStatus: st, Amount: a})
		d.TransactionStatus = st
	}
	f.txs[id] = d
}

func (f *fakeFPS) token(id, ref string, status fps.TokenStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, fps.Token{TokenID: id, CallerReference: ref, TokenStatus: status})
}

func (f *fakeFPS) GetTransaction(ctx context.Context, in *fps.GetTransactionInput, _ ...func(*fps.Options)) (*fps.GetTransactionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	d, ok := f.txs[in.TransactionID]
	if !ok {
		return nil, &fps.APIError{Code: "InvalidTransactionId", Message: "The transaction was not found.", StatusCode: 400}
	}
	return &fps.GetTransactionOutput{Transaction: d}, nil
}

func (f *fakeFPS) GetTokenByCaller(ctx context.Context, in *fps.GetTokenByCallerInput, _ ...func(*fps.Options)) (*fps.GetTokenByCallerOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	for _, t := range f.tokens {
		if t.TokenID == in.TokenID || (in.TokenID == "" && t.CallerReference == in.CallerReference) {
			return &fps.GetTokenByCallerOutput{Token: &t}, nil
		}
	}
	if in.TokenID != "" {
		return nil, &fps.APIError{Code: "InvalidTokenId", Message: "The token was not found.", StatusCode: 400}
	}
	return nil, &fps.APIError{Code: "InvalidCallerReference", Message: "No token is associated with the caller reference.", StatusCode: 400}
}

func (f *fakeFPS) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// merchant is a test shop: its orders in memory, a fake FPS, and what
// its hooks saw.
type merchant struct {
	orders *store.Memory
	fps    *fakeFPS
	log    bytes.Buffer
	logger *slog.Logger

	mu           sync.Mutex
	changes      []integration.OrderChange
	transactions []integration.Order
	failCallback int // the next callbacks that fail
}

func newMerchant(t *testing.T) *merchant {
	m := &merchant{orders: store.NewMemory(), fps: newFakeFPS()}
	m.logger = slog.New(slog.NewTextHandler(lockedWriter{&m.mu, &m.log}, nil))
	ctx := context.Background()
	for ref, amount := range map[string]string{"order-1": "12.50", "order-cheap": "1.00"} {
		require.NoError(t, m.orders.CreateOrder(ctx, integration.Order{CallerReference: ref, Amount: fps.USD(decimal.RequireFromString(amount))}))
	}
	return m
}

func (m *merchant) callback(ctx context.Context, ch integration.OrderChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failCallback > 0 {
		m.failCallback--
		return errors.New("the warehouse is offline")
	}
	m.changes = append(m.changes, ch)
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
	return len(m.changes), len(m.transactions)
}

func (m *merchant) logged() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

func (m *merchant) ipnHandler(v fps.Verifier) *integration.IPNHandler {
	return &integration.IPNHandler{Verifier: v, Endpoint: ipnEndpoint, FPS: m.fps, Store: m.orders, Callback: m.callback, Logger: m.logger}
}

func (m *merchant) returnHandler(v fps.Verifier) *integration.ReturnHandler {
	return &integration.ReturnHandler{Verifier: v, Endpoint: returnEndpoint, FPS: m.fps, Store: m.orders, Transaction: m.transaction, Logger: m.logger}
}

// order returns the order ref as stored, with its history.
func (m *merchant) order(t *testing.T, ref string) (integration.Order, []integration.HistoryEntry) {
	t.Helper()
	o, err := m.orders.Order(context.Background(), ref)
	require.NoError(t, err)
	h, err := m.orders.History(context.Background(), ref)
	require.NoError(t, err)
	return o, h
}

// requireUntouched checks that order ref is as created: nothing stored,
// no hook, no callback.
func (m *merchant) requireUntouched(t *testing.T, ref string) {
	t.Helper()
	o, h := m.order(t, ref)
	require.Equal(t, integration.OrderCreated, o.Status)
	require.Empty(t, h, "nothing in the order's history")
	list, err := m.orders.List(context.Background())
	require.NoError(t, err)
	require.Empty(t, list, "no notification stored")
	callbacks, transactions := m.calls()
	require.Zero(t, callbacks, "no callback")
	require.Zero(t, transactions, "no hook")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  interface{ Write([]byte) (int, error) }
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// atOnce runs f(0) to f(n-1) in n goroutines released together, and
// waits for them all.
func atOnce(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
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

// ipn signs params as Amazon's IPN to ipnEndpoint.
func ipn(t *testing.T, params url.Values) string {
	return msgtest.SignIPN(t, msgtest.Key(t, 0), ipnEndpoint, msgtest.PinnedCertURL, params)
}

// payIPN is the IPN of payTx under ref with status.
func payIPN(t *testing.T, ref, amount, status string) string {
	p := msgtest.PayParams(ref, amount)
	p.Set("transactionStatus", status)
	return ipn(t, p)
}

func TestIPNHandlerConfirmsStoresMovesThenCallsBack(t *testing.T) {
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusPending, fps.TransactionStatusSuccess)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	body := payIPN(t, "order-1", "USD 12.50", "SUCCESS")

	w := postIPN(h, body)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "stored\n", w.Body.String())
	require.Equal(t, 1, m.fps.callCount(), "confirmed with FPS once")
	o, hist := m.order(t, "order-1")
	require.Equal(t, integration.OrderPaid, o.Status)
	require.Equal(t, "12.5", o.Paid.String())
	require.Equal(t, "shop@example.com", o.RecipientEmail, "as FPS named it")
	require.Len(t, hist, 1)
	require.Equal(t, integration.HistoryEntry{At: hist[0].At, Key: "TransactionStatus/" + payTx + "/PAY/SUCCESS", Event: integration.EventPaid,
		From: integration.OrderCreated, To: integration.OrderPaid, Moved: true, Note: "PAY SUCCESS USD 12.50, transaction " + payTx}, hist[0])
	stored, err := m.orders.Get(context.Background(), hist[0].Key)
	require.NoError(t, err)
	require.Equal(t, body, stored.RawBody)
	txs, err := m.orders.Transactions(context.Background(), "order-1")
	require.NoError(t, err)
	require.Equal(t, []integration.Transaction{{CallerReference: "order-1", ID: payTx, Operation: fps.FPSOperationPay,
		Amount: fps.USD(decimal.RequireFromString("12.50")), Step: "PAY", Status: fps.TransactionStatusSuccess}}, txs)

	require.Len(t, m.changes, 1)
	ch := m.changes[0]
	require.Equal(t, integration.OrderPaid, ch.Order.Status)
	require.Equal(t, integration.OrderCreated, ch.Entry.From)
	require.Equal(t, payTx, ch.Notification.TransactionID)

	// Delivered again: stored once, the callback not run again, FPS not
	// asked again.
	w = postIPN(h, body)
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "duplicate notification, already stored\n", w.Body.String())
	callbacks, _ := m.calls()
	require.Equal(t, 1, callbacks)
	require.Equal(t, 1, m.fps.callCount())
}

// TestIPNHandlerLateNotificationMovesNothingBack: a PENDING delivered
// after the SUCCESS is kept in the history, moves nothing, and runs no
// callback.
func TestIPNHandlerLateNotificationMovesNothingBack(t *testing.T) {
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusPending, fps.TransactionStatusSuccess)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	for _, status := range []string{"SUCCESS", "PENDING"} {
		w := postIPN(h, payIPN(t, "order-1", "USD 12.50", status))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	o, hist := m.order(t, "order-1")
	require.Equal(t, integration.OrderPaid, o.Status)
	require.Len(t, hist, 2)
	require.Equal(t, integration.OrderPaid, hist[1].From)
	require.Equal(t, integration.OrderPaid, hist[1].To)
	require.False(t, hist[1].Moved)
	require.Equal(t, integration.EventPaymentPending, hist[1].Event)
	callbacks, _ := m.calls()
	require.Equal(t, 1, callbacks, "no callback for what moved nothing")
	txs, err := m.orders.Transactions(context.Background(), "order-1")
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, txs[0].Status, "the transaction stays Success")
}

func TestIPNHandlerRacingDeliveriesProcessedOnce(t *testing.T) {
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	body := payIPN(t, "order-1", "USD 12.50", "SUCCESS")
	const racers = 8
	codes := make(chan int, racers)
	atOnce(racers, func(int) { codes <- postIPN(h, body).Code })
	close(codes)
	for c := range codes {
		// 503 for a delivery that found the callback running: it comes
		// again later.
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, c)
	}
	require.Equal(t, http.StatusOK, postIPN(h, body).Code)
	callbacks, _ := m.calls()
	require.Equal(t, 1, callbacks)
	_, hist := m.order(t, "order-1")
	require.Len(t, hist, 1)
}

// TestIPNHandlerCallbackFailureIsDeliveredAgain: a failing callback is
// answered 500 and logged (on slog.Default() when the handler has no
// logger); the next delivery runs it again; once it succeeded it never
// runs again.
func TestIPNHandlerCallbackFailureIsDeliveredAgain(t *testing.T) {
	var logged bytes.Buffer
	defaultLogger := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(defaultLogger) })

	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	h.Logger = nil
	m.failCallback = 2
	body := payIPN(t, "order-1", "USD 12.50", "SUCCESS")
	for range 2 {
		w := postIPN(h, body)
		require.Equal(t, http.StatusInternalServerError, w.Code, w.Body.String())
	}
	require.Contains(t, logged.String(), "IPN callback failed")
	require.Contains(t, logged.String(), "the warehouse is offline")
	o, _ := m.order(t, "order-1")
	require.Equal(t, integration.OrderPaid, o.Status, "the change is stored; its callback is due")

	require.Equal(t, http.StatusOK, postIPN(h, body).Code)
	require.Equal(t, http.StatusOK, postIPN(h, body).Code)
	callbacks, _ := m.calls()
	require.Equal(t, 1, callbacks, "it succeeded once and never ran again")
	_, hist := m.order(t, "order-1")
	require.False(t, hist[0].CallbackDue)
}

// endFailing fails to record the end of a callback while fail is set.
type endFailing struct {
	*store.Memory
	fail bool
}

func (s *endFailing) EndCallback(ctx context.Context, ref, key string, until time.Time, ok bool) error {
	if s.fail {
		return errors.New("connection lost")
	}
	return s.Memory.EndCallback(ctx, ref, key, until, ok)
}

// TestIPNHandlerCallbackNotRecorded: a callback that succeeded but whose
// success the store could not record is answered 503; the change stays
// due, and its callback runs again at a later delivery once its claim
// expired, then never again.
func TestIPNHandlerCallbackNotRecorded(t *testing.T) {
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
	st := &endFailing{Memory: m.orders, fail: true}
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	h.Store, h.CallbackTimeout = st, 50*time.Millisecond
	body := payIPN(t, "order-1", "USD 12.50", "SUCCESS")
	w := postIPN(h, body)
	require.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	require.Contains(t, m.logged(), "recording the end of the IPN callback failed")
	st.fail = false
	require.Equal(t, http.StatusServiceUnavailable, postIPN(h, body).Code, "claimed still")
	time.Sleep(100 * time.Millisecond) // the claim expired
	require.Equal(t, http.StatusOK, postIPN(h, body).Code)
	require.Equal(t, http.StatusOK, postIPN(h, body).Code)
	callbacks, _ := m.calls()
	require.Equal(t, 2, callbacks, "run again once, as after a crash, then never")
	_, hist := m.order(t, "order-1")
	require.False(t, hist[0].CallbackDue)
}

// failingStore fails every commit.
type failingStore struct{ *store.Memory }

func (failingStore) Commit(context.Context, integration.Change) error {
	return errors.New("disk full")
}

func TestIPNHandlerStoreFailureIs5xx(t *testing.T) {
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	h.Store = failingStore{m.orders}
	w := postIPN(h, payIPN(t, "order-1", "USD 12.50", "SUCCESS"))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, m.logged(), "disk full")
	m.requireUntouched(t, "order-1")
}

// TestIPNHandlerRefusals: what is not signed, names no order of the shop,
// or is not what FPS holds for the shop is refused 403 with its reason;
// what cannot be confirmed now is 503. Nothing is stored and no callback
// runs.
func TestIPNHandlerRefusals(t *testing.T) {
	key := msgtest.Key(t, 0)
	attacker := msgtest.Key(t, 1)
	pay := func(edit func(url.Values)) url.Values {
		p := msgtest.PayParams("order-1", "USD 12.50")
		if edit != nil {
			edit(p)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		body   string
		fps    func(*fakeFPS)
		status int
		reason string
	}{
		{"unsigned", pay(nil).Encode(), nil, http.StatusForbidden, "not signed"},
		{"signed by another key", msgtest.SignIPN(t, attacker, ipnEndpoint, msgtest.PinnedCertURL, pay(nil)), nil, http.StatusForbidden, "signature does not match"},
		{"a return URL's signature (GET)", msgtest.SignReturn(t, key, ipnEndpoint, msgtest.PinnedCertURL, pay(nil)), nil, http.StatusForbidden, "signature does not match"},
		{"unknown order", ipn(t, pay(func(p url.Values) { p.Set("callerReference", "order-x") })), nil, http.StatusForbidden, "unknown order"},
		{"another account's transaction", ipn(t, pay(nil)), nil, http.StatusForbidden, "InvalidTransactionId"},
		{"another callerReference at FPS", ipn(t, pay(nil)), func(f *fakeFPS) {
			f.pay(payTx, "order-cheap", "USD 12.50", fps.TransactionStatusSuccess)
		}, http.StatusForbidden, "callerReference"},
		{"another amount at FPS", ipn(t, pay(nil)), func(f *fakeFPS) {
			f.pay(payTx, "order-1", "USD 1.00", fps.TransactionStatusSuccess)
		}, http.StatusForbidden, "is not of USD 12.50"},
		{"a status FPS never gave", ipn(t, pay(nil)), func(f *fakeFPS) {
			f.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusPending, fps.TransactionStatusFailure)
		}, http.StatusForbidden, "never was SUCCESS"},
		{"another operation at FPS", ipn(t, pay(func(p url.Values) { p.Set("operation", "REFUND") })), func(f *fakeFPS) {
			f.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
		}, http.StatusForbidden, "is a Pay"},
		{"another account's token", ipn(t, url.Values{"notificationType": {"TokenCancellation"}, "tokenId": {theToken}, "callerReference": {"order-1"}}),
			nil, http.StatusForbidden, "InvalidTokenId"},
		{"FPS unreachable", ipn(t, pay(nil)), func(f *fakeFPS) {
			f.err = &net.OpError{Op: "dial", Err: errors.New("connection refused")}
		}, http.StatusServiceUnavailable, "connection refused"},
		{"FPS answers 503", ipn(t, pay(nil)), func(f *fakeFPS) {
			f.err = fmt.Errorf("%w: %w", fps.ErrOutcomeUnknown, &fps.APIError{Code: "ServiceUnavailable", StatusCode: 503})
		}, http.StatusServiceUnavailable, "ServiceUnavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMerchant(t)
			if tc.fps != nil {
				tc.fps(m.fps)
			}
			w := postIPN(m.ipnHandler(msgtest.PinnedVerifier(t)), tc.body)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.Contains(t, m.logged(), tc.reason)
			m.requireUntouched(t, "order-1")
		})
	}
}

// TestIPNHandlerRefundsAndCancellation: refunds move the order to partly
// refunded, then refunded; a TokenCancellation of the shop's token is
// kept in the history and moves nothing.
func TestIPNHandlerRefundsAndCancellation(t *testing.T) {
	ctx := context.Background()
	m := newMerchant(t)
	m.fps.pay(payTx, "order-1", "USD 12.50", fps.TransactionStatusSuccess)
	for i, amount := range []string{"USD 5.00", "USD 7.50"} {
		ref := fmt.Sprintf("order-1-refund-%d", i)
		id := fmt.Sprintf("REFUND%029d", i)
		require.NoError(t, m.orders.AddTransaction(ctx, "order-1", integration.Transaction{CallerReference: ref, Operation: fps.FPSOperationRefund,
			Amount: fps.USD(decimal.RequireFromString(amount[4:])), ParentID: payTx}))
		m.fps.pay(id, ref, amount, fps.TransactionStatusPending, fps.TransactionStatusSuccess)
		m.fps.mu.Lock()
		d := m.fps.txs[id]
		d.FPSOperation = fps.FPSOperationRefund
		m.fps.txs[id] = d
		m.fps.mu.Unlock()
	}
	m.fps.token(theToken, "order-1", fps.TokenStatusInactive)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))
	require.Equal(t, http.StatusOK, postIPN(h, payIPN(t, "order-1", "USD 12.50", "SUCCESS")).Code)

	refund := func(i int, amount, status string) string {
		return ipn(t, url.Values{
			"notificationType": {"TransactionStatus"}, "transactionId": {fmt.Sprintf("REFUND%029d", i)},
			"callerReference": {fmt.Sprintf("order-1-refund-%d", i)}, "operation": {"REFUND"},
			"transactionAmount": {amount}, "status": {status}, "parentTransactionId": {payTx},
		})
	}
	for _, step := range []struct {
		body string
		want integration.OrderStatus
	}{
		{refund(0, "USD 5.00", "PENDING"), integration.OrderPaid},
		{refund(0, "USD 5.00", "SUCCESS"), integration.OrderPartlyRefunded},
		{refund(1, "USD 7.50", "SUCCESS"), integration.OrderRefunded},
		{ipn(t, url.Values{"notificationType": {"TokenCancellation"}, "tokenId": {theToken}, "callerReference": {"order-1"}}), integration.OrderRefunded},
	} {
		w := postIPN(h, step.body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		o, _ := m.order(t, "order-1")
		require.Equal(t, step.want, o.Status)
	}
	o, hist := m.order(t, "order-1")
	require.Equal(t, "12.5", o.Refunded.String())
	require.Len(t, hist, 5)
	require.Equal(t, "token "+theToken+" cancelled", hist[4].Note)
	callbacks, _ := m.calls()
	require.Equal(t, 3, callbacks, "paid, partly refunded, refunded")
	for _, id := range []string{payTx, fmt.Sprintf("REFUND%029d", 1)} {
		byTx, err := m.orders.OrderByTransaction(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "order-1", byTx.CallerReference)
	}
}

func TestIPNHandlerRequestChecks(t *testing.T) {
	m := newMerchant(t)
	h := m.ipnHandler(msgtest.PinnedVerifier(t))

	r := httptest.NewRequest(http.MethodGet, "/ipn", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, http.MethodPost, w.Header().Get("Allow"))

	h.MaxBodySize = 100
	w = postIPN(h, strings.Repeat("a", 101))
	require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)

	for name, edit := range map[string]func(*integration.IPNHandler){
		"no verifier": func(h *integration.IPNHandler) { h.Verifier = nil },
		"no FPS":      func(h *integration.IPNHandler) { h.FPS = nil },
		"no store":    func(h *integration.IPNHandler) { h.Store = nil },
	} {
		h := m.ipnHandler(msgtest.PinnedVerifier(t))
		edit(h)
		w := postIPN(h, payIPN(t, "order-1", "USD 12.50", "SUCCESS"))
		require.Equal(t, http.StatusInternalServerError, w.Code, name)
	}
	m.requireUntouched(t, "order-1")
}

// signedReturn is the return of a SingleUse pipeline of ref with token,
// signed for the return endpoint.
func signedReturn(t *testing.T, ref, token string, edit func(url.Values)) string {
	p := url.Values{"status": {"SC"}, "tokenID": {token}, "callerReference": {ref}, "expiry": {"10/2030"}, "shop": {"main"}}
	if edit != nil {
		edit(p)
	}
	return msgtest.SignReturn(t, msgtest.Key(t, 0), returnEndpoint, msgtest.PinnedCertURL, p)
}

// TestReturnHandlerRunsTheHookOnce: a confirmed return moves the order to
// approved and runs the hook; the same return again, also at once,
// shows the order as it stands.
func TestReturnHandlerRunsTheHookOnce(t *testing.T) {
	m := newMerchant(t)
	m.fps.token(theToken, "order-1", fps.TokenStatusActive)
	h := m.returnHandler(msgtest.PinnedVerifier(t))
	q := signedReturn(t, "order-1", theToken, nil)

	const racers = 6
	bodies := make(chan string, racers)
	atOnce(racers, func(int) {
		w := getReturn(h, q)
		require.Equal(t, http.StatusOK, w.Code)
		bodies <- w.Body.String()
	})
	close(bodies)
	var thanks, shown int
	for b := range bodies {
		switch b {
		case "thank you for order-1 (token " + theToken + ")":
			thanks++
		case "order order-1 is approved\n":
			shown++
		default:
			t.Fatalf("unexpected page %q", b)
		}
	}
	require.Equal(t, 1, thanks)
	require.Equal(t, racers-1, shown)
	_, transactions := m.calls()
	require.Equal(t, 1, transactions)
	o, hist := m.order(t, "order-1")
	require.Equal(t, integration.OrderApproved, o.Status)
	require.Equal(t, theToken, o.TokenID)
	require.Len(t, hist, 1)
	require.Equal(t, integration.EventReturned, hist[0].Event)

	// OrderPage shows a later visit.
	h.OrderPage = func(ctx context.Context, w http.ResponseWriter, r *http.Request, o integration.Order) {
		http.Redirect(w, r, "/orders/"+o.CallerReference, http.StatusSeeOther)
	}
	w := getReturn(h, q)
	require.Equal(t, http.StatusSeeOther, w.Code)
	require.Equal(t, "/orders/order-1", w.Header().Get("Location"))
}

// TestReturnHandlerRefusals: a return that is not signed, names no order
// of the shop, or whose token FPS does not hold for the shop under its
// callerReference, Active, runs no hook and moves nothing.
func TestReturnHandlerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		query  func(t *testing.T) string
		fps    func(*fakeFPS)
		status int
		reason string
	}{
		{"unsigned", func(t *testing.T) string { return "status=SC&tokenID=" + theToken + "&callerReference=order-1" }, nil, http.StatusForbidden, "not signed"},
		{"tampered", func(t *testing.T) string {
			return strings.Replace(signedReturn(t, "order-1", theToken, nil), "tokenID=", "tokenID=X", 1)
		}, nil, http.StatusForbidden, "signature does not match"},
		{"an IPN's signature (POST)", func(t *testing.T) string {
			return msgtest.SignIPN(t, msgtest.Key(t, 0), returnEndpoint, msgtest.PinnedCertURL,
				url.Values{"status": {"SC"}, "tokenID": {theToken}, "callerReference": {"order-1"}, "shop": {"main"}})
		}, nil, http.StatusForbidden, "signature does not match"},
		{"unknown order", func(t *testing.T) string { return signedReturn(t, "order-x", theToken, nil) }, nil, http.StatusForbidden, "unknown order"},
		{"another amount", func(t *testing.T) string {
			return signedReturn(t, "order-1", theToken, func(p url.Values) { p.Set("transactionAmount", "USD 1.00") })
		}, nil, http.StatusForbidden, "does not match the order"},
		{"no token of the shop", func(t *testing.T) string { return signedReturn(t, "order-1", theToken, nil) }, nil, http.StatusForbidden, "InvalidCallerReference"},
		{"another token of the shop", func(t *testing.T) string { return signedReturn(t, "order-1", theToken, nil) }, func(f *fakeFPS) {
			f.token("ANOTHER", "order-1", fps.TokenStatusActive)
		}, http.StatusForbidden, "is not the return's"},
		{"an inactive token", func(t *testing.T) string { return signedReturn(t, "order-1", theToken, nil) }, func(f *fakeFPS) {
			f.token(theToken, "order-1", fps.TokenStatusInactive)
		}, http.StatusForbidden, "is Inactive"},
		{"FPS unreachable", func(t *testing.T) string { return signedReturn(t, "order-1", theToken, nil) }, func(f *fakeFPS) {
			f.err = &net.OpError{Op: "dial", Err: errors.New("connection refused")}
		}, http.StatusServiceUnavailable, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMerchant(t)
			if tc.fps != nil {
				tc.fps(m.fps)
			}
			w := getReturn(m.returnHandler(msgtest.PinnedVerifier(t)), tc.query(t))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			require.Contains(t, m.logged(), tc.reason)
			m.requireUntouched(t, "order-1")
		})
	}
}

// staleStore answers the first read of an order as it was before: the
// return read it just before Recover (or another app server) approved
// and charged it.
type staleStore struct {
	*store.Memory
	stale integration.Order
	read  bool
}

func (s *staleStore) Order(ctx context.Context, ref string) (integration.Order, error) {
	if !s.read {
		s.read = true
		return s.stale, nil
	}
	return s.Memory.Order(ctx, ref)
}

// TestReturnHandlerApprovedMeanwhile: the buyer's return reads his order
// created while it is approved, with his token, and charged (the token is
// used: FPS says Inactive). He is shown his order as it stands; a return
// with another token, in the same race, is refused.
func TestReturnHandlerApprovedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"his token", theToken, http.StatusOK},
		{"another token", "ANOTHER", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMerchant(t)
			ctx := context.Background()
			stale, err := m.orders.Order(ctx, "order-1")
			require.NoError(t, err)
			o := stale
			o.Status, o.TokenID = integration.OrderApproved, theToken
			require.NoError(t, m.orders.Commit(ctx, integration.Change{Order: o, Entry: integration.HistoryEntry{
				Key: integration.ReturnKey, Event: integration.EventReturned, From: integration.OrderCreated, To: integration.OrderApproved, Moved: true,
			}}))
			m.fps.token(theToken, "order-1", fps.TokenStatusInactive)
			h := m.returnHandler(msgtest.PinnedVerifier(t))
			h.Store = &staleStore{Memory: m.orders, stale: stale}
			w := getReturn(h, signedReturn(t, "order-1", tc.token, nil))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == http.StatusOK {
				require.Equal(t, "order order-1 is approved\n", w.Body.String())
			}
			_, transactions := m.calls()
			require.Zero(t, transactions, "no hook ran")
		})
	}
}

// TestReturnHandlerDeclinedMovesNothing: a declined pipeline's return
// reaches the hook with the order as it stands, and moves nothing, so
// that the buyer may still pay.
func TestReturnHandlerDeclinedMovesNothing(t *testing.T) {
	m := newMerchant(t)
	h := m.returnHandler(msgtest.PinnedVerifier(t))
	q := msgtest.SignReturn(t, msgtest.Key(t, 0), returnEndpoint, msgtest.PinnedCertURL,
		url.Values{"status": {"NP"}, "errorMessage": {"declined"}, "callerReference": {"order-1"}, "shop": {"main"}})
	w := getReturn(h, q)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Zero(t, m.fps.callCount(), "nothing to confirm")
	_, transactions := m.calls()
	require.Equal(t, 1, transactions)
	require.Equal(t, integration.OrderCreated, m.transactions[0].Status)
	o, hist := m.order(t, "order-1")
	require.Equal(t, integration.OrderCreated, o.Status)
	require.Empty(t, hist)
}

// TestReturnHandlerWithRemoteVerifier: the remote verifier asks
// VerifySignature with the raw query; the rest is the same.
func TestReturnHandlerWithRemoteVerifier(t *testing.T) {
	m := newMerchant(t)
	m.fps.token(theToken, "order-1", fps.TokenStatusActive)
	api := &msgtest.FakeVerifySignature{Status: fps.VerificationStatusSuccess}
	h := m.returnHandler(fps.NewRemoteVerifier(api))
	q := signedReturn(t, "order-1", theToken, nil)
	w := getReturn(h, q)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, api.Calls, 1)
	require.Equal(t, q, api.Calls[0].HTTPParameters)
	require.Equal(t, "https://shop.example:8443/fps/return", api.Calls[0].URLEndPoint)
	_, transactions := m.calls()
	require.Equal(t, 1, transactions)

	api.Status = fps.VerificationStatusFailure
	m2 := newMerchant(t)
	w = getReturn(m2.returnHandler(fps.NewRemoteVerifier(api)), q)
	require.Equal(t, http.StatusForbidden, w.Code)
	m2.requireUntouched(t, "order-1")
}
