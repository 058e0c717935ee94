package fps_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/fpskit/fps"
	"github.com/stretchr/testify/require"
)

// BenchmarkVerifyIPNLocal verifies and parses one IPN with the local
// verifier, its certificate fetched once and cached.
func BenchmarkVerifyIPNLocal(b *testing.B) {
	p := newPKI(b)
	v := p.Verifier()
	body := []byte(signIPN(b, p.Key, ipnEndpoint, p.CertURL("good"), payParams("order-1", "USD 12.50")))
	ctx := context.Background()
	_, err := fps.VerifyIPN(ctx, v, ipnEndpoint, body) // fetch and cache the certificate
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fps.VerifyIPN(ctx, v, ipnEndpoint, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSASHA1Floor is the floor of BenchmarkVerifyIPNLocal: SHA-1 of
// the same string to sign and rsa.VerifyPKCS1v15 of the same signature.
func BenchmarkRSASHA1Floor(b *testing.B) {
	key := testKey(b)
	body := signIPN(b, key, ipnEndpoint, "https://fps.amazonaws.com/certs/1/PKICert.pem", payParams("order-1", "USD 12.50"))
	params, err := url.ParseQuery(body)
	require.NoError(b, err)
	u, err := url.Parse(ipnEndpoint)
	require.NoError(b, err)
	sts := []byte(fps.OutboundStringToSign("POST", u, params))
	sig, err := base64.StdEncoding.DecodeString(params.Get("signature"))
	require.NoError(b, err)
	pub := &key.PublicKey
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		digest := sha1.Sum(sts)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
