package integration

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// The routes of Handler, relative to Config.BaseURL: the seed's
// amazon_fps/ URLs.
const (
	// ReturnPath is the return URL of the pipelines (fps-return-url/).
	ReturnPath = "amazon_fps/fps-return-url/"
	// NotifyPath is the IPN URL (fps-notify-handler/).
	NotifyPath = "amazon_fps/fps-notify-handler/"
)

// Environment variables read by ConfigFromEnv.
const (
	// EnvAccessKeyID holds Config.AccessKey.
	EnvAccessKeyID = "AWS_ACCESS_KEY_ID"
	// EnvSecretAccessKey holds Config.SecretKey.
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	// EnvTestMode holds Config.TestMode ("true" or "false"); true when
	// unset, like MERCHANT_TEST_MODE.
	EnvTestMode = "FPS_TEST_MODE"
	// EnvBaseURL holds Config.BaseURL.
	EnvBaseURL = "FPS_BASE_URL"
)

// Config holds the settings of an AmazonFPS: the seed's
// MERCHANT_SETTINGS["amazon_fps"] and MERCHANT_TEST_MODE, plus what a Go
// shop wires in itself.
type Config struct {
	// AccessKey and SecretKey are the caller's AWS keys (AWS_ACCESS_KEY,
	// AWS_SECRET_ACCESS_KEY in the seed). Required.
	AccessKey string
	SecretKey string

	// TestMode picks fps.Sandbox when true, fps.Production when false.
	// ConfigFromEnv sets it to true unless FPS_TEST_MODE says otherwise.
	TestMode bool

	// BaseURL is the public URL of the shop, e.g. "https://shop.example/".
	// The return and IPN URLs are built from it (BaseURL + ReturnPath,
	// BaseURL + NotifyPath), never from a request's Host. Required.
	BaseURL string

	// APIEndpoint and CBUIEndpoint, when set, replace the Amazon endpoints
	// of the environment, e.g. to reach a simulator.
	APIEndpoint  string
	CBUIEndpoint string
	// HTTPClient sends the API calls; fps.Options' default when nil.
	HTTPClient aws.HTTPClient
	// ClientOptions run last on the fps.Options of the client.
	ClientOptions []func(*fps.Options)

	// Verifier checks return URLs and IPNs. Nil means the VerifySignature
	// action through the integration's client, as the seed did; an
	// fps.NewLocalVerifier checks the RSA signature locally instead.
	Verifier fps.Verifier

	// Store keeps every verified IPN. Required: package
	// github.com/fpskit/fps/store has one on database/sql (store.NewSQL)
	// and one in memory for tests (store.NewMemory).
	Store NotificationStore

	// Orders records the callerReference of every pipeline and call the
	// integration issues, with its amount, and answers the handlers'
	// lookups. Nil means NewMemoryOrderBook().
	Orders OrderBook

	// TransactionHook handles a verified return (the seed's transaction
	// method): it usually calls a.Purchase or a.Authorize with
	// ret.TokenID, and writes the buyer's page. order is what Orders
	// holds for ret.CallerReference (the zero Order for a failed or
	// abandoned pipeline that names none). Required.
	TransactionHook func(ctx context.Context, a *AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order)

	// NotificationCallback runs once for each IPN stored (the seed's
	// transaction_was_successful / _unsuccessful signals). Optional.
	NotificationCallback func(ctx context.Context, n *fps.Notification) error

	// Logger receives the client's records and the handlers' refusals;
	// nil discards.
	Logger *slog.Logger
}

// ConfigFromEnv returns a Config read from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, FPS_TEST_MODE (a boolean, true when unset) and
// FPS_BASE_URL. TransactionHook and the optional fields are left for the
// caller to set.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		AccessKey: os.Getenv(EnvAccessKeyID),
		SecretKey: os.Getenv(EnvSecretAccessKey),
		TestMode:  true,
		BaseURL:   os.Getenv(EnvBaseURL),
	}
	if s := os.Getenv(EnvTestMode); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Config{}, fmt.Errorf("integration: %s must be true or false, got %q", EnvTestMode, s)
		}
		cfg.TestMode = b
	}
	return cfg, nil
}

// AmazonFPS is the Go form of django-merchant's AmazonFpsIntegration: the
// signed pipeline link and its button, the payment calls, and the return
// and IPN handlers, over one fps.Client. It is safe for concurrent use.
type AmazonFPS struct {
	client  *fps.Client
	base    string // Config.BaseURL, ending in "/"
	orders  OrderBook
	handler http.Handler

	mu     sync.Mutex
	fields fps.PipelineFields
}

// New returns an AmazonFPS configured by cfg. It fails when a required
// field is missing or BaseURL is not an absolute http(s) URL.
func New(cfg Config) (*AmazonFPS, error) {
	switch {
	case cfg.AccessKey == "":
		return nil, errors.New("integration: Config.AccessKey is required")
	case cfg.SecretKey == "":
		return nil, errors.New("integration: Config.SecretKey is required")
	case cfg.TransactionHook == nil:
		return nil, errors.New("integration: Config.TransactionHook is required (it handles the verified return)")
	case cfg.Store == nil:
		return nil, errors.New("integration: Config.Store is required (it keeps the verified IPNs; store.NewSQL keeps them in a database)")
	}
	base, err := baseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	client, err := fps.New(fps.Options{
		Environment:  fps.EnvironmentForTestMode(cfg.TestMode),
		Credentials:  fps.StaticCredentials(cfg.AccessKey, cfg.SecretKey),
		APIEndpoint:  cfg.APIEndpoint,
		CBUIEndpoint: cfg.CBUIEndpoint,
		HTTPClient:   cfg.HTTPClient,
		Logger:       cfg.Logger,
	}, cfg.ClientOptions...)
	if err != nil {
		return nil, err
	}
	a := &AmazonFPS{client: client, base: base, orders: cfg.Orders, fields: fps.PipelineFields{}}
	if a.orders == nil {
		a.orders = NewMemoryOrderBook()
	}
	verifier := cfg.Verifier
	if verifier == nil {
		verifier = fps.NewRemoteVerifier(client)
	}
	hook := cfg.TransactionHook
	mux := http.NewServeMux()
	mux.Handle(routePath(base, ReturnPath), &ReturnHandler{
		Verifier: verifier,
		Endpoint: a.ReturnURL(),
		Orders:   a.orders.Lookup,
		Transaction: func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order) {
			hook(ctx, a, w, r, ret, order)
		},
		Logger: cfg.Logger,
	})
	mux.Handle(routePath(base, NotifyPath), &IPNHandler{
		Verifier: verifier,
		Endpoint: a.NotifyURL(),
		Store:    cfg.Store,
		Orders:   a.orders.Lookup,
		Callback: cfg.NotificationCallback,
		Logger:   cfg.Logger,
	})
	a.handler = mux
	return a, nil
}

func baseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("integration: Config.BaseURL is required (the shop's public URL, e.g. https://shop.example/)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("integration: Config.BaseURL %q must be an absolute http or https URL without query", raw)
	}
	if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
	}
	return u.String(), nil
}

// routePath is the mux pattern of rel under base: its exact path alone,
// so that the host of a request plays no part.
func routePath(base, rel string) string {
	u, _ := url.Parse(base + rel) // base was checked by baseURL
	return u.EscapedPath() + "{$}"
}

// Client returns the fps.Client, for every action the integration does
// not wrap.
func (a *AmazonFPS) Client() *fps.Client { return a.client }

// Orders returns the order book the integration records in.
func (a *AmazonFPS) Orders() OrderBook { return a.orders }

// ServiceURL returns the FPS API endpoint: the sandbox in test mode,
// production otherwise, or the override.
func (a *AmazonFPS) ServiceURL() string { return a.client.ServiceURL() }

// ReturnURL returns the public return URL: BaseURL + ReturnPath.
func (a *AmazonFPS) ReturnURL() string { return a.base + ReturnPath }

// NotifyURL returns the public IPN URL (BaseURL + NotifyPath), to register
// with Amazon as the account's IPN URL.
func (a *AmazonFPS) NotifyURL() string { return a.base + NotifyPath }

// Handler returns the handler of the return URL (GET, verified, then
// TransactionHook) and of the IPN URL (POST, verified, stored, then
// NotificationCallback). It matches the request path alone, so mount it
// at the path of the routes, e.g. mux.Handle("/amazon_fps/", a.Handler())
// for a BaseURL of "https://shop.example/".
func (a *AmazonFPS) Handler() http.Handler { return a.handler }

// AddFields adds pipeline fields (FPS names: "pipelineName",
// "transactionAmount", "paymentReason", "callerReference", ...) to the
// integration, replacing fields of the same name: the seed's add_fields.
// They apply to every later LinkURL of a; use WithFields for the fields
// of one order.
func (a *AmazonFPS) AddFields(fields map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fields.AddFields(fields)
}

// WithFields returns an AmazonFPS for one order: it shares a's client,
// handlers, store and order book, and holds a's fields plus fields. a is
// not changed, so one shared integration can serve concurrent buyers.
func (a *AmazonFPS) WithFields(fields map[string]string) *AmazonFPS {
	b := &AmazonFPS{client: a.client, base: a.base, orders: a.orders, handler: a.handler, fields: a.pipelineFields()}
	b.fields.AddFields(fields)
	return b
}

func (a *AmazonFPS) pipelineFields() fps.PipelineFields {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.fields)
}

// LinkURL returns the signed Co-Branded UI URL of the fields: the seed's
// link_url. returnURL defaults to ReturnURL(); a callerReference is
// generated (fps.NewCallerReference) when the fields have none. The
// callerReference is recorded in the order book with transactionAmount
// (USD; no amount when the pipeline has none) before the link is
// returned, so that the return and the IPNs can be matched. The seed's
// aws_access_key, aws_secret_access_key and paymentPage fields are
// dropped; any other name the pipeline does not take is an error.
func (a *AmazonFPS) LinkURL(ctx context.Context) (string, error) {
	f := a.pipelineFields()
	delete(f, "aws_access_key")
	delete(f, "aws_secret_access_key")
	delete(f, "paymentPage")
	if f["returnURL"] == "" {
		f["returnURL"] = a.ReturnURL()
	}
	if f["callerReference"] == "" {
		f["callerReference"] = fps.NewCallerReference()
	}
	link, err := a.client.LinkURL(ctx, f)
	if err != nil {
		return "", err
	}
	order := Order{CallerReference: f["callerReference"]}
	if s := f["transactionAmount"]; s != "" {
		v, err := decimal.NewFromString(s)
		if err != nil { // the pipeline rules accepted it, so this does not happen
			return "", &fps.ValidationError{Field: "transactionAmount", Rule: "must be a decimal"}
		}
		order.Amount = fps.USD(v)
	}
	if err := a.orders.Record(ctx, order); err != nil {
		return "", fmt.Errorf("integration: record order: %w", err)
	}
	return link, nil
}

// Button returns the "Amazon Payments" button linking to LinkURL: what
// the seed's {% render_integration %} tag printed. It is escaped HTML,
// ready for an html/template.
func (a *AmazonFPS) Button(ctx context.Context, optFns ...func(*ButtonOptions)) (template.HTML, error) {
	link, err := a.LinkURL(ctx)
	if err != nil {
		return "", err
	}
	return Button(link, optFns...), nil
}

// record keeps the order of a call's callerReference before the call, so
// that its IPN is matched even when it arrives before the answer.
func (a *AmazonFPS) record(ctx context.Context, ref, field string, amount decimal.Decimal) error {
	if ref == "" {
		return nil // the client refuses the call, naming the field
	}
	if err := fps.CheckAmount(field, amount); err != nil {
		return err // nothing recorded for an amount FPS would refuse
	}
	if err := a.orders.Record(ctx, Order{CallerReference: ref, Amount: fps.USD(amount)}); err != nil {
		return fmt.Errorf("integration: record order: %w", err)
	}
	return nil
}

// Purchase charges amount to opts.TokenID (the Pay action), after
// recording opts.CallerReference with amount.
func (a *AmazonFPS) Purchase(ctx context.Context, amount decimal.Decimal, opts fps.PurchaseOptions) (*fps.Result, error) {
	if err := a.record(ctx, opts.CallerReference, "TransactionAmount.Value", amount); err != nil {
		return nil, err
	}
	return a.client.Purchase(ctx, amount, opts)
}

// Authorize reserves amount on opts.TokenID (the Reserve action), after
// recording opts.CallerReference with amount. Capture settles it, Void
// releases it.
func (a *AmazonFPS) Authorize(ctx context.Context, amount decimal.Decimal, opts fps.PurchaseOptions) (*fps.Result, error) {
	if err := a.record(ctx, opts.CallerReference, "TransactionAmount.Value", amount); err != nil {
		return nil, err
	}
	return a.client.Authorize(ctx, amount, opts)
}

// Capture settles amount of the authorization opts.TransactionID (the
// Settle action); zero settles all of it. Its IPN carries the
// authorization's callerReference.
func (a *AmazonFPS) Capture(ctx context.Context, amount decimal.Decimal, opts fps.CaptureOptions) (*fps.Result, error) {
	return a.client.Capture(ctx, amount, opts)
}

// Credit refunds amount of opts.TransactionID (the Refund action), after
// recording opts.CallerReference with amount. amount is required, as in
// the seed: the refund's IPN is matched against it.
func (a *AmazonFPS) Credit(ctx context.Context, amount decimal.Decimal, opts fps.CreditOptions) (*fps.Result, error) {
	if !amount.IsPositive() {
		return nil, &fps.ValidationError{Field: "amount", Rule: "must be more than 0 (the refund's IPN is matched against it)"}
	}
	if err := a.record(ctx, opts.CallerReference, "RefundAmount.Value", amount); err != nil {
		return nil, err
	}
	return a.client.Credit(ctx, amount, opts)
}

// Void cancels the transaction identification, usually an authorization
// (the Cancel action).
func (a *AmazonFPS) Void(ctx context.Context, identification string, opts fps.VoidOptions) (*fps.Result, error) {
	return a.client.Void(ctx, identification, opts)
}
