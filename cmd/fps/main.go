// Command fps is the command line of the fps library.
//
// Usage:
//
//	fps <command> [flags]
//
// Commands:
//
//	sandbox   run the FPS simulator (API, Co-Branded UI, certificates) until interrupted
//	link      print a signed Co-Branded UI pipeline URL
//	buy       approve a pipeline URL on fps sandbox as the buyer and print the signed return URL
//	verify    check the signature of a return URL or an IPN, and say why it fails
//	call      run an FPS action with Name=Value parameters and print the answer
//	soak      run payments through their full life under injected faults and check none is charged twice or lost
//
// link, verify --remote and call read credentials the way the AWS tools
// do: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --access-key and
// --secret-key). They use the Sandbox environment unless --production is
// given; --api-endpoint, --cbui-endpoint and --ca-file point them at
// "fps sandbox".
//
// Run "fps <command> --help" (or "fps help <command>") for the flags of
// a command; help goes to stdout.
//
// Exit status: 0 on success (for verify: the signature is valid), 1 when
// the signature is invalid or a call failed, 2 for a usage error (a bad
// flag, argument or parameter, refused before anything is sent).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands, in the order help shows them.
func commands() []command {
	return []command{
		{"sandbox", "run the FPS simulator (API, Co-Branded UI, certificates) until interrupted", runSandbox},
		{"link", "print a signed Co-Branded UI pipeline URL", runLink},
		{"buy", "approve a pipeline URL on fps sandbox as the buyer and print the signed return URL", runBuy},
		{"verify", "check the signature of a return URL or an IPN, and say why it fails", runVerify},
		{"call", "run an FPS action with Name=Value parameters and print the answer", runCall},
		{"soak", "run payments through their full life under injected faults and check none is charged twice or lost", runSoak},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		// fps help CMD is fps CMD --help.
		name, args = args[1], []string{args[1], "--help"}
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "fps: unknown command %q\n\n", name)
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: fps <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "fps <command> --help" (or "fps help <command>") for the flags of a command.`)
	fmt.Fprintln(w)
	fmt.Fprintln(w, exitStatuses)
}
