package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/fpskit/fps"
)

// clientFlags are the flags of the subcommands that talk to FPS or sign
// for it: credentials, environment and endpoints.
type clientFlags struct {
	accessKey, secretKey string
	production, sandbox  bool
	apiEndpoint          string
	cbuiEndpoint         string
	caFile               string
	apiVersion           string
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.accessKey, "access-key", "", "access key `id` (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&f.secretKey, "secret-key", "", "secret access `key` (default $AWS_SECRET_ACCESS_KEY)")
	fs.BoolVar(&f.sandbox, "sandbox", false, "use the Sandbox environment (the default)")
	fs.BoolVar(&f.production, "production", false, "use the Production environment")
	fs.StringVar(&f.apiEndpoint, "api-endpoint", "", "API `URL` replacing the environment's, e.g. that of fps sandbox")
	fs.StringVar(&f.cbuiEndpoint, "cbui-endpoint", "", "Co-Branded UI pipeline start `URL` replacing the environment's")
	fs.StringVar(&f.apiVersion, "api-version", fps.DefaultAPIVersion, "FPS API `version`: "+strings.Join(fps.APIVersions(), ", "))
	registerCAFile(fs, &f.caFile)
}

func registerCAFile(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "ca-file", "", "`path` of a PEM CA certificate to trust besides the system roots (fps sandbox prints it)")
}

// client builds the fps.Client the flags describe. Credentials come from
// the flags, else from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as the
// AWS tools read them; a set AWS_SESSION_TOKEN is warned about on stderr.
func (f *clientFlags) client(stderr io.Writer) (*fps.Client, error) {
	if f.production && f.sandbox {
		return nil, errors.New("--sandbox and --production exclude each other")
	}
	env := fps.Sandbox
	if f.production {
		env = fps.Production
	}
	id, secret := f.accessKey, f.secretKey
	if id == "" {
		id = os.Getenv("AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		secret = os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	var missing []string
	if id == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID (or --access-key)")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY (or --secret-key)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no credentials: set %s", strings.Join(missing, " and "))
	}
	if os.Getenv("AWS_SESSION_TOKEN") != "" {
		fmt.Fprintln(stderr, "warning: AWS_SESSION_TOKEN is set, but FPS has no session tokens; it is ignored")
	}
	opts := fps.Options{
		Environment:  env,
		Credentials:  fps.StaticCredentials(id, secret),
		APIEndpoint:  f.apiEndpoint,
		CBUIEndpoint: f.cbuiEndpoint,
		APIVersion:   f.apiVersion,
	}
	if f.caFile != "" {
		roots, err := loadRoots(f.caFile)
		if err != nil {
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		opts.HTTPClient = &http.Client{Transport: tr, Timeout: fps.DefaultHTTPTimeout}
	}
	return fps.New(opts)
}

// loadRoots returns the system roots and the certificates of the PEM file
// at path.
func loadRoots(path string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--ca-file: no PEM certificate in %s", path)
	}
	return roots, nil
}

// parseFlags parses args into fs. It returns false and the exit code when
// the command must stop: 0 after --help, 2 on a bad flag.
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	return true, 0
}

// parseNoArgs is parseFlags for a subcommand that takes no arguments: an
// argument left after the flags is refused with exit code 2.
func parseNoArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (ok bool, code int) {
	if ok, code := parseFlags(fs, args); !ok {
		return false, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fps %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false, 2
	}
	return true, 0
}

// newFlagSet returns the flag set of subcommand name, whose --help prints
// usage (the synopsis and examples) above the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.TrimLeft(usage, "\n"))
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Flags:")
		fs.PrintDefaults()
	}
	return fs
}

// nameValues splits NAME=VALUE arguments, refusing one without "=", with
// an empty name, or a name given twice.
func nameValues(args []string) (names []string, values map[string]string, err error) {
	values = make(map[string]string, len(args))
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, nil, fmt.Errorf("argument %q is not name=value", a)
		}
		if _, dup := values[name]; dup {
			return nil, nil, fmt.Errorf("%s is given twice", name)
		}
		names = append(names, name)
		values[name] = value
	}
	return names, values, nil
}

// validationExit prints err and returns 2 for a *fps.ValidationError (bad
// input, refused before anything was sent), 1 for anything else.
func validationExit(stderr io.Writer, cmd string, err error) int {
	var ve *fps.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintf(stderr, "fps %s: invalid %s: %s\n", cmd, ve.Field, ve.Rule)
		return 2
	}
	fmt.Fprintf(stderr, "fps %s: %v\n", cmd, err)
	return 1
}
