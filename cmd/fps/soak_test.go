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
	require.Regexp(t, `(?m)^payments attempted +40$`, out.String())
	require.Regexp(t, `(?m)^charged twice +0$`, out.String())
	require.Regexp(t, `(?m)^lost +0$`, out.String())
	require.Contains(t, out.String(), "soak: 40/40 payments", "plain progress lines when not on a terminal")
}

func TestSoakCommandFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "-n must be at least 1, got 0"},
		{[]string{"-n", "-1"}, "-n must be at least 1, got -1"},
		{[]string{"-concurrency", "0"}, "--concurrency must be at least 1, got 0"},
		{[]string{"-fault-rate", "2"}, "--fault-rate must be from 0 to 1, got 2"},
		{[]string{"-fault-rate", "-0.1"}, "--fault-rate must be from 0 to 1, got -0.1"},
		{[]string{"-fault-rate", "NaN"}, "--fault-rate must be from 0 to 1, got NaN"},
		{[]string{"-fault-latency", "0s"}, "--fault-latency must be more than 0, got 0s"},
		{[]string{"-n", "ten"}, `invalid value "ten" for flag -n`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-shop", "-restarts", "-1"}, "--restarts must not be negative, got -1"},
		{[]string{"-shop", "-n", "0"}, "-n must be at least 1, got 0"},
		{[]string{"-db", "shop.db"}, "--db and --restarts go with -shop"},
		{[]string{"-restarts", "2"}, "--db and --restarts go with -shop"},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(context.Background(), append([]string{"soak"}, c.args...), &out, &errOut), c.args)
		require.Empty(t, out.String(), "nothing ran")
		require.Contains(t, errOut.String(), "fps soak: "+c.want, c.args)
	}
}
