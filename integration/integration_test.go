package integration_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

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

func TestLinkURLAsTheSeedTests(t *testing.T) {
	// The seed's testLinkGen: sandbox CBUI host and path, the fields in
	// the query, callerKey the access key; no simulator involved.
	ctx := context.Background()
	a := newOffline(t, "http://localhost/")
	require.Equal(t, "https://fps.sandbox.amazonaws.com/", a.ServiceURL())
	fields := map[string]string{
		"callerReference": "100", "paymentReason": "Digital Download", "pipelineName": "SingleUse",
		"transactionAmount": "30", "returnURL": "http://localhost/fps/fps-return-url/",
	}
	a.AddFields(fields)
	button, err := a.Button(ctx)
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
	order, err := a.Store().Order(ctx, "100")
	require.NoError(t, err)
	require.Equal(t, "USD 30.00", order.Amount.String())
	require.Equal(t, "Digital Download", order.Description)
	require.Equal(t, integration.OrderCreated, order.Status)

	// The same order's link again is the same order; another amount under
	// its reference is refused.
	_, err = a.LinkURL(ctx)
	require.NoError(t, err)
	_, err = a.WithFields(map[string]string{"transactionAmount": "1"}).LinkURL(ctx)
	require.ErrorIs(t, err, integration.ErrOrderMismatch)

	// The seed's dropped fields are dropped; other unknown names are refused.
	b := a.WithFields(map[string]string{"paymentPage": "http://localhost/product", "aws_secret_access_key": "secret"})
	link, err := b.LinkURL(ctx)
	require.NoError(t, err)
	require.NotContains(t, link, "paymentPage")
	require.NotContains(t, link, "aws_secret")
	_, err = a.WithFields(map[string]string{"colour": "red"}).LinkURL(ctx)
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

	// Both orders are in the shared store.
	for ref, want := range map[string]string{"one": "USD 1.00", "two": "USD 2.00"} {
		o, err := a.Store().Order(ctx, ref)
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

// clearEnv unsets every variable ConfigFromEnv reads, for the test.
func clearEnv(t *testing.T) {
	for _, k := range []string{integration.EnvAccessKeyID, integration.EnvAccessKey, integration.EnvSecretAccessKey,
		integration.EnvTestMode, integration.EnvBaseURL, integration.EnvDatabase} {
		t.Setenv(k, "")
	}
}

func TestConfigFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	t.Setenv("FPS_BASE_URL", "https://shop.example/")
	cfg, err := integration.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "AKIAENV", cfg.AccessKey)
	require.Equal(t, "envsecret", cfg.SecretKey)
	require.Equal(t, "https://shop.example/", cfg.BaseURL)
	require.True(t, cfg.TestMode, "test mode is the default, like MERCHANT_TEST_MODE")
	require.Equal(t, "fps.db", cfg.Database, "an SQLite file by default")
	cfg.Store = store.NewMemory()
	cfg.TransactionHook = func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	a, err := integration.New(cfg)
	require.NoError(t, err)
	require.Equal(t, "https://fps.sandbox.amazonaws.com/", a.ServiceURL())

	t.Setenv("FPS_TEST_MODE", "false")
	t.Setenv("FPS_DATABASE", "postgres://shop@db.example/shop")
	cfg, err = integration.ConfigFromEnv()
	require.NoError(t, err)
	require.False(t, cfg.TestMode)
	require.Equal(t, "postgres://shop@db.example/shop", cfg.Database)

	t.Setenv("FPS_TEST_MODE", "maybe")
	_, err = integration.ConfigFromEnv()
	require.ErrorContains(t, err, "FPS_TEST_MODE")
}

// TestConfigFromEnvTakesTheSeedsNames: the seed's AWS_ACCESS_KEY holds the
// access key when AWS_ACCESS_KEY_ID is not set; both set to different
// keys is refused.
func TestConfigFromEnvTakesTheSeedsNames(t *testing.T) {
	clearEnv(t)
	t.Setenv("AWS_ACCESS_KEY", "AKIASEED")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "seedsecret")
	t.Setenv("FPS_BASE_URL", "https://shop.example/")
	cfg, err := integration.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "AKIASEED", cfg.AccessKey)

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASEED")
	_, err = integration.ConfigFromEnv()
	require.NoError(t, err, "the same key under both names")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAOTHER")
	_, err = integration.ConfigFromEnv()
	require.ErrorContains(t, err, "AWS_ACCESS_KEY_ID and AWS_ACCESS_KEY hold different keys")
	require.NotContains(t, err.Error(), "AKIA", "no key in the error")
}

// TestConfigFromEnvNamesEachMissingVariable: every required variable not
// set is named, in one error.
func TestConfigFromEnvNamesEachMissingVariable(t *testing.T) {
	clearEnv(t)
	_, err := integration.ConfigFromEnv()
	require.EqualError(t, err, "integration: environment variables not set: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), "+
		"AWS_SECRET_ACCESS_KEY, FPS_BASE_URL (the shop's public URL, e.g. https://shop.example/)")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	_, err = integration.ConfigFromEnv()
	require.EqualError(t, err, "integration: environment variables not set: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY), "+
		"FPS_BASE_URL (the shop's public URL, e.g. https://shop.example/)")
}

// TestNewNamesWhatIsMissing: each required setting missing is named with
// where to get it, all in one error; the secret is never in it.
func TestNewNamesWhatIsMissing(t *testing.T) {
	hook := func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
	}
	full := integration.Config{AccessKey: "AKIAEXAMPLE", SecretKey: "shh-secret", BaseURL: "https://shop.example/", Store: store.NewMemory(), TransactionHook: hook}
	for _, tc := range []struct {
		name string
		edit func(*integration.Config)
		want []string
	}{
		{"access key", func(c *integration.Config) { c.AccessKey = "" }, []string{"Config.AccessKey is required", "AWS_ACCESS_KEY_ID"}},
		{"secret key", func(c *integration.Config) { c.SecretKey = "" }, []string{"Config.SecretKey is required", "AWS_SECRET_ACCESS_KEY"}},
		{"hook", func(c *integration.Config) { c.TransactionHook = nil }, []string{"Config.TransactionHook is required"}},
		{"store", func(c *integration.Config) { c.Store = nil }, []string{"Config.Store is required", `store.Open(ctx, "fps.db")`, "github.com/fpskit/fps/store"}},
		{"store of a database", func(c *integration.Config) { c.Store, c.Database = nil, "shop.db" }, []string{`store.Open(ctx, "shop.db")`}},
		{"base", func(c *integration.Config) { c.BaseURL = "" }, []string{"Config.BaseURL is required"}},
		{"relative base", func(c *integration.Config) { c.BaseURL = "/shop/" }, []string{"Config.BaseURL"}},
		{"base with query", func(c *integration.Config) { c.BaseURL = "https://shop.example/?a=1" }, []string{"Config.BaseURL"}},
		{"endpoint", func(c *integration.Config) { c.APIEndpoint = "ftp://x" }, []string{"APIEndpoint"}},
		{"all at once", func(c *integration.Config) { *c = integration.Config{SecretKey: "shh-secret"} }, []string{
			"Config.AccessKey", "Config.TransactionHook", "Config.Store", "Config.BaseURL",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := full
			tc.edit(&cfg)
			_, err := integration.New(cfg)
			require.Error(t, err)
			for _, want := range tc.want {
				require.ErrorContains(t, err, want)
			}
			require.NotContains(t, err.Error(), "shh-secret")
		})
	}
}

// An amount FPS would refuse is refused before the store records it, so
// a failed call leaves no order behind.
func TestRefusedAmountRecordsNoOrder(t *testing.T) {
	a := newOffline(t, "https://shop.example/")
	ctx := context.Background()
	for name, call := range map[string]func(ref string) error{
		"Purchase": func(ref string) error {
			_, err := a.Purchase(ctx, usd("19.999"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref})
			return err
		},
		"Authorize": func(ref string) error {
			_, err := a.Authorize(ctx, usd("-1"), fps.PurchaseOptions{TokenID: "T", CallerReference: ref})
			return err
		},
		"Credit": func(ref string) error {
			_, err := a.Credit(ctx, usd("0.001"), fps.CreditOptions{TransactionID: "X", CallerReference: ref})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ref := fps.NewCallerReference()
			err := call(ref)
			var ve *fps.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, []string{"TransactionAmount.Value", "RefundAmount.Value"}, ve.Field)
			_, err = a.Store().Order(ctx, ref)
			require.ErrorIs(t, err, integration.ErrUnknownOrder)
		})
	}
	_, err := a.Credit(ctx, decimal.Zero, fps.CreditOptions{TransactionID: "X", CallerReference: "r"})
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "amount", ve.Field)
}

// TestTheClientRefusesRedirects: a client given in the Config is used
// through a copy that does not follow redirects, so a signed call is
// never sent to another host; the client itself is left as it was.
func TestTheClientRefusesRedirects(t *testing.T) {
	var elsewhere int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere++ }))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	hc := &http.Client{}
	a, err := integration.New(integration.Config{
		AccessKey: "AKIAEXAMPLE", SecretKey: "secret", TestMode: true, BaseURL: "https://shop.example/",
		APIEndpoint: api.URL + "/", HTTPClient: hc, Store: store.NewMemory(),
		TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
		},
		ClientOptions: []func(*fps.Options){func(o *fps.Options) { o.MaxAttempts = 1 }},
	})
	require.NoError(t, err)
	_, err = a.Void(context.Background(), "TX", fps.VoidOptions{})
	var ae *fps.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusTemporaryRedirect, ae.StatusCode)
	require.Zero(t, elsewhere, "the redirect was not followed")
	require.Nil(t, hc.CheckRedirect, "the caller's client is not changed")
}

func usd(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// RootCAs alone is enough to run against the simulator over https: the
// API calls trust it as the verifier does.
func TestRootCAsReachTheAPICalls(t *testing.T) {
	sim := fpstest.NewServer(t)
	newShop := func(roots *x509.CertPool) *integration.AmazonFPS {
		a, err := integration.New(integration.Config{
			AccessKey: fpstest.DefaultAccessKeyID, SecretKey: fpstest.DefaultSecretAccessKey, TestMode: true,
			BaseURL: "https://shop.example/", APIEndpoint: sim.APIEndpoint(), CBUIEndpoint: sim.CBUIEndpoint(),
			RootCAs: roots, Store: store.NewMemory(),
			TransactionHook: func(context.Context, *integration.AmazonFPS, http.ResponseWriter, *http.Request, *fps.PipelineReturn, integration.Order) {
			},
			ClientOptions: []func(*fps.Options){func(o *fps.Options) { o.MaxAttempts = 1 }},
		})
		require.NoError(t, err)
		return a
	}
	_, err := newShop(sim.CAPool()).Client().GetAccountBalance(context.Background(), nil)
	require.NoError(t, err)
	_, err = newShop(nil).Client().GetAccountBalance(context.Background(), nil)
	require.ErrorContains(t, err, "certificate signed by unknown authority", "the system roots do not know the simulator's CA")
}
