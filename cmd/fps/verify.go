package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
)

const verifyUsage = `
Usage: fps verify [flags] [MESSAGE | -]

Checks the signature of a return URL or an IPN (Instant Payment
Notification) and prints "valid" and its fields, or "invalid: REASON"
(exit status 1). MESSAGE is a full return URL, a query string, or an IPN
form body; without it, or with "-", it is read from stdin.

The message is an IPN when it has notificationType (or --kind ipn), a
return URL otherwise. --endpoint is the URL registered with Amazon (the
return URL or the IPN URL); for a full return URL it defaults to that
URL's scheme, host and path.

Locally (the default) the RSA-SHA1 signature is checked with the
certificate of certificateUrl, fetched over https from an allowed host
(fps.amazonaws.com, fps.sandbox.amazonaws.com and --allow-host), or with a
key pinned by --pin. With --remote it is sent to the VerifySignature
action, with the credentials and endpoint flags.

Reasons: no signature, unsupported signature version, unsupported
signature method, certificate URL not allowed, certificate unusable,
signature does not match, malformed message.

Examples:

  fps verify 'https://shop.example/return?tokenID=...&signature=...'
  fps verify --endpoint https://shop.example/fps/ipn < ipn-body.txt
  # a message of fps sandbox (it prints where its CA is)
  fps verify --allow-host 127.0.0.1:8080 --ca-file /tmp/fps-sandbox-ca.pem "$RETURN_URL"
  fps verify --remote --api-endpoint https://127.0.0.1:8080/ --ca-file /tmp/fps-sandbox-ca.pem "$RETURN_URL"
  fps verify --endpoint http://www.mysite.com/ipn.jsp \
      --pin https://fps.amazonaws.com/certs/090909/PKICert.pem=fps-key.pem "$IPN_BODY"
`

// reasons names each verification sentinel as verify prints it.
var reasons = []struct {
	err    error
	reason string
}{
	{fps.ErrNoSignature, "no signature"},
	{fps.ErrUnsupportedSignatureVersion, "unsupported signature version"},
	{fps.ErrUnsupportedSignatureMethod, "unsupported signature method"},
	{fps.ErrCertificateURLNotAllowed, "certificate URL not allowed"},
	{fps.ErrCertificateUnusable, "certificate unusable"},
	{fps.ErrSignatureMismatch, "signature does not match"},
	{fps.ErrVerificationFailed, "signature does not match (VerifySignature answered Failure)"},
	{fps.ErrMalformed, "malformed message"},
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return verifyMessage(ctx, args, os.Stdin, stdout, stderr)
}

func verifyMessage(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage)
	var cf clientFlags
	cf.register(fs.FlagSet)
	kind := fs.String("kind", "", "`kind` of message: return or ipn (default: ipn when it has notificationType)")
	endpoint := fs.String("endpoint", "", "the `URL` registered with Amazon that received the message")
	remote := fs.Bool("remote", false, "verify with the VerifySignature action instead of locally")
	var hosts, pins listFlag
	fs.Var(&hosts, "allow-host", "`host[:port]` to fetch certificates from besides Amazon's and the --api-endpoint's (repeatable)")
	fs.Var(&pins, "pin", "`certURL=keyfile.pem`: check signatures of certURL with this public key or certificate (repeatable)")
	v1 := fs.String("v1-secret", "", "secret access `key` that opts in to signature version 1 (HMAC-SHA1)")
	field := fs.String("field", "", "print only the value of field `NAME` of a valid message (TokenId, TransactionId, ...)")
	if ok, code := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	v, m, err := verifyArgs(fs, &cf, stdin, *kind, *endpoint, *remote, hosts, pins, *v1, stderr)
	if err != nil {
		return fs.usageError(stderr, "%v", err)
	}

	var fields any
	if m.kind == "ipn" {
		fields, err = fps.VerifyIPN(ctx, v, m.endpoint, []byte(m.raw))
	} else {
		fields, err = fps.VerifyReturn(ctx, v, m.endpoint, m.raw)
	}
	if err != nil {
		verdict, ok := invalidReason(err)
		if !ok {
			return failed(stderr, "verify", fmt.Errorf("could not verify: %w", err))
		}
		// The verdict is said once: on stdout, unless stdout is for
		// the value of --field.
		if *field == "" {
			fmt.Fprintln(stdout, verdict)
		} else {
			fmt.Fprintf(stderr, "fps verify: %s\n", verdict)
		}
		if hint := trustHint(err); hint != "" {
			fmt.Fprintf(stderr, "fps verify: %s\n", hint)
		}
		return exitFail
	}
	var out strings.Builder
	fmt.Fprintln(&out, "valid")
	fmt.Fprintf(&out, "Kind: %s\nEndpoint: %s\n", m.kind, m.endpoint)
	printFields(&out, fields)
	return printOutput(stdout, stderr, "verify", out.String(), *field)
}

// invalidReason returns the "invalid: REASON" line of a refused message,
// with what the error adds to the reason, and false when err is not a
// verdict on the message (a failed call to VerifySignature).
func invalidReason(err error) (string, bool) {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			verdict := "invalid: " + r.reason
			if detail, ok := strings.CutPrefix(err.Error(), r.err.Error()+": "); ok {
				verdict += ": " + detail
			}
			return verdict, true
		}
	}
	return "", false
}

// message is the message to verify, with its kind and endpoint settled.
type message struct {
	raw      string // the query or the form body
	kind     string // return or ipn
	endpoint string
}

// verifyArgs checks the flags and the message of fps verify and builds
// the verifier; every error is one of the command line.
func verifyArgs(fs *flagSet, cf *clientFlags, stdin io.Reader, kind, endpoint string, remote bool,
	hosts, pins []string, v1 string, stderr io.Writer) (fps.Verifier, message, error) {
	if err := cf.check(); err != nil {
		return nil, message{}, err
	}
	if endpoint != "" {
		if err := checkURL("endpoint", endpoint); err != nil {
			return nil, message{}, err
		}
	}
	for _, h := range hosts {
		if err := checkHost("allow-host", h); err != nil {
			return nil, message{}, err
		}
	}
	msg, err := readMessage(fs, stdin)
	if err != nil {
		return nil, message{}, err
	}
	m, err := classify(msg, endpoint, kind)
	if err != nil {
		return nil, message{}, err
	}
	if remote {
		c, err := cf.client(stderr)
		if err != nil {
			return nil, message{}, err
		}
		return fps.NewRemoteVerifier(c), m, nil
	}
	if cf.apiEndpoint != "" {
		// The certificates of the FPS the flags point at, as
		// fps.NewLocalVerifierForClient allows them.
		u, _ := url.Parse(cf.apiEndpoint)
		hosts = append(hosts, u.Host)
	}
	opts, err := localOptions(cf.caFile, hosts, pins, v1)
	if err != nil {
		return nil, message{}, err
	}
	return fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { *o = opts }), m, nil
}

// readMessage returns the one argument, or stdin when there is none or
// it is "-".
func readMessage(fs *flagSet, stdin io.Reader) (string, error) {
	switch fs.NArg() {
	case 0:
	case 1:
		if fs.Arg(0) != "-" {
			msg := strings.TrimSpace(fs.Arg(0))
			if msg == "" {
				return "", errors.New("the MESSAGE argument is empty")
			}
			return msg, nil
		}
	default:
		return "", errors.New("give one message (or none to read stdin)")
	}
	b, err := io.ReadAll(io.LimitReader(stdin, integration.DefaultMaxIPNBodySize+1))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > integration.DefaultMaxIPNBodySize {
		return "", fmt.Errorf("message longer than %d bytes", integration.DefaultMaxIPNBodySize)
	}
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		return "", errors.New("stdin is empty: give the message as an argument or on stdin")
	}
	return msg, nil
}

// classify splits a full return URL into its endpoint and query, checks
// that anything else is form-encoded, and settles the kind of message and
// its endpoint.
func classify(msg, endpoint, kind string) (message, error) {
	if u, err := url.Parse(msg); err == nil && u.Scheme != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return message{}, fmt.Errorf("the message %q is not an absolute http(s) URL", msg)
		}
		if u.RawQuery == "" {
			return message{}, fmt.Errorf("the return URL %q has no query: there is nothing to verify", msg)
		}
		if endpoint == "" {
			endpoint = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
		}
		msg = u.RawQuery
	}
	msg = strings.TrimPrefix(msg, "?")
	if strings.ContainsAny(msg, " \t\r\n") || !strings.Contains(msg, "=") {
		return message{}, fmt.Errorf("the message %q is neither a return URL (https://...?...) nor a query string or an IPN body (name=value&...)", msg)
	}
	switch kind {
	case "":
		kind = "return"
		if q, err := url.ParseQuery(msg); err == nil && q.Has("notificationType") {
			kind = "ipn"
		}
	case "return", "ipn":
	default:
		return message{}, fmt.Errorf("--kind must be return or ipn, got %q", kind)
	}
	if endpoint == "" {
		return message{}, errors.New("--endpoint is required for a query string or an IPN body (the URL registered with Amazon that received it)")
	}
	return message{raw: msg, kind: kind, endpoint: endpoint}, nil
}

// localOptions configures the local verifier from the flags.
func localOptions(caFile string, hosts, pins []string, v1Secret string) (fps.LocalVerifierOptions, error) {
	o := fps.LocalVerifierOptions{
		AllowedHosts:            append(fps.DefaultCertificateHosts(), hosts...),
		SignatureVersion1Secret: v1Secret,
	}
	if caFile != "" {
		roots, err := fps.LoadCAFile(caFile)
		if err != nil {
			return o, fmt.Errorf("--ca-file: %w", err)
		}
		o.RootCAs = roots
	}
	for _, p := range pins {
		// The file name is after the last "=": a certificate URL may
		// carry a query (?requestId=...), which pins ignore.
		i := strings.LastIndex(p, "=")
		certURL, file := p[:max(i, 0)], p[i+1:]
		certURL, _, _ = strings.Cut(certURL, "?")
		if i < 0 || certURL == "" || file == "" {
			return o, fmt.Errorf("--pin %q: want certURL=keyfile.pem", p)
		}
		key, err := readPublicKey(file)
		if err != nil {
			return o, fmt.Errorf("--pin %s: %w", certURL, err)
		}
		if o.PinnedKeys == nil {
			o.PinnedKeys = map[string]*rsa.PublicKey{}
		}
		o.PinnedKeys[certURL] = key
	}
	return o, nil
}

// readPublicKey reads an RSA public key from a PEM file: PUBLIC KEY,
// RSA PUBLIC KEY or CERTIFICATE.
func readPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block in " + path)
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%s holds a %s, not a public key or certificate", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return key, nil
}
