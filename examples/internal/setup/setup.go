// Package setup holds what the example commands share: the flags that
// name an FPS simulator running apart (none means the example starts one
// in-process) and the caller's keys, the HTTP client and the roots that
// trust the simulator's CA, and the verifier for a simulator over plain
// http.
package setup

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
)

// Flags are the command-line flags that point an example at a simulator.
type Flags struct {
	// APIEndpoint and CBUIEndpoint name a simulator running apart (for
	// example `fps sandbox`); both empty means one started in-process.
	APIEndpoint, CBUIEndpoint string
	// CAFile is the PEM file of the CA to trust for an https simulator.
	CAFile string
	// AccessKey and SecretKey are the caller's keys.
	AccessKey, SecretKey string
}

// Register defines the flags on fs: -api-endpoint, -cbui-endpoint,
// -ca-file, -access-key and -secret-key. The keys default to
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.APIEndpoint, "api-endpoint", "", "FPS API `URL` of another simulator (default: start one in-process)")
	fs.StringVar(&f.CBUIEndpoint, "cbui-endpoint", "", "pipeline start `URL` of that simulator (.../cobranded-ui/actions/start)")
	fs.StringVar(&f.CAFile, "ca-file", "", "PEM `file` of a CA to trust for an https simulator (the one `fps sandbox` writes)")
	fs.StringVar(&f.AccessKey, "access-key", os.Getenv(integration.EnvAccessKeyID), "caller access key `id` (default $AWS_ACCESS_KEY_ID, else the simulator's test key)")
	fs.StringVar(&f.SecretKey, "secret-key", os.Getenv(integration.EnvSecretAccessKey), "caller secret access `key` (default $AWS_SECRET_ACCESS_KEY, else the simulator's test key)")
}

// Parse parses args with fs, on which Register and the command's own
// flags were defined, refuses arguments that are not flags, and runs
// Check.
func (f *Flags) Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f.Check()
}

// Check refuses a pair given by half, and takes the simulator's default
// test keys when no keys were given.
func (f *Flags) Check() error {
	if (f.APIEndpoint == "") != (f.CBUIEndpoint == "") {
		return errors.New("-api-endpoint and -cbui-endpoint go together")
	}
	if (f.AccessKey == "") != (f.SecretKey == "") {
		return errors.New("give both the access key and the secret key, or neither")
	}
	if f.AccessKey == "" {
		f.AccessKey, f.SecretKey = fpstest.DefaultAccessKeyID, fpstest.DefaultSecretAccessKey
	}
	return nil
}

// InProcess reports whether no simulator was named, so the example
// starts its own.
func (f *Flags) InProcess() bool { return f.APIEndpoint == "" }

// Account returns the caller account of an in-process simulator: the
// keys of f under the merchant's name and e-mail address.
func (f *Flags) Account(name, email string) fpstest.Account {
	return fpstest.Account{AccessKeyID: f.AccessKey, SecretAccessKey: f.SecretKey, Name: name, Email: email}
}

// RootCAs returns the pool of CAFile, or nil (the system roots) when no
// CA file was given.
func (f *Flags) RootCAs() (*x509.CertPool, error) {
	if f.CAFile == "" {
		return nil, nil
	}
	return fps.LoadCAFile(f.CAFile)
}

// HTTPClient returns the client that reaches the simulator named by the
// flags, trusting CAFile (alone) when given: fps.NewHTTPClient, with its
// timeout and its refusal of redirects.
func (f *Flags) HTTPClient() (*http.Client, error) {
	return fps.NewHTTPClient(fps.WithCAFile(f.CAFile))
}

// Verifier returns the verifier of return URLs and IPNs for a simulator
// at api: nil, the integration's default (the signature checked locally
// with the certificate fetched over https, trusting RootCAs), for an
// https simulator; the VerifySignature action for a plain-http one, whose
// certificate is not fetched over http.
func (f *Flags) Verifier(api string, httpc *http.Client) (fps.Verifier, error) {
	if !strings.HasPrefix(api, "http://") {
		return nil, nil
	}
	c, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(f.AccessKey, f.SecretKey),
		APIEndpoint: api,
		HTTPClient:  httpc,
	})
	if err != nil {
		return nil, err
	}
	return fps.NewRemoteVerifier(c), nil
}
