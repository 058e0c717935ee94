package integration

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// EnvAccessKey holds Config.AccessKey under the seed's name, when
	// AWS_ACCESS_KEY_ID is not set.
	EnvAccessKey = "AWS_ACCESS_KEY"
	// EnvSecretAccessKey holds Config.SecretKey.
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	// EnvTestMode holds Config.TestMode ("true" or "false"); true when
	// unset, like MERCHANT_TEST_MODE.
	EnvTestMode = "FPS_TEST_MODE"
	// EnvBaseURL holds Config.BaseURL.
	EnvBaseURL = "FPS_BASE_URL"
	// EnvDatabase holds Config.Database; DefaultDatabase when unset.
	EnvDatabase = "FPS_DATABASE"
)

// DefaultDatabase is the database ConfigFromEnv names when FPS_DATABASE
// is not set: an SQLite file in the working directory.
const DefaultDatabase = "fps.db"

// Config holds the settings of an AmazonFPS: the seed's
// MERCHANT_SETTINGS["amazon_fps"] and MERCHANT_TEST_MODE, plus what a Go
// shop wires in itself. No setting turns the checks off: every return
// and notification is verified, then confirmed with FPS with the shop's
// credentials, before it moves an order.
type Config struct {
	// AccessKey and SecretKey are the caller's AWS keys (AWS_ACCESS_KEY,
	// AWS_SECRET_ACCESS_KEY in the seed). Required. They also confirm
	// each return and notification with FPS: they must be the keys of
	// the account the shop is paid to.
	AccessKey string
	SecretKey string

	// TestMode picks fps.Sandbox when true, fps.Production when false.
	// ConfigFromEnv sets it to true unless FPS_TEST_MODE says otherwise.
	TestMode bool

	// BaseURL is the public URL of the shop, e.g. "https://shop.example/".
	// The return and IPN URLs are built from it (BaseURL + ReturnPath,
	// BaseURL + NotifyPath), never from a request's Host. Required.
	BaseURL string

	// Database names the shop's database for store.Open: a file path or
	// "file:" URI for SQLite, a "postgres://" DSN for PostgreSQL.
	// ConfigFromEnv reads it from FPS_DATABASE (DefaultDatabase when
	// unset). New does not open it (open it with store.Open and set
	// Store).
	Database string

	// APIEndpoint and CBUIEndpoint, when set, replace the Amazon endpoints
	// of the environment, e.g. to reach a simulator.
	APIEndpoint  string
	CBUIEndpoint string
	// HTTPClient sends the API calls; fps.NewHTTPClient trusting RootCAs
	// (fps.Options' default when RootCAs is nil too) when nil. An
	// *http.Client is used through a copy that refuses redirects (a
	// signed call is never sent on to another host) and has
	// fps.DefaultHTTPTimeout when it has no timeout.
	HTTPClient aws.HTTPClient
	// ClientOptions run last on the fps.Options of the client.
	ClientOptions []func(*fps.Options)

	// Verifier checks the signatures of return URLs and IPNs. Nil means
	// fps.NewLocalVerifierForClient on the integration's client: the RSA
	// signature checked locally, with certificates fetched over https from
	// Amazon's API hosts (and the host of APIEndpoint), checked against
	// RootCAs. fps.NewRemoteVerifier asks the VerifySignature action
	// instead.
	Verifier fps.Verifier
	// RootCAs are the CAs trusted for https, instead of the system roots:
	// by the default verifier for the certificates it fetches, and by the
	// API calls when HTTPClient is nil. Give the simulator's CA to run
	// against fpstest or `fps sandbox` over https.
	RootCAs *x509.CertPool

	// Store keeps the orders and the notifications. Required: open it with
	// store.Open(ctx, cfg.Database) (package
	// github.com/fpskit/fps/store).
	Store Store

	// TransactionHook handles the buyer's return (the seed's transaction
	// method). For a successful return it runs once per order, after the
	// return was verified and its token confirmed with FPS, with the
	// order in status OrderApproved: it writes the buyer's page, and,
	// when Charge is nil, charges first: it calls a.Purchase or
	// a.Authorize with ret.TokenID, order.Amount and order.CallerReference
	// (no other CallerReference is taken). A return that is not a success
	// moves nothing: the hook gets the order as it stands (the zero Order
	// when the return names none) to show the buyer a way to try again.
	// Required.
	TransactionHook func(ctx context.Context, a *AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order)

	// Charge charges an approved order: what to charge, apart from the
	// page the TransactionHook writes, so that an order is charged also
	// when its buyer's return never comes (Recover) or its first charge
	// never ended (the app server died). It calls a.Purchase (or
	// a.Authorize) with order.TokenID, order.Amount and
	// order.CallerReference, and returns its error: nil once the charge
	// is made (its outcome comes with the IPNs), or the error. An error
	// answer of FPS that moves no money and is not worth retrying fails
	// the order; any other error (FPS unreachable or answering 5xx, an
	// answer lost) leaves the charge to run again, at the next load of
	// the return URL or the next Recover, under the same CallerReference,
	// which FPS answers as it did the first time. It runs for an order
	// once at a time, under a claim kept in the Store, and never again
	// once it ended. When set, the TransactionHook runs after it, with
	// the order as it stands, to write the page. Optional; Recover needs
	// it.
	Charge func(ctx context.Context, a *AmazonFPS, order Order) error

	// HookTimeout bounds one run of Charge (or of the TransactionHook
	// when it charges) and of NotificationCallback: a run must return by
	// its context's deadline. The order, or the change, is claimed in the
	// Store for twice as long: when an app server dies during a run, the
	// claim expires after twice HookTimeout and the next return, IPN
	// delivery or Recover runs it again. DefaultHookTimeout when 0.
	HookTimeout time.Duration

	// OrderPage shows a buyer whose return comes again, after the hook
	// ran, the order as it stands. Nil writes a short text page.
	OrderPage func(ctx context.Context, w http.ResponseWriter, r *http.Request, order Order)

	// NotificationCallback runs once for each change of an order's state
	// that a confirmed IPN makes (the seed's transaction_was_successful /
	// _unsuccessful signals). When it fails, the IPN is answered 500 and
	// it runs again at the next delivery, and at a Recover once it has
	// not succeeded for RecoverOptions.CallbackGrace (Amazon stops
	// delivering after a day); once it succeeded, never again for that
	// change. An app server that dies after the callback
	// succeeded but before that was recorded leaves it to run again once
	// its claim expires (twice HookTimeout), and so may a run whose end is
	// recorded only after that (a callback past its deadline, a stalled
	// database; logged as a warning): make its effect idempotent on the
	// order and ch.Entry.Key. Optional.
	NotificationCallback func(ctx context.Context, ch OrderChange) error

	// Logger receives the client's records, the handlers' refusals and
	// failures; slog.Default() when nil.
	Logger *slog.Logger
}

// ConfigFromEnv returns a Config read from the environment:
// AWS_ACCESS_KEY_ID (or the seed's AWS_ACCESS_KEY),
// AWS_SECRET_ACCESS_KEY, FPS_BASE_URL, FPS_TEST_MODE (a boolean, true
// when unset) and FPS_DATABASE (DefaultDatabase when unset). It fails
// naming every required variable that is not set. Store, TransactionHook
// and the optional fields are left for the caller to set.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		AccessKey: os.Getenv(EnvAccessKeyID),
		SecretKey: os.Getenv(EnvSecretAccessKey),
		TestMode:  true,
		BaseURL:   os.Getenv(EnvBaseURL),
		Database:  os.Getenv(EnvDatabase),
	}
	if seed := os.Getenv(EnvAccessKey); seed != "" {
		if cfg.AccessKey != "" && cfg.AccessKey != seed {
			return Config{}, fmt.Errorf("integration: %s and %s hold different keys; set one of them", EnvAccessKeyID, EnvAccessKey)
		}
		cfg.AccessKey = seed
	}
	var missing []string
	if cfg.AccessKey == "" {
		missing = append(missing, EnvAccessKeyID+" (or "+EnvAccessKey+")")
	}
	if cfg.SecretKey == "" {
		missing = append(missing, EnvSecretAccessKey)
	}
	if cfg.BaseURL == "" {
		missing = append(missing, EnvBaseURL+" (the shop's public URL, e.g. https://shop.example/)")
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("integration: environment variables not set: %s", strings.Join(missing, ", "))
	}
	if s := os.Getenv(EnvTestMode); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return Config{}, fmt.Errorf("integration: %s must be true or false, got %q", EnvTestMode, s)
		}
		cfg.TestMode = b
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	return cfg, nil
}

// AmazonFPS is the Go form of django-merchant's AmazonFpsIntegration: the
// signed pipeline link and its button, the payment calls, and the return
// and IPN handlers, over one fps.Client and the shop's order Store. It is
// safe for concurrent use, and several AmazonFPS (app servers) may share
// one Store.
type AmazonFPS struct {
	client  *fps.Client
	base    string // Config.BaseURL, ending in "/"
	store   Store
	handler http.Handler
	logger  *slog.Logger
	charger *charger // runs Config.Charge; its charge is nil without it
	// callback and hookTimeout are Config.NotificationCallback and
	// Config.HookTimeout, for Recover.
	callback    func(ctx context.Context, ch OrderChange) error
	hookTimeout time.Duration

	mu     sync.Mutex
	fields fps.PipelineFields
}

// check names what cfg lacks and how to get it.
func (cfg *Config) check() error {
	var errs []error
	if cfg.AccessKey == "" {
		errs = append(errs, errors.New("integration: Config.AccessKey is required (the caller's AWS access key id; ConfigFromEnv reads AWS_ACCESS_KEY_ID)"))
	}
	if cfg.SecretKey == "" {
		errs = append(errs, errors.New("integration: Config.SecretKey is required (the caller's AWS secret access key; ConfigFromEnv reads AWS_SECRET_ACCESS_KEY)"))
	}
	if cfg.TransactionHook == nil {
		errs = append(errs, errors.New("integration: Config.TransactionHook is required (it handles the confirmed return)"))
	}
	if cfg.Store == nil {
		db := cfg.Database
		if db == "" {
			db = DefaultDatabase
		}
		errs = append(errs, fmt.Errorf("integration: Config.Store is required (it keeps the orders and notifications): open it with store.Open(ctx, %q) from package github.com/fpskit/fps/store", db))
	}
	if _, err := baseURL(cfg.BaseURL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// New returns an AmazonFPS configured by cfg. It fails naming each
// required field that is missing, and when BaseURL is not an absolute
// http(s) URL.
func New(cfg Config) (*AmazonFPS, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	base, _ := baseURL(cfg.BaseURL)
	httpc := cfg.HTTPClient
	if httpc == nil && cfg.RootCAs != nil {
		trusting, err := fps.NewHTTPClient(fps.WithRootCAs(cfg.RootCAs))
		if err != nil {
			return nil, err
		}
		httpc = trusting
	}
	client, err := fps.New(fps.Options{
		Environment:  fps.EnvironmentForTestMode(cfg.TestMode),
		Credentials:  fps.StaticCredentials(cfg.AccessKey, cfg.SecretKey),
		APIEndpoint:  cfg.APIEndpoint,
		CBUIEndpoint: cfg.CBUIEndpoint,
		HTTPClient:   noRedirects(httpc),
		Logger:       cfg.Logger,
	}, cfg.ClientOptions...)
	if err != nil {
		return nil, err
	}
	a := &AmazonFPS{client: client, base: base, store: cfg.Store, logger: loggerOr(cfg.Logger), fields: fps.PipelineFields{},
		callback: cfg.NotificationCallback, hookTimeout: cfg.HookTimeout}
	verifier := cfg.Verifier
	if verifier == nil {
		verifier = fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = cfg.RootCAs })
	}
	hook := cfg.TransactionHook
	rh := &ReturnHandler{
		Verifier: verifier,
		Endpoint: a.ReturnURL(),
		FPS:      client,
		Store:    cfg.Store,
		Transaction: func(ctx context.Context, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order Order) {
			hook(ctx, a, w, r, ret, order)
		},
		OrderPage:     cfg.OrderPage,
		ChargeTimeout: cfg.HookTimeout,
		Logger:        cfg.Logger,
	}
	if charge := cfg.Charge; charge != nil {
		rh.Charge = func(ctx context.Context, order Order) error { return charge(ctx, a, order) }
	}
	a.charger = rh.charger()
	mux := http.NewServeMux()
	mux.Handle(routePath(base, ReturnPath), rh)
	mux.Handle(routePath(base, NotifyPath), &IPNHandler{
		Verifier:        verifier,
		Endpoint:        a.NotifyURL(),
		FPS:             client,
		Store:           cfg.Store,
		Callback:        cfg.NotificationCallback,
		CallbackTimeout: cfg.HookTimeout,
		Logger:          cfg.Logger,
	})
	a.handler = mux
	return a, nil
}

// noRedirects returns the client API calls are sent with: a copy of an
// *http.Client that refuses redirects and has a timeout.
func noRedirects(c aws.HTTPClient) aws.HTTPClient {
	hc, ok := c.(*http.Client)
	if !ok || hc == nil {
		return c
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cp.Timeout == 0 {
		cp.Timeout = fps.DefaultHTTPTimeout
	}
	return &cp
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

// Store returns the Store the integration keeps its orders in: ask it
// for an order by callerReference or transaction id, its transactions and
// its history.
func (a *AmazonFPS) Store() Store { return a.store }

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
// handlers and store, and holds a's fields plus fields. a is
// not changed, so one shared integration can serve concurrent buyers.
func (a *AmazonFPS) WithFields(fields map[string]string) *AmazonFPS {
	b := &AmazonFPS{client: a.client, base: a.base, store: a.store, handler: a.handler, logger: a.logger, charger: a.charger, fields: a.pipelineFields()}
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
// generated (fps.NewCallerReference) when the fields have none. The order
// is recorded in the Store (status created, amount transactionAmount in
// USD or none, description paymentReason) before the link is returned,
// so that the return and the IPNs are matched to it; a link for an order
// recorded already must ask for its amount. The seed's aws_access_key,
// aws_secret_access_key and paymentPage fields are dropped; any other
// name the pipeline does not take is an error. optFns change the
// client's options for this link alone (see fps.Client.PipelineURL).
func (a *AmazonFPS) LinkURL(ctx context.Context, optFns ...func(*fps.Options)) (string, error) {
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
	link, err := a.client.LinkURL(ctx, f, optFns...)
	if err != nil {
		return "", err
	}
	var amount fps.Amount
	if s := f["transactionAmount"]; s != "" {
		v, err := decimal.NewFromString(s)
		if err != nil { // the pipeline rules accepted it, so this does not happen
			return "", &fps.ValidationError{Field: "transactionAmount", Rule: "must be a decimal"}
		}
		amount = fps.USD(v)
	}
	if _, err := a.order(ctx, f["callerReference"], amount, f["paymentReason"]); err != nil {
		return "", err
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

// order returns the order of callerReference ref, recording it with
// amount and description when there is none. An order recorded already
// must be ref's own, and of amount unless it has none.
func (a *AmazonFPS) order(ctx context.Context, ref string, amount fps.Amount, description string) (Order, error) {
	for range 2 { // a second time when another app server recorded it meanwhile
		o, err := a.store.Order(ctx, ref)
		switch {
		case err == nil:
			if o.CallerReference != ref {
				return Order{}, fmt.Errorf("%w: callerReference %q is a transaction of order %q", ErrOrderMismatch, ref, o.CallerReference)
			}
			if !o.Amount.IsZero() && (o.Amount.Currency() != amount.Currency() || !o.Amount.Value.Equal(amount.Value)) {
				return Order{}, fmt.Errorf("%w: amount %s, order %s is %s", ErrOrderMismatch, amount, ref, o.Amount)
			}
			return o, nil
		case !errors.Is(err, ErrUnknownOrder):
			return Order{}, fmt.Errorf("integration: reading order %s: %w", ref, err)
		}
		now := time.Now().UTC()
		o = Order{CallerReference: ref, Amount: amount, Description: description, Status: OrderCreated, Created: now, Updated: now}
		switch err := a.store.CreateOrder(ctx, o); {
		case err == nil:
			return o, nil
		case !errors.Is(err, ErrOrderExists): // else recorded meanwhile: read it
			return Order{}, fmt.Errorf("integration: recording order %s: %w", ref, err)
		}
	}
	return Order{}, fmt.Errorf("%w: callerReference %q is taken, and names no order", ErrOrderExists, ref)
}

// payment records the Pay or Reserve op of amount under callerReference
// ref, and its order, before the call, so that its IPN is matched even
// when it arrives before the answer.
func (a *AmazonFPS) payment(ctx context.Context, op fps.FPSOperation, amount decimal.Decimal, opts fps.PurchaseOptions) error {
	ref := opts.CallerReference
	if err := checkCharge(ctx, ref); err != nil {
		return err
	}
	if ref == "" {
		return nil // the client refuses the call, naming the field
	}
	if err := fps.CheckAmount("TransactionAmount.Value", amount); err != nil {
		return err // nothing recorded for an amount FPS would refuse
	}
	if _, err := a.order(ctx, ref, fps.USD(amount), opts.CallerDescription); err != nil {
		return err
	}
	return a.addTransaction(ctx, ref, Transaction{CallerReference: ref, Operation: op, Amount: fps.USD(amount)})
}

func (a *AmazonFPS) addTransaction(ctx context.Context, orderRef string, t Transaction) error {
	if err := a.store.AddTransaction(ctx, orderRef, t); err != nil {
		return fmt.Errorf("integration: recording transaction %s of order %s: %w", t.CallerReference, orderRef, err)
	}
	return nil
}

// answered records the transaction id of a call's answer, so that the
// order is found by it; a failure to record it is logged, as the call
// has happened.
func (a *AmazonFPS) answered(ctx context.Context, orderRef string, t Transaction, res *fps.Result, err error) (*fps.Result, error) {
	if err == nil && res.TransactionID != "" {
		t.ID = res.TransactionID
		if err := a.store.AddTransaction(ctx, orderRef, t); err != nil {
			a.logger.ErrorContext(ctx, "fps: recording the transaction id failed", "order", orderRef, "transactionId", t.ID, "error", err.Error())
		}
	}
	return res, err
}

// Purchase charges amount to opts.TokenID (the Pay action), after
// recording the Pay under opts.CallerReference, and its order when there
// is none of that callerReference. optFns change the client's options for
// this call. Called from Config.Charge (or from the TransactionHook when
// it charges), it takes the order's CallerReference alone: another is
// refused with an error wrapping ErrOrderMismatch, before anything is
// sent.
func (a *AmazonFPS) Purchase(ctx context.Context, amount decimal.Decimal, opts fps.PurchaseOptions, optFns ...func(*fps.Options)) (*fps.Result, error) {
	if err := a.payment(ctx, fps.FPSOperationPay, amount, opts); err != nil {
		return nil, err
	}
	res, err := a.client.Purchase(ctx, amount, opts, optFns...)
	return a.answered(ctx, opts.CallerReference, Transaction{CallerReference: opts.CallerReference, Operation: fps.FPSOperationPay, Amount: fps.USD(amount)}, res, err)
}

// Authorize reserves amount on opts.TokenID (the Reserve action), after
// recording it as Purchase does. Capture settles it, Void releases it.
func (a *AmazonFPS) Authorize(ctx context.Context, amount decimal.Decimal, opts fps.PurchaseOptions, optFns ...func(*fps.Options)) (*fps.Result, error) {
	if err := a.payment(ctx, fps.FPSOperationReserve, amount, opts); err != nil {
		return nil, err
	}
	res, err := a.client.Authorize(ctx, amount, opts, optFns...)
	return a.answered(ctx, opts.CallerReference, Transaction{CallerReference: opts.CallerReference, Operation: fps.FPSOperationReserve, Amount: fps.USD(amount)}, res, err)
}

// Capture settles amount of the authorization opts.TransactionID (the
// Settle action); zero settles all of it. Its IPN carries the
// authorization's callerReference.
func (a *AmazonFPS) Capture(ctx context.Context, amount decimal.Decimal, opts fps.CaptureOptions, optFns ...func(*fps.Options)) (*fps.Result, error) {
	return a.client.Capture(ctx, amount, opts, optFns...)
}

// Credit refunds amount of opts.TransactionID (the Refund action), after
// recording the refund under opts.CallerReference as a transaction of
// the order of opts.TransactionID, so that its IPN moves that order.
// amount is required, as in the seed. The order must be known by that
// transaction id (Purchase and Authorize record it from FPS's answer, an
// IPN from FPS's word): else the error wraps ErrUnknownOrder and nothing
// is sent.
func (a *AmazonFPS) Credit(ctx context.Context, amount decimal.Decimal, opts fps.CreditOptions, optFns ...func(*fps.Options)) (*fps.Result, error) {
	if !amount.IsPositive() {
		return nil, &fps.ValidationError{Field: "amount", Rule: "must be more than 0 (the refund's IPN is matched against it)"}
	}
	if err := fps.CheckAmount("RefundAmount.Value", amount); err != nil {
		return nil, err
	}
	if opts.CallerReference == "" || opts.TransactionID == "" {
		return a.client.Credit(ctx, amount, opts, optFns...) // refused, naming the field
	}
	o, err := a.store.OrderByTransaction(ctx, opts.TransactionID)
	if err != nil {
		return nil, fmt.Errorf("integration: the order of transaction %s: %w", opts.TransactionID, err)
	}
	t := Transaction{CallerReference: opts.CallerReference, Operation: fps.FPSOperationRefund, Amount: fps.USD(amount), ParentID: opts.TransactionID}
	if err := a.addTransaction(ctx, o.CallerReference, t); err != nil {
		return nil, err
	}
	res, err := a.client.Credit(ctx, amount, opts, optFns...)
	return a.answered(ctx, o.CallerReference, t, res, err)
}

// Void cancels the transaction identification, usually an authorization
// (the Cancel action).
func (a *AmazonFPS) Void(ctx context.Context, identification string, opts fps.VoidOptions, optFns ...func(*fps.Options)) (*fps.Result, error) {
	return a.client.Void(ctx, identification, opts, optFns...)
}
