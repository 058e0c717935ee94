// Package fps is a client for Amazon Flexible Payments Service (FPS), API
// versions 2008-09-17 (the default), 2010-08-28 and 2011-09-20, with the
// Co-Branded UI (CBUI) pipelines of version 2009-01-09. Amazon retired FPS
// on 2015-06-01; package fpstest is a faithful simulator of it (`fps
// sandbox` on the command line), and every example of this module runs
// against it.
//
// A payment, from the buyer's click to Amazon's notification (errors left
// out):
//
//	client, _ := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials(keyID, secret)})
//	// 1. Send the buyer to Amazon with a signed pipeline URL.
//	link, _ := client.PipelineURL(ctx, &fps.SingleUsePipeline{
//		PipelineCommon:    fps.PipelineCommon{ReturnURL: returnURL, CallerReference: orderID},
//		TransactionAmount: amount,
//	})
//	// 2. Amazon sends the buyer back to returnURL: verify before using the token.
//	verifier := fps.NewLocalVerifierForClient(client)
//	ret, _ := fps.VerifyReturn(ctx, verifier, returnURL, r.URL.RawQuery)
//	// 3. Charge the token (Pay). A card payment answers Pending.
//	paid, _ := client.Purchase(ctx, amount, fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
//	// 4. Amazon posts the outcome to the shop's IPN URL: verify it, then act on it.
//	n, _ := fps.VerifyIPN(ctx, verifier, ipnURL, body)
//	shipNow := n.TransactionID == paid.TransactionID && n.TransactionStatus.MoneyMoved()
//
// A shop need not write this itself. Package
// github.com/fpskit/fps/integration is what a shop runs on top of the
// client: orders confirmed with FPS, the return and IPN http.Handlers,
// the button; package github.com/fpskit/fps/store keeps its notifications
// in SQL. Package github.com/fpskit/fps/fpstest is the simulator, for
// tests and for trying all of this without Amazon.
//
// # Calls
//
// Every FPS action is a method of [Client] that takes a context, a typed
// input and option functions that change the client's [Options] for that
// call. [Client.Purchase], [Client.Authorize], [Client.Capture],
// [Client.Credit] and [Client.Void] are django-merchant's names for Pay,
// Reserve, Settle, Refund and Cancel. [NewGetAccountActivityPaginator]
// pages through GetAccountActivity; [NewTransactionCompletedWaiter] waits
// for a Pending transaction to finish. A Client signs every API call and
// pipeline URL with Signature Version 2 and is safe for concurrent use.
//
// # Errors
//
// Input refused before anything is sent is an [*InvalidParamsError] that
// lists a [*ValidationError] per problem. An error answer of FPS is an
// [*APIError], its code an [ErrorCode] (the codes are listed with that
// type). A call whose answer was lost wraps [ErrOutcomeUnknown], and
// [MayHaveMoved] says whether money may have moved. A return URL or IPN
// that does not verify is one of the sentinels, [ErrSignatureMismatch]
// first among them. Errors of calls are wrapped in a
// *smithy.OperationError; errors.As and errors.Is find them all.
package fps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/logging"
	"github.com/fpskit/fps/internal/sigv2"
)

// Environment selects the set of Amazon hosts a Client talks to. It is
// required: the zero value is rejected by New.
type Environment string

const (
	// Sandbox is Amazon's test environment: no real money moves.
	Sandbox Environment = "sandbox"
	// Production is the live service.
	Production Environment = "production"
)

// EnvironmentForTestMode maps the test-mode switch of django-merchant
// (MERCHANT_TEST_MODE) onto an Environment: true is Sandbox, false is
// Production.
func EnvironmentForTestMode(testMode bool) Environment {
	if testMode {
		return Sandbox
	}
	return Production
}

// Endpoints are the service URLs of one Environment.
type Endpoints struct {
	// API is the FPS API endpoint (path "/").
	API string
	// CBUI is the Co-Branded UI pipeline start URL.
	CBUI string
}

// endpoints is the one table of Amazon hosts.
var endpoints = map[Environment]Endpoints{
	Sandbox: {
		API:  "https://fps.sandbox.amazonaws.com/",
		CBUI: "https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start",
	},
	Production: {
		API:  "https://fps.amazonaws.com/",
		CBUI: "https://authorize.payments.amazon.com/cobranded-ui/actions/start",
	},
}

// EndpointsFor returns the Amazon endpoints of env, and false when env is
// not a known Environment.
func EndpointsFor(env Environment) (Endpoints, bool) {
	e, ok := endpoints[env]
	return e, ok
}

// CBUIVersion is the Co-Branded UI version sent on every pipeline URL.
const CBUIVersion = "2009-01-09"

// DefaultHTTPTimeout bounds one HTTP attempt of the default HTTP client.
const DefaultHTTPTimeout = 60 * time.Second

// DefaultMaxAttempts is how many times a call is tried in all, by default,
// when its failure is transient.
const DefaultMaxAttempts = 3

// Options configures a Client. The zero value is not usable: Environment
// and Credentials are required.
type Options struct {
	// Environment picks the Amazon hosts (API and CBUI alike). Required.
	Environment Environment

	// Credentials provides the access key id and secret access key. It is
	// wrapped once in an aws.CredentialsCache. Required.
	Credentials aws.CredentialsProvider

	// APIEndpoint, when set, replaces the API URL of the Environment, for
	// example "http://127.0.0.1:8080/" to reach the simulator. It does not
	// change Environment. The per-call option functions of an action may
	// change it (or Environment): that call goes to the endpoint they
	// name.
	APIEndpoint string

	// CBUIEndpoint, when set, replaces the CBUI pipeline start URL of the
	// Environment. It does not change Environment. The per-call option
	// functions of PipelineURL and LinkURL may change it (or Environment).
	CBUIEndpoint string

	// HTTPClient sends the API requests. The default is NewHTTPClient():
	// a DefaultHTTPTimeout timeout, and redirects not followed: a 3xx
	// answer is returned as an *APIError, so a signed request is never
	// resent to another host. Build your own with NewHTTPClient to keep
	// both, for example to trust the CA of `fps sandbox` (WithCAFile).
	HTTPClient aws.HTTPClient

	// Retryer decides which failed attempts are tried again and how long to
	// wait. The default is retry.NewStandard with ratelimit.None,
	// DefaultMaxAttempts and the FPS transient error codes, built fresh for
	// each Client.
	Retryer aws.RetryerV2

	// MaxAttempts overrides the number of attempts of the default Retryer
	// (1 disables retries). It is ignored when Retryer is set.
	MaxAttempts int

	// Logger receives one record per attempt. Nil discards. Secrets,
	// signatures and access keys are never logged.
	Logger *slog.Logger

	// LogStringToSign adds the Signature Version 2 string to sign to the
	// debug log, for diagnosing SignatureDoesNotMatch. The access key id in
	// it is redacted.
	LogStringToSign bool

	// Clock returns the current time; the default is time.Now. It supplies
	// the Timestamp of API calls.
	Clock func() time.Time

	// SignatureMethod is HmacSHA256 (the default) or HmacSHA1.
	SignatureMethod SignatureMethod

	// APIVersion is the Version parameter of API calls: one of
	// APIVersions(), DefaultAPIVersion (2008-09-17) when empty. It selects
	// the actions and parameters a call may use: an action or a parameter
	// the version lacks (GetSubscriptionDetails, OverrideIPNURL under
	// 2008-09-17) is refused with a *ValidationError before anything is
	// sent. Answers are read in the version's XML namespace
	// (Namespace(APIVersion)) alone, as Amazon's SDKs read them: an
	// answer in another version's namespace is an error. It may be set
	// per call.
	APIVersion string
}

// Copy returns a copy of o.
func (o Options) Copy() Options { return o }

// Client is an FPS client. It is safe for concurrent use.
type Client struct {
	options Options
	api     *url.URL
	cbui    *url.URL
	cbuiURL string // cbui.String(), the start of every pipeline URL
	macs    *macCache
	// builders keeps the *builder of calls in progress for reuse.
	builders *sync.Pool
	// apiPrefix and cbuiPrefix are the first lines of the string to sign
	// of API calls (POST to api) and of pipeline URLs (GET of cbui).
	apiPrefix, cbuiPrefix []byte
}

// New returns a Client configured by options, after applying optFns in
// order. It fails when Environment or Credentials is missing, when an
// endpoint override is not an absolute http(s) URL, or when
// SignatureMethod or APIVersion is not supported.
func New(options Options, optFns ...func(*Options)) (*Client, error) {
	for _, fn := range optFns {
		fn(&options)
	}
	if _, err := environmentEndpoints(&options); err != nil {
		return nil, err
	}
	if options.Credentials == nil {
		return nil, errors.New("fps: Options.Credentials is required")
	}
	if _, cached := options.Credentials.(*aws.CredentialsCache); !cached {
		options.Credentials = aws.NewCredentialsCache(options.Credentials)
	}
	switch options.SignatureMethod {
	case "":
		options.SignatureMethod = HmacSHA256
	case HmacSHA256, HmacSHA1:
	default:
		return nil, fmt.Errorf("fps: Options.SignatureMethod %q is not HmacSHA256 or HmacSHA1", string(options.SignatureMethod))
	}
	if options.APIVersion == "" {
		options.APIVersion = DefaultAPIVersion
	}
	if !knownVersion(options.APIVersion) {
		return nil, fmt.Errorf("fps: Options.APIVersion %q is not %s", options.APIVersion, listVersions(apiVersions))
	}
	if options.Clock == nil {
		options.Clock = time.Now
	}
	if options.HTTPClient == nil {
		hc, err := NewHTTPClient() // without a CA file it cannot fail
		if err != nil {
			return nil, err
		}
		options.HTTPClient = hc
	}
	if options.MaxAttempts < 0 {
		return nil, fmt.Errorf("fps: Options.MaxAttempts %d must not be negative", options.MaxAttempts)
	}
	if options.Retryer == nil {
		options.Retryer = newDefaultRetryer(options.MaxAttempts)
	}
	c := &Client{options: options, macs: new(macCache), builders: &sync.Pool{New: func() any { return new(builder) }}}
	var err error
	if c.api, err = apiEndpoint(&options); err != nil {
		return nil, err
	}
	if c.cbui, err = cbuiEndpoint(&options); err != nil {
		return nil, err
	}
	c.cbuiURL = c.cbui.String()
	c.apiPrefix = sigv2.AppendPrefix(nil, http.MethodPost, c.api)
	c.cbuiPrefix = sigv2.AppendPrefix(nil, http.MethodGet, c.cbui)
	return c, nil
}

// NewFromConfig returns a Client that takes its credentials, HTTP client
// and logger from cfg (the logger through a slog bridge). Environment must
// still be set, by optFns. cfg.BaseEndpoint, when set, becomes the API
// endpoint override. The rest of cfg (APIOptions, Region, ...) does not
// apply to FPS and is ignored.
func NewFromConfig(cfg aws.Config, optFns ...func(*Options)) (*Client, error) {
	o := Options{
		Credentials: cfg.Credentials,
		HTTPClient:  cfg.HTTPClient,
	}
	if cfg.BaseEndpoint != nil {
		o.APIEndpoint = *cfg.BaseEndpoint
	}
	if cfg.Logger != nil {
		o.Logger = slog.New(smithyLogHandler{logger: cfg.Logger})
	}
	return New(o, optFns...)
}

// fpsRetryableCodes are the error codes that are tried again automatically:
// transient faults only. FPS also marks business codes such as
// InsufficientBalance "retriable", meaning later, by the caller; those are
// not retried here.
var fpsRetryableCodes = map[string]struct{}{
	"InternalError":          {},
	"ConcurrentModification": {},
	"ServiceUnavailable":     {},
	"Throttling":             {},
	"ThrottlingException":    {},
	"RequestThrottled":       {},
}

func newDefaultRetryer(maxAttempts int) aws.RetryerV2 {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		if maxAttempts > 0 {
			o.MaxAttempts = maxAttempts
		} else {
			o.MaxAttempts = DefaultMaxAttempts
		}
		o.RateLimiter = ratelimit.None
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			noRetryCertificateError,
			retry.RetryableConnectionError{},
			retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{
				500: {}, 502: {}, 503: {}, 504: {},
			}},
			retry.RetryableErrorCode{Codes: fpsRetryableCodes},
		}
	})
}

// refuseRedirect makes the default HTTP client return a redirect answer as
// it is instead of sending the signed request to the Location.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// environmentEndpoints returns the endpoints of o.Environment, or an error
// naming what is wrong with it.
func environmentEndpoints(o *Options) (Endpoints, error) {
	if o.Environment == "" {
		return Endpoints{}, errors.New("fps: Options.Environment is required (fps.Sandbox or fps.Production)")
	}
	table, ok := endpoints[o.Environment]
	if !ok {
		return Endpoints{}, fmt.Errorf("fps: Options.Environment %q is not fps.Sandbox or fps.Production", string(o.Environment))
	}
	return table, nil
}

// apiEndpoint resolves the API URL of o: APIEndpoint, or the
// Environment's; an empty path is "/".
func apiEndpoint(o *Options) (*url.URL, error) {
	table, err := environmentEndpoints(o)
	if err != nil {
		return nil, err
	}
	u, err := endpointURL("APIEndpoint", o.APIEndpoint, table.API)
	if err != nil {
		return nil, err
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// cbuiEndpoint resolves the pipeline start URL of o: CBUIEndpoint, or the
// Environment's.
func cbuiEndpoint(o *Options) (*url.URL, error) {
	table, err := environmentEndpoints(o)
	if err != nil {
		return nil, err
	}
	return endpointURL("CBUIEndpoint", o.CBUIEndpoint, table.CBUI)
}

// apiEndpointFor returns the API URL of the options of one call: the
// client's own unless the call's option functions changed Environment or
// APIEndpoint.
func (c *Client) apiEndpointFor(o *Options) (*url.URL, error) {
	if o.Environment == c.options.Environment && o.APIEndpoint == c.options.APIEndpoint {
		return c.api, nil
	}
	return apiEndpoint(o)
}

// cbuiEndpointFor returns the pipeline start URL of the options of one
// call: the client's own unless the call's option functions changed
// Environment or CBUIEndpoint.
func (c *Client) cbuiEndpointFor(o *Options) (*url.URL, error) {
	if o.Environment == c.options.Environment && o.CBUIEndpoint == c.options.CBUIEndpoint {
		return c.cbui, nil
	}
	return cbuiEndpoint(o)
}

func endpointURL(field, override, def string) (*url.URL, error) {
	raw := def
	if override != "" {
		raw = override
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("fps: Options.%s: %w", field, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("fps: Options.%s %q must be an absolute http or https URL", field, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("fps: Options.%s %q must not carry a query or fragment", field, raw)
	}
	return u, nil
}

// Options returns a copy of the client's resolved options.
func (c *Client) Options() Options { return c.options }

// Environment returns the client's Environment.
func (c *Client) Environment() Environment { return c.options.Environment }

// ServiceURL returns the API endpoint the client sends requests to: the
// Environment's, or the override.
func (c *Client) ServiceURL() string { return c.api.String() }

// CBUIEndpoint returns the Co-Branded UI pipeline start URL the client
// signs links for: the Environment's, or the override.
func (c *Client) CBUIEndpoint() string { return c.cbuiURL }

// credentials returns the caller's keys, or an error naming what is
// missing.
func (o *Options) credentials(ctx context.Context) (aws.Credentials, error) {
	creds, err := o.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("fps: retrieve credentials: %w", err)
	}
	var missing []string
	if creds.AccessKeyID == "" {
		missing = append(missing, "access key id")
	}
	if creds.SecretAccessKey == "" {
		missing = append(missing, "secret access key")
	}
	if len(missing) > 0 {
		return aws.Credentials{}, fmt.Errorf("fps: credentials: %s missing", strings.Join(missing, " and "))
	}
	return creds, nil
}

// StaticCredentials returns a credentials provider for a fixed access key
// id and secret access key, without importing the aws-sdk-go-v2
// credentials module.
func StaticCredentials(accessKeyID, secretAccessKey string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{
			AccessKeyID:     accessKeyID,
			SecretAccessKey: secretAccessKey,
			Source:          "fps.StaticCredentials",
		}, nil
	})
}

// smithyLogHandler passes slog records to the smithy logger of an
// aws.Config.
type smithyLogHandler struct {
	logger logging.Logger
	attrs  []slog.Attr
}

func (h smithyLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h smithyLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	class := logging.Debug
	if r.Level >= slog.LevelWarn {
		class = logging.Warn
	}
	h.logger.Logf(class, "%s", b.String())
	return nil
}

func (h smithyLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return h
}

func (h smithyLogHandler) WithGroup(string) slog.Handler { return h }
