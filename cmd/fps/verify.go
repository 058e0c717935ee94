package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
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
	fs := newFlagSet("verify", verifyUsage, stderr)
	var cf clientFlags
	cf.register(fs)
	kind := fs.String("kind", "", "`kind` of message: return or ipn (default: ipn when it has notificationType)")
	endpoint := fs.String("endpoint", "", "the `URL` registered with Amazon that received the message")
	remote := fs.Bool("remote", false, "verify with the VerifySignature action instead of locally")
	var hosts, pins listFlag
	fs.Var(&hosts, "allow-host", "`host[:port]` to fetch certificates from besides Amazon's (repeatable)")
	fs.Var(&pins, "pin", "`certURL=keyfile.pem`: check signatures of certURL with this public key or certificate (repeatable)")
	v1 := fs.String("v1-secret", "", "secret access `key` that opts in to signature version 1 (HMAC-SHA1)")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	msg, err := readMessage(fs, stdin)
	if err == nil {
		*endpoint, *kind, msg, err = classify(msg, *endpoint, *kind)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fps verify: %v\n", err)
		return 2
	}

	var v fps.Verifier
	if *remote {
		c, err := cf.client(stderr)
		if err != nil {
			fmt.Fprintf(stderr, "fps verify: %v\n", err)
			return 2
		}
		v = fps.NewRemoteVerifier(c)
	} else {
		opts, err := localOptions(cf.caFile, hosts, pins, *v1)
		if err != nil {
			fmt.Fprintf(stderr, "fps verify: %v\n", err)
			return 2
		}
		v = fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { *o = opts })
	}

	var fields any
	if *kind == "ipn" {
		fields, err = fps.VerifyIPN(ctx, v, *endpoint, []byte(msg))
	} else {
		fields, err = fps.VerifyReturn(ctx, v, *endpoint, msg)
	}
	if err != nil {
		for _, r := range reasons {
			if errors.Is(err, r.err) {
				fmt.Fprintf(stdout, "invalid: %s\n", r.reason)
				fmt.Fprintf(stderr, "fps verify: %v\n", err)
				return 1
			}
		}
		fmt.Fprintf(stderr, "fps verify: could not verify: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "valid")
	fmt.Fprintf(stdout, "Kind: %s\nEndpoint: %s\n", *kind, *endpoint)
	printFields(stdout, fields)
	return 0
}

// readMessage returns the one argument, or stdin when there is none or
// it is "-".
func readMessage(fs *flag.FlagSet, stdin io.Reader) (string, error) {
	switch fs.NArg() {
	case 0:
	case 1:
		if fs.Arg(0) != "-" {
			return strings.TrimSpace(fs.Arg(0)), nil
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
	return strings.TrimSpace(string(b)), nil
}

// classify splits a full return URL into its endpoint and query, and
// settles the kind of message and its endpoint.
func classify(msg, endpoint, kind string) (string, string, string, error) {
	if msg == "" {
		return "", "", "", errors.New("empty message")
	}
	if u, err := url.Parse(msg); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		if endpoint == "" {
			endpoint = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
		}
		msg = u.RawQuery
	}
	msg = strings.TrimPrefix(msg, "?")
	switch kind {
	case "":
		kind = "return"
		if q, err := url.ParseQuery(msg); err == nil && q.Has("notificationType") {
			kind = "ipn"
		}
	case "return", "ipn":
	default:
		return "", "", "", fmt.Errorf("--kind must be return or ipn, got %q", kind)
	}
	if endpoint == "" {
		return "", "", "", errors.New("--endpoint is required (the URL registered with Amazon that received the message)")
	}
	return endpoint, kind, msg, nil
}

// localOptions configures the local verifier from the flags.
func localOptions(caFile string, hosts, pins []string, v1Secret string) (fps.LocalVerifierOptions, error) {
	o := fps.LocalVerifierOptions{
		AllowedHosts:            append(fps.DefaultCertificateHosts(), hosts...),
		SignatureVersion1Secret: v1Secret,
	}
	if caFile != "" {
		roots, err := loadRoots(caFile)
		if err != nil {
			return o, err
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
