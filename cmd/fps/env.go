package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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
	fs.StringVar(p, "ca-file", "", "`path` of a PEM file of the CA certificates to trust for https, instead of the system roots (fps sandbox writes one)")
}

// check refuses flags that contradict each other or are malformed.
func (f *clientFlags) check() error {
	if f.production && f.sandbox {
		return errors.New("--sandbox and --production exclude each other")
	}
	if !slices.Contains(fps.APIVersions(), f.apiVersion) {
		return fmt.Errorf("--api-version %q is not one of %s", f.apiVersion, strings.Join(fps.APIVersions(), ", "))
	}
	for _, e := range []struct{ name, value string }{{"api-endpoint", f.apiEndpoint}, {"cbui-endpoint", f.cbuiEndpoint}} {
		if e.value != "" {
			if err := checkURL(e.name, e.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// client builds the fps.Client the flags describe. Credentials come from
// the flags, else from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as the
// AWS tools read them; a set AWS_SESSION_TOKEN is warned about on stderr.
// Every error is one of the command line or the environment.
func (f *clientFlags) client(stderr io.Writer) (*fps.Client, error) {
	if err := f.check(); err != nil {
		return nil, err
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
	hc, err := fps.NewHTTPClient(fps.WithCAFile(f.caFile))
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	return fps.New(fps.Options{
		Environment:  env,
		Credentials:  fps.StaticCredentials(id, secret),
		APIEndpoint:  f.apiEndpoint,
		CBUIEndpoint: f.cbuiEndpoint,
		APIVersion:   f.apiVersion,
		HTTPClient:   hc,
	})
}
