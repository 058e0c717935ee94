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
a headless buyer form at POST /cobranded-ui/actions/buy (url, action, paymentMethod;
fps buy posts to it), and the signing certificate under /certs/. It stops on SIGINT or
SIGTERM.

It prints its endpoints, CA file and test credentials once it serves. With --detach it
runs in the background and the command returns once the sandbox serves, printing them
as shell variables (FPS_SANDBOX_PID, FPS_API_ENDPOINT, FPS_CBUI_ENDPOINT, FPS_CA_FILE,
FPS_IPN_URL, FPS_IPN_DIR, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to source:

  fps sandbox --detach --addr 127.0.0.1:0 --ca-file ca.pem > sandbox.env
  . ./sandbox.env
  ...
  kill "$FPS_SANDBOX_PID"

The IPNs of the caller account are signed for --ipn-url and sent there. With --ipn-dir
each is also written to that folder before the API call that caused it answers, one
file a notification, named by its callerReference, operation and status
(order-1.PAY.SUCCESS; a token cancellation: order-1.TokenCancellation), so that
fps verify can check it:

  fps verify --endpoint "$FPS_IPN_URL" ... < ipns/order-1.PAY.SUCCESS

The ledger is kept in a SQLite file as it changes, so that memory holds only what
can still change (pending payments, tokens that can pay) while every transaction,
token and subscription stays answerable. With -state FILE it is FILE, and a sandbox
started again on FILE continues it: tokens, transactions, balances, subscriptions,
kept answers, IPN URLs, the clock, and the same CA and signing key (FILE holds them
in the clear: it is this test sandbox's key). Without -state it is a temporary
file, removed on exit.
`

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sandbox", sandboxUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (port 0 picks a free one)")
	plain := fs.Bool("plain-http", false, "serve plain http instead of https")
	ipnURL := fs.String("ipn-url", "", "`URL` that receives the IPNs of the caller account")
	pending := fs.Duration("pending-delay", 5*time.Second, "how long CC and ACH transactions stay Pending (negative: they stay Pending)")
	window := fs.Duration("ipn-retry-window", 24*time.Hour, "how long a failing IPN is retried")
	key := fs.String("access-key", fpstest.DefaultAccessKeyID, "caller access key id the simulator accepts")
	secret := fs.String("secret-key", fpstest.DefaultSecretAccessKey, "caller secret access key the simulator accepts")
	caFile := fs.String("ca-file", "", "`path` to write the simulator's CA certificate (PEM) to; default a file in the temp folder")
	ipnDir := fs.String("ipn-dir", "", "`folder` to write each IPN body to as it is sent (needs --ipn-url)")
	detach := fs.Bool("detach", false, "run in the background; return once serving, printing shell variables")
	verbose := fs.Bool("v", false, "log every API call")
	statePath := fs.String("state", "", "SQLite `file` that keeps the ledger across restarts (created when missing); a temporary file by default")
	if ok, code := fs.parseNoArgs(args, stdout, stderr); !ok {
		return code
	}
	if err := checkSandbox(*addr, *ipnURL, *ipnDir, *key, *secret, *window); err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	if *detach && !isDetachedChild() {
		return detachSandbox(stdout, stderr)
	}
	acct := fpstest.DefaultAccount()
	acct.AccessKeyID, acct.SecretAccessKey, acct.IPNURL = *key, *secret, *ipnURL
	cfg := fpstest.Config{
		Addr: *addr, PlainHTTP: *plain, Accounts: []fpstest.Account{acct},
		PendingDelay: *pending, IPNRetryWindow: *window, IPNFirstDelay: time.Second,
	}
	if *ipnDir != "" {
		dir, err := newIPNDir(*ipnDir, stderr)
		if err != nil {
			return failed(stderr, "sandbox", err)
		}
		cfg.OnIPN = dir.write
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
		return failed(stderr, "sandbox", err)
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
			return failed(stderr, "sandbox", fmt.Errorf("write CA certificate: %w", err))
		}
	}
	ready := sandboxReady{s: s, acct: acct, caFile: caPath, ipnDir: *ipnDir, stateFile: *statePath}
	if *detach {
		// The child of --detach: the variables go to the parent, which
		// returns once stdout is closed.
		_, _ = io.WriteString(stdout, ready.shell())
		if c, ok := stdout.(io.Closer); ok {
			c.Close()
		}
		stdout = io.Discard
	} else {
		fmt.Fprint(stdout, ready.text())
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "fps sandbox: stopping")
	return exitOK
}
