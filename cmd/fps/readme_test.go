package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readmeTour returns the first sh block under the README's heading
// "The command line".
func readmeTour(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## The command line\n")
	require.True(t, ok, "the README has no heading \"The command line\"")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```sh\n")
	require.True(t, ok, "no sh block under \"The command line\"")
	block, _, ok = strings.Cut(block, "\n```\n")
	require.True(t, ok, "the sh block does not end")
	return block + "\n"
}

// TestReadmeTourRuns runs the README's command-line tour as written, with
// bash -e, in an empty folder, with the built fps alone on PATH besides
// /usr/bin and /bin, and checks that every step ran and that the sandbox
// it started has stopped.
func TestReadmeTourRuns(t *testing.T) {
	tour := readmeTour(t)
	bin := buildFPS(t)
	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "bash runs the tour")
	work := t.TempDir()
	script := filepath.Join(t.TempDir(), "tour.sh")
	require.NoError(t, os.WriteFile(script, []byte(tour), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-e", script)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + work, "LANG=C"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The tour and what it starts form one process group, killed at the
	// end whatever happened. The sandbox holds stderr open until it exits,
	// so Wait returning in time means it stopped.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 15 * time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err = cmd.Wait()
	require.False(t, errors.Is(err, exec.ErrWaitDelay), "the sandbox did not stop\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)

	out := stdout.String()
	require.Equal(t, 3, strings.Count(out, "valid\n")-strings.Count(out, "invalid"), "three messages verified\n%s", out)
	require.Contains(t, out, "Kind: return\n")
	require.Equal(t, 2, strings.Count(out, "Kind: ipn\nEndpoint: https://shop.example/fps/ipn\n"), out)
	require.Contains(t, out, "TransactionStatus: Success\n", "Pay succeeded")
	require.Contains(t, out, "Usage: fps call [flags] Settle", "fps call Settle --help on stdout")
	require.FileExists(t, filepath.Join(work, "ipns", "order-1.PAY.SUCCESS"))
}
