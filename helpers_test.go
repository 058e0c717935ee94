package fps_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"sync"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

// Test RSA keys, generated once per test binary: 0 signs messages, 1 is
// another party's key, 2 and 3 are CA keys.
var (
	keysOnce sync.Once
	keys     [4]*rsa.PrivateKey
	keysErr  error
)

func testKeys(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for j := range keys {
			if keys[j], keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr != nil {
				return
			}
		}
	})
	require.NoError(t, keysErr)
	return keys[i]
}

func testKey(t testing.TB) *rsa.PrivateKey  { return testKeys(t, 0) }
func testKey2(t testing.TB) *rsa.PrivateKey { return testKeys(t, 1) }

// pinnedCertURL is where the test signer's certificate would be; the tests
// pin its key instead of fetching it.
const pinnedCertURL = "https://fps.amazonaws.com/certs/test/PKICert.pem"

func pinnedVerifier(t testing.TB) *fps.LocalVerifier {
	key := testKey(t)
	return fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{pinnedCertURL: &key.PublicKey}
	})
}

// sign adds the version 2 signature fields to params, signs them as Amazon
// did for method at endpoint, and returns the form encoding (spaces as
// "+", as a browser or Amazon would send it).
func sign(t testing.TB, key *rsa.PrivateKey, method, endpoint, certURL string, params url.Values) string {
	t.Helper()
	p := url.Values{}
	for k, vs := range params {
		p[k] = append([]string(nil), vs...)
	}
	p.Set("signatureVersion", fps.OutboundSignatureVersion)
	p.Set("signatureMethod", fps.OutboundSignatureMethod)
	p.Set("certificateUrl", certURL)
	u, err := url.Parse(endpoint)
	require.NoError(t, err)
	sig, err := sigv2.SignRSASHA1(key, fps.OutboundStringToSign(method, u, p))
	require.NoError(t, err)
	p.Set("signature", sig)
	return p.Encode()
}

func signReturn(t testing.TB, key *rsa.PrivateKey, endpoint, certURL string, params url.Values) string {
	return sign(t, key, "GET", endpoint, certURL, params)
}

func signIPN(t testing.TB, key *rsa.PrivateKey, endpoint, certURL string, params url.Values) string {
	return sign(t, key, "POST", endpoint, certURL, params)
}

// payParams is a TransactionStatus IPN for a successful PAY.
func payParams(callerReference, amount string) url.Values {
	return url.Values{
		"notificationType":  {"TransactionStatus"},
		"transactionId":     {"14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM"},
		"callerReference":   {callerReference},
		"operation":         {"PAY"},
		"transactionAmount": {amount},
		"transactionDate":   {"1254096159"},
		"transactionStatus": {"SUCCESS"},
		"statusCode":        {"Success"},
		"statusMessage":     {"The transaction was successful and the payment instrument was charged."},
		"paymentMethod":     {"CC"},
		"buyerName":         {"Test Buyer"},
		"recipientName":     {"Test Shop"},
		"recipientEmail":    {"shop@example.com"},
	}
}
