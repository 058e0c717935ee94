package integration_test

import (
	"context"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/fpskit/fps/store"
	"github.com/stretchr/testify/require"
)

// The tests against the simulator run a shop as it runs in production:
// integration.AmazonFPS with its defaults (the local verifier, the store
// opened by name), served on loopback, with two merchant accounts at the
// simulator: the shop's, and an attacker's with credentials and an IPN
// URL of his own.

var (
	shopAccount = fpstest.Account{
		AccessKeyID: "AKIAFPSTESTSHOP00000", SecretAccessKey: "fpstest/SHOP/secret+key/not+a+real+secret",
		Name: "Gopher Goods", Email: "payments@gopher-goods.example",
	}
	attackerAccount = fpstest.Account{
		AccessKeyID: "AKIAFPSTESTATTACKER0", SecretAccessKey: "fpstest/ATTACKER/secret+key/not+a+real+secret",
		Name: "Attacker's Shop", Email: "attacker@example.com",
	}
)

// verifiers are the ways a shop checks signatures: the integration's
// default (the local verifier, fetching the simulator's certificate over
// https), a local verifier with the key pinned, and the VerifySignature
// action.
var verifiers = []string{"default", "local", "remote"}

// databases are the stores the flows run on: an SQLite file always,
// PostgreSQL when FPS_TEST_POSTGRES is set.
var databases = []string{"sqlite", "postgres"}

// newSim starts a simulator with the shop's and the attacker's accounts,
// in which CC transactions stay Pending until CompletePending.
func newSim(t testing.TB, optFns ...func(*fpstest.Config)) *fpstest.Server {
	t.Helper()
	return fpstest.NewServer(t, append([]func(*fpstest.Config){func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{shopAccount, attackerAccount}
		c.PendingDelay = -1
		c.SigningKey = msgtest.Key(t, 0) // spares a key generation per simulator
		c.IPNRetryWindow, c.IPNFirstDelay = 10*time.Second, 20*time.Millisecond
	}}, optFns...)...)
}

// clientOf is a client of the simulator for account a.
func clientOf(t testing.TB, sim *fpstest.Server, a fpstest.Account) *fps.Client {
	return sim.Client(t, func(o *fps.Options) { o.Credentials = fps.StaticCredentials(a.AccessKeyID, a.SecretAccessKey) })
}

// database names a new database of kind for store.Open.
func database(t *testing.T, kind string) string {
	t.Helper()
	if kind == "postgres" {
		return testdb.PostgresDSN(t)
	}
	return filepath.Join(t.TempDir(), "shop.db")
}

// shop is a shop at the simulator: its public site on loopback, its
// database, and the app servers serving it (one at a time, or several
// at once behind one address).
type shop struct {
	t        *testing.T
	sim      *fpstest.Server
	verifier string
	db       string
	noLogger bool // start app servers with no Logger: slog.Default()
	// custom, when set, is the Verifier of the app servers.
	custom fps.Verifier
	// authorize makes the hook reserve the amount (Authorize) instead of
	// charging it.
	authorize bool
	// charge makes the app servers charge through Config.Charge (the
	// shop's chargeOrder, then chargeHook when set), the TransactionHook
	// writing the page alone.
	charge     bool
	chargeHook func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error
	// hookTimeout is the app servers' Config.HookTimeout.
	hookTimeout time.Duration
	// wrapStore, when set, wraps the store of each app server started.
	wrapStore func(integration.Store) integration.Store
	// panicOnce, when set, makes the next TransactionHook panic before
	// it charges.
	panicOnce atomic.Bool
	srv       *httptest.Server
	URL       string // the site's base URL, ending in "/"
	serving   atomic.Pointer[app]

	// hold, when set, answers IPNs 200 without handling them and keeps
	// their bodies in held, to be delivered later in any order.
	hold atomic.Bool

	mu        sync.Mutex
	held      []string
	hooks     int
	charges   int
	purchases []*fps.Result
	changes   []integration.OrderChange
	failNext  int             // the next callbacks that fail
	log       strings.Builder // what the app servers logged
}

// app is one app server of the shop: an AmazonFPS on the shop's database.
type app struct {
	a      *integration.AmazonFPS
	orders *store.SQL
}

// newShop starts a shop checking signatures the verifier way, on the
// database db (store.Open's name), with one app server serving it; its
// account's IPNs go to its site. opts set the shop up before its app
// server starts.
func newShop(t *testing.T, sim *fpstest.Server, verifier, db string, opts ...func(*shop)) *shop {
	t.Helper()
	sh := &shop{t: t, sim: sim, verifier: verifier, db: db}
	for _, o := range opts {
		o(sh)
	}
	sh.srv = httptest.NewServer(http.HandlerFunc(sh.serve))
	t.Cleanup(sh.srv.Close)
	sh.URL = sh.srv.URL + "/"
	sh.serving.Store(sh.start())
	require.NoError(t, sim.SetIPNURL(shopAccount.AccessKeyID, sh.notifyURL()))
	return sh
}

func (sh *shop) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && sh.hold.Load() {
		b, _ := io.ReadAll(r.Body)
		sh.mu.Lock()
		sh.held = append(sh.held, string(b))
		sh.mu.Unlock()
		io.WriteString(w, "held")
		return
	}
	sh.serving.Load().a.Handler().ServeHTTP(w, r)
}

func (sh *shop) notifyURL() string { return sh.URL + integration.NotifyPath }

// app returns the app server serving now.
func (sh *shop) app() *app { return sh.serving.Load() }

// start starts an app server on the shop's database, with the shop's
// hook and callback, without serving it.
func (sh *shop) start() *app {
	t := sh.t
	orders, err := store.Open(context.Background(), sh.db)
	require.NoError(t, err)
	t.Cleanup(func() { orders.Close() })
	cfg := integration.Config{
		AccessKey: shopAccount.AccessKeyID, SecretKey: shopAccount.SecretAccessKey, TestMode: true,
		BaseURL:     sh.URL,
		APIEndpoint: sh.sim.APIEndpoint(), CBUIEndpoint: sh.sim.CBUIEndpoint(), HTTPClient: sh.sim.HTTPClient(),
		RootCAs:              sh.sim.CAPool(),
		Store:                orders,
		TransactionHook:      sh.transaction,
		NotificationCallback: sh.callback,
		HookTimeout:          sh.hookTimeout,
	}
	if sh.wrapStore != nil {
		cfg.Store = sh.wrapStore(orders)
	}
	if sh.charge {
		cfg.Charge = sh.chargeOrder
	}
	if !sh.noLogger {
		cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&sh.mu, &sh.log}, nil))
	}
	switch sh.verifier {
	case "local":
		cfg.Verifier = fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
			o.PinnedKeys = map[string]*rsa.PublicKey{sh.sim.CertificateURL(): sh.sim.PublicKey()}
		})
	case "remote":
		cfg.Verifier = fps.NewRemoteVerifier(clientOf(t, sh.sim, shopAccount))
	}
	if sh.custom != nil {
		cfg.Verifier = sh.custom
	}
	a, err := integration.New(cfg)
	require.NoError(t, err)
	return &app{a: a, orders: orders}
}

// restart stops the app server and serves a new one on the same
// database and address.
func (sh *shop) restart() *app {
	next := sh.start()
	old := sh.serving.Swap(next)
	require.NoError(sh.t, old.orders.Close())
	return next
}

// transaction is the shop's TransactionHook: it charges the token for
// the order (or reserves the amount), as the seed's example does.
func (sh *shop) transaction(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o integration.Order) {
	sh.mu.Lock()
	sh.hooks++
	sh.mu.Unlock()
	if !ret.Status.Success() {
		io.WriteString(w, "not paid")
		return
	}
	if sh.panicOnce.CompareAndSwap(true, false) {
		panic(http.ErrAbortHandler)
	}
	if sh.charge {
		io.WriteString(w, "thank you: your order is "+string(o.Status))
		return
	}
	res, err := sh.pay(ctx, a, o)
	if err != nil {
		http.Error(w, "payment failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	io.WriteString(w, "thank you: "+res.TransactionID)
}

// pay charges (or reserves) the order's amount on its token, under its
// callerReference.
func (sh *shop) pay(ctx context.Context, a *integration.AmazonFPS, o integration.Order) (*fps.Result, error) {
	pay := a.Purchase
	if sh.authorize {
		pay = a.Authorize
	}
	res, err := pay(ctx, o.Amount.Value, fps.PurchaseOptions{TokenID: o.TokenID, CallerReference: o.CallerReference})
	if err == nil {
		sh.mu.Lock()
		sh.purchases = append(sh.purchases, res)
		sh.mu.Unlock()
	}
	return res, err
}

// chargeOrder is the shop's Config.Charge, when sh.charge is set: it
// counts its runs, then runs chargeHook when set, else pays.
func (sh *shop) chargeOrder(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
	sh.mu.Lock()
	sh.charges++
	hook := sh.chargeHook
	sh.mu.Unlock()
	if hook != nil {
		return hook(ctx, a, o)
	}
	_, err := sh.pay(ctx, a, o)
	return err
}

// chargeCount returns how often Config.Charge ran.
func (sh *shop) chargeCount() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.charges
}

func (sh *shop) callback(ctx context.Context, ch integration.OrderChange) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.failNext > 0 {
		sh.failNext--
		return errFulfilment
	}
	sh.changes = append(sh.changes, ch)
	return nil
}

var errFulfilment = &fulfilmentError{}

type fulfilmentError struct{}

func (*fulfilmentError) Error() string { return "the warehouse is offline" }

// counts returns how often the hook ran, and the changes the callback
// took.
func (sh *shop) counts() (hooks int, changes []integration.OrderChange) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.hooks, append([]integration.OrderChange(nil), sh.changes...)
}

func (sh *shop) logged() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.log.String()
}

// link signs the pipeline of a new order of amount, and returns the link
// and the order's callerReference.
func (sh *shop) link(amount string) (string, string) {
	sh.t.Helper()
	link, err := sh.app().a.WithFields(map[string]string{
		"pipelineName": "SingleUse", "transactionAmount": amount, "paymentReason": "Gopher plush",
	}).LinkURL(context.Background())
	require.NoError(sh.t, err)
	u, err := url.Parse(link)
	require.NoError(sh.t, err)
	return link, u.Query().Get("callerReference")
}

// buy plays the buyer approving link with method; it returns the signed
// return URL, not visited.
func buy(t *testing.T, sim *fpstest.Server, link, method string) *url.URL {
	t.Helper()
	back, err := sim.Buy(context.Background(), link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	require.NoError(t, err)
	return back
}

// get visits u as the buyer's browser would.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// post sends body to u as an IPN.
func post(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// order returns the order ref as the shop's store holds it.
func (sh *shop) order(ref string) integration.Order {
	sh.t.Helper()
	o, err := sh.app().orders.Order(context.Background(), ref)
	require.NoError(sh.t, err)
	return o
}

// await waits until order ref is in status want.
func (sh *shop) await(ref string, want integration.OrderStatus) integration.Order {
	sh.t.Helper()
	var o integration.Order
	require.Eventually(sh.t, func() bool {
		o = sh.order(ref)
		return o.Status == want
	}, 15*time.Second, 10*time.Millisecond, "order %s never became %s (it is %s); log:\n%s", ref, want, o.Status, sh.logged())
	return o
}

// checkout runs an order of amount through the buyer's approval (by
// method) and return; it returns the order's reference and the Pay's
// result.
func (sh *shop) checkout(amount, method string) (string, *fps.Result) {
	sh.t.Helper()
	link, ref := sh.link(amount)
	status, body := get(sh.t, buy(sh.t, sh.sim, link, method).String())
	require.Equal(sh.t, http.StatusOK, status, body)
	require.True(sh.t, strings.HasPrefix(body, "thank you: "), body)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return ref, sh.purchases[len(sh.purchases)-1]
}

// requireUntouched checks that order ref is as it was created: nothing
// in its history, no notification stored, no hook or callback run.
func (sh *shop) requireUntouched(ref string) {
	sh.t.Helper()
	ctx := context.Background()
	o := sh.order(ref)
	require.Equal(sh.t, integration.OrderCreated, o.Status)
	h, err := sh.app().orders.History(ctx, ref)
	require.NoError(sh.t, err)
	require.Empty(sh.t, h, "nothing in the order's history")
	txs, err := sh.app().orders.Transactions(ctx, ref)
	require.NoError(sh.t, err)
	require.Empty(sh.t, txs, "no transaction recorded for the order")
	list, err := sh.app().orders.List(ctx)
	require.NoError(sh.t, err)
	require.Empty(sh.t, list, "no notification stored")
	hooks, changes := sh.counts()
	require.Zero(sh.t, hooks, "the hook did not run")
	require.Empty(sh.t, changes, "the callback did not run")
}

// answers returns the shop's answers to the simulator's deliveries of
// the bodies that match, once every one of them was answered.
func answers(t *testing.T, sim *fpstest.Server, to string, match func(url.Values) bool, want int) []int {
	t.Helper()
	var codes []int
	require.Eventually(t, func() bool {
		codes = codes[:0]
		bodies := map[string]bool{}
		for _, d := range sim.Deliveries() {
			p, err := url.ParseQuery(d.Body)
			if err != nil || d.URL != to || !match(p) {
				continue
			}
			bodies[d.Body] = true
			if d.StatusCode == 0 {
				return false
			}
			codes = append(codes, d.StatusCode)
		}
		return len(bodies) >= want
	}, 15*time.Second, 10*time.Millisecond)
	return codes
}
