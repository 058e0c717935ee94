package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSoakCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"soak", "-n", "40", "-concurrency", "4"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Contains(t, out.String(), "attempted                 40\n")
	require.Contains(t, out.String(), "charged twice             0\n")
	require.Contains(t, out.String(), "lost                      0\n")
	require.Contains(t, out.String(), "soak: 40/40 payments", "plain progress lines when not on a terminal")
}

func TestSoakCommandFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 1, run(context.Background(), []string{"soak", "-n", "1", "-fault-rate", "2"}, &out, &errOut))
	require.Contains(t, errOut.String(), "fault rate")
	require.Equal(t, 2, run(context.Background(), []string{"soak", "extra"}, &out, &errOut))
}
