package integration_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// returned is what the TransactionHook saw.
type returned struct {
	ret      *fps.PipelineReturn
	order    integration.Order
	purchase *fps.Result
	err      error
}

// shop is an integration serving its handler on loopback, wired to a
// simulator whose IPNs go to it.
type shop struct {
	s       *fpstest.Server
	a       *integration.AmazonFPS
	notes   *store.Memory
	returns chan returned
	ipns    chan *fps.Notification
}

// newShop starts a simulator (transactions stay Pending until
// CompletePending) and an integration whose TransactionHook purchases
// the order's amount, as the seed's example does.
func newShop(t *testing.T, optFns ...func(*integration.Config, *fpstest.Server)) *shop {
	t.Helper()
	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	sh := &shop{s: s, notes: store.NewMemory(), returns: make(chan returned, 4), ipns: make(chan *fps.Notification, 16)}
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := integration.Config{
		AccessKey:    fpstest.DefaultAccessKeyID,
		SecretKey:    fpstest.DefaultSecretAccessKey,
		TestMode:     true,
		BaseURL:      srv.URL + "/",
		APIEndpoint:  s.APIEndpoint(),
		CBUIEndpoint: s.CBUIEndpoint(),
		HTTPClient:   s.HTTPClient(),
		Store:        sh.notes,
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			got := returned{ret: ret, order: order}
			if ret.Status.Success() {
				got.purchase, got.err = a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
			}
			sh.returns <- got
			if got.err != nil {
				http.Error(w, "payment failed", http.StatusBadGateway)
				return
			}
			fmt.Fprintln(w, "thank you")
		},
		NotificationCallback: func(ctx context.Context, n *fps.Notification) error {
			sh.ipns <- n
			return nil
		},
	}
	for _, fn := range optFns {
		fn(&cfg, s)
	}
	a, err := integration.New(cfg)
	require.NoError(t, err)
	handler = a.Handler()
	sh.a = a
	require.NoError(t, s.SetIPNURL(fpstest.DefaultAccessKeyID, a.NotifyURL()))
	return sh
}

// ipn waits for the IPN of operation and status.
func (sh *shop) ipn(t *testing.T, operation fps.NotificationOperation, status fps.NotificationStatus) *fps.Notification {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-sh.ipns:
			if n.Operation == operation && n.Status == status {
				return n
			}
		case <-deadline:
			t.Fatalf("no %s %s IPN arrived; deliveries: %+v", operation, status, sh.s.Deliveries())
		}
	}
}

// stored checks that n is in the store.
func (sh *shop) stored(t *testing.T, n *fps.Notification) {
	t.Helper()
	got, err := sh.notes.Get(context.Background(), n.Key())
	require.NoError(t, err)
	require.Equal(t, n.TransactionID, got.Notification.TransactionID)
}

// approve signs a SingleUse pipeline of amount through the integration
// and plays the buyer approving it; it returns the signed return URL.
func (sh *shop) approve(t *testing.T, amount string) *url.URL {
	t.Helper()
	ctx := context.Background()
	link, err := sh.a.WithFields(map[string]string{
		"pipelineName": "SingleUse", "transactionAmount": amount, "paymentReason": "Digital Download",
	}).LinkURL(ctx)
	require.NoError(t, err)
	back, err := sh.s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	return back
}

// get visits u as the buyer's browser would.
func get(t *testing.T, u string) (status int, body string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// checkout approves a pipeline of amount, visits the return URL and
// returns the hook's view of the verified return.
func (sh *shop) checkout(t *testing.T, amount string) returned {
	t.Helper()
	status, body := get(t, sh.approve(t, amount).String())
	require.Equal(t, http.StatusOK, status, body)
	select {
	case got := <-sh.returns:
		return got
	default:
		t.Fatal("the TransactionHook was not called")
		return returned{}
	}
}

func TestPurchaseEndToEnd(t *testing.T) {
	sh := newShop(t)
	ctx := context.Background()
	sh.a.AddFields(map[string]string{"pipelineName": "SingleUse", "transactionAmount": "30", "paymentReason": "Digital Download"})

	link, err := sh.a.LinkURL(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(link, sh.s.CBUIEndpoint()+"?"), link)
	u, err := url.Parse(link)
	require.NoError(t, err)
	q := u.Query()
	ref := q.Get("callerReference")
	require.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`), ref, "a callerReference is generated")
	require.Empty(t, q["CallerReference"], "no second, capitalised CallerReference")
	require.Equal(t, sh.a.ReturnURL(), q.Get("returnURL"))
	require.True(t, strings.HasSuffix(q.Get("returnURL"), "/amazon_fps/fps-return-url/"))

	order, err := sh.a.Orders().Lookup(ctx, ref)
	require.NoError(t, err, "the generated callerReference is recorded")
	require.True(t, order.Amount.Value.Equal(decimal.NewFromInt(30)), order.Amount.String())

	back, err := sh.s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	status, body := get(t, back.String())
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "thank you\n", body)

	got := <-sh.returns
	require.Equal(t, fps.PipelineStatusSuccessCC, got.ret.Status)
	require.Equal(t, ref, got.ret.CallerReference, "the return is matched to the recorded order")
	require.NotEmpty(t, got.ret.TokenID)
	require.Equal(t, ref, got.order.CallerReference)
	require.NoError(t, got.err)
	require.Equal(t, fps.ResultSuccess, got.purchase.Status)
	require.Equal(t, fps.TransactionStatusPending, got.purchase.TransactionStatus)

	pending := sh.ipn(t, "PAY", "PENDING")
	require.Equal(t, got.purchase.TransactionID, pending.TransactionID)
	require.NoError(t, sh.s.CompletePending(ctx))
	paid := sh.ipn(t, "PAY", "SUCCESS")
	require.Equal(t, ref, paid.CallerReference)
	require.Equal(t, "USD 30.00", paid.TransactionAmount.String())
	sh.stored(t, pending)
	sh.stored(t, paid)

	tx, ok := sh.s.Ledger().Transaction(got.purchase.TransactionID)
	require.True(t, ok)
	require.Equal(t, fps.TransactionStatusSuccess, tx.Status)
}

func TestLocalVerifier(t *testing.T) {
	// The RSA signature checked locally, with the simulator's key pinned,
	// instead of the VerifySignature action.
	local := &countingVerifier{}
	sh := newShop(t, func(cfg *integration.Config, s *fpstest.Server) {
		local.v = fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
			o.PinnedKeys = map[string]*rsa.PublicKey{s.CertificateURL(): s.PublicKey()}
		})
		cfg.Verifier = local
	})
	got := sh.checkout(t, "12.34")
	require.NoError(t, got.err)
	require.Equal(t, "USD 12.34", got.order.Amount.String())
	require.NoError(t, sh.s.CompletePending(context.Background()))
	sh.stored(t, sh.ipn(t, "PAY", "SUCCESS"))
	require.GreaterOrEqual(t, local.n.Load(), int32(2), "the return and the IPN went through the configured verifier")
}

// countingVerifier counts the messages it checks.
type countingVerifier struct {
	v fps.Verifier
	n atomic.Int32
}

func (c *countingVerifier) Verify(ctx context.Context, method, endpoint, raw string) (url.Values, error) {
	c.n.Add(1)
	return c.v.Verify(ctx, method, endpoint, raw)
}

func TestAuthorizeCaptureVoid(t *testing.T) {
	sh := newShop(t)
	ctx := context.Background()

	// Authorize → Capture part of it.
	tok := sh.token(t, "40")
	ref := fps.NewCallerReference()
	auth, err := sh.a.Authorize(ctx, decimal.NewFromInt(40), fps.PurchaseOptions{TokenID: tok, CallerReference: ref})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, auth.Status)
	require.NoError(t, sh.s.CompletePending(ctx))
	sh.ipn(t, "RESERVE", "RESERVED")
	capture, err := sh.a.Capture(ctx, decimal.NewFromInt(25), fps.CaptureOptions{TransactionID: auth.TransactionID})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, capture.Status)
	require.NoError(t, sh.s.CompletePending(ctx))
	settled := sh.ipn(t, "SETTLE", "SUCCESS")
	require.Equal(t, ref, settled.CallerReference)
	require.Equal(t, "USD 25.00", settled.TransactionAmount.String())
	sh.stored(t, settled)
	tx, ok := sh.s.Ledger().Transaction(auth.TransactionID)
	require.True(t, ok)
	require.True(t, tx.SettledAmount.Equal(decimal.NewFromInt(25)), tx.SettledAmount.String())

	// Authorize → Void.
	tok2 := sh.token(t, "12.50")
	auth2, err := sh.a.Authorize(ctx, decimal.RequireFromString("12.50"), fps.PurchaseOptions{TokenID: tok2, CallerReference: fps.NewCallerReference()})
	require.NoError(t, err)
	require.NoError(t, sh.s.CompletePending(ctx))
	void, err := sh.a.Void(ctx, auth2.TransactionID, fps.VoidOptions{Description: "out of stock"})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, void.Status)
	require.Equal(t, fps.TransactionStatusCancelled, void.TransactionStatus)
	tx2, ok := sh.s.Ledger().Transaction(auth2.TransactionID)
	require.True(t, ok)
	require.Equal(t, fps.TransactionStatusCancelled, tx2.Status)
	cancelled := sh.ipn(t, "CANCEL", "CANCELLED")
	sh.stored(t, cancelled)
}

// token approves a pipeline of amount and returns its token, without
// visiting the return URL.
func (sh *shop) token(t *testing.T, amount string) string {
	t.Helper()
	tok := sh.approve(t, amount).Query().Get("tokenID")
	require.NotEmpty(t, tok)
	return tok
}

func TestCredit(t *testing.T) {
	sh := newShop(t)
	ctx := context.Background()
	got := sh.checkout(t, "30")
	require.NoError(t, got.err)
	require.NoError(t, sh.s.CompletePending(ctx))
	sh.ipn(t, "PAY", "SUCCESS")

	refundRef := fps.NewCallerReference()
	credit, err := sh.a.Credit(ctx, decimal.NewFromInt(10), fps.CreditOptions{
		TransactionID: got.purchase.TransactionID, CallerReference: refundRef, Description: "one item returned",
	})
	require.NoError(t, err)
	require.Equal(t, fps.ResultSuccess, credit.Status)
	require.NotEqual(t, got.purchase.TransactionID, credit.TransactionID)
	require.NoError(t, sh.s.CompletePending(ctx))
	refund := sh.ipn(t, "REFUND", "SUCCESS")
	require.Equal(t, refundRef, refund.CallerReference)
	require.Equal(t, got.purchase.TransactionID, refund.ParentTransactionID)
	require.Equal(t, "USD 10.00", refund.TransactionAmount.String())
	sh.stored(t, refund)

	tx, ok := sh.s.Ledger().Transaction(got.purchase.TransactionID)
	require.True(t, ok)
	require.True(t, tx.RefundedAmount.Equal(decimal.NewFromInt(10)), tx.RefundedAmount.String())

	_, err = sh.a.Credit(ctx, decimal.Zero, fps.CreditOptions{TransactionID: got.purchase.TransactionID, CallerReference: fps.NewCallerReference()})
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "amount", ve.Field)
}

func TestReturnForUnknownReferenceIsRefused(t *testing.T) {
	sh := newShop(t)
	ctx := context.Background()
	// A correctly signed pipeline the integration did not issue: the
	// client signs it directly, so nothing is recorded.
	link, err := sh.a.Client().LinkURL(ctx, fps.PipelineFields{
		"pipelineName": "SingleUse", "transactionAmount": "30", "paymentReason": "x",
		"callerReference": "not-issued-here", "returnURL": sh.a.ReturnURL(),
	})
	require.NoError(t, err)
	back, err := sh.s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	status, body := get(t, back.String())
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, body, "unknown order")
	require.Contains(t, body, "not-issued-here")
	require.Empty(t, sh.returns, "the hook must not run")

	// An altered return (another token) is refused too.
	forged := strings.Replace(sh.approve(t, "30").String(), "tokenID=", "tokenID=X", 1)
	status, body = get(t, forged)
	require.Equal(t, http.StatusForbidden, status, body)
	require.Empty(t, sh.returns)
}

func TestLinkURLAsTheSeedTests(t *testing.T) {
	// The seed's testLinkGen: sandbox CBUI host and path, the fields in
	// the query, callerKey the access key; no simulator involved.
	a := newOffline(t, "http://localhost/")
	require.Equal(t, "https://fps.sandbox.amazonaws.com/", a.ServiceURL())
	fields := map[string]string{
		"callerReference": "100", "paymentReason": "Digital Download", "pipelineName": "SingleUse",
		"transactionAmount": "30", "returnURL": "http://localhost/fps/fps-return-url/",
	}
	a.AddFields(fields)
	button, err := a.Button(context.Background())
	require.NoError(t, err)
	m := regexp.MustCompile(`<a href="([^"]+)"><img src="https://g-ecx.images-amazon.com/images/G/01/cba/b/p3.gif" alt="Amazon Payments" /></a>`).FindStringSubmatch(string(button))
	require.Len(t, m, 2, string(button))
	u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	require.NoError(t, err)
	require.Equal(t, "https", u.Scheme)
	require.Equal(t, "authorize.payments-sandbox.amazon.com", u.Host)
	require.Equal(t, "/cobranded-ui/actions/start", u.Path)
	q := u.Query()
	for k, v := range fields {
		require.Equal(t, v, q.Get(k), k)
	}
	require.Equal(t, "AKIAEXAMPLE", q.Get("callerKey"))
	require.Equal(t, "2009-01-09", q.Get("version"))
	order, err := a.Orders().Lookup(context.Background(), "100")
	require.NoError(t, err)
	require.Equal(t, "USD 30.00", order.Amount.String())

	// The seed's dropped fields are dropped; other unknown names are refused.
	b := a.WithFields(map[string]string{"paymentPage": "http://localhost/product", "aws_secret_access_key": "secret"})
	link, err := b.LinkURL(context.Background())
	require.NoError(t, err)
	require.NotContains(t, link, "paymentPage")
	require.NotContains(t, link, "aws_secret")
	_, err = a.WithFields(map[string]string{"colour": "red"}).LinkURL(context.Background())
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "colour", ve.Field)
}

func TestWithFieldsLeavesTheSharedIntegrationAlone(t *testing.T) {
	a := newOffline(t, "https://shop.example/")
	a.AddFields(map[string]string{"pipelineName": "SingleUse", "paymentReason": "Shop"})
	one := a.WithFields(map[string]string{"transactionAmount": "1", "callerReference": "one"})
	two := a.WithFields(map[string]string{"transactionAmount": "2", "callerReference": "two"})
	ctx := context.Background()
	l1, err := one.LinkURL(ctx)
	require.NoError(t, err)
	l2, err := two.LinkURL(ctx)
	require.NoError(t, err)
	require.Contains(t, l1, "transactionAmount=1&")
	require.Contains(t, l2, "transactionAmount=2&")
	_, err = a.LinkURL(ctx)
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve, "the shared integration has no amount")
	require.Equal(t, "transactionAmount", ve.Field)

	// Both orders are in the shared book.
	for ref, want := range map[string]string{"one": "USD 1.00", "two": "USD 2.00"} {
		o, err := a.Orders().Lookup(ctx, ref)
		require.NoError(t, err)
		require.Equal(t, want, o.Amount.String())
	}
	// Two links without a callerReference get two references.
	three := a.WithFields(map[string]string{"transactionAmount": "3"})
	l3, err := three.LinkURL(ctx)
	require.NoError(t, err)
	l4, err := three.LinkURL(ctx)
	require.NoError(t, err)
	r3, _ := url.Parse(l3)
	r4, _ := url.Parse(l4)
	require.NotEqual(t, r3.Query().Get("callerReference"), r4.Query().Get("callerReference"))
}

func newOffline(t *testing.T, base string) *integration.AmazonFPS {
	t.Helper()
	a, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true, BaseURL: base,
		Store: store.NewMemory(),
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
	})
	require.NoError(t, err)
	return a
}

func TestRoutesFollowTheBaseURL(t *testing.T) {
	a := newOffline(t, "https://shop.example/store")
	require.Equal(t, "https://shop.example/store/amazon_fps/fps-return-url/", a.ReturnURL())
	require.Equal(t, "https://shop.example/store/amazon_fps/fps-notify-handler/", a.NotifyURL())

	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/store/amazon_fps/fps-return-url/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/store/amazon_fps/fps-notify-handler/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/store/amazon_fps/fps-return-url/", http.StatusForbidden}, // not signed
		{http.MethodPost, "/store/amazon_fps/fps-notify-handler/", http.StatusForbidden},
		{http.MethodGet, "/amazon_fps/fps-return-url/", http.StatusNotFound},
		{http.MethodGet, "/store/amazon_fps/fps-return-url/more", http.StatusNotFound},
	} {
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, httptest.NewRequest(tc.method, "http://evil.example"+tc.path, strings.NewReader("a=b")))
		require.Equal(t, tc.want, w.Code, "%s %s: %s", tc.method, tc.path, w.Body)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	t.Setenv("FPS_BASE_URL", "https://shop.example/")
	t.Setenv("FPS_TEST_MODE", "")
	cfg, err := integration.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "AKIAENV", cfg.AccessKey)
	require.Equal(t, "envsecret", cfg.SecretKey)
	require.Equal(t, "https://shop.example/", cfg.BaseURL)
	require.True(t, cfg.TestMode, "test mode is the default, like MERCHANT_TEST_MODE")
	cfg.Store = store.NewMemory()
	cfg.TransactionHook = func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	a, err := integration.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://fps.sandbox.amazonaws.com/", a.ServiceURL())

	t.Setenv("FPS_TEST_MODE", "false")
	cfg, err = integration.ConfigFromEnv()
	require.NoError(t, err)
	require.False(t, cfg.TestMode)
	cfg.Store = store.NewMemory()
	cfg.TransactionHook = func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	a, err = integration.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://fps.amazonaws.com/", a.ServiceURL())

	t.Setenv("FPS_TEST_MODE", "maybe")
	_, err = integration.ConfigFromEnv()
	require.ErrorContains(t, err, "FPS_TEST_MODE")
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	hook := func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	full := integration.Config{AccessKey: "AKIAEXAMPLE", SecretKey: "shh-secret", BaseURL: "https://shop.example/", Store: store.NewMemory(), TransactionHook: hook}
	for _, tc := range []struct {
		name string
		edit func(*integration.Config)
		want string
	}{
		{"access key", func(c *integration.Config) { c.AccessKey = "" }, "Config.AccessKey"},
		{"secret key", func(c *integration.Config) { c.SecretKey = "" }, "Config.SecretKey"},
		{"hook", func(c *integration.Config) { c.TransactionHook = nil }, "Config.TransactionHook"},
		{"store", func(c *integration.Config) { c.Store = nil }, "Config.Store"},
		{"base", func(c *integration.Config) { c.BaseURL = "" }, "Config.BaseURL"},
		{"relative base", func(c *integration.Config) { c.BaseURL = "/shop/" }, "Config.BaseURL"},
		{"base with query", func(c *integration.Config) { c.BaseURL = "https://shop.example/?a=1" }, "Config.BaseURL"},
		{"endpoint", func(c *integration.Config) { c.APIEndpoint = "ftp://x" }, "APIEndpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := full
			tc.edit(&cfg)
			_, err := integration.New(cfg)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "shh-secret")
		})
	}
}

func TestMemoryOrderBook(t *testing.T) {
	ctx := context.Background()
	b := integration.NewMemoryOrderBook()
	_, err := b.Lookup(ctx, "x")
	require.True(t, errors.Is(err, integration.ErrUnknownOrder), err)
	require.Error(t, b.Record(ctx, integration.Order{}))
	require.NoError(t, b.Record(ctx, integration.Order{CallerReference: "x", Amount: fps.USD(decimal.NewFromInt(1))}))
	require.NoError(t, b.Record(ctx, integration.Order{CallerReference: "x", Amount: fps.USD(decimal.NewFromInt(2))}))
	o, err := b.Lookup(ctx, "x")
	require.NoError(t, err)
	require.Equal(t, "USD 2.00", o.Amount.String())
}

// An amount FPS would refuse is refused before the order book records it,
// so a failed call leaves no order behind.
func TestRefusedAmountRecordsNoOrder(t *testing.T) {
	sh := newShop(t)
	ctx := context.Background()
	for name, call := range map[string]func(ref string) error{
		"Purchase": func(ref string) error {
			_, err := sh.a.Purchase(ctx, decimal.RequireFromString("19.999"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref})
			return err
		},
		"Authorize": func(ref string) error {
			_, err := sh.a.Authorize(ctx, decimal.RequireFromString("-1"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref})
			return err
		},
		"Credit": func(ref string) error {
			_, err := sh.a.Credit(ctx, decimal.RequireFromString("0.001"), fps.CreditOptions{TransactionID: "X", CallerReference: ref})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ref := fps.NewCallerReference()
			err := call(ref)
			var ve *fps.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, []string{"TransactionAmount.Value", "RefundAmount.Value"}, ve.Field)
			_, err = sh.a.Orders().Lookup(ctx, ref)
			require.ErrorIs(t, err, integration.ErrUnknownOrder)
		})
	}
}
