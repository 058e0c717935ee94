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
)

const sandboxUsage = `
Usage: fps sandbox [flags]

Runs the FPS simulator: the API at /, the Co-Branded UI at /cobranded-ui/actions/start,
a headless buyer form at POST /cobranded-ui/actions/buy (url, action, paymentMethod),
and the signing certificate under /certs/. It stops on SIGINT or SIGTERM.
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
	verbose := fs.Bool("v", false, "log every API call")
	if ok, code := fs.parseNoArgs(args, stdout, stderr); !ok {
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
	fmt.Fprintf(stdout, "fps sandbox: FPS simulator listening on %s\n", s.URL)
	fmt.Fprintf(stdout, "API endpoint:      %s\n", s.APIEndpoint())
	fmt.Fprintf(stdout, "CBUI endpoint:     %s\n", s.CBUIEndpoint())
	fmt.Fprintf(stdout, "Buyer form:        POST %s (url=<pipeline URL>&action=approve|decline|abandon&paymentMethod=ABT|ACH|CC)\n", s.BuyEndpoint())
	fmt.Fprintf(stdout, "Certificate URL:   %s\n", s.CertificateURL())
	if caPath != "" {
		fmt.Fprintf(stdout, "CA certificate:    %s (also at %s/certs/ca.pem)\n", caPath, s.URL)
	}
	fmt.Fprintf(stdout, "AWSAccessKeyId:    %s\n", acct.AccessKeyID)
	fmt.Fprintf(stdout, "SecretAccessKey:   %s\n", acct.SecretAccessKey)
	if acct.IPNURL != "" {
		fmt.Fprintf(stdout, "IPN URL:           %s\n", acct.IPNURL)
	}
	fmt.Fprintln(stdout, "Test credentials only. Stop with Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "fps sandbox: stopping")
	return exitOK
}
