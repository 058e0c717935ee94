package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// result is what one run of the command left behind.
type result struct {
	code        int
	out, errOut string
}

// fpsCmd runs the command in-process with args.
func fpsCmd(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// verifyCmd runs fps verify with stdin.
func verifyCmd(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := verifyMessage(context.Background(), args, stdin, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// sim is a simulator and the file its CA certificate was written to.
type sim struct {
	*fpstest.Server
	caFile string
}

func newSim(t *testing.T, optFns ...func(*fpstest.Config)) *sim {
	t.Helper()
	s := fpstest.NewServer(t, optFns...)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, s.CAPEM(), 0o600))
	return &sim{s, ca}
}

// flags are the flags that point a subcommand at the simulator, with its
// default credentials.
func (s *sim) flags() []string {
	return []string{
		"--access-key", fpstest.DefaultAccessKeyID, "--secret-key", fpstest.DefaultSecretAccessKey,
		"--api-endpoint", s.APIEndpoint(), "--cbui-endpoint", s.CBUIEndpoint(), "--ca-file", s.caFile,
	}
}

// host is the simulator's host:port, for --allow-host.
func (s *sim) host(t *testing.T) string {
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	return u.Host
}

// link runs fps link against the simulator and returns the URL printed.
func (s *sim) link(t *testing.T, pipeline string, fields ...string) string {
	t.Helper()
	r := fpsCmd(t, append(append(append([]string{"link"}, s.flags()...), "--pipeline", pipeline), fields...)...)
	require.Equal(t, 0, r.code, r.errOut)
	return strings.TrimSpace(r.out)
}

// approved makes a buyer approve a SingleUse pipeline paying with method and
// returns the signed return URL.
func (s *sim) approved(t *testing.T, ref, amount, method string) *url.URL {
	t.Helper()
	link := s.link(t, "SingleUse", "callerReference="+ref, "transactionAmount="+amount,
		"returnURL=https://shop.example/return?order=42", "paymentReason=Widget")
	ret, err := s.Buy(context.Background(), link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: method})
	require.NoError(t, err)
	require.NotEmpty(t, ret.Query().Get("tokenID"), ret.String())
	return ret
}

// fieldsOf reads the "Name: value" lines the command printed.
func fieldsOf(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// buildFPS builds the command into a folder of its own and returns that
// folder.
func buildFPS(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "go test puts the go command on PATH")
	dir := t.TempDir()
	out, err := exec.Command(goTool, "build", "-o", filepath.Join(dir, "fps"), ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return dir
}
