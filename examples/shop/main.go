// Command shop is a small web shop that takes Amazon FPS payments through
// package integration, against the FPS simulator:
//
//	go run ./examples/shop
//
// and open the URL it prints (http://127.0.0.1:8000/ by default).
//
// The product page shows the "Amazon Payments" button of each product,
// signed for one order. The button leads to the simulator's Co-Branded UI
// page, where the buyer picks a payment method and approves. The simulator
// sends the buyer back to the shop's return URL; the integration's Charge
// charges the token (Pay), or only reserves the amount (Reserve) for the
// product sold "authorized now, charged when shipped" — also for a buyer
// who never comes back, through Recover every few seconds — and the
// TransactionHook sends the buyer on to the order page /orders/<ref>. The order page follows the payment
// as the notifications (IPNs) arrive: pending, then paid. The admin page
// /admin lists the orders, their amounts and transaction ids, and the
// stored notifications, and offers capture, refund and void.
//
// The orders live in the integration's order store, with their
// transactions, their history and the notifications that moved them: in
// memory by default, or in the database named by -db (an SQLite file, or
// a postgres:// DSN), where a restart of the shop loses nothing. An
// order's status comes from the return and the IPNs alone, each verified
// and confirmed with FPS before it moves the order: the answers of Pay,
// Reserve, Settle, Refund and Cancel only say that FPS took the request.
// Over https the signatures are checked locally (the integration's
// default); the in-process simulator serves plain http, so a browser
// needs no certificate, and there the VerifySignature action checks them.
//
// By default the simulator runs in the same process, and credit-card
// payments stay pending for -pending-delay. To use a simulator running
// apart, start it with the shop's IPN URL and name its endpoints:
//
//	fps sandbox -plain-http -addr 127.0.0.1:8080 -ipn-url http://127.0.0.1:8000/amazon_fps/fps-notify-handler/
//	go run ./examples/shop -api-endpoint http://127.0.0.1:8080/ -cbui-endpoint http://127.0.0.1:8080/cobranded-ui/actions/start
//
// (for an https simulator add -ca-file with the CA file it wrote). The
// keys come from -access-key and -secret-key, else AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, else the simulator's test account. -base-url is
// the shop's public URL when it is not http://<addr>/, for example behind
// a proxy.
//
// The admin page has no login: the shop is for trying FPS on one's own
// machine. Its buttons are POST forms, refused when a browser says the
// request comes from another site.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fpskit/fps/examples/internal/setup"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// settings are the command line.
type settings struct {
	setup.Flags
	addr         string
	baseURL      string
	db           string
	pendingDelay time.Duration
}

func parseFlags(args []string, out io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(out)
	st := &settings{}
	st.Register(fs)
	fs.StringVar(&st.addr, "addr", "127.0.0.1:8000", "listen `address` of the shop")
	fs.StringVar(&st.baseURL, "base-url", "", "public `URL` of the shop (default http://<addr>/)")
	fs.StringVar(&st.db, "db", "", "the order store: an SQLite `path` or a postgres:// DSN (default: in memory, lost at exit)")
	fs.DurationVar(&st.pendingDelay, "pending-delay", 3*time.Second, "how long credit-card payments and refunds stay pending in the in-process simulator (negative: for ever)")
	if err := st.Parse(fs, args); err != nil {
		return nil, err
	}
	if st.baseURL != "" {
		u, err := url.Parse(st.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("-base-url %q must be an http(s) URL of a host, with no path", st.baseURL)
		}
	}
	return st, nil
}

// run serves the shop until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	st, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := start(ctx, st, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.sim != nil {
		fmt.Fprintf(stdout, "shop: FPS simulator running in-process at %s\n", a.sim.URL)
	}
	fmt.Fprintf(stdout, "shop: open %s in a browser (orders and refunds: %sadmin)\n", a.URL, a.URL)
	select {
	case <-ctx.Done():
		return nil
	case err := <-a.served:
		return err
	}
}

// app is a running shop: its server, and the simulator when it runs
// in-process.
type app struct {
	// URL is the shop's public base URL, ending in "/".
	URL    string
	sim    *fpstest.Server // nil with a simulator running apart
	shop   *shop
	served chan error // the server's end

	cleanups []func()
}

// start listens, starts the simulator unless one was named, opens the
// store, and serves the shop.
func start(ctx context.Context, st *settings, logger *slog.Logger) (a *app, err error) {
	a = &app{served: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	ln, err := net.Listen("tcp", st.addr)
	if err != nil {
		return nil, err
	}
	a.cleanups = append(a.cleanups, func() { ln.Close() })
	a.URL = st.baseURL
	if a.URL == "" {
		a.URL = "http://" + ln.Addr().String()
	}
	if a.URL[len(a.URL)-1] != '/' {
		a.URL += "/"
	}

	api, cbui := st.APIEndpoint, st.CBUIEndpoint
	var httpc *http.Client
	if st.InProcess() {
		delay := st.pendingDelay
		if delay == 0 {
			delay = time.Nanosecond // fpstest reads zero as its default
		}
		a.sim, err = fpstest.Start(fpstest.Config{
			PlainHTTP:    true,
			PendingDelay: delay,
			Accounts:     []fpstest.Account{st.Account("Gopher Goods", "payments@gopher-goods.example")},
		})
		if err != nil {
			return nil, err
		}
		a.cleanups = append(a.cleanups, a.sim.Close)
		api, cbui, httpc = a.sim.APIEndpoint(), a.sim.CBUIEndpoint(), a.sim.HTTPClient()
		if err := a.sim.SetIPNURL(st.AccessKey, a.URL+integration.NotifyPath); err != nil {
			return nil, err
		}
	} else if httpc, err = st.HTTPClient(); err != nil {
		return nil, err
	}
	roots, err := st.RootCAs()
	if err != nil {
		return nil, err
	}
	verifier, err := st.Verifier(api, httpc)
	if err != nil {
		return nil, err
	}

	orders, err := openStore(ctx, st.db, a)
	if err != nil {
		return nil, err
	}
	a.shop = newShop(orders, logger)
	fpsIntegration, err := integration.New(integration.Config{
		AccessKey:            st.AccessKey,
		SecretKey:            st.SecretKey,
		TestMode:             true,
		BaseURL:              a.URL,
		APIEndpoint:          api,
		CBUIEndpoint:         cbui,
		HTTPClient:           httpc,
		RootCAs:              roots,
		Verifier:             verifier,
		Store:                orders,
		Charge:               a.shop.charge,
		TransactionHook:      a.shop.transaction,
		OrderPage:            a.shop.showOrder,
		NotificationCallback: a.shop.notified,
		Logger:               logger,
	})
	if err != nil {
		return nil, err
	}
	a.shop.fps = fpsIntegration
	recovering, stopRecovering := context.WithCancel(context.Background())
	a.cleanups = append(a.cleanups, stopRecovering)
	go recoverOrders(recovering, fpsIntegration, logger)

	srv := &http.Server{Handler: a.shop.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.served <- err
		}
	}()
	a.cleanups = append(a.cleanups, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	return a, nil
}

// Close stops the shop and the simulator it started.
func (a *app) Close() {
	for i := len(a.cleanups) - 1; i >= 0; i-- {
		a.cleanups[i]()
	}
	a.cleanups = nil
}

// openStore opens the order store in the database named by db (see
// store.Open), or in memory when db is empty.
func openStore(ctx context.Context, db string, a *app) (orderStore, error) {
	if db == "" {
		return store.NewMemory(), nil
	}
	orders, err := store.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	a.cleanups = append(a.cleanups, func() { orders.Close() })
	return orders, nil
}

// recoverOrders charges, every few seconds until ctx ends, the orders
// whose buyer approved but never came back to the return URL.
func recoverOrders(ctx context.Context, a *integration.AmazonFPS, logger *slog.Logger) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if done, err := a.Recover(ctx, integration.RecoverOptions{}); err != nil && ctx.Err() == nil {
				logger.Warn("recovering orders", "error", err, "done", fmt.Sprintf("%+v", done))
			}
		}
	}
}
