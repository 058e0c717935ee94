package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/vectors"
	"github.com/stretchr/testify/require"
)

func TestVerifyReturn(t *testing.T) {
	s := newSim(t)
	ret := s.approved(t, "order-ret", "12.50", "CC")
	local := []string{"--allow-host", s.host(t), "--ca-file", s.caFile}
	remote := append([]string{"--remote"}, s.flags()...)

	for name, flags := range map[string][]string{"local": local, "remote": remote} {
		t.Run(name, func(t *testing.T) {
			r := verifyCmd(t, strings.NewReader(""), append(flags, ret.String())...)
			require.Equal(t, 0, r.code, r.out+r.errOut)
			require.True(t, strings.HasPrefix(r.out, "valid\n"), r.out)
			f := fieldsOf(r.out)
			require.Equal(t, "return", f["Kind"])
			require.Equal(t, "https://shop.example/return", f["Endpoint"])
			require.Equal(t, ret.Query().Get("tokenID"), f["TokenId"])
			require.Equal(t, "SC", f["Status"])
			require.Equal(t, "order-ret", f["CallerReference"])

			// The query alone, from stdin, with the endpoint given.
			r = verifyCmd(t, strings.NewReader(ret.RawQuery+"\n"), append(flags, "--endpoint", "https://shop.example/return")...)
			require.Equal(t, 0, r.code, r.out+r.errOut)
			require.Equal(t, ret.Query().Get("tokenID"), fieldsOf(r.out)["TokenId"])

			// Registered elsewhere: the signature covers host and path.
			r = verifyCmd(t, nil, append(flags, "--endpoint", "https://shop.example/other", ret.String())...)
			require.Equal(t, 1, r.code)
			require.Contains(t, r.out, "invalid: signature does not match")
		})
	}

	// Without --allow-host (or --api-endpoint) the simulator's
	// certificate URL is refused; the reason is said once, on stdout.
	r := verifyCmd(t, nil, "--ca-file", s.caFile, ret.String())
	require.Equal(t, 1, r.code)
	require.Equal(t, fmt.Sprintf("invalid: certificate URL not allowed: host %q is not allowed\n", s.host(t)), r.out)
	require.Empty(t, r.errOut)

	// --field prints the value alone; the verdict of an invalid message
	// then goes to stderr, once.
	r = verifyCmd(t, nil, append(local, "--field", "TokenId", ret.String())...)
	require.Equal(t, 0, r.code, r.errOut)
	require.Equal(t, ret.Query().Get("tokenID")+"\n", r.out)
	r = verifyCmd(t, nil, append(local, "--field", "Nope", ret.String())...)
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "fps verify: no field Nope in the answer; it has Kind Endpoint Status CallerReference TokenId")
	r = verifyCmd(t, nil, append(local, "--field", "TokenId", "--endpoint", "https://shop.example/other", ret.String())...)
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Equal(t, "fps verify: invalid: signature does not match\n", r.errOut)
}

// TestVerifyUntrustedCertificate: a certificate of an authority not
// trusted is a reason once on stdout, and stderr names the flag that
// fixes it.
func TestVerifyUntrustedCertificate(t *testing.T) {
	s := newSim(t)
	ret := s.approved(t, "order-ca", "2.00", "ABT")
	r := verifyCmd(t, nil, "--allow-host", s.host(t), ret.String())
	require.Equal(t, 1, r.code)
	require.True(t, strings.HasPrefix(r.out, "invalid: certificate unusable: "), r.out)
	require.Contains(t, r.out, "certificate signed by unknown authority")
	require.Equal(t, 1, strings.Count(r.out+r.errOut, "certificate unusable"), "the reason is said once")
	require.Contains(t, r.errOut, "--ca-file names the CA certificate to trust")
}

// ipnSink answers every IPN 200.
func ipnSink(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/fps/ipn"
}

// payIPN pays a CC token through fps call and returns the body of the
// IPN that reports its success.
func payIPN(t *testing.T, s *sim, ipnURL string) string {
	t.Helper()
	require.NoError(t, s.SetIPNURL(fpstest.DefaultAccessKeyID, ipnURL))
	ret := s.approved(t, "order-ipn", "7.25", "CC")
	r := fpsCmd(t, append(append([]string{"call"}, s.flags()...), "Pay", "SenderTokenId="+ret.Query().Get("tokenID"),
		"TransactionAmount.Value=7.25", "TransactionAmount.CurrencyCode=USD", "CallerReference=order-ipn")...)
	require.Equal(t, 0, r.code, r.errOut)
	require.NoError(t, s.CompletePending(context.Background()))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, d := range s.Deliveries() {
			if q, _ := url.ParseQuery(d.Body); q.Get("transactionStatus") == "SUCCESS" {
				return d.Body
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no IPN delivered")
	return ""
}

func TestVerifyIPN(t *testing.T) {
	s := newSim(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	endpoint := ipnSink(t)
	body := payIPN(t, s, endpoint)
	q, err := url.ParseQuery(body)
	require.NoError(t, err)
	local := []string{"--endpoint", endpoint, "--allow-host", s.host(t), "--ca-file", s.caFile}
	remote := append([]string{"--endpoint", endpoint, "--remote"}, s.flags()...)

	for name, flags := range map[string][]string{"local": local, "remote": remote} {
		t.Run(name, func(t *testing.T) {
			r := verifyCmd(t, strings.NewReader(body), flags...)
			require.Equal(t, 0, r.code, r.out+r.errOut)
			f := fieldsOf(r.out)
			require.Equal(t, "ipn", f["Kind"])
			require.Equal(t, "TransactionStatus", f["Type"])
			require.Equal(t, q.Get("transactionId"), f["TransactionId"])
			require.Equal(t, "order-ipn", f["CallerReference"])
			require.Equal(t, "USD 7.25", f["TransactionAmount"])
			require.Equal(t, "Success", f["TransactionStatus"])

			// An altered amount no longer matches the signature.
			altered := strings.Replace(body, "7.25", "0.01", 1)
			require.NotEqual(t, body, altered)
			r = verifyCmd(t, nil, append(flags, altered)...)
			require.Equal(t, 1, r.code)
			require.Contains(t, r.out, "invalid: signature does not match")
		})
	}

	forged := func(change func(url.Values)) string {
		v, err := url.ParseQuery(body)
		require.NoError(t, err)
		change(v)
		return v.Encode()
	}
	r := verifyCmd(t, nil, append(local, forged(func(v url.Values) {
		v.Set("certificateUrl", "https://attacker.example/cert.pem")
	}))...)
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: certificate URL not allowed: host \"attacker.example\" is not allowed\n", r.out)
	require.Empty(t, r.errOut)

	r = verifyCmd(t, nil, append(local, forged(func(v url.Values) { v.Del("signature") }))...)
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: no signature\n", r.out)

	r = verifyCmd(t, nil, append(local, forged(func(v url.Values) { v.Set("signatureVersion", "1") }))...)
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: unsupported signature version: signatureVersion \"1\", want 2\n", r.out)
}

// TestVerifyAmazonVectors checks the messages Amazon signed, with the
// recovered keys pinned to their certificate URLs: the valid ones pass,
// the altered ones fail.
func TestVerifyAmazonVectors(t *testing.T) {
	dir := vectors.Dir(t)
	seenIPN := false
	for _, v := range vectors.LoadOutbound(t) {
		t.Run(v.ID, func(t *testing.T) {
			// The kind picks the method signed: GET for a return, POST
			// for an IPN.
			kind := "return"
			if v.Method == http.MethodPost {
				kind = "ipn"
				seenIPN = seenIPN || v.Valid
			}
			r := verifyCmd(t, nil, "--kind", kind, "--endpoint", v.Endpoint,
				"--pin", v.CertificateURL+"="+filepath.Join(dir, v.Key), v.Raw)
			switch {
			case v.Valid && strings.Contains(v.ID, "simplepay"):
				// Amazon Simple Pay signed these the same way, but they
				// are not FPS messages: the signature holds, the fields
				// do not parse.
				require.Equal(t, 1, r.code, r.out+r.errOut)
				require.True(t, strings.HasPrefix(r.out, "invalid: malformed message: "), r.out)
				require.NotContains(t, r.out, "signature")
				require.Empty(t, r.errOut)
			case v.Valid:
				require.Equal(t, 0, r.code, r.out+r.errOut)
				require.True(t, strings.HasPrefix(r.out, "valid\n"))
			default:
				require.Equal(t, 1, r.code, r.out+r.errOut)
				require.Equal(t, "invalid: signature does not match\n", r.out)
			}
		})
	}
	require.True(t, seenIPN, "no valid IPN vector")
}

func TestVerifyUsageErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"query without endpoint", "signature=x&status=SC", nil, "--endpoint is required for a query string or an IPN body"},
		{"bad kind", "", []string{"--kind", "email", "https://shop.example/return?a=b"}, `--kind must be return or ipn, got "email"`},
		{"bad pin", "", []string{"--pin", "https://fps.amazonaws.com/cert.pem", "https://shop.example/return?a=b"}, `--pin "https://fps.amazonaws.com/cert.pem": want certURL=keyfile.pem`},
		{"not a message", "", []string{"not a url at all"},
			`the message "not a url at all" is neither a return URL (https://...?...) nor a query string or an IPN body (name=value&...)`},
		{"not http", "", []string{"ftp://shop.example/return?a=b"}, `the message "ftp://shop.example/return?a=b" is not an absolute http(s) URL`},
		{"URL without query", "", []string{"https://shop.example/return"}, `the return URL "https://shop.example/return" has no query: there is nothing to verify`},
		{"empty argument", "", []string{""}, "the MESSAGE argument is empty"},
		{"empty stdin", "", nil, "stdin is empty: give the message as an argument or on stdin"},
		{"two messages", "", []string{"a=b", "c=d"}, "give one message"},
		{"bad endpoint", "", []string{"--endpoint", "notaurl", "a=b&signature=x"}, `--endpoint must be an absolute http or https URL, got "notaurl"`},
		{"bad allow-host", "", []string{"--allow-host", "https://h/x", "https://shop.example/return?a=b"}, `--allow-host must be a host or host:port (no scheme, no path), got "https://h/x"`},
		{"bad api-endpoint", "", []string{"--api-endpoint", "127.0.0.1:8080", "https://shop.example/return?a=b"}, `--api-endpoint must be an absolute http or https URL, got "127.0.0.1:8080"`},
		{"missing CA file", "", []string{"--ca-file", "/no/such/ca.pem", "https://shop.example/return?a=b"}, "--ca-file: fps: CA file: open /no/such/ca.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := verifyCmd(t, strings.NewReader(c.stdin), c.args...)
			require.Equal(t, 2, r.code, r.out+r.errOut)
			require.Empty(t, r.out)
			require.Contains(t, r.errOut, "fps verify: "+c.want)
			require.Contains(t, r.errOut, "Run 'fps verify --help' for usage.")
		})
	}
}

// TestVerifyPinnedSimulatorKey pins the simulator's key, written as a
// PKCS#1 "RSA PUBLIC KEY": no certificate is fetched, so neither
// --allow-host nor --ca-file is needed.
func TestVerifyPinnedSimulatorKey(t *testing.T) {
	s := newSim(t)
	ret := s.approved(t, "order-pin", "1.00", "ABT")
	keyFile := filepath.Join(t.TempDir(), "sim.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{
		Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(s.PublicKey())}), 0o600))

	r := verifyCmd(t, nil, "--pin", s.CertificateURL()+"="+keyFile, ret.String())
	require.Equal(t, 0, r.code, r.out+r.errOut)
	require.Equal(t, "SA", fieldsOf(r.out)["Status"])

	// A key that is not the signer's.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&other.PublicKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	r = verifyCmd(t, nil, "--pin", s.CertificateURL()+"="+keyFile, ret.String())
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: signature does not match\n", r.out)

	require.NoError(t, os.WriteFile(keyFile, []byte("not PEM"), 0o600))
	r = verifyCmd(t, nil, "--pin", s.CertificateURL()+"="+keyFile, ret.String())
	require.Equal(t, 2, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "no PEM block")
}
