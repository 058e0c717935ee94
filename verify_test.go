package fps_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/fpskit/fps/internal/vectors"
	"github.com/stretchr/testify/require"
)

// refused reports whether err is one of the reasons a verifier refuses a
// message.
func refused(err error) bool {
	for _, e := range []error{
		fps.ErrNoSignature, fps.ErrUnsupportedSignatureVersion, fps.ErrUnsupportedSignatureMethod,
		fps.ErrCertificateURLNotAllowed, fps.ErrCertificateUnusable, fps.ErrSignatureMismatch,
		fps.ErrVerificationFailed,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// TestLocalVerifierOutboundVectors runs every shared outbound vector (and
// any added to the folder) through the local verifier with the pinned key.
func TestLocalVerifierOutboundVectors(t *testing.T) {
	for _, v := range vectors.LoadOutbound(t) {
		t.Run(v.ID, func(t *testing.T) {
			pub := vectors.PublicKey(t, v.Key)
			verifier := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
				o.PinnedKeys = map[string]*rsa.PublicKey{v.CertificateURL: pub}
			})
			params, err := verifier.Verify(context.Background(), v.Method, v.Endpoint, v.Raw)
			if !v.Valid {
				require.Error(t, err)
				require.True(t, refused(err), "refused for a known reason: %v", err)
				require.Nil(t, params)
				return
			}
			require.NoError(t, err)
			for name, value := range v.Params {
				require.Equal(t, value, params.Get(name), name)
			}
			require.Len(t, params, len(v.Params))
		})
	}
}

func TestPinnedKeyMatchesWithoutQuery(t *testing.T) {
	key := testKey(t)
	endpoint := "https://shop.example/fps/return"
	raw := signReturn(t, key, endpoint, "https://fps.sandbox.amazonaws.com/certs/1/PKICert.pem?requestId=abc",
		url.Values{"status": {"SC"}, "tokenID": {"T1"}, "callerReference": {"order-1"}})
	v := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{"https://FPS.sandbox.amazonaws.com/certs/1/PKICert.pem": &key.PublicKey}
	})
	_, err := v.Verify(context.Background(), "GET", endpoint, raw)
	require.NoError(t, err)

	other := testKey2(t)
	v = fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) {
		o.PinnedKeys = map[string]*rsa.PublicKey{"https://fps.sandbox.amazonaws.com/certs/1/PKICert.pem": &other.PublicKey}
	})
	_, err = v.Verify(context.Background(), "GET", endpoint, raw)
	require.ErrorIs(t, err, fps.ErrSignatureMismatch)
}

func TestVerifierRefusesBeforeAnyKeyIsUsed(t *testing.T) {
	key := testKey(t)
	endpoint := "https://shop.example/fps/ipn"
	base := func() url.Values {
		params, err := url.ParseQuery(signIPN(t, key, endpoint, pinnedCertURL, payParams("order-1", "USD 12.50")))
		require.NoError(t, err)
		return params
	}
	cases := []struct {
		name   string
		change func(url.Values)
		want   error
	}{
		{"no signature", func(p url.Values) { p.Del("signature") }, fps.ErrNoSignature},
		{"empty signature", func(p url.Values) { p.Set("signature", "") }, fps.ErrNoSignature},
		{"two signatures", func(p url.Values) { p.Add("signature", "x") }, fps.ErrSignatureMismatch},
		{"version 3", func(p url.Values) { p.Set("signatureVersion", "3") }, fps.ErrUnsupportedSignatureVersion},
		{"version 1 not opted in", func(p url.Values) { p.Del("signatureVersion") }, fps.ErrUnsupportedSignatureVersion},
		{"HMAC method", func(p url.Values) { p.Set("signatureMethod", "HmacSHA256") }, fps.ErrUnsupportedSignatureMethod},
		{"no certificate URL", func(p url.Values) { p.Del("certificateUrl") }, fps.ErrCertificateURLNotAllowed},
		{"http certificate URL", func(p url.Values) {
			p.Set("certificateUrl", "http://fps.amazonaws.com/certs/1/PKICert.pem")
		}, fps.ErrCertificateURLNotAllowed},
		{"attacker's certificate URL", func(p url.Values) {
			p.Set("certificateUrl", "https://attacker.example/PKICert.pem")
		}, fps.ErrCertificateURLNotAllowed},
		{"look-alike host", func(p url.Values) {
			p.Set("certificateUrl", "https://fps.amazonaws.com.attacker.example/PKICert.pem")
		}, fps.ErrCertificateURLNotAllowed},
		{"user info", func(p url.Values) {
			p.Set("certificateUrl", "https://fps.amazonaws.com@attacker.example/PKICert.pem")
		}, fps.ErrCertificateURLNotAllowed},
	}
	v := pinnedVerifier(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			c.change(p)
			_, err := v.Verify(context.Background(), "POST", endpoint, p.Encode())
			require.ErrorIs(t, err, c.want)
		})
	}

	t.Run("bad method", func(t *testing.T) {
		_, err := v.Verify(context.Background(), "PUT", endpoint, base().Encode())
		var ve *fps.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "method", ve.Field)
	})
	t.Run("relative endpoint", func(t *testing.T) {
		_, err := v.Verify(context.Background(), "POST", "/fps/ipn", base().Encode())
		var ve *fps.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "endpoint", ve.Field)
	})
	t.Run("not form-encoded", func(t *testing.T) {
		_, err := v.Verify(context.Background(), "POST", endpoint, "a=%zz&signature=x")
		require.ErrorIs(t, err, fps.ErrMalformed)
	})
}

// TestSignatureVersion1 checks vector V2 of spec §2.4: Amazon's sample IPN
// signed with HMAC-SHA1 under the secret MySecretKey.
func TestSignatureVersion1(t *testing.T) {
	params := url.Values{
		"buyerName":         {"BuyerName-SsUo3oDjHx"},
		"callerReference":   {"callerReference=ReferenceStringJYI1251832057319108"},
		"notificationType":  {"TransactionStatus"},
		"operation":         {"PAY"},
		"paymentMethod":     {"CC"},
		"paymentReason":     {"DescriptionString-1251832057319108"},
		"recipientEmail":    {"recipientemail@amazon.com"},
		"status":            {"INITIATED"},
		"transactionAmount": {"USD 1.00"},
		"transactionDate":   {"1251832057"},
		"transactionId":     {"14DRG2JGR7LK4J54P544DKKNDLQFFZLE323"},
		"signature":         {"VEAAvfPO2F0IGaDGXYemaQQfzkA="},
	}
	raw := params.Encode()
	endpoint := "http://www.mysite.com/ipn.jsp"
	ctx := context.Background()

	optIn := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { o.SignatureVersion1Secret = "MySecretKey" })
	got, err := optIn.Verify(ctx, "POST", endpoint, raw)
	require.NoError(t, err)
	require.Equal(t, "INITIATED", got.Get("status"))

	_, err = fps.NewLocalVerifier().Verify(ctx, "POST", endpoint, raw)
	require.ErrorIs(t, err, fps.ErrUnsupportedSignatureVersion)

	wrongSecret := fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { o.SignatureVersion1Secret = "OtherKey" })
	_, err = wrongSecret.Verify(ctx, "POST", endpoint, raw)
	require.ErrorIs(t, err, fps.ErrSignatureMismatch)

	tampered := strings.Replace(raw, "USD+1.00", "USD+9.00", 1)
	require.NotEqual(t, raw, tampered)
	_, err = optIn.Verify(ctx, "POST", endpoint, tampered)
	require.ErrorIs(t, err, fps.ErrSignatureMismatch)

	// Through the IPN parser: Amazon's sample uses status=INITIATED.
	n, err := fps.VerifyIPN(ctx, optIn, endpoint, []byte(raw))
	require.NoError(t, err)
	require.Equal(t, fps.NotificationStatusInitiated, n.Status)
	require.Equal(t, fps.TransactionStatus(""), n.TransactionStatus)
}

func TestLocalVerifierFetchesCertificate(t *testing.T) {
	p := newPKI(t)
	ctx := context.Background()
	endpoint := "https://shop.example/fps/return"
	ret := url.Values{"status": {"SC"}, "tokenID": {"T1"}, "callerReference": {"order-1"}}

	t.Run("verified and cached", func(t *testing.T) {
		v := p.Verifier()
		before := p.Fetches.Load()
		for i := 0; i < 3; i++ {
			// requestId varies per message, as in Amazon's sandbox; the
			// certificate is still fetched once.
			raw := signReturn(t, p.Key, endpoint, p.CertURL("good")+"?requestId="+string(rune('a'+i)), ret)
			params, err := v.Verify(ctx, "GET", endpoint, raw)
			require.NoError(t, err)
			require.Equal(t, "T1", params.Get("tokenID"))
		}
		require.Equal(t, int64(1), p.Fetches.Load()-before)
	})

	t.Run("concurrent first requests fetch once", func(t *testing.T) {
		v := p.Verifier()
		p.Delay = 100 * time.Millisecond
		defer func() { p.Delay = 0 }()
		before := p.Fetches.Load()
		raw := signReturn(t, p.Key, endpoint, p.CertURL("good"), ret)
		const n = 32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := v.Verify(ctx, "GET", endpoint, raw)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, int64(1), p.Fetches.Load()-before)
	})

	t.Run("tampered message refused", func(t *testing.T) {
		raw := signReturn(t, p.Key, endpoint, p.CertURL("good"), ret)
		_, err := p.Verifier().Verify(ctx, "GET", endpoint, strings.Replace(raw, "tokenID=T1", "tokenID=T2", 1))
		require.ErrorIs(t, err, fps.ErrSignatureMismatch)
	})

	refusals := []struct {
		name string
		cert string
		v    func() *fps.LocalVerifier
		want error
		why  string
	}{
		{"redirect to another host", p.CertURL("moved"), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateUnusable, "redirect"},
		{"redirect on the same host", p.CertURL("local-redirect"), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateUnusable, "redirect"},
		{"oversize", p.CertURL("big"), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateUnusable, "larger than 65536 bytes"},
		{"chain to an unknown CA", p.CertURL("stranger"), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateUnusable, "unknown authority"},
		{"missing", p.CertURL("none"), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateUnusable, "HTTP 404"},
		{"timeout", p.CertURL("slow"), func() *fps.LocalVerifier {
			return p.Verifier(func(o *fps.LocalVerifierOptions) { o.FetchTimeout = 100 * time.Millisecond })
		}, fps.ErrCertificateUnusable, "deadline exceeded"},
		{"expired", p.CertURL("good"), func() *fps.LocalVerifier {
			return p.Verifier(func(o *fps.LocalVerifierOptions) {
				o.Clock = func() time.Time { return time.Now().Add(48 * time.Hour) }
			})
		}, fps.ErrCertificateUnusable, "certificate has expired"},
		{"host not allowed", p.CertURL("good"), func() *fps.LocalVerifier {
			return fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { o.RootCAs = p.Pool })
		}, fps.ErrCertificateURLNotAllowed, "is not allowed"},
		{"plain http", strings.Replace(p.CertURL("good"), "https://", "http://", 1), func() *fps.LocalVerifier { return p.Verifier() }, fps.ErrCertificateURLNotAllowed, "not a plain https URL"},
		{"TLS server not trusted", p.CertURL("good"), func() *fps.LocalVerifier {
			return fps.NewLocalVerifier(func(o *fps.LocalVerifierOptions) { o.AllowedHosts = append(o.AllowedHosts, p.Host()) })
		}, fps.ErrCertificateUnusable, "certificate signed by unknown authority"},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			before := p.Fetches.Load()
			raw := signReturn(t, p.Key, endpoint, c.cert, ret)
			_, err := c.v().Verify(ctx, "GET", endpoint, raw)
			require.ErrorIs(t, err, c.want)
			if c.why != "" {
				require.ErrorContains(t, err, c.why)
			}
			if c.want == fps.ErrCertificateURLNotAllowed {
				require.Equal(t, before, p.Fetches.Load(), "nothing fetched")
			}
		})
	}

	t.Run("client pointed at another host allows it", func(t *testing.T) {
		c, err := fps.New(fps.Options{
			Environment: fps.Sandbox,
			Credentials: fps.StaticCredentials("AKIDEXAMPLE", "secret"),
			APIEndpoint: p.Srv.URL + "/",
		})
		require.NoError(t, err)
		v := fps.NewLocalVerifierForClient(c, func(o *fps.LocalVerifierOptions) { o.RootCAs = p.Pool })
		_, err = v.Verify(ctx, "GET", endpoint, signReturn(t, p.Key, endpoint, p.CertURL("good"), ret))
		require.NoError(t, err)

		amazon, err := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials("AKIDEXAMPLE", "secret")})
		require.NoError(t, err)
		v = fps.NewLocalVerifierForClient(amazon, func(o *fps.LocalVerifierOptions) { o.RootCAs = p.Pool })
		_, err = v.Verify(ctx, "GET", endpoint, signReturn(t, p.Key, endpoint, p.CertURL("good"), ret))
		require.ErrorIs(t, err, fps.ErrCertificateURLNotAllowed)
	})
}

func TestDefaultCertificateHosts(t *testing.T) {
	require.ElementsMatch(t, []string{"fps.amazonaws.com", "fps.sandbox.amazonaws.com"}, fps.DefaultCertificateHosts())
}

func TestRemoteVerifier(t *testing.T) {
	ctx := context.Background()
	// As received: "+" and "%7E" kept, order not canonical.
	raw := "tokenID=T1&status=SC&callerReference=order+1%7E&signatureVersion=2&signatureMethod=RSA-SHA1" +
		"&certificateUrl=https%3A%2F%2Ffps.amazonaws.com%2Fcerts%2F1%2FPKICert.pem&signature=YWJj%0AZGVm"
	endpoint := "https://shop.example:8443/fps/return?shop=1#top"

	fake := &msgtest.FakeVerifySignature{Status: fps.VerificationStatusSuccess}
	params, err := fps.NewRemoteVerifier(fake).Verify(ctx, "GET", endpoint, raw)
	require.NoError(t, err)
	require.Equal(t, "order 1~", params.Get("callerReference"))
	require.Equal(t, []fps.VerifySignatureInput{{
		URLEndPoint:    "https://shop.example:8443/fps/return",
		HTTPParameters: raw,
	}}, fake.Calls)

	fake = &msgtest.FakeVerifySignature{Status: fps.VerificationStatusFailure}
	_, err = fps.NewRemoteVerifier(fake).Verify(ctx, "GET", endpoint, raw)
	require.ErrorIs(t, err, fps.ErrVerificationFailed)

	fake = &msgtest.FakeVerifySignature{Status: "Maybe"}
	_, err = fps.NewRemoteVerifier(fake).Verify(ctx, "GET", endpoint, raw)
	require.ErrorIs(t, err, fps.ErrVerificationFailed)

	down := errors.New("connection refused")
	fake = &msgtest.FakeVerifySignature{Err: down}
	_, err = fps.NewRemoteVerifier(fake).Verify(ctx, "GET", endpoint, raw)
	require.ErrorIs(t, err, down)
	require.False(t, errors.Is(err, fps.ErrVerificationFailed))

	for name, c := range map[string]struct {
		raw  string
		want error
	}{
		"unsigned":  {"tokenID=T1&status=SC", fps.ErrNoSignature},
		"version 1": {"tokenID=T1&status=SC&signature=abc", fps.ErrUnsupportedSignatureVersion},
		"method":    {"status=SC&signatureVersion=2&signatureMethod=HmacSHA1&signature=abc", fps.ErrUnsupportedSignatureMethod},
	} {
		t.Run(name, func(t *testing.T) {
			fake := &msgtest.FakeVerifySignature{Status: fps.VerificationStatusSuccess}
			_, err := fps.NewRemoteVerifier(fake).Verify(ctx, "GET", endpoint, c.raw)
			require.ErrorIs(t, err, c.want)
			require.Empty(t, fake.Calls, "refused before any call")
		})
	}
}
