package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
)

// Exit statuses, the same for every command (fps --help says so).
const (
	exitOK    = 0 // success; for verify, a valid signature
	exitFail  = 1 // an invalid signature, or a call that failed
	exitUsage = 2 // a bad command line, refused before anything is sent
)

// exitStatuses is what fps --help says of the exit statuses.
const exitStatuses = `Exit status: 0 on success (for verify: the signature is valid), 1 when the
signature is invalid or a call failed, 2 for a usage error (a bad flag,
argument or parameter, refused before anything is sent).`

// flagSet is the flags of one subcommand and its help.
type flagSet struct {
	*flag.FlagSet
	help   string          // synopsis, description and examples, above the flags
	footer func(io.Writer) // printed below the flags, when set
}

// newFlagSet returns the flags of subcommand name. The flag package
// prints nothing itself: parse puts help on stdout and errors on stderr.
func newFlagSet(name, help string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, help: help}
}

// printHelp writes the help text and the flags to w.
func (fs *flagSet) printHelp(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(fs.help, "\n"))
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if fs.footer != nil {
		fs.footer(w)
	}
}

// parse parses args. It returns false and the exit status when the
// command must stop: exitOK after --help (printed on stdout), exitUsage
// for a bad flag (said on stderr).
func (fs *flagSet) parse(args []string, stdout, stderr io.Writer) (ok bool, code int) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return true, exitOK
	case errors.Is(err, flag.ErrHelp):
		fs.printHelp(stdout)
		return false, exitOK
	default:
		return false, fs.usageError(stderr, "%v", err)
	}
}

// parseNoArgs is parse for a subcommand that takes no arguments.
func (fs *flagSet) parseNoArgs(args []string, stdout, stderr io.Writer) (ok bool, code int) {
	if ok, code := fs.parse(args, stdout, stderr); !ok {
		return false, code
	}
	if fs.NArg() > 0 {
		return false, fs.usageError(stderr, "unexpected argument %q", fs.Arg(0))
	}
	return true, exitOK
}

// usageError says on stderr what is wrong with the command line, and
// where the help is, and returns exitUsage.
func (fs *flagSet) usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "fps %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run 'fps %s --help' for usage.\n", fs.Name())
	return exitUsage
}

// failed says on stderr why the command failed, with the flag that fixes
// an untrusted certificate, and returns exitFail.
func failed(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "fps %s: %v\n", cmd, err)
	if hint := trustHint(err); hint != "" {
		fmt.Fprintf(stderr, "fps %s: %s\n", cmd, hint)
	}
	return exitFail
}

// trustHint names the flag that fixes err when err is a certificate
// signed by an authority that is not trusted, and is "" otherwise. The
// text is matched too, as some errors carry the certificate error only
// as text.
func trustHint(err error) string {
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) || strings.Contains(err.Error(), unknown.Error()) {
		return "the server's certificate is not signed by a trusted authority; --ca-file names the CA certificate to trust (fps sandbox writes one)"
	}
	return ""
}

// checkURL refuses a flag value that is not an absolute http(s) URL.
func checkURL(flagName, value string) error {
	if _, e := rules.ParseHTTPURL("--"+flagName, value, false); e != nil {
		return fmt.Errorf("%v, got %q", e, value)
	}
	return nil
}

// checkHost refuses a flag value that is not host or host:port.
func checkHost(flagName, value string) error {
	u, err := url.Parse("https://" + value)
	if err != nil || u.Host != value || u.Hostname() == "" {
		return fmt.Errorf("--%s must be a host or host:port (no scheme, no path), got %q", flagName, value)
	}
	return nil
}

// nameValues splits NAME=VALUE arguments, refusing one without "=", with
// an empty name, or a name given twice.
func nameValues(args []string) (values map[string]string, err error) {
	values = make(map[string]string, len(args))
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("argument %q is not name=value", a)
		}
		if _, dup := values[name]; dup {
			return nil, fmt.Errorf("%s is given twice", name)
		}
		values[name] = value
	}
	return values, nil
}

// validationExit says why err stopped the command: a *fps.ValidationError
// (bad input, refused before anything was sent) is a usage error, anything
// else a failure.
func validationExit(fs *flagSet, stderr io.Writer, err error) int {
	var all *fps.InvalidParamsError
	if errors.As(err, &all) {
		problems := make([]string, len(all.Errs))
		for i, ve := range all.Errs {
			problems[i] = fmt.Sprintf("invalid %s: %s", ve.Field, ve.Rule)
		}
		return fs.usageError(stderr, "%s", strings.Join(problems, "\n  "))
	}
	var ve *fps.ValidationError
	if errors.As(err, &ve) {
		return fs.usageError(stderr, "invalid %s: %s", ve.Field, ve.Rule)
	}
	return failed(stderr, fs.Name(), err)
}
