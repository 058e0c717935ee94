package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/fpstest/statefile"
)

const sandboxUsage = `
Usage: fps sandbox [flags]

Runs the FPS simulator: the API at /, the Co-Branded UI at /cobranded-ui/actions/start,
a headless buyer form at POST /cobranded-ui/actions/buy (url, action, paymentMethod),
and the signing certificate under /certs/. It stops on SIGINT or SIGTERM.
The ledger is kept in a SQLite file as it changes, so that memory holds only what
can still change (pending payments, tokens that can pay) while every transaction,
token and subscription stays answerable. With -state FILE it is FILE, and a sandbox
started again on FILE continues it: tokens, transactions, balances, subscriptions,
kept answers, IPN URLs, the clock, and the same CA and signing key (FILE holds them
in the clear: it is this test sandbox's key). Without -state it is a temporary
file, removed on exit.
`

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sandbox", sandboxUsage, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (port 0 picks a free one)")
	plain := fs.Bool("plain-http", false, "serve plain http instead of https")
	ipnURL := fs.String("ipn-url", "", "`URL` that receives the IPNs of the caller account")
	pending := fs.Duration("pending-delay", 5*time.Second, "how long CC and ACH transactions stay Pending (negative: they stay Pending)")
	window := fs.Duration("ipn-retry-window", 24*time.Hour, "how long a failing IPN is retried")
	key := fs.String("access-key", fpstest.DefaultAccessKeyID, "caller access key id the simulator accepts")
	secret := fs.String("secret-key", fpstest.DefaultSecretAccessKey, "caller secret access key the simulator accepts")
	caFile := fs.String("ca-file", "", "`path` to write the simulator's CA certificate (PEM) to; default a file in the temp folder")
	verbose := fs.Bool("v", false, "log every API call")
	statePath := fs.String("state", "", "SQLite `file` that keeps the ledger across restarts (created when missing); a temporary file by default")
	if ok, code := parseNoArgs(fs, args, stderr); !ok {
		return code
	}
	acct := fpstest.DefaultAccount()
	acct.AccessKeyID, acct.SecretAccessKey, acct.IPNURL = *key, *secret, *ipnURL
	cfg := fpstest.Config{
		Addr: *addr, PlainHTTP: *plain, Accounts: []fpstest.Account{acct},
		PendingDelay: *pending, IPNRetryWindow: *window, IPNFirstDelay: time.Second,
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	path := *statePath
	if path == "" {
		dir, err := os.MkdirTemp("", "fps-sandbox-state-")
		if err != nil {
			fmt.Fprintf(stderr, "fps sandbox: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "state.db")
	}
	state, err := statefile.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "fps sandbox: %v\n", err)
		return 1
	}
	defer state.Close()
	cfg.State = state
	s, err := fpstest.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "fps sandbox: %v\n", err)
		return 1
	}
	defer s.Close()

	caPath := ""
	if !*plain {
		caPath = *caFile
		if caPath == "" {
			caPath = filepath.Join(os.TempDir(), fmt.Sprintf("fps-sandbox-ca-%d.pem", os.Getpid()))
			defer os.Remove(caPath)
		}
		if err := os.WriteFile(caPath, s.CAPEM(), 0o644); err != nil {
			fmt.Fprintf(stderr, "fps sandbox: write CA certificate: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "fps sandbox: FPS simulator listening on %s\n", s.URL)
	fmt.Fprintf(stdout, "API endpoint:      %s\n", s.APIEndpoint())
	fmt.Fprintf(stdout, "CBUI endpoint:     %s\n", s.CBUIEndpoint())
	fmt.Fprintf(stdout, "Buyer form:        POST %s (url=<pipeline URL>&action=approve|decline|abandon&paymentMethod=ABT|ACH|CC)\n", s.BuyEndpoint())
	fmt.Fprintf(stdout, "Subscriptions:     POST %s (accessKey=<AWSAccessKeyId>&amount=USD 9.99&recurringFrequency=1 month; answers the subscriptionId)\n", s.SubscribeEndpoint())
	fmt.Fprintf(stdout, "Certificate URL:   %s\n", s.CertificateURL())
	if caPath != "" {
		fmt.Fprintf(stdout, "CA certificate:    %s (also at %s/certs/ca.pem)\n", caPath, s.URL)
	}
	fmt.Fprintf(stdout, "AWSAccessKeyId:    %s\n", acct.AccessKeyID)
	fmt.Fprintf(stdout, "SecretAccessKey:   %s\n", acct.SecretAccessKey)
	if acct.IPNURL != "" {
		fmt.Fprintf(stdout, "IPN URL:           %s\n", acct.IPNURL)
	}
	if *statePath != "" {
		fmt.Fprintf(stdout, "State file:        %s\n", *statePath)
	}
	fmt.Fprintln(stdout, "Test credentials only. Stop with Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "fps sandbox: stopping")
	return 0
}
