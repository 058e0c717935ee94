package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSandboxWritesIPNs runs fps sandbox with --ipn-dir, pays through
// the other commands, and finds the payment's IPN in the folder as soon
// as Pay has answered, signed for --ipn-url.
func TestSandboxWritesIPNs(t *testing.T) {
	dir := t.TempDir()
	ipns := filepath.Join(dir, "ipns")
	ca := filepath.Join(dir, "ca.pem")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--ca-file", ca,
			"--ipn-url", "https://shop.example/fps/ipn", "--ipn-dir", ipns}, &out, &errOut)
	}()
	defer func() {
		cancel()
		require.Equal(t, 0, <-done, errOut.String())
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Test credentials only") }, 10*time.Second, 10*time.Millisecond)
	printed := fieldsOf(out.String())
	require.Equal(t, ipns, strings.TrimSpace(printed["IPN folder"]))
	sim := &sim{caFile: ca, Server: &fpstest.Server{URL: strings.TrimSuffix(strings.TrimSpace(printed["API endpoint"]), "/")}}

	link := sim.link(t, "SingleUse", "callerReference=order-7", "transactionAmount=3.00",
		"returnURL=https://shop.example/return")
	r := fpsCmd(t, "buy", "--ca-file", ca, "--payment-method", "ABT", link)
	require.Equal(t, 0, r.code, r.errOut)
	ret, err := url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	r = fpsCmd(t, append(append([]string{"call"}, sim.flags()...), "Pay", "SenderTokenId="+ret.Query().Get("tokenID"),
		"TransactionAmount.Value=3.00", "CallerReference=order-7")...)
	require.Equal(t, 0, r.code, r.errOut)

	entries, err := os.ReadDir(ipns)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the IPN is there when Pay has answered, alone")
	require.Equal(t, "order-7.PAY.SUCCESS", entries[0].Name())
	body, err := os.ReadFile(filepath.Join(ipns, entries[0].Name()))
	require.NoError(t, err)
	v := verifyCmd(t, bytes.NewReader(body), append([]string{"--endpoint", "https://shop.example/fps/ipn"}, sim.flags()...)...)
	require.Equal(t, 0, v.code, v.out+v.errOut)
	require.Equal(t, fieldsOf(r.out)["TransactionId"], fieldsOf(v.out)["TransactionId"])
}

func TestIPNFileName(t *testing.T) {
	for body, want := range map[string]string{
		"notificationType=TransactionStatus&callerReference=order-1&operation=REFUND&status=SUCCESS&transactionId=T&transactionAmount=USD+1.00":       "order-1.REFUND.SUCCESS",
		"notificationType=TransactionStatus&callerReference=a%2Fb&operation=PAY&transactionStatus=PENDING&transactionId=T&transactionAmount=USD+1.00": "a%2Fb.PAY.PENDING",
		"notificationType=TokenCancellation&callerReference=sub-1&tokenId=K":                                                                          "sub-1.TokenCancellation",
	} {
		got, err := ipnFileName(body)
		require.NoError(t, err, body)
		require.Equal(t, want, got)
	}
	_, err := ipnFileName("notificationType=Other")
	require.ErrorContains(t, err, "notificationType")
}

func TestSandboxUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "8080"}, `--addr must be host:port (port 0 picks a free one), got "8080"`},
		{[]string{"--ipn-url", "shop.example/ipn"}, `--ipn-url must be an absolute http or https URL, got "shop.example/ipn"`},
		{[]string{"--ipn-dir", "ipns"}, "--ipn-dir needs --ipn-url: an IPN is signed for the URL it is sent to"},
		{[]string{"--access-key", ""}, "--access-key and --secret-key must not be empty"},
		{[]string{"--ipn-retry-window", "0s"}, "--ipn-retry-window must be more than 0, got 0s"},
		{[]string{"--pending-delay", "soon"}, `invalid value "soon" for flag -pending-delay`},
	} {
		r := fpsCmd(t, append([]string{"sandbox"}, c.args...)...)
		require.Equal(t, 2, r.code, c.args)
		require.Empty(t, r.out)
		require.Contains(t, r.errOut, "fps sandbox: "+c.want)
	}
}

// TestSandboxDetachNeedsTheCommand: --detach starts the fps command
// again, which a program running the command in-process is not.
func TestSandboxDetachNeedsTheCommand(t *testing.T) {
	r := fpsCmd(t, "sandbox", "--detach", "--addr", "127.0.0.1:0")
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Equal(t, "fps sandbox: --detach runs from the fps command line only\n", r.errOut)
}

// TestSandboxDetachFailsWhenTheSandboxCannotStart: --detach returns 1,
// and the sandbox's reason is on stderr, when it cannot listen.
func TestSandboxDetachFailsWhenTheSandboxCannotStart(t *testing.T) {
	bin := filepath.Join(buildFPS(t), "fps")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	cmd := exec.Command(bin, "sandbox", "--detach", "--addr", ln.Addr().String())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Empty(t, out.String())
	require.Contains(t, errOut.String(), "address already in use")
	require.Contains(t, errOut.String(), "fps sandbox: the sandbox stopped before it served")
}
