package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fpskit/fps/cmd/fps/internal/shopsoak"
)

// runShopSoak runs "fps soak -shop" with cfg.
func runShopSoak(ctx context.Context, cfg shopsoak.Config, stdout, stderr io.Writer) int {
	if cfg.Restarts == 0 {
		cfg.Restarts = -1 // -restarts 0: none
	}
	p := newProgress(stdout, isTerminal(stdout))
	cfg.Progress = p.update
	sum, err := shopsoak.Run(ctx, cfg)
	p.finish()
	if sum != nil {
		sum.Write(stdout)
	}
	if err != nil {
		return failed(stderr, "soak", err)
	}
	if sum.Broken() {
		fmt.Fprintln(stderr, "fps soak: a promise is broken")
		return exitFail
	}
	return exitOK
}

// flagOr returns value when the flag name was given, def otherwise.
func flagOr(fs *flag.FlagSet, name string, value, def int) int {
	if flagGiven(fs, name) {
		return value
	}
	return def
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
