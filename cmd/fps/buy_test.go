package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuyApprovesAndDeclines(t *testing.T) {
	s := newSim(t)
	link := s.link(t, "SingleUse", "callerReference=order-buy", "transactionAmount=4.00",
		"returnURL=https://shop.example/return", "paymentReason=Widget")

	r := fpsCmd(t, "buy", "--ca-file", s.caFile, "--payment-method", "CC", link)
	require.Equal(t, 0, r.code, r.errOut)
	ret, err := url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	require.Equal(t, "shop.example", ret.Host)
	require.Equal(t, "SC", ret.Query().Get("status"), "approved paying by credit card")
	require.NotEmpty(t, ret.Query().Get("tokenID"))

	// What fps buy printed is signed: fps verify takes it.
	v := verifyCmd(t, nil, "--allow-host", s.host(t), "--ca-file", s.caFile, ret.String())
	require.Equal(t, 0, v.code, v.out+v.errOut)

	link = s.link(t, "SingleUse", "callerReference=order-decline", "transactionAmount=4.00",
		"returnURL=https://shop.example/return")
	r = fpsCmd(t, "buy", "--ca-file", s.caFile, "--action", "decline", link)
	require.Equal(t, 0, r.code, r.errOut)
	ret, err = url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	require.Equal(t, "NP", ret.Query().Get("status"))

	// A pipeline URL that does not hold its signature: the return URL
	// all the same, and exit status 1 with the sandbox's error.
	link = s.link(t, "SingleUse", "callerReference=order-ce", "transactionAmount=4.00",
		"returnURL=https://shop.example/return")
	r = fpsCmd(t, "buy", "--ca-file", s.caFile, strings.Replace(link, "order-ce", "order-forged", 1))
	require.Equal(t, 1, r.code, r.out)
	ret, err = url.Parse(strings.TrimSpace(r.out))
	require.NoError(t, err)
	require.Equal(t, "CE", ret.Query().Get("status"))
	require.Equal(t, "fps buy: the pipeline answered status CE: "+ret.Query().Get("errorMessage")+"\n", r.errOut)
}

func TestBuyErrors(t *testing.T) {
	s := newSim(t)
	link := s.link(t, "SingleUse", "callerReference=order-buy-err", "transactionAmount=4.00",
		"returnURL=https://shop.example/return")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--payment-method", "Cash", link}, `--payment-method must be ABT, ACH or CC, got "Cash"`},
		{[]string{"--action", "ponder", link}, `--action must be approve, decline or abandon, got "ponder"`},
		{nil, "give one PIPELINE_URL, got 0 arguments"},
		{[]string{"not a url"}, `PIPELINE_URL must be a signed pipeline URL (https://host/cobranded-ui/actions/start?...), got "not a url"`},
		{[]string{"--ca-file", "/no/such/ca.pem", link}, "--ca-file: fps: CA file: open /no/such/ca.pem"},
	} {
		r := fpsCmd(t, append([]string{"buy"}, c.args...)...)
		require.Equal(t, 2, r.code, c.args)
		require.Empty(t, r.out)
		require.Contains(t, r.errOut, "fps buy: "+c.want)
	}

	// Without the sandbox's CA: not trusted, and the flag that fixes it.
	r := fpsCmd(t, "buy", link)
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "certificate signed by unknown authority")
	require.Contains(t, r.errOut, "--ca-file names the CA certificate to trust")

	// The sandbox refuses a payment method the pipeline does not allow.
	link = s.link(t, "SingleUse", "callerReference=order-abt", "transactionAmount=4.00",
		"returnURL=https://shop.example/return", "paymentMethod=ABT")
	r = fpsCmd(t, "buy", "--ca-file", s.caFile, "--payment-method", "CC", link)
	require.Equal(t, 1, r.code, r.out)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, `answered 400 Bad Request: fpstest: payment method "CC" is not allowed by this pipeline (ABT)`)
}
