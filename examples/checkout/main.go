// Command checkout walks one whole Amazon FPS purchase through the
// integration package, with no set-up and no network: it starts the FPS
// simulator in-process, serves the integration's return and IPN handlers
// on 127.0.0.1, and prints each step with its data — the signed pipeline
// URL, the buyer's approval, the verified return confirmed with FPS, Pay,
// the IPNs received, verified, confirmed and stored with the order in
// SQLite, a partial refund and its IPN, and the order as the store holds
// it.
//
//	go run ./examples/checkout
//
// It exits 0 only when every step checked out, and 1 naming the step that
// failed.
//
// To run against another simulator (for example `fps sandbox`), give
// both -api-endpoint and -cbui-endpoint, and start that simulator with
// -ipn-url set to the IPN URL this program prints (fix its port with
// -addr); for an https simulator, -ca-file names the CA certificate to
// trust. For example:
//
//	fps sandbox -addr 127.0.0.1:8080 -plain-http -ipn-url http://127.0.0.1:8081/amazon_fps/fps-notify-handler/
//	go run ./examples/checkout -addr 127.0.0.1:8081 \
//		-api-endpoint http://127.0.0.1:8080/ -cbui-endpoint http://127.0.0.1:8080/cobranded-ui/actions/start
//
// The keys come from -access-key and -secret-key, else from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the simulator's
// default test account.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/examples/internal/setup"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// The order the buyer pays, and the part refunded.
var (
	price  = decimal.RequireFromString("19.99")
	refund = decimal.RequireFromString("5.00")
)

// settings are the command line.
type settings struct {
	setup.Flags
	db      string
	addr    string
	timeout time.Duration
}

func parseFlags(args []string, out io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.SetOutput(out)
	st := &settings{}
	st.Register(fs)
	fs.StringVar(&st.db, "db", "", "the order store: an SQLite `path` or a postgres:// DSN (default: an SQLite file in a temporary folder, removed at exit)")
	fs.StringVar(&st.addr, "addr", "127.0.0.1:0", "listen `address` of the shop's return and IPN handlers")
	fs.DurationVar(&st.timeout, "timeout", 30*time.Second, "give up after this long")
	if err := st.Parse(fs, args); err != nil {
		return nil, err
	}
	return st, nil
}

// hookResult is what the TransactionHook saw and did.
type hookResult struct {
	ret      *fps.PipelineReturn
	order    integration.Order
	purchase *fps.Result
	err      error
}

// checkout is one run: the simulator (or its endpoints), the shop and the
// channels its hooks report on.
type checkout struct {
	out      io.Writer
	st       *settings
	httpc    *http.Client
	buy      func(ctx context.Context, link string) (*url.URL, error)
	a        *integration.AmazonFPS
	orders   *store.SQL
	returns  chan hookResult
	ipns     chan integration.OrderChange
	stepNo   int
	seen     []string // keys of the IPNs received
	cleanups []func()
}

// run parses args, runs the purchase, and returns the first failed step.
func run(ctx context.Context, args []string, stdout io.Writer) (err error) {
	st, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, st.timeout)
	defer cancel()
	c := &checkout{out: stdout, st: st, returns: make(chan hookResult, 1), ipns: make(chan integration.OrderChange, 16)}
	defer func() {
		for i := len(c.cleanups) - 1; i >= 0; i-- {
			c.cleanups[i]()
		}
	}()
	if err := c.walk(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "OK: every step checked out.")
	return nil
}

// step prints the step's title, runs fn, and names the step when it fails.
func (c *checkout) step(name string, fn func() error) error {
	c.stepNo++
	fmt.Fprintf(c.out, "\n%d. %s\n", c.stepNo, name)
	if err := fn(); err != nil {
		return fmt.Errorf("step %d (%s) failed: %w", c.stepNo, name, err)
	}
	return nil
}

func (c *checkout) say(format string, args ...any) {
	fmt.Fprintf(c.out, "   "+format+"\n", args...)
}

func (c *checkout) walk(ctx context.Context) error {
	var (
		link string
		back *url.URL
		got  hookResult
	)
	steps := []struct {
		name string
		fn   func() error
	}{
		{"Start the simulator and the shop", func() error { return c.start(ctx) }},
		{"Sign the pipeline URL (LinkURL)", func() error {
			var err error
			link, err = c.a.WithFields(map[string]string{
				"pipelineName":      string(fps.PipelineSingleUse),
				"transactionAmount": price.StringFixed(2),
				"paymentReason":     `One copy of "Go Payments"`,
			}).LinkURL(ctx)
			if err != nil {
				return err
			}
			u, err := url.Parse(link)
			if err != nil {
				return err
			}
			ref := u.Query().Get("callerReference")
			order, err := c.orders.Order(ctx, ref)
			if err != nil {
				return fmt.Errorf("the order of callerReference %s was not recorded: %w", ref, err)
			}
			if u.Query().Get("signature") == "" {
				return errors.New("the pipeline URL is not signed")
			}
			c.say("send the buyer to: %s", link)
			c.say("order %s recorded for %s, %s", ref, order.Amount, order.Status)
			return nil
		}},
		{"The buyer approves on the Co-Branded UI (scripted buyer)", func() error {
			var err error
			back, err = c.buy(ctx, link)
			if err != nil {
				return err
			}
			q := back.Query()
			if q.Get("status") != string(fps.PipelineStatusSuccessCC) {
				return fmt.Errorf("the pipeline answered status %q (%s), not SC", q.Get("status"), q.Get("errorMessage"))
			}
			c.say("approved, paying by credit card (CC); Amazon sends the buyer back to:")
			c.say("%s", back)
			return nil
		}},
		{"The buyer comes back: the integration's handler verifies the return URL and confirms its token with FPS, then its TransactionHook pays (Purchase)", func() error {
			var err error
			got, err = c.visitReturn(ctx, back.String())
			if err != nil {
				return err
			}
			c.say("verified: status %s (%s)", got.ret.Status, got.ret.Status.Meaning())
			c.say("confirmed: FPS holds token %s for callerReference %s; order %s is %s",
				got.ret.TokenID, got.ret.CallerReference, got.order.Amount, got.order.Status)
			if got.err != nil {
				return got.err
			}
			c.say("Pay: transaction %s accepted (%s), status %s", got.purchase.TransactionID, got.purchase.Status, got.purchase.TransactionStatus)
			if got.purchase.Status != fps.ResultSuccess {
				return fmt.Errorf("the Pay action answered %s", got.purchase.TransactionStatus)
			}
			return nil
		}},
		{"IPNs of the payment: verified, confirmed with FPS, stored; the order moves", func() error {
			return c.awaitIPN(ctx, got.purchase.TransactionID, "PAY")
		}},
		{fmt.Sprintf("Partial refund of USD %s (Credit)", refund.StringFixed(2)), func() error {
			res, err := c.a.Credit(ctx, refund, fps.CreditOptions{
				TransactionID:   got.purchase.TransactionID,
				CallerReference: fps.NewCallerReference(),
				Description:     "one chapter missing",
			})
			if err != nil {
				return err
			}
			c.say("refund transaction %s accepted (%s), status %s", res.TransactionID, res.Status, res.TransactionStatus)
			if res.Status != fps.ResultSuccess {
				return fmt.Errorf("the Refund action answered %s", res.TransactionStatus)
			}
			return c.awaitIPN(ctx, res.TransactionID, "REFUND")
		}},
		{"The buyer loads the return URL again: the order as it stands, no second Pay", func() error {
			return c.revisit(ctx, back.String(), got.ret.CallerReference)
		}},
		{"The order store", func() error {
			return c.show(ctx, got.ret.CallerReference)
		}},
	}
	for _, s := range steps {
		if err := c.step(s.name, s.fn); err != nil {
			return err
		}
	}
	return nil
}

// start starts the simulator (unless endpoints were given), opens the
// store, builds the integration and serves its handler.
func (c *checkout) start(ctx context.Context) error {
	st := c.st
	ln, err := net.Listen("tcp", st.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/"

	api, cbui := st.APIEndpoint, st.CBUIEndpoint
	var (
		roots    *x509.CertPool
		verifier fps.Verifier // nil: the integration's default, local
	)
	if st.InProcess() {
		s, err := fpstest.Start(fpstest.Config{
			Accounts: []fpstest.Account{st.Account("Checkout Example", "shop@example.com")},
		})
		if err != nil {
			ln.Close()
			return err
		}
		c.cleanups = append(c.cleanups, s.Close)
		api, cbui, c.httpc, roots = s.APIEndpoint(), s.CBUIEndpoint(), s.HTTPClient(), s.CAPool()
		c.buy = func(ctx context.Context, link string) (*url.URL, error) {
			return s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: string(fps.PaymentMethodCC)})
		}
		if err := s.SetIPNURL(st.AccessKey, base+integration.NotifyPath); err != nil {
			ln.Close()
			return err
		}
		c.say("simulator  %s (in-process)", s.URL)
	} else {
		if c.httpc, err = st.HTTPClient(); err != nil {
			ln.Close()
			return err
		}
		if roots, err = st.RootCAs(); err != nil {
			ln.Close()
			return err
		}
		if verifier, err = st.Verifier(api, c.httpc); err != nil {
			ln.Close()
			return err
		}
		c.buy = c.buyOverHTTP(cbui)
		c.say("simulator  %s (API), %s (CBUI)", api, cbui)
	}

	if err := c.openStore(ctx); err != nil {
		ln.Close()
		return err
	}

	c.a, err = integration.New(integration.Config{
		AccessKey:    st.AccessKey,
		SecretKey:    st.SecretKey,
		TestMode:     true,
		BaseURL:      base,
		APIEndpoint:  api,
		CBUIEndpoint: cbui,
		HTTPClient:   c.httpc,
		RootCAs:      roots,
		Verifier:     verifier,
		Store:        c.orders,
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, order integration.Order) {
			res := hookResult{ret: ret, order: order}
			if !ret.Status.Success() {
				res.err = fmt.Errorf("the buyer did not approve: %s", ret.Status.Meaning())
			} else {
				res.purchase, res.err = a.Purchase(ctx, order.Amount.Value, fps.PurchaseOptions{
					TokenID: ret.TokenID, CallerReference: ret.CallerReference,
				})
			}
			select {
			case c.returns <- res:
			default: // a second visit of the return URL: reported once
			}
			if res.err != nil {
				http.Error(w, "the payment did not go through", http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, "Thank you: payment %s is %s.\n", res.purchase.TransactionID, res.purchase.TransactionStatus)
		},
		NotificationCallback: func(ctx context.Context, ch integration.OrderChange) error {
			select {
			case c.ipns <- ch:
			default:
			}
			return nil
		},
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: c.a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	c.cleanups = append(c.cleanups, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	c.say("shop       %s (return URL %s)", base, c.a.ReturnURL())
	c.say("IPN URL    %s", c.a.NotifyURL())
	return nil
}

// openStore opens the order store: the database -db names, or an SQLite
// file in a temporary folder.
func (c *checkout) openStore(ctx context.Context) error {
	db, note := c.st.db, ""
	if db == "" {
		note = " (temporary, removed at exit; -db keeps one)"
		dir, err := os.MkdirTemp("", "fps-checkout-")
		if err != nil {
			return err
		}
		c.cleanups = append(c.cleanups, func() { os.RemoveAll(dir) })
		db = filepath.Join(dir, "fps.db")
	}
	orders, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	c.cleanups = append(c.cleanups, func() { orders.Close() })
	c.orders = orders
	c.say("store      %s%s", db, note)
	return nil
}

// buyOverHTTP plays the buyer through the simulator's headless buyer form
// (POST .../cobranded-ui/actions/buy), next to the pipeline start URL.
func (c *checkout) buyOverHTTP(cbui string) func(ctx context.Context, link string) (*url.URL, error) {
	buyURL := strings.TrimSuffix(cbui, "/start") + "/buy"
	return func(ctx context.Context, link string) (*url.URL, error) {
		form := url.Values{"url": {link}, "action": {string(fpstest.Approve)}, "paymentMethod": {string(fps.PaymentMethodCC)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, buyURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hc := *c.httpc
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			return nil, fmt.Errorf("%s answered %s: %s", buyURL, resp.Status, strings.TrimSpace(string(body)))
		}
		return url.Parse(resp.Header.Get("Location"))
	}
}

// get fetches u as the buyer's browser would, and returns the status and
// the start of the page.
func (c *checkout) get(ctx context.Context, u string) (status, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.Status, strings.TrimSpace(string(b)), nil
}

// visitReturn follows the return URL as the buyer's browser would and
// returns what the TransactionHook did.
func (c *checkout) visitReturn(ctx context.Context, returnURL string) (hookResult, error) {
	status, body, err := c.get(ctx, returnURL)
	if err != nil {
		return hookResult{}, err
	}
	c.say("the shop answered %s: %s", status, body)
	select {
	case got := <-c.returns:
		if status != "200 OK" && got.err == nil {
			return got, fmt.Errorf("the return handler answered %s", status)
		}
		return got, nil
	default:
		return hookResult{}, fmt.Errorf("the return was refused (%s): the TransactionHook did not run", status)
	}
}

// awaitIPN prints the changes the IPNs of transaction id make to its
// order as they arrive, and checks each IPN is in the store, until the
// one of operation with status SUCCESS has come.
func (c *checkout) awaitIPN(ctx context.Context, id string, operation fps.NotificationOperation) error {
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %s SUCCESS IPN for transaction %s arrived (is the simulator's IPN URL %s?): %w",
				operation, id, c.a.NotifyURL(), ctx.Err())
		case ch := <-c.ipns:
			n := ch.Notification
			if n.TransactionID != id {
				continue
			}
			stored, err := c.orders.Get(ctx, n.Key())
			if err != nil {
				return fmt.Errorf("IPN %s is not in the store: %w", n.Key(), err)
			}
			c.seen = append(c.seen, n.Key())
			c.say("IPN %s %s %s: verified, confirmed with FPS, stored at %s; order %s -> %s",
				n.Operation, n.Status, n.TransactionAmount, stored.ReceivedAt.Format(time.RFC3339), ch.Entry.From, ch.Entry.To)
			if n.Operation == operation && n.TransactionStatus == fps.TransactionStatusSuccess {
				return nil
			}
			if n.TransactionStatus == fps.TransactionStatusFailure {
				return fmt.Errorf("IPN %s: %s", n.Key(), n.StatusMessage)
			}
		}
	}
}

// revisit loads the return URL again, as a buyer reloading the page
// would: the shop shows the order as it stands, and the hook does not
// run again.
func (c *checkout) revisit(ctx context.Context, returnURL, ref string) error {
	status, body, err := c.get(ctx, returnURL)
	if err != nil {
		return err
	}
	c.say("the shop answered %s: %s", status, body)
	select {
	case <-c.returns:
		return errors.New("the TransactionHook ran a second time")
	default:
	}
	txs, err := c.orders.Transactions(ctx, ref)
	if err != nil {
		return err
	}
	pays := 0
	for _, t := range txs {
		if t.Operation == fps.FPSOperationPay {
			pays++
		}
	}
	if pays != 1 {
		return fmt.Errorf("order %s has %d Pay transactions", ref, pays)
	}
	c.say("the TransactionHook did not run again; the order has one Pay")
	return nil
}

// show prints the order of ref as the store holds it: found by its
// callerReference and by the id of each of its transactions, with its
// transactions, its history and its notifications.
func (c *checkout) show(ctx context.Context, ref string) error {
	o, err := c.orders.Order(ctx, ref)
	if err != nil {
		return err
	}
	c.say("order %s: %s, paid %s, refunded %s", o.CallerReference, o.Status, o.Paid.StringFixed(2), o.Refunded.StringFixed(2))
	if o.Status != integration.OrderPartlyRefunded {
		return fmt.Errorf("order %s is %s, not %s", ref, o.Status, integration.OrderPartlyRefunded)
	}
	txs, err := c.orders.Transactions(ctx, ref)
	if err != nil {
		return err
	}
	for _, t := range txs {
		byID, err := c.orders.OrderByTransaction(ctx, t.ID)
		if err != nil || byID.CallerReference != ref {
			return fmt.Errorf("transaction %s does not lead to its order: %v", t.ID, err)
		}
		c.say("transaction %s  %-6s %s  callerReference %s: %s %s", t.ID, t.Operation, t.Amount, t.CallerReference, t.Step, t.Status)
	}
	hist, err := c.orders.History(ctx, ref)
	if err != nil {
		return err
	}
	for _, e := range hist {
		c.say("history    %-9s -> %-15s %s", e.From, e.To, e.Note)
	}
	stored := map[string]bool{}
	for _, e := range hist {
		stored[e.Key] = true
	}
	for _, k := range c.seen {
		if !stored[k] {
			return fmt.Errorf("IPN %s was received but is not in the order's history", k)
		}
	}
	c.say("%d transactions, %d history entries; every IPN received is in the history", len(txs), len(hist))
	return nil
}
