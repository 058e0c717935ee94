package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShopSoakCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"soak", "-shop", "-n", "30", "-concurrency", "4", "-restarts", "0", "-db", db}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	for _, line := range []string{
		"database                           SQLite " + db + "\n",
		"orders attempted                   30\n",
		"orders lost                        0\n",
		"fulfilled twice                    0\n",
		"paid without money moving          0\n",
		"orders moved backwards             0\n",
		"restarts                           0\n",
	} {
		require.Contains(t, out.String(), line)
	}
	require.Regexp(t, `\nattacker messages accepted +0 `, out.String())
	require.Contains(t, out.String(), "soak: 30/30 ", "plain progress lines when not on a terminal")

	// The database holds orders now: a soak needs a new one.
	out.Reset()
	errOut.Reset()
	require.Equal(t, 1, run(context.Background(), []string{"soak", "-shop", "-n", "5", "-db", db}, &out, &errOut))
	require.Contains(t, errOut.String(), "holds orders already; name a new database")
}
