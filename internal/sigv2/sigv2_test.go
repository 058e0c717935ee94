package sigv2_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/fpskit/fps/internal/sigv2"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"AZaz09-_.~":         "AZaz09-_.~",
		"a b":                "a%20b",
		"a+b=c&d/e":          "a%2Bb%3Dc%26d%2Fe",
		"ü":                  "%C3%BC",
		"*'()!":              "%2A%27%28%29%21",
		"\x00\xff":           "%00%FF",
		"USD 10.00":          "USD%2010.00",
		"http://x.example/?": "http%3A%2F%2Fx.example%2F%3F",
	} {
		require.Equal(t, want, sigv2.Escape(in), "%q", in)
		require.Equal(t, "x"+want, string(sigv2.AppendEscaped([]byte("x"), []byte(in))), "%q as bytes", in)
	}
}

func TestHostAndPath(t *testing.T) {
	for raw, want := range map[string][2]string{
		"https://FPS.Example.COM:443/x":  {"fps.example.com", "fps.example.com"},
		"http://fps.example.com:80/":     {"fps.example.com", "fps.example.com"},
		"https://fps.example.com:80/":    {"fps.example.com:80", "fps.example.com"},
		"http://127.0.0.1:8080/":         {"127.0.0.1:8080", "127.0.0.1"},
		"http://[::1]:8080/":             {"[::1]:8080", "[::1]"},
		"https://[2001:DB8::1]/":         {"[2001:db8::1]", "[2001:db8::1]"},
		"https://authorize.example/cbui": {"authorize.example", "authorize.example"},
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, want[0], sigv2.Host(u), raw)
		require.Equal(t, want[1], sigv2.BareHost(u), raw)
	}
	require.Equal(t, "/", sigv2.Path(""))
	require.Equal(t, "/", sigv2.Path("/"))
	require.Equal(t, "/a%20b/c~d/%C3%BC", sigv2.Path("/a b/c~d/ü"))
	require.Equal(t, "/cobranded-ui/actions/start", sigv2.Path("/cobranded-ui/actions/start"))
}

// Sort orders by name in byte order (upper case first), then by value.
func TestSort(t *testing.T) {
	want := []sigv2.Param{
		{Name: "CallerReference", Value: "b"}, {Name: "a", Value: "1"}, {Name: "a", Value: "2"},
		{Name: "a~", Value: ""}, {Name: "b", Value: ""}, {Name: "callerReference", Value: "a"},
	}
	in := slices.Clone(want)
	slices.Reverse(in)
	in[0], in[3] = in[3], in[0]
	sigv2.Sort(in)
	require.Equal(t, want, in)
}

func TestCanonicalQueryLeavesItsInputAlone(t *testing.T) {
	params := []sigv2.Param{{Name: "b", Value: "2 2"}, {Name: "a", Value: "1"}}
	require.Equal(t, "a=1&b=2%202", sigv2.CanonicalQuery(params))
	require.Equal(t, "b", params[0].Name)
}

func TestParseForm(t *testing.T) {
	list, values, err := sigv2.ParseForm("a=1&b=x+y&a=%7E&c=")
	require.NoError(t, err)
	require.Equal(t, url.Values{"a": {"1", "~"}, "b": {"x y"}, "c": {""}}, values)
	require.ElementsMatch(t, []sigv2.Param{{Name: "a", Value: "1"}, {Name: "a", Value: "~"}, {Name: "b", Value: "x y"}, {Name: "c"}}, list)
	_, _, err = sigv2.ParseForm("a=%zz")
	require.Error(t, err)
	_, _, err = sigv2.ParseForm("a=1;b=2")
	require.Error(t, err)
}

func TestRSASHA1(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	const sts = "POST\nshop.example\n/ipn\na=1"
	sig, err := sigv2.SignRSASHA1(key, sts)
	require.NoError(t, err)
	require.NoError(t, sigv2.VerifyRSASHA1(&key.PublicKey, []byte(sts), sig))

	// Base64 broken over lines, as some senders wrote it, still decodes.
	wrapped := sig[:20] + "\r\n" + sig[20:40] + "\n" + sig[40:]
	require.NoError(t, sigv2.VerifyRSASHA1(&key.PublicKey, []byte(sts), wrapped))

	require.ErrorIs(t, sigv2.VerifyRSASHA1(&key.PublicKey, []byte(sts+"2"), sig), sigv2.ErrSignatureMismatch)
	err = sigv2.VerifyRSASHA1(&key.PublicKey, []byte(sts), "not base64!")
	require.ErrorIs(t, err, sigv2.ErrSignatureMismatch)
	require.Contains(t, err.Error(), "not base64")
}

func TestHMACMethods(t *testing.T) {
	a, err := sigv2.SignHMAC(sigv2.HmacSHA256, "k", "m")
	require.NoError(t, err)
	b, err := sigv2.SignHMAC(sigv2.HmacSHA1, "k", "m")
	require.NoError(t, err)
	require.Len(t, a, 44)
	require.Len(t, b, 28)
	_, err = sigv2.SignHMAC("HmacMD5", "k", "m")
	require.ErrorContains(t, err, `"HmacMD5" is not HmacSHA256 or HmacSHA1`)
	require.True(t, strings.HasSuffix(a, "="))
}
