// Package fpstest is a faithful simulator of Amazon Flexible Payments
// Service (API 2008-09-17, 2010-08-28 and 2011-09-20, Co-Branded UI
// 2009-01-09), in the spirit of net/http/httptest.
//
// NewServer starts it on 127.0.0.1 for a test; Start runs it as a process
// (the `fps sandbox` command). One listener serves the API at "/" (GET or
// form POST, Signature Version 2 checked against the configured caller
// accounts), the Co-Branded UI at "/cobranded-ui/actions/start", and the
// simulator's signing certificate under "/certs/". Return URLs and IPNs are
// signed with RSA-SHA1 the way Amazon signed them.
//
// Headless buyers: Server.Buy plays the buyer in Go; over HTTP,
//
//	POST /cobranded-ui/actions/buy
//	url=<signed pipeline URL>&action=approve|decline|abandon&paymentMethod=ABT|ACH|CC
//
// answers 302 Found with the signed return URL in Location.
//
// API versions: the Version of each request selects the namespace of its
// answer (http://fps.amazonaws.com/doc/<version>/), the actions and the
// parameters it may use, as the client declares them (fps.ActionVersions,
// fps.ParameterVersions). Subscriptions, which Simple Pay buttons created
// and API 2010-08-28 reads, are made with Ledger.Subscribe or the form at
// Server.SubscribeEndpoint.
//
// Behaviour where the service's documentation is silent, chosen here:
//
//   - CallerReference idempotency compares every parameter but
//     AWSAccessKeyId, Signature, SignatureMethod, SignatureVersion and
//     Timestamp; an identical replay within seven days (simulator time)
//     answers the stored body byte for byte, errors included. After the
//     seven days the answer is forgotten (removed, not only ignored), as
//     are the answer of a Settle and the result of a pipeline approved
//     under a callerReference (the same callerReference then installs
//     new tokens). Nothing else is forgotten: every transaction, token,
//     subscription and instrument stays answerable (GetTransaction,
//     Refund, GetAccountActivity, GetTokens, ...) for the life of the
//     state, as FPS kept them.
//   - What is kept where: without Config.State everything is in memory.
//     With it, memory holds what can still change on its own or is used
//     on every call: Pending and Reserved transactions, tokens that can
//     still pay (with their usage windows), active subscriptions,
//     accounts, instruments, balances, the pipelines waiting for their
//     buyer, and the record of IPN deliveries. Completed transactions,
//     tokens that can no longer pay (cancelled, expired, a single-use
//     token used), ended subscriptions, kept answers and approved
//     pipelines are in the Store alone and read back from it when asked
//     for: memory stays flat however long the simulator runs.
//   - IPN deliveries: Server.Deliveries keeps the latest MaxDeliveries
//     attempts and DeliveryCounts counts them all; at most
//     MaxIPNsInFlight IPNs are delivered or wait to be retried at once,
//     past that the oldest is given up.
//   - Config.State: each change is handed to the Store, with the records
//     it touched, before it is answered; a change the Store refuses, or
//     a call during which the Store could not be read, is answered
//     InternalError, and the change is saved with the next one (the same
//     request, retried, is then answered from memory). A simulator
//     started on a Store continues its ledger; a configured account's
//     non-empty IPNURL wins over the one kept, its Balance is the one
//     kept; records of accounts no longer configured are kept but unused.
//     The Store also keeps the simulator's CA and signing key (in the
//     clear: they are a test sandbox's keys), so that clients that
//     trusted the CA go on trusting it; a configured SigningKey replaces
//     the one kept. The TLS and signing certificates are issued anew at
//     each start, by that CA, for the host listened on.
//   - Settle answers the Reserve's TransactionId; the identical Settle
//     repeated by the same account answers the same body again, a
//     different one is InvalidTransactionState. Cancel of a Cancelled
//     transaction answers Cancelled again.
//   - An account sees its own transactions and tokens only: an action
//     naming another account's (by id or by CallerReference) is answered
//     as one naming none that exists (InvalidTransactionId,
//     InvalidTokenId..., InvalidCallerReference), and lists hold the
//     caller's own.
//   - Tokens: a single-use token pays once (TokenUsageError after); going
//     over a token's amount or global limit, or over the buyer's ABT,
//     prepaid or credit balance, is InsufficientBalance; going over a
//     usage limit (usageLimitType1/2) is TokenUsageError.
//   - A usage limit counts in windows of its period (its usageLimitPeriod,
//     the token's whole life without one) on the simulator's clock, the
//     first window starting when the token is installed. GetTokenUsage
//     gives one TokenUsageLimits per limit: the global amount limit first
//     (Amount paid over the token's life, LastResetAmount 0.00, the
//     install time), then each usage limit (Amount or Count of the
//     current window, LastResetAmount or LastResetCount of the window just
//     before it, the current window's start).
//   - A Pay, Reserve or instrument payment holds its amount and one use
//     of the sender token (global and usage limits) and the buyer's funds;
//     Cancel gives both back, Settle gives back what it does not settle.
//     A refund gives the buyer the money back but not the token its limits
//     or use: the token did pay.
//   - Fees: the FPS fee of a payment from ABT, ACH or CC is 5% + 0.05
//     below 10.00 and 2.9% + 0.30 from 10.00, rounded to the cent (the
//     schedule that gives the fees of Amazon's documentation samples);
//     money already held (Prepaid, Debt) pays none. A Reserve is charged
//     when settled, on the amount settled; a cancelled transaction costs
//     nothing. A refund gives back the fee in proportion to the amount it
//     refunds, and all that is left of it when nothing is left to refund;
//     it never gives back the marketplace fee, whatever
//     MarketplaceRefundPolicy says. The caller account is the recipient
//     of its payments, so the marketplace fee moves nothing on its
//     balance, while the FPS fee is taken from it whoever pays it
//     (ChargeFeeTo). A recipient token's maxFixedFee and maxVariableFee
//     are not checked.
//   - A payment from a prepaid instrument moves no money to the caller:
//     it came in when the instrument was funded (FundPrepaid). A postpaid
//     (Debt) payment credits the caller at once; SettleDebt and
//     WriteOffDebt lower the debt.
//   - GetAccountActivity gives each transaction two TransactionParts: the
//     Caller's (Reference: the CallerReference; Description: the
//     CallerDescription; FeesPaid: the FPS fee when ChargeFeeTo is
//     Caller), then the Recipient's (FeesPaid: the FPS fee when the
//     recipient pays it, plus the marketplace fee), or for a refund the
//     Sender's (the fee given back, negative). Every Name is the caller
//     account's.
//   - URLs (the API, the Co-Branded UI, certificateUrl) leave out the
//     port when it is the scheme's default.
//   - A pipeline start URL is checked by the rules the client checks
//     before signing (one table, in internal/rules): every parameter the
//     pipeline does not take, takes twice, or that breaks its rule is named
//     in the CE answer; a missing or unusable returnURL shows an error
//     page instead, as there is nowhere to send the buyer back.
//   - The buyer's Decline comes back as status NP; Abandon as status A.
//     At most 10000 started pipelines wait for their buyer; past that the
//     oldest is forgotten (its page answers as an unknown pipeline).
//   - VerifySignature takes no HTTP method, so the string to sign is tried
//     with GET (return URLs) and POST (IPNs); Success when either verifies
//     under the simulator's certificate.
//   - IPNs are signed over their form body alone, under the host and path
//     of the account's IPN URL (or of the OverrideIPNURL they go to).
//   - API and pipeline signatures are checked over the host of the request
//     with its port (when not the scheme's default) and without it: every
//     known client signs the bare host whatever port it sends to
//     (fps-api-versions §8). Nothing else is relaxed: the method, the path
//     (an empty path is not "/"), the host's spelling, every parameter,
//     the key and the Timestamp's expiry count.
//   - API 2011-09-20, of which no Amazon SDK or page is known, answers in
//     http://fps.amazonaws.com/doc/2011-09-20/ (the pattern of the other
//     versions) and has the actions and parameters of 2010-08-28,
//     GetSubscriptionDetails, GetTransactionsForSubscription and
//     OverrideIPNURL included; only its RecipientVerificationStatus values
//     differ, the one change its users reported.
//   - GetRecipientVerificationStatus answers VerificationComplete for a
//     recipient token of the caller under 2008-09-17 (whose values no
//     source gives) and 2010-08-28, Active under 2011-09-20.
//   - An unknown Version is InvalidParameterValue listing the versions
//     served ("Value (V) for parameter Version is invalid. Must be one of
//     2008-09-17, 2010-08-28, 2011-09-20."). Once the request is
//     authenticated, an action its version lacks is InvalidAction naming
//     the versions that have it, and OverrideIPNURL in a 2008-09-17
//     request is InvalidParams; on an action that does not take it, it is
//     ignored as any parameter the action does not know. Error answers
//     have no namespace in any version.
//   - OverrideIPNURL must be an absolute http or https URL
//     (InvalidParameterValue otherwise; no length limit). The IPNs of the
//     transaction the request creates or changes go there from then on,
//     the later ones included (a Pending Pay's Success, the Settle of a
//     Reserve made with one), until another request on it gives another;
//     a Refund's IPNs go to the Refund's own. CancelToken sends its
//     TokenCancellation there.
//   - Subscriptions: the id is a UUID. The first payment is made when the
//     subscription is created, each next one when the simulator clock
//     reaches its date (dated when it is made); a month or a year later is
//     the same day of the month, or the month's last day. A subscription
//     completes when its period is over, and has no SubscriptionPeriod or
//     EndDate when it has no period. Its payments are Pay transactions on
//     a Recurring token of the buyer, with the ordinary TransactionStatus
//     IPNs (no subscription IPN is sent). RecipientName and RecipientEmail
//     are the caller account's, SenderName and SenderEmail the buyer's.
//     An unknown subscription, or another account's, is InvalidParams
//     ("SubscriptionId X is not a valid subscription.").
//     CancelSubscriptionAndRefund of a subscription that is no longer
//     Active is InvalidSubscriptionState without a refund; with one, the
//     refund runs. It also takes the id of a Recurring token the caller
//     holds, as a subscription of its own.
package fpstest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// Test credentials of the default caller account. They are not secret:
// anyone can use them against a simulator.
const (
	// DefaultAccessKeyID is the access key id of the default account.
	DefaultAccessKeyID = "AKIAFPSTESTDEFAULT00"
	// DefaultSecretAccessKey is the secret access key of the default
	// account (a test value, not a secret).
	DefaultSecretAccessKey = "fpstest/DEFAULT/secret+key/not+a+real+secret00"
)

// Account is a caller (merchant) account the simulator accepts requests
// from.
type Account struct {
	AccessKeyID     string
	SecretAccessKey string
	Name            string
	Email           string
	// IPNURL receives the account's Instant Payment Notifications; empty
	// means none are sent.
	IPNURL string
	// Balance is the account's opening balance.
	Balance decimal.Decimal
}

// DefaultAccount returns the account a simulator has when none is
// configured: DefaultAccessKeyID and DefaultSecretAccessKey.
func DefaultAccount() Account {
	return Account{
		AccessKeyID:     DefaultAccessKeyID,
		SecretAccessKey: DefaultSecretAccessKey,
		Name:            "Test Merchant",
		Email:           "merchant@example.com",
	}
}

// Config describes a simulator: Start runs one as a process, NewServer
// one for a test. Zero values take the defaults documented on each field.
type Config struct {
	// Addr is the listen address; "127.0.0.1:0" (a random port) by
	// default.
	Addr string
	// PlainHTTP serves http instead of https; false (https, with the
	// simulator's own CA) by default.
	PlainHTTP bool
	// Accounts are the caller accounts; the first is the default. Empty
	// means DefaultAccount alone.
	Accounts []Account
	// Clock is the base clock; time.Now by default. Server.Clock can move
	// it forward.
	Clock func() time.Time
	// PendingDelay is how long (simulator time) CC and ACH transactions
	// stay Pending before they succeed: DefaultPendingDelay when zero; a
	// negative value keeps them Pending until CompletePending.
	PendingDelay time.Duration
	// BuyerBalance is the Amazon Payments (ABT) balance the simulated
	// buyers share; 10000.00 USD when zero.
	BuyerBalance decimal.Decimal
	// Faults injects failures into API calls and IPN deliveries; none by
	// default.
	Faults Faults
	// IPNRetryWindow is how long a failing IPN is retried; 10s by
	// default.
	IPNRetryWindow time.Duration
	// IPNFirstDelay is the first back-off between IPN delivery attempts,
	// doubling after each; 50ms by default.
	IPNFirstDelay time.Duration
	// IPNTimeout bounds one IPN delivery attempt; 5s by default.
	IPNTimeout time.Duration
	// IPNFailFirst makes the first n IPN delivery attempts count as failed
	// even when the receiver accepted them, so they are sent again; 0 by
	// default.
	IPNFailFirst int
	// IPNClient sends IPNs (for example one that trusts the test server
	// receiving them); an *http.Client with IPNTimeout by default.
	IPNClient *http.Client
	// OnIPN, when set, receives each IPN once, signed, before its first
	// delivery attempt and before the API call (or the completion of a
	// Pending transaction) that caused it returns: the URL it goes to and
	// the form body sent. It must not block for long; nil by default.
	OnIPN func(url, body string)
	// SigningKey signs return URLs and IPNs; a fresh RSA 2048 key by
	// default (giving one saves the key generation when many simulators
	// run).
	SigningKey *rsa.PrivateKey
	// Logger receives one record per API call; nil (the default)
	// discards.
	Logger *slog.Logger
	// State keeps the ledger, so that the simulator's memory holds only
	// what can still change (Store), and across restarts: a simulator
	// started on the State of an earlier one continues with its tokens,
	// transactions, balances, subscriptions, kept answers, accounts' IPN
	// URLs and clock offset, and is the same CA, signing with the same
	// key under the same certificateUrl path. Nil (the default) keeps
	// everything in memory.
	State Store
}

// DefaultPendingDelay is how long CC and ACH transactions stay Pending
// when Config.PendingDelay is zero.
const DefaultPendingDelay = 2 * time.Second

// Defaults of Config.
const (
	defaultIPNWindow    = 10 * time.Second
	defaultIPNFirst     = 50 * time.Millisecond
	defaultIPNTimeout   = 5 * time.Second
	defaultBuyerBalance = 10000 // USD
)

// Server is a running simulator.
type Server struct {
	// URL is the base URL, e.g. "https://127.0.0.1:PORT".
	URL string

	cfg      Config
	ln       net.Listener
	srv      *http.Server
	tlsConf  *tls.Config
	pki      *pki
	clock    *Clock
	httpc    *http.Client
	ledger   *Ledger
	sessions *sessions
	actions  map[string]actionFunc // actionTable(), built once
	faults   *faultState
	ipn      *ipnSender
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closeOne sync.Once
}

// NewServer starts a simulator for a test, configured by the zero Config
// changed by optFns in order (127.0.0.1 on a random port, https), and
// stops it when the test ends:
//
//	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
func NewServer(tb testing.TB, optFns ...func(*Config)) *Server {
	tb.Helper()
	var cfg Config
	for _, fn := range optFns {
		fn(&cfg)
	}
	s, err := Start(cfg)
	if err != nil {
		tb.Fatalf("fpstest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// withDefaults returns cfg with the default of each field left zero.
func (cfg Config) withDefaults() Config {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = []Account{DefaultAccount()}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PendingDelay == 0 {
		cfg.PendingDelay = DefaultPendingDelay
	}
	if cfg.BuyerBalance.IsZero() {
		cfg.BuyerBalance = decimal.NewFromInt(defaultBuyerBalance)
	}
	if cfg.IPNRetryWindow <= 0 {
		cfg.IPNRetryWindow = defaultIPNWindow
	}
	if cfg.IPNFirstDelay <= 0 {
		cfg.IPNFirstDelay = defaultIPNFirst
	}
	if cfg.IPNTimeout <= 0 {
		cfg.IPNTimeout = defaultIPNTimeout
	}
	if cfg.IPNClient == nil {
		cfg.IPNClient = &http.Client{Timeout: cfg.IPNTimeout}
	}
	return cfg
}

// check refuses accounts without credentials or named twice, and faults
// out of range.
func (cfg *Config) check() error {
	seen := map[string]bool{}
	for i, a := range cfg.Accounts {
		if a.AccessKeyID == "" || a.SecretAccessKey == "" {
			return fmt.Errorf("account %d: AccessKeyID and SecretAccessKey are required", i)
		}
		if seen[a.AccessKeyID] {
			return fmt.Errorf("account %d: AccessKeyID is used twice", i)
		}
		seen[a.AccessKeyID] = true
	}
	return cfg.Faults.check()
}

// Start runs a simulator configured by cfg until Close.
func Start(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	s := &Server{cfg: cfg, ln: ln}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.clock = &Clock{base: cfg.Clock}
	s.ipn = &ipnSender{s: s, failLeft: cfg.IPNFailFirst}
	s.ledger, err = newLedger(ledgerConfig{
		accounts: cfg.Accounts, buyerBalance: cfg.BuyerBalance, pendingDelay: cfg.PendingDelay,
		clock: s.clock.Now, notify: s.ipn.send, store: cfg.State,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	// Certificates are valid from the base clock's time (what clients
	// check them against), whatever the simulator clock's offset.
	kept := s.ledger.keptKeys()
	var keys []byte
	if s.pki, keys, err = newPKI(host, cfg.SigningKey, cfg.Clock(), kept); err == nil && !bytes.Equal(keys, kept) {
		err = s.ledger.keepKeys(keys)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	scheme := "https"
	if cfg.PlainHTTP {
		scheme = "http"
	}
	s.URL = baseURL(scheme, host, port)
	s.httpc = &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: s.pki.pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: false,
		MaxIdleConns:      100, MaxIdleConnsPerHost: 100,
	}, Timeout: fps.DefaultHTTPTimeout}
	s.clock.offset = s.ledger.savedClockOffset()
	s.clock.onAdvance = func(offset time.Duration) {
		s.ledger.setClockOffset(offset)
		s.sweep()
	}
	s.sessions = newSessions(maxOpenPipelines)
	s.actions = actionTable()
	s.faults = newFaultState(cfg.Faults)
	s.serve(ln)
	return s, nil
}

// baseURL is the canonical URL of a server at host and port: the port is
// left out when it is the scheme's default (80 for http, 443 for https),
// as a browser and Amazon's own URLs write it.
func baseURL(scheme, host, port string) string {
	h := net.JoinHostPort(host, port)
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		h = strings.TrimSuffix(h, ":"+port)
	}
	return scheme + "://" + h
}

// serve serves the simulator on ln, and completes the Pending
// transactions that fall due, until Close.
func (s *Server) serve(ln net.Listener) {
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: quietLog()}
	if !s.cfg.PlainHTTP {
		s.tlsConf = &tls.Config{
			Certificates: []tls.Certificate{s.pki.tlsCert},
			NextProtos:   []string{"http/1.1"}, // hijacking (dropped connections) needs HTTP/1
			MinVersion:   tls.VersionTLS12,
		}
		ln = tls.NewListener(ln, s.tlsConf.Clone())
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
				s.sweep()
			}
		}
	}()
}

// Close stops the simulator: the listener, the pending-completion loop and
// the IPN deliveries still in flight. It may be called more than once.
func (s *Server) Close() {
	s.closeOne.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		s.wg.Wait()
		s.ipn.close()
		if t, ok := s.httpc.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.serveAPI)
	mux.HandleFunc("GET /cobranded-ui/actions/start", s.serveCBUIStart)
	mux.HandleFunc("POST /cobranded-ui/actions/decide", s.serveCBUIDecide)
	mux.HandleFunc("POST /cobranded-ui/actions/buy", s.serveCBUIBuy)
	mux.HandleFunc("POST "+subscribePath, s.serveSubscribe)
	mux.HandleFunc("GET /certs/", s.serveCert)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		mux.ServeHTTP(w, r)
	})
}

// MaxRequestBody caps the body of any request to the simulator (API and
// Co-Branded UI); a larger body is refused.
const MaxRequestBody = 1 << 20

// APIEndpoint returns the API URL (URL + "/").
func (s *Server) APIEndpoint() string { return s.URL + "/" }

// CBUIEndpoint returns the pipeline start URL.
func (s *Server) CBUIEndpoint() string { return s.URL + cbuiStartPath }

// BuyEndpoint returns the URL of the headless buyer form (POST url, action,
// paymentMethod; answers 302 with the signed return URL).
func (s *Server) BuyEndpoint() string { return s.URL + cbuiBuyPath }

// ServerTLSConfig returns a copy of the TLS configuration the simulator
// serves with (its certificate is issued by the simulator's CA, for
// 127.0.0.1 and localhost), to serve something else the same way, or nil
// under Config.PlainHTTP.
func (s *Server) ServerTLSConfig() *tls.Config {
	if s.tlsConf == nil {
		return nil
	}
	return s.tlsConf.Clone()
}

// HTTPClient returns an HTTP client that trusts the simulator's CA.
func (s *Server) HTTPClient() *http.Client { return s.httpc }

// CAPool returns a pool holding the simulator's CA certificate.
func (s *Server) CAPool() *x509.CertPool { return s.pki.pool }

// CAPEM returns the simulator's CA certificate, PEM-encoded.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.pki.caPEM...) }

// CertificateURL returns the URL of the certificate whose key signs return
// URLs and IPNs (the certificateUrl parameter).
func (s *Server) CertificateURL() string { return s.URL + "/certs/" + s.pki.certID + "/PKICert.pem" }

// PublicKey returns the public key that verifies return URLs and IPNs.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.pki.signKey.PublicKey }

// Ledger returns the simulator's ledger, for inspection by tests.
func (s *Server) Ledger() *Ledger { return s.ledger }

// Clock returns the simulator's movable clock.
func (s *Server) Clock() *Clock { return s.clock }

// Accounts returns the configured caller accounts, the default first.
func (s *Server) Accounts() []Account { return append([]Account(nil), s.cfg.Accounts...) }

// Client returns an fps.Client for the default account, Environment
// Sandbox, with both endpoints pointed at the simulator, an HTTP client
// that trusts its CA, and the simulator's clock. optFns run last.
func (s *Server) Client(tb testing.TB, optFns ...func(*fps.Options)) *fps.Client {
	tb.Helper()
	a := s.cfg.Accounts[0]
	c, err := fps.New(fps.Options{
		Environment:  fps.Sandbox,
		Credentials:  fps.StaticCredentials(a.AccessKeyID, a.SecretAccessKey),
		APIEndpoint:  s.APIEndpoint(),
		CBUIEndpoint: s.CBUIEndpoint(),
		HTTPClient:   s.httpc,
		Clock:        s.clock.Now,
	}, optFns...)
	if err != nil {
		tb.Fatalf("fpstest: client: %v", err)
	}
	return c
}

// account returns the configured account key.
func (s *Server) account(key string) Account {
	for _, a := range s.cfg.Accounts {
		if a.AccessKeyID == key {
			return a
		}
	}
	return Account{AccessKeyID: key, Name: key}
}

// SetIPNURL changes where the account's IPNs go ("" stops them).
func (s *Server) SetIPNURL(accessKeyID, url string) error {
	return s.ledger.setIPNURL(accessKeyID, url)
}

func (s *Server) serveCert(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/certs/" + s.pki.certID + "/PKICert.pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(s.pki.certPEM)
	case "/certs/ca.pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(s.pki.caPEM)
	default:
		http.NotFound(w, r)
	}
}

// Clock is the simulator's clock: a base clock moved forward by Advance.
type Clock struct {
	mu        sync.Mutex
	base      func() time.Time
	offset    time.Duration
	onAdvance func(offset time.Duration)
}

// Now returns the simulator time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return c.base().Add(off)
}

// Advance moves the clock forward by d, then completes what became due
// (pending transactions).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	off := c.offset
	c.mu.Unlock()
	if c.onAdvance != nil {
		c.onAdvance(off)
	}
}

// CompletePending completes every Pending transaction now (Success), as
// if the payment processor had answered, and sends their IPNs.
func (s *Server) CompletePending(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.ledger.completeDue(s.clock.Now(), true)
	return nil
}

// sweep makes the subscription payments that fell due, and completes the
// Pending transactions that did.
func (s *Server) sweep() {
	now := s.clock.Now()
	s.ledger.billSubscriptions(now)
	s.ledger.completeDue(now, false)
}

// quietLog silences the http.Server's own log (TLS handshakes from
// clients that do not trust the CA would otherwise flood test output).
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

var errUnknownAccount = errors.New("fpstest: unknown access key id")
