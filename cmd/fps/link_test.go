package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

func TestLinkPrintsSignedURL(t *testing.T) {
	s := newSim(t)
	link := s.link(t, "SingleUse", "callerReference=order-1", "transactionAmount=19.99",
		"returnURL=https://shop.example/return", "paymentReason=Widget")

	u, err := url.Parse(link)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "SingleUse", q.Get("pipelineName"))
	require.Equal(t, "order-1", q.Get("callerReference"))
	require.Equal(t, "19.99", q.Get("transactionAmount"))
	require.Equal(t, "Widget", q.Get("paymentReason"))
	require.Equal(t, fpstest.DefaultAccessKeyID, q.Get("callerKey"))
	require.Equal(t, "HmacSHA256", q.Get("signatureMethod"))

	// The signature is the HMAC of the canonical request, recomputed here.
	sig := q.Get("signature")
	q.Del("signature")
	endpoint, err := url.Parse(s.CBUIEndpoint())
	require.NoError(t, err)
	want, err := fps.SignHMAC(fps.HmacSHA256, fpstest.DefaultSecretAccessKey,
		fps.StringToSign("GET", endpoint, q))
	require.NoError(t, err)
	require.Equal(t, want, sig)

	// And the simulator takes it: the buyer can approve it.
	ret, err := s.Buy(context.Background(), link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	require.Equal(t, "SC", ret.Query().Get("status"))
}

func TestLinkRefusesBadInput(t *testing.T) {
	s := newSim(t)
	base := append(append([]string{"link"}, s.flags()...), "--pipeline", "SingleUse")

	r := fpsCmd(t, append(base, "callerReference=order-1", "transactionAmount=19.999",
		"returnURL=https://shop.example/return")...)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "transactionAmount")
	require.Contains(t, r.errOut, "at most 2 decimal places")

	r = fpsCmd(t, append(base, "callerReference=order-1", "transactionAmount=1", "returnURL=https://shop.example/return",
		"giftWrap=yes")...)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "giftWrap")

	r = fpsCmd(t, append(base, "callerReference")...)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, `"callerReference" is not name=value`)

	// A field given twice, or as a flag and as a field, is refused.
	r = fpsCmd(t, append(base, "pipelineName=MultiUse", "callerReference=order-1", "transactionAmount=1",
		"returnURL=https://shop.example/return")...)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "fps link: the pipeline is given twice: as --pipeline and as pipelineName=; give one\n")
	r = fpsCmd(t, append(base, "callerReference=order-1", "callerReference=order-2")...)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "fps link: callerReference is given twice\n")

	// Malformed endpoints are usage errors, named.
	r = fpsCmd(t, "link", "--cbui-endpoint", "not a url", "--pipeline", "SingleUse", "callerReference=order-1")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, `fps link: --cbui-endpoint must be an absolute http or https URL, got "not a url"`)
}

func TestLinkCredentialsFromEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	args := []string{"link", "--pipeline", "SingleUse", "callerReference=order-1", "transactionAmount=1.00",
		"returnURL=https://shop.example/return"}

	r := fpsCmd(t, args...)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "AWS_ACCESS_KEY_ID")
	require.Contains(t, r.errOut, "AWS_SECRET_ACCESS_KEY")

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT0")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-from-environment")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	r = fpsCmd(t, args...)
	require.Equal(t, 0, r.code, r.errOut)
	require.Contains(t, r.errOut, "FPS has no session tokens")
	u, err := url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	require.Equal(t, "AKIDFROMENVIRONMENT0", u.Query().Get("callerKey"))
	require.Equal(t, "authorize.payments-sandbox.amazon.com", u.Host)

	// A flag wins over the environment; --production picks its host.
	r = fpsCmd(t, append([]string{"link", "--production", "--access-key", "AKIDFROMFLAG00000000"}, args[1:]...)...)
	require.Equal(t, 0, r.code, r.errOut)
	u, err = url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	require.Equal(t, "AKIDFROMFLAG00000000", u.Query().Get("callerKey"))
	require.Equal(t, "authorize.payments.amazon.com", u.Host)

	r = fpsCmd(t, append([]string{"link", "--production", "--sandbox"}, args[1:]...)...)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "exclude each other")
}
