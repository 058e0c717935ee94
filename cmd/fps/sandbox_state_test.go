package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// sandboxProcess is a running `fps sandbox` and what it printed.
type sandboxProcess struct {
	cmd     *exec.Cmd
	printed map[string]string
	client  *fps.Client
	http    *http.Client
	pool    *x509.CertPool // the CA the clients trust
}

// startSandbox runs bin sandbox with args, reads what it prints up to its
// last line, and returns it with a client of the SDK pointed at it,
// trusting the CA file it wrote (caFile).
func startSandbox(t *testing.T, bin, caFile string, args ...string) *sandboxProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"sandbox", "--ca-file", caFile}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &sandboxProcess{cmd: cmd, printed: map[string]string{}}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "fps sandbox") {
			p.printed[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "Test credentials only") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	require.Contains(t, p.printed, "API endpoint", "the sandbox did not start")
	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	p.trust(t, pem)
	return p
}

// trust points p's clients at the sandbox, trusting the CA certificate
// caPEM.
func (p *sandboxProcess) trust(t *testing.T, caPEM []byte) {
	t.Helper()
	p.pool = x509.NewCertPool()
	require.True(t, p.pool.AppendCertsFromPEM(caPEM))
	p.http = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}, Timeout: 10 * time.Second}
	var err error
	p.client, err = fps.New(fps.Options{
		Environment: fps.Sandbox, Credentials: fps.StaticCredentials(p.printed["AWSAccessKeyId"], p.printed["SecretAccessKey"]),
		APIEndpoint: p.printed["API endpoint"], CBUIEndpoint: p.printed["CBUI endpoint"], HTTPClient: p.http,
	})
	require.NoError(t, err)
}

// buy approves pipeline p with the sandbox's buyer form, paying with
// method, and returns the token id.
func (p *sandboxProcess) buy(t *testing.T, pipeline fps.Pipeline, method string) string {
	t.Helper()
	ret := p.buyReturn(t, pipeline, method)
	require.NotEmpty(t, ret.Query().Get("tokenID"), ret.String())
	return ret.Query().Get("tokenID")
}

// buyReturn approves pipeline p with the sandbox's buyer form, paying
// with method, and returns the signed return URL.
func (p *sandboxProcess) buyReturn(t *testing.T, pipeline fps.Pipeline, method string) *url.URL {
	t.Helper()
	link, err := p.client.PipelineURL(context.Background(), pipeline)
	require.NoError(t, err)
	form := strings.Fields(p.printed["Buyer form"])
	noRedirect := *p.http
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.PostForm(form[1], url.Values{"url": {link}, "action": {"approve"}, "paymentMethod": {method}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	ret, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return ret
}

// requireCode checks that err is an FPS error answer with code.
func requireCode(t *testing.T, err error, code string, msgAndArgs ...any) {
	t.Helper()
	var e *fps.APIError
	require.ErrorAs(t, err, &e)
	require.Equal(t, code, string(e.Code), msgAndArgs...)
}

// freePort returns a port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	return port
}

// TestSandboxStateSurvivesARestart runs `fps sandbox -state FILE` as a
// process on a non-default port, makes tokens and payments through the
// SDK, kills it without warning, starts it again on the same file, and
// continues with clients that trust the CA file written before the
// restart: the tokens pay, a replayed CallerReference answers the first
// answer, the balance and the transactions are the same, and return URLs
// are signed with the same key under the same certificate URL.
func TestSandboxStateSurvivesARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(buildFPS(t), "fps")
	dir := t.TempDir()
	state, caFile := filepath.Join(dir, "sandbox.db"), filepath.Join(dir, "ca.pem")
	args := []string{"--addr", "127.0.0.1:" + freePort(t), "--state", state, "--pending-delay", "-1s"}
	ctx := context.Background()
	usd := func(v string) fps.Amount { return fps.USD(decimal.RequireFromString(v)) }

	first := startSandbox(t, bin, caFile, args...)
	require.Equal(t, state, first.printed["State file"])
	firstCA, err := os.ReadFile(caFile)
	require.NoError(t, err)
	c := first.client
	common := func(ref string) fps.PipelineCommon {
		return fps.PipelineCommon{ReturnURL: "https://shop.example/return", CallerReference: ref}
	}
	multi := first.buy(t, &fps.MultiUsePipeline{PipelineCommon: common("restart-multi"), GlobalAmountLimit: decimal.NewFromInt(100)}, "ABT")
	cc := first.buy(t, &fps.SingleUsePipeline{PipelineCommon: common("restart-cc"), TransactionAmount: decimal.NewFromInt(20)}, "CC")
	payIn := &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("30"), CallerReference: "restart-pay-1"}
	paid, err := c.Pay(ctx, payIn)
	require.NoError(t, err)
	reserved, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("40"), CallerReference: "restart-reserve"})
	require.NoError(t, err)
	pending, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: cc, TransactionAmount: usd("20"), CallerReference: "restart-cc-pay"})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, pending.TransactionStatus)
	balance, err := c.GetAccountBalance(ctx, &fps.GetAccountBalanceInput{})
	require.NoError(t, err)

	// Killed, not stopped: what it answered was already in the file.
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	_ = first.cmd.Wait()

	second := startSandbox(t, bin, caFile, args...)
	require.Equal(t, first.printed["API endpoint"], second.printed["API endpoint"])
	second.trust(t, firstCA) // clients that read the CA file before the restart
	require.Equal(t, first.printed["Certificate URL"], second.printed["Certificate URL"])
	c = second.client
	after, err := c.GetAccountBalance(ctx, &fps.GetAccountBalanceInput{})
	require.NoError(t, err)
	require.Equal(t, balance.AccountBalance, after.AccountBalance)

	again, err := c.Pay(ctx, payIn)
	require.NoError(t, err)
	require.Equal(t, paid.TransactionID, again.TransactionID, "a replayed CallerReference answers the first answer")
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("31"), CallerReference: "restart-pay-1"})
	requireCode(t, err, string(fps.ErrCodeDuplicateRequest))

	st, err := c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: reserved.TransactionID, TransactionAmount: usd("25")})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, st.TransactionStatus)
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("45"), CallerReference: "restart-pay-2"})
	require.NoError(t, err, "the token pays what its limit has left: 100 - 30 - 25")
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("1"), CallerReference: "restart-pay-3"})
	requireCode(t, err, string(fps.ErrCodeInsufficientBalance), "and no more")
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: cc, TransactionAmount: usd("1"), CallerReference: "restart-cc-again"})
	requireCode(t, err, string(fps.ErrCodeTokenUsageError), "the single-use token was used before the restart")
	got, err := c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: pending.TransactionID})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusPending, got.Transaction.TransactionStatus)
	tokens, err := c.GetTokens(ctx, &fps.GetTokensInput{})
	require.NoError(t, err)
	require.Len(t, tokens.Tokens, 2)

	// A return URL signed after the restart verifies under the CA
	// trusted before it.
	ret := second.buyReturn(t, &fps.SingleUsePipeline{PipelineCommon: common("restart-after"), TransactionAmount: decimal.NewFromInt(5)}, "ABT")
	verifier := fps.NewLocalVerifierForClient(c, func(o *fps.LocalVerifierOptions) { o.RootCAs = second.pool })
	verified, err := fps.VerifyReturn(ctx, verifier, "https://shop.example/return", ret.RawQuery)
	require.NoError(t, err)
	require.Equal(t, "restart-after", verified.CallerReference)

	require.NoError(t, second.cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, second.cmd.Wait(), "exit status 0 after SIGINT")
}

// Without -state, the sandbox keeps its ledger in a temporary file,
// removed when it stops.
func TestSandboxWithoutStateUsesATemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	r, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		defer w.Close()
		done <- runSandbox(ctx, []string{"--addr", "127.0.0.1:0", "--plain-http"}, w, io.Discard)
	}()
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "Test credentials only") {
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	files, err := filepath.Glob(filepath.Join(tmp, "fps-sandbox-state-*", "state.db"))
	require.NoError(t, err)
	require.Len(t, files, 1, "the ledger's temporary file")

	stop()
	require.Equal(t, 0, <-done)
	left, err := filepath.Glob(filepath.Join(tmp, "fps-sandbox-state-*"))
	require.NoError(t, err)
	require.Empty(t, left, "removed on exit")
}
