package integration_test

import (
	"context"
	"crypto/rsa"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The end-to-end tests of the handlers run a site (an httptest server
// with a ReturnHandler at /return and an IPNHandler at /ipn) against the
// simulator: the simulator signs the return URLs and IPNs, the site's
// verifiers check them (the local one fetching the simulator's
// certificate over https, the remote one calling VerifySignature), and
// the notifications land in a real store.

// verifier returns the "local" or the "remote" verifier of c, a client
// of s.
func verifier(s *fpstest.Server, c *fps.Client, name string) fps.Verifier {
	if name == "remote" {
		return fps.NewRemoteVerifier(c)
	}
	return fps.NewLocalVerifierForClient(c, func(o *fps.LocalVerifierOptions) { o.RootCAs = s.CAPool() })
}

// site is a merchant's web site on an httptest server: its ReturnHandler at
// /return records the token the buyer came back with, its IPNHandler at
// /ipn stores notifications and records each callback. Before the IPN
// handler answers, a wrapper may replace its answer to the first
// deliveries of each notification with 503, so the simulator sends the
// same notification again and the handler really meets duplicates.
type site struct {
	URL   string
	store listingStore

	mu           sync.Mutex
	orders       map[string]integration.Order // by callerReference: the order's and its refunds'
	tokens       []string                     // recorded by the return hook
	callbacks    map[string]int               // notification key → callback runs
	answers      map[string][]string          // IPN body → the handler's own answers, in order
	failFirst    int                          // deliveries of each body answered 503 after the handler ran
	returnHooked int
	log          strings.Builder // what the handlers logged
}

func newSite(t *testing.T, v fps.Verifier, st listingStore, failFirst int) *site {
	sh := &site{
		store: st, failFirst: failFirst,
		orders: map[string]integration.Order{}, callbacks: map[string]int{}, answers: map[string][]string{},
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sh.URL = srv.URL
	logger := slog.New(slog.NewTextHandler(lockedWriter{&sh.mu, &sh.log}, nil))
	mux.Handle("/return", &integration.ReturnHandler{
		Verifier: v, Endpoint: sh.URL + "/return", Orders: sh.lookup, Transaction: sh.transaction, Logger: logger,
	})
	mux.Handle("/ipn", sh.flaky(&integration.IPNHandler{
		Verifier: v, Endpoint: sh.URL + "/ipn", Store: st, Orders: sh.lookup, Callback: sh.callback, Logger: logger,
	}))
	return sh
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (sh *site) logged() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.log.String()
}

// addOrder records an order; more references (refunds) may point to it.
func (sh *site) addOrder(amount fps.Amount, refs ...string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, ref := range refs {
		sh.orders[ref] = integration.Order{CallerReference: ref, Amount: amount}
	}
}

func (sh *site) lookup(ctx context.Context, ref string) (integration.Order, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	o, ok := sh.orders[ref]
	if !ok {
		return integration.Order{}, integration.ErrUnknownOrder
	}
	o.RecipientEmail = fpstest.DefaultAccount().Email // the site's own account
	return o, nil
}

func (sh *site) transaction(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o integration.Order) {
	sh.mu.Lock()
	sh.returnHooked++
	sh.tokens = append(sh.tokens, ret.TokenID)
	sh.mu.Unlock()
	io.WriteString(w, "thank you for order "+o.CallerReference)
}

func (sh *site) callback(ctx context.Context, n *fps.Notification) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.callbacks[n.Key()]++
	return nil
}

func (sh *site) flaky(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		sh.mu.Lock()
		sh.answers[string(body)] = append(sh.answers[string(body)], strings.TrimSpace(rec.Body.String()))
		n := len(sh.answers[string(body)])
		sh.mu.Unlock()
		if n <= sh.failFirst {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

func (sh *site) counts() (returnHooked int, callbacks map[string]int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cb := make(map[string]int, len(sh.callbacks))
	for k, v := range sh.callbacks {
		cb[k] = v
	}
	return sh.returnHooked, cb
}

func (sh *site) answersTo(body string) []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append([]string(nil), sh.answers[body]...)
}

// deliveriesByBody groups the simulator's IPN delivery attempts by body.
func deliveriesByBody(s *fpstest.Server) map[string][]fpstest.Delivery {
	out := map[string][]fpstest.Delivery{}
	for _, d := range s.Deliveries() {
		out[d.Body] = append(out[d.Body], d)
	}
	return out
}

// settled waits until every notification the simulator sent has
// delivered (an attempt answered 2xx) and want notifications were sent.
func settled(t *testing.T, s *fpstest.Server, want int) map[string][]fpstest.Delivery {
	t.Helper()
	var by map[string][]fpstest.Delivery
	require.Eventually(t, func() bool {
		by = deliveriesByBody(s)
		if len(by) != want {
			return false
		}
		for _, ds := range by {
			if ds[len(ds)-1].Err != nil {
				return false
			}
		}
		return true
	}, 15*time.Second, 10*time.Millisecond)
	return by
}

// buyOverHTTP plays the buyer the way a browser would: the simulator's
// headless buy form answers a redirect to the signed return URL, which is
// then fetched from the site.
func buyOverHTTP(t *testing.T, s *fpstest.Server, pipelineURL, method string) *http.Response {
	t.Helper()
	noFollow := *s.HTTPClient()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(s.BuyEndpoint(), url.Values{"url": {pipelineURL}, "action": {"approve"}, "paymentMethod": {method}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := http.Get(resp.Header.Get("Location"))
	require.NoError(t, err)
	t.Cleanup(func() { back.Body.Close() })
	return back
}

// TestCheckoutEndToEnd: pipeline URL → the buyer approves → the return
// handler verifies and the hook records the token → Pay (credit card:
// Pending, then Success) → the simulator's IPNs reach the IPN handler,
// each delivered three times (the first two answered 503 after the handler
// ran) and stored once, its callback run once → a partial refund, its IPNs
// stored the same way. On SQLite and PostgreSQL, with both verifiers.
func TestCheckoutEndToEnd(t *testing.T) {
	stores := map[string]func(t *testing.T) listingStore{
		"sqlite": func(t *testing.T) listingStore {
			s, err := store.NewSQL(context.Background(), testdb.SQLite(t), store.SQLite)
			require.NoError(t, err)
			return s
		},
		"postgres": func(t *testing.T) listingStore {
			s, err := store.NewSQL(context.Background(), testdb.Postgres(t), store.PostgreSQL)
			require.NoError(t, err)
			return s
		},
	}
	for storeName, open := range stores {
		for _, verifierName := range []string{"local", "remote"} {
			t.Run(storeName+"/"+verifierName, func(t *testing.T) {
				st := open(t)
				checkout(t, st, verifierName)
			})
		}
	}
}

func checkout(t *testing.T, st listingStore, verifierName string) {
	ctx := context.Background()
	s := fpstest.NewServer(t, func(c *fpstest.Config) {
		c.PendingDelay = -1
		c.IPNRetryWindow, c.IPNFirstDelay = 15*time.Second, 20*time.Millisecond
	})
	c := s.Client(t)
	const deliveries = 3
	sh := newSite(t, verifier(s, c, verifierName), st, deliveries-1)
	require.NoError(t, s.SetIPNURL(fpstest.DefaultAccessKeyID, sh.URL+"/ipn"))

	ref := fps.NewCallerReference()
	refundRef := ref + "-refund-1"
	sh.addOrder(fps.USD(decimal.RequireFromString("12.50")), ref, refundRef)

	// The buyer approves and comes back to the site.
	pipelineURL, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: sh.URL + "/return", CallerReference: ref},
		TransactionAmount: decimal.RequireFromString("12.50"),
		PaymentReason:     "Two books",
	})
	require.NoError(t, err)
	back := buyOverHTTP(t, s, pipelineURL, "CC")
	page, err := io.ReadAll(back.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, back.StatusCode, string(page))
	require.Equal(t, "thank you for order "+ref, string(page))
	hooked, _ := sh.counts()
	require.Equal(t, 1, hooked)
	sh.mu.Lock()
	token := sh.tokens[0]
	sh.mu.Unlock()
	status, ok := s.Ledger().TokenStatus(token)
	require.True(t, ok, "the hook got the token the simulator installed")
	require.Equal(t, "Active", status)

	// Pay with that token: Pending now, Success once the card network answers.
	res, err := c.Purchase(ctx, decimal.RequireFromString("12.50"), fps.PurchaseOptions{TokenID: token, CallerReference: ref})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, res.TransactionStatus)
	settled(t, s, 1)
	require.NoError(t, s.CompletePending(ctx))
	settled(t, s, 2)

	// A partial refund, also by card: Pending, then Success.
	refund, err := c.Credit(ctx, decimal.RequireFromString("5.00"), fps.CreditOptions{TransactionID: res.TransactionID, CallerReference: refundRef})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, refund.TransactionStatus)
	settled(t, s, 3)
	require.NoError(t, s.CompletePending(ctx))
	byBody := settled(t, s, 4)

	wantKeys := []string{
		"TransactionStatus/" + res.TransactionID + "/PAY/PENDING",
		"TransactionStatus/" + res.TransactionID + "/PAY/SUCCESS",
		"TransactionStatus/" + refund.TransactionID + "/REFUND/PENDING",
		"TransactionStatus/" + refund.TransactionID + "/REFUND/SUCCESS",
	}
	list, err := st.List(ctx)
	require.NoError(t, err)
	var gotKeys []string
	for _, n := range list {
		gotKeys = append(gotKeys, n.Key)
	}
	require.ElementsMatch(t, wantKeys, gotKeys, "each notification stored exactly once")

	_, callbacks := sh.counts()
	require.Len(t, callbacks, len(wantKeys))
	for _, k := range wantKeys {
		require.Equal(t, 1, callbacks[k], "callback of %s", k)
	}

	for body, ds := range byBody {
		require.Len(t, ds, deliveries, "delivered %d times: %s", deliveries, body)
		for i, d := range ds {
			require.Equal(t, i+1, d.Attempt)
			want := http.StatusServiceUnavailable
			if i == deliveries-1 {
				want = http.StatusOK
			}
			require.Equal(t, want, d.StatusCode, "attempt %d", d.Attempt)
		}
		require.Equal(t, []string{"stored", "duplicate notification, already stored", "duplicate notification, already stored"},
			sh.answersTo(body), "the handler saw every delivery and stored the first")
	}

	for _, sn := range list {
		require.Contains(t, byBody, sn.RawBody, "the body is stored as delivered")
		n := sn.Notification
		switch n.Operation {
		case "PAY":
			require.Equal(t, ref, n.CallerReference)
			require.True(t, n.TransactionAmount.Value.Equal(decimal.RequireFromString("12.50")), "%v", n.TransactionAmount)
		case "REFUND":
			require.Equal(t, refundRef, n.CallerReference)
			require.Equal(t, res.TransactionID, n.ParentTransactionID)
			require.True(t, n.TransactionAmount.Value.Equal(decimal.RequireFromString("5.00")), "%v", n.TransactionAmount)
		default:
			t.Fatalf("unexpected operation %q", n.Operation)
		}
		require.Equal(t, fps.PaymentMethodCC, n.PaymentMethod)
	}
}

// attackerAccount is a second merchant account at the simulator: the
// attacker's own site, whose genuinely signed messages it sends to the
// victim (Wang et al., "How to Shop for Free Online").
var attackerAccount = fpstest.Account{
	AccessKeyID:     "AKIAFPSTESTATTACKER0",
	SecretAccessKey: "fpstest/ATTACKER/secret+key/not+a+real+secret",
	Name:            "Attacker's Shop",
	Email:           "attacker@example.com",
}

// attackerPays makes the attacker's account pay amount with
// callerReference ref (the buyer approving by ABT, so it succeeds at once)
// while its IPNs go to ipnURL.
func attackerPays(t *testing.T, s *fpstest.Server, ipnURL, ref, amount string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.SetIPNURL(attackerAccount.AccessKeyID, ipnURL))
	c := s.Client(t, func(o *fps.Options) {
		o.Credentials = fps.StaticCredentials(attackerAccount.AccessKeyID, attackerAccount.SecretAccessKey)
	})
	pipelineURL, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://attacker.example/return", CallerReference: ref},
		TransactionAmount: decimal.RequireFromString(amount),
	})
	require.NoError(t, err)
	ret, err := s.Buy(ctx, pipelineURL, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "ABT"})
	require.NoError(t, err)
	res, err := c.Purchase(ctx, decimal.RequireFromString(amount), fps.PurchaseOptions{TokenID: ret.Query().Get("tokenID"), CallerReference: ref})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, res.TransactionStatus)
}

// answeredBySimulator waits until the simulator delivered to ipnURL and
// returns the status of the first attempt.
func answeredBySimulator(t *testing.T, s *fpstest.Server, ipnURL string) int {
	t.Helper()
	var code int
	require.Eventually(t, func() bool {
		for _, d := range s.Deliveries() {
			if d.URL == ipnURL && d.StatusCode != 0 {
				code = d.StatusCode
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond)
	return code
}

// attackerServer is the attacker's https server: its TLS certificate is
// one the site trusts (as a real attacker's would be, from a public CA),
// and it serves, as PKICert.pem, a self-signed certificate of the
// attacker's signing key.
type attackerServer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	fetches atomic.Int64
}

func newAttackerServer(t *testing.T, s *fpstest.Server) *attackerServer {
	a := &attackerServer{key: msgtest.Key(t, 1)}
	self, _ := msgtest.NewCA(t, "fps.amazonaws.com", a.key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: self.Raw})
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fetches.Add(1)
		w.Write(certPEM)
	}))
	a.srv.TLS = s.ServerTLSConfig()
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attackerServer) host() string { return a.srv.Listener.Addr().String() }
func (a *attackerServer) certURL(string) string {
	return a.srv.URL + "/certs/attacker/PKICert.pem"
}

// TestRefusalsEndToEnd sends the site what an attacker could: a tampered
// return URL, genuinely signed IPNs of the attacker's own payments (for an
// order the site never started, and a cheap payment under the reference
// of an expensive order), and messages signed with the attacker's key
// whose certificateUrl points to the attacker's https server. Each is
// refused, the hook and the callback never run, nothing is stored.
func TestRefusalsEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := fpstest.NewServer(t, func(c *fpstest.Config) {
		c.Accounts = []fpstest.Account{fpstest.DefaultAccount(), attackerAccount}
		c.IPNRetryWindow, c.IPNFirstDelay = 300*time.Millisecond, 100*time.Millisecond
	})
	c := s.Client(t)
	evil := newAttackerServer(t, s)

	// forged signs params with the attacker's key, certificateUrl on the
	// attacker's server.
	forged := func(method, endpoint string, params url.Values) string {
		return msgtest.Sign(t, evil.key, method, endpoint, evil.certURL("good"), params)
	}
	type attack struct {
		name string
		// run attacks sh (whose order ref is 12.50 USD) and returns the
		// HTTP status the site answered.
		run    func(t *testing.T, sh *site, ref string) int
		status int
		// reason the site gives, per verifier; "" when not checked.
		reason map[string]string
	}
	mismatch := map[string]string{"local": "signature does not match", "remote": "VerifySignature answered Failure"}
	attacks := []attack{
		{"tampered return", func(t *testing.T, sh *site, ref string) int {
			pipelineURL, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
				PipelineCommon:    fps.PipelineCommon{ReturnURL: sh.URL + "/return", CallerReference: ref},
				TransactionAmount: decimal.RequireFromString("12.50"),
			})
			require.NoError(t, err)
			ret, err := s.Buy(ctx, pipelineURL, fpstest.BuyerChoice{Action: fpstest.Approve})
			require.NoError(t, err)
			q := ret.Query()
			q.Set("tokenID", "ATTACKERS-OWN-TOKEN")
			ret.RawQuery = q.Encode()
			resp, err := http.Get(ret.String())
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}, http.StatusForbidden, mismatch},
		{"IPN for another order", func(t *testing.T, sh *site, ref string) int {
			attackerPays(t, s, sh.URL+"/ipn", "attacker-order-"+ref, "12.50")
			return answeredBySimulator(t, s, sh.URL+"/ipn")
		}, http.StatusForbidden, map[string]string{"local": "unknown order", "remote": "unknown order"}},
		{"cheap payment under an expensive order's reference", func(t *testing.T, sh *site, ref string) int {
			attackerPays(t, s, sh.URL+"/ipn", ref, "1.00")
			return answeredBySimulator(t, s, sh.URL+"/ipn")
		}, http.StatusForbidden, map[string]string{"local": "does not match the order", "remote": "does not match the order"}},
		{"attacker pays itself under the order's reference and amount", func(t *testing.T, sh *site, ref string) int {
			attackerPays(t, s, sh.URL+"/ipn", ref, "12.50")
			return answeredBySimulator(t, s, sh.URL+"/ipn")
		}, http.StatusForbidden, map[string]string{"local": "recipient", "remote": "recipient"}},
		{"IPN with the attacker's certificate URL", func(t *testing.T, sh *site, ref string) int {
			p := msgtest.PayParams(ref, "USD 12.50")
			resp, err := http.Post(sh.URL+"/ipn", "application/x-www-form-urlencoded", strings.NewReader(forged("POST", sh.URL+"/ipn", p)))
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}, http.StatusForbidden, map[string]string{"local": "certificate URL not allowed", "remote": "VerifySignature answered Failure"}},
		{"return with the attacker's certificate URL", func(t *testing.T, sh *site, ref string) int {
			p := url.Values{"status": {"SC"}, "tokenID": {"ATTACKERS-OWN-TOKEN"}, "callerReference": {ref}, "expiry": {"10/2030"}}
			resp, err := http.Get(sh.URL + "/return?" + forged("GET", sh.URL+"/return", p))
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}, http.StatusForbidden, map[string]string{"local": "certificate URL not allowed", "remote": "VerifySignature answered Failure"}},
	}

	for _, vname := range []string{"local", "remote"} {
		for _, a := range attacks {
			t.Run(vname+"/"+a.name, func(t *testing.T) {
				st := store.NewMemory()
				sh := newSite(t, verifier(s, c, vname), st, 0)
				ref := fps.NewCallerReference()
				sh.addOrder(fps.USD(decimal.RequireFromString("12.50")), ref)
				fetchesBefore := evil.fetches.Load()

				require.Equal(t, a.status, a.run(t, sh, ref))
				require.Contains(t, sh.logged(), a.reason[vname])

				hooked, callbacks := sh.counts()
				require.Zero(t, hooked, "return hook not run")
				require.Empty(t, callbacks, "IPN callback not run")
				list, err := st.List(ctx)
				require.NoError(t, err)
				require.Empty(t, list, "nothing stored")
				require.Equal(t, fetchesBefore, evil.fetches.Load(), "the attacker's server was never asked for its certificate")
			})
		}
	}

	// A verifier misconfigured to allow the attacker's host still refuses
	// the attacker's certificate: its chain does not lead to the trusted
	// CA. The site answers 503 (a certificate it cannot use now), so a
	// genuine sender would try again; nothing is stored.
	t.Run("local/attacker's host allowed by mistake", func(t *testing.T) {
		st := store.NewMemory()
		v := fps.NewLocalVerifierForClient(c, func(o *fps.LocalVerifierOptions) {
			o.RootCAs = s.CAPool()
			o.AllowedHosts = append(o.AllowedHosts, evil.host())
		})
		sh := newSite(t, v, st, 0)
		ref := fps.NewCallerReference()
		sh.addOrder(fps.USD(decimal.RequireFromString("12.50")), ref)
		resp, err := http.Post(sh.URL+"/ipn", "application/x-www-form-urlencoded",
			strings.NewReader(forged("POST", sh.URL+"/ipn", msgtest.PayParams(ref, "USD 12.50"))))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Positive(t, evil.fetches.Load(), "the certificate was fetched and refused")
		require.Contains(t, sh.logged(), "certificate unusable")
		require.Contains(t, sh.logged(), "x509", "refused for its chain")
		_, callbacks := sh.counts()
		require.Empty(t, callbacks)
		list, err := st.List(ctx)
		require.NoError(t, err)
		require.Empty(t, list)
	})
}
