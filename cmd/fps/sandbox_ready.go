package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
)

// checkSandbox refuses sandbox flags that cannot work.
func checkSandbox(addr, ipnURL, ipnDir, key, secret string, window time.Duration) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("--addr must be host:port (port 0 picks a free one), got %q", addr)
	}
	if ipnURL != "" {
		if err := checkURL("ipn-url", ipnURL); err != nil {
			return err
		}
	}
	if ipnDir != "" && ipnURL == "" {
		return errors.New("--ipn-dir needs --ipn-url: an IPN is signed for the URL it is sent to")
	}
	if key == "" || secret == "" {
		return errors.New("--access-key and --secret-key must not be empty")
	}
	if window <= 0 {
		return fmt.Errorf("--ipn-retry-window must be more than 0, got %v", window)
	}
	return nil
}

// detachedChildEnv marks the process that --detach starts.
const detachedChildEnv = "FPS_SANDBOX_DETACHED_CHILD"

func isDetachedChild() bool { return os.Getenv(detachedChildEnv) == "1" }

// detachSandbox runs this command again, with the same arguments, as a
// process of its own, and returns once that sandbox serves: it has then
// written its shell variables to its stdout, which it closes. They are
// printed on stdout. Without them the sandbox did not start; it said why
// on stderr, which it shares.
func detachSandbox(stdout, stderr io.Writer) int {
	if len(os.Args) < 2 || os.Args[1] != "sandbox" {
		return failed(stderr, "sandbox", errors.New("--detach runs from the fps command line only"))
	}
	exe, err := os.Executable()
	if err != nil {
		return failed(stderr, "sandbox", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return failed(stderr, "sandbox", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), detachedChildEnv+"=1")
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		return failed(stderr, "sandbox", err)
	}
	vars, err := io.ReadAll(r)
	if err != nil || !bytes.HasSuffix(vars, []byte("\n")) {
		_ = cmd.Wait()
		fmt.Fprintln(stderr, "fps sandbox: the sandbox stopped before it served")
		return exitFail
	}
	_ = cmd.Process.Release()
	_, _ = stdout.Write(vars)
	return exitOK
}

// sandboxReady is what a serving sandbox tells its user.
type sandboxReady struct {
	s              *fpstest.Server
	acct           fpstest.Account
	caFile, ipnDir string
	stateFile      string // -state, "" for none
}

// text describes the sandbox to a person.
func (r sandboxReady) text() string {
	var b strings.Builder
	s := r.s
	fmt.Fprintf(&b, "fps sandbox: FPS simulator listening on %s\n", s.URL)
	fmt.Fprintf(&b, "API endpoint:      %s\n", s.APIEndpoint())
	fmt.Fprintf(&b, "CBUI endpoint:     %s\n", s.CBUIEndpoint())
	fmt.Fprintf(&b, "Buyer form:        POST %s (url=<pipeline URL>&action=approve|decline|abandon&paymentMethod=ABT|ACH|CC)\n", s.BuyEndpoint())
	fmt.Fprintf(&b, "Subscriptions:     POST %s (accessKey=<AWSAccessKeyId>&amount=USD 9.99&recurringFrequency=1 month; answers the subscriptionId)\n", s.SubscribeEndpoint())
	fmt.Fprintf(&b, "Certificate URL:   %s\n", s.CertificateURL())
	if r.caFile != "" {
		fmt.Fprintf(&b, "CA certificate:    %s (also at %s/certs/ca.pem)\n", r.caFile, s.URL)
	}
	fmt.Fprintf(&b, "AWSAccessKeyId:    %s\n", r.acct.AccessKeyID)
	fmt.Fprintf(&b, "SecretAccessKey:   %s\n", r.acct.SecretAccessKey)
	if r.acct.IPNURL != "" {
		fmt.Fprintf(&b, "IPN URL:           %s\n", r.acct.IPNURL)
	}
	if r.ipnDir != "" {
		fmt.Fprintf(&b, "IPN folder:        %s\n", r.ipnDir)
	}
	if r.stateFile != "" {
		fmt.Fprintf(&b, "State file:        %s\n", r.stateFile)
	}
	fmt.Fprintln(&b, "Test credentials only. Stop with Ctrl-C.")
	return b.String()
}

// shell is the same as shell variable assignments, exported, with the
// process id and absolute paths.
func (r sandboxReady) shell() string {
	vars := []struct{ name, value string }{
		{"FPS_SANDBOX_PID", fmt.Sprint(os.Getpid())},
		{"FPS_API_ENDPOINT", r.s.APIEndpoint()},
		{"FPS_CBUI_ENDPOINT", r.s.CBUIEndpoint()},
		{"FPS_CA_FILE", absPath(r.caFile)},
		{"FPS_IPN_URL", r.acct.IPNURL},
		{"FPS_IPN_DIR", absPath(r.ipnDir)},
		{"AWS_ACCESS_KEY_ID", r.acct.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", r.acct.SecretAccessKey},
	}
	var b strings.Builder
	names := make([]string, len(vars))
	for i, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v.name, shellQuote(v.value))
		names[i] = v.name
	}
	fmt.Fprintf(&b, "export %s\n", strings.Join(names, " "))
	return b.String()
}

// absPath is path made absolute; "" stays "".
func absPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ipnDir writes the IPNs of the sandbox to a folder.
type ipnDir struct {
	dir    string
	stderr io.Writer
}

func newIPNDir(dir string, stderr io.Writer) (*ipnDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--ipn-dir: %w", err)
	}
	return &ipnDir{dir: dir, stderr: stderr}, nil
}

// write writes the body of one IPN to a file named after its
// callerReference (path-escaped), operation and status, or
// "CALLERREFERENCE.TokenCancellation", whole or not at all.
func (d *ipnDir) write(_ string, body string) {
	name, err := ipnFileName(body)
	if err == nil {
		err = writeFileAtomic(filepath.Join(d.dir, name), []byte(body))
	}
	if err != nil {
		fmt.Fprintf(d.stderr, "fps sandbox: --ipn-dir: %v\n", err)
	}
}

func ipnFileName(body string) (string, error) {
	q, err := url.ParseQuery(body)
	if err != nil {
		return "", err
	}
	n, err := fps.ParseNotification(q)
	if err != nil {
		return "", err
	}
	ref := url.PathEscape(n.CallerReference)
	if n.Type == fps.NotificationTypeTokenCancellation {
		return fmt.Sprintf("%s.%s", ref, n.Type), nil
	}
	return fmt.Sprintf("%s.%s.%s", ref, n.Operation, n.Status), nil
}

// writeFileAtomic writes b to path through a temporary file renamed into
// place, so that a reader sees the whole file or none.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".ipn-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
