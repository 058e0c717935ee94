package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

func TestHelpAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--help"}, &out, &errb))
	require.Contains(t, out.String(), "sandbox")
	out.Reset()
	require.Equal(t, 2, run(context.Background(), []string{"nope"}, &out, &errb))
	require.Contains(t, errb.String(), `unknown command "nope"`)
	errb.Reset()
	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"sandbox", "--help"}, &out, &errb))
	require.Contains(t, out.String(), "-pending-delay", "help goes to stdout")
	require.Empty(t, errb.String())
	require.Equal(t, 2, run(context.Background(), []string{"sandbox", "--bogus"}, &out, &errb))
	require.Contains(t, errb.String(), "fps sandbox: flag provided but not defined: -bogus\nRun 'fps sandbox --help' for usage.\n")
}

// TestSandboxProcess builds fps, runs `fps sandbox` on a random port,
// reads what it prints, calls the API it announces with the credentials
// it prints over TLS trusting the CA file it names, and stops it.
func TestSandboxProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(buildFPS(t), "fps")

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cmd := exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0", "--ca-file", caFile, "--pending-delay", "1s")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	printed := map[string]string{}
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "fps sandbox") {
			printed[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "Test credentials only") {
			break
		}
	}
	require.Contains(t, printed, "API endpoint")
	require.Equal(t, caFile, strings.Fields(printed["CA certificate"])[0])
	pool, err := fps.LoadCAFile(caFile)
	require.NoError(t, err)
	hc, err := fps.NewHTTPClient(fps.WithRootCAs(pool)) // refuses redirects: the buyer form answers one
	require.NoError(t, err)

	api := printed["API endpoint"]
	endpoint, err := url.Parse(api)
	require.NoError(t, err)
	require.Equal(t, "https", endpoint.Scheme)
	v := url.Values{
		"Action": {"GetAccountBalance"}, "AWSAccessKeyId": {printed["AWSAccessKeyId"]}, "Version": {"2008-09-17"},
		"SignatureVersion": {"2"}, "SignatureMethod": {"HmacSHA256"}, "Timestamp": {time.Now().UTC().Format(time.RFC3339)},
	}
	sig, err := fps.SignHMAC(fps.HmacSHA256, printed["SecretAccessKey"], fps.StringToSign("POST", endpoint, v))
	require.NoError(t, err)
	v.Set("Signature", sig)
	resp, err := hc.PostForm(api, v)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Contains(t, string(body), "<GetAccountBalanceResponse")

	// The certificate URL it prints serves the signing certificate.
	resp, err = hc.Get(printed["Certificate URL"])
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	// A scripted buyer takes a SingleUse pipeline from URL to signed
	// return through the buyer form it prints.
	cbui, err := url.Parse(printed["CBUI endpoint"])
	require.NoError(t, err)
	p := url.Values{
		"callerKey": {printed["AWSAccessKeyId"]}, "signatureMethod": {"HmacSHA256"}, "signatureVersion": {"2"},
		"version": {"2009-01-09"}, "pipelineName": {"SingleUse"}, "callerReference": {"sandbox-buyer"},
		"transactionAmount": {"5"}, "returnURL": {"http://127.0.0.1:9/return"},
	}
	sig, err = fps.SignHMAC(fps.HmacSHA256, printed["SecretAccessKey"], fps.StringToSign("GET", cbui, p))
	require.NoError(t, err)
	p.Set("signature", sig)
	form := strings.Fields(printed["Buyer form"])
	require.Equal(t, "POST", form[0])
	resp, err = hc.PostForm(form[1], url.Values{"url": {cbui.String() + "?" + p.Encode()}, "action": {"approve"}, "paymentMethod": {"CC"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	ret, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "SC", ret.Query().Get("status"))
	require.Equal(t, printed["Certificate URL"], ret.Query().Get("certificateUrl"))
	retEndpoint := *ret
	retEndpoint.RawQuery = ""
	sts := fps.OutboundStringToSign("GET", &retEndpoint, ret.Query())
	resp, err = hc.Get(printed["Certificate URL"])
	require.NoError(t, err)
	certPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(certPEM)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err, "the signing certificate chains to the CA")
	require.NoError(t, sigv2.VerifyRSASHA1(cert.PublicKey.(*rsa.PublicKey), []byte(sts), ret.Query().Get("signature")))

	// A subscription made through the form it prints is read in API
	// 2010-08-28, by a call signed over the host without the port, as
	// every known client signs it.
	sub := strings.Fields(printed["Subscriptions"])
	require.Equal(t, "POST", sub[0])
	resp, err = hc.PostForm(sub[1], url.Values{"accessKey": {printed["AWSAccessKeyId"]}, "amount": {"USD 9.99"}, "recurringFrequency": {"1 month"}})
	require.NoError(t, err)
	subID, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(subID))
	v = url.Values{
		"Action": {"GetSubscriptionDetails"}, "AWSAccessKeyId": {printed["AWSAccessKeyId"]}, "Version": {"2010-08-28"},
		"SignatureVersion": {"2"}, "SignatureMethod": {"HmacSHA256"}, "Timestamp": {time.Now().UTC().Format(time.RFC3339)},
		"SubscriptionId": {strings.TrimSpace(string(subID))},
	}
	bare := &url.URL{Scheme: endpoint.Scheme, Host: endpoint.Hostname(), Path: endpoint.Path}
	sig, err = fps.SignHMAC(fps.HmacSHA256, printed["SecretAccessKey"], fps.StringToSign("POST", bare, v))
	require.NoError(t, err)
	v.Set("Signature", sig)
	resp, err = hc.PostForm(api, v)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(body))
	require.Contains(t, string(body), `<GetSubscriptionDetailsResponse xmlns="http://fps.amazonaws.com/doc/2010-08-28/">`)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { _, _ = io.Copy(io.Discard, stdout); done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit status 0 after SIGINT")
	case <-time.After(10 * time.Second):
		t.Fatal("fps sandbox did not stop on SIGINT")
	}
}

func TestNoArgCommandsRefuseArguments(t *testing.T) {
	for _, name := range []string{"sandbox", "soak"} {
		var out, errb bytes.Buffer
		require.Equal(t, 2, run(context.Background(), []string{name, "extra"}, &out, &errb), name)
		require.Contains(t, errb.String(), "fps "+name+`: unexpected argument "extra"`)
		errb.Reset()
		require.Equal(t, 0, run(context.Background(), []string{name, "--help"}, &out, &errb), name)
		require.Contains(t, out.String(), "Usage: fps "+name)
		require.Empty(t, errb.String())
	}
}
