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
		fmt.Fprintf(stderr, "fps soak: %v\n", err)
		return 1
	}
	if sum.Broken() {
		fmt.Fprintln(stderr, "fps soak: a promise is broken")
		return 1
	}
	return 0
}

// flagOr returns value when the flag name was given, def otherwise.
func flagOr(fs *flag.FlagSet, name string, value, def int) int {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	if given {
		return value
	}
	return def
}
