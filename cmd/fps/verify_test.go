package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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

	// Without --allow-host the simulator's certificate URL is refused.
	r := verifyCmd(t, nil, "--ca-file", s.caFile, ret.String())
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: certificate URL not allowed\n", r.out)
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
	require.Equal(t, "invalid: certificate URL not allowed\n", r.out)

	r = verifyCmd(t, nil, append(local, forged(func(v url.Values) { v.Del("signature") }))...)
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: no signature\n", r.out)

	r = verifyCmd(t, nil, append(local, forged(func(v url.Values) { v.Set("signatureVersion", "1") }))...)
	require.Equal(t, 1, r.code)
	require.Equal(t, "invalid: unsupported signature version\n", r.out)
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
				require.Equal(t, "invalid: malformed message\n", r.out)
				require.NotContains(t, r.errOut, "signature")
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
	r := verifyCmd(t, strings.NewReader("signature=x&status=SC"))
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "--endpoint is required")

	r = verifyCmd(t, nil, "--kind", "email", "https://shop.example/return?a=b")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "--kind must be return or ipn")

	r = verifyCmd(t, nil, "--pin", "https://fps.amazonaws.com/cert.pem", "https://shop.example/return?a=b")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "certURL=keyfile.pem")
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
	require.Contains(t, r.errOut, "no PEM block")
}
