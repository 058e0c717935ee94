package setup

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, args ...string) (*Flags, error) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &Flags{}
	f.Register(fs)
	return f, f.Parse(fs, args)
}

func TestParse(t *testing.T) {
	f, err := parse(t)
	require.NoError(t, err)
	require.True(t, f.InProcess())
	require.Equal(t, fpstest.DefaultAccessKeyID, f.AccessKey, "no keys given: the simulator's test account")
	require.Equal(t, fpstest.DefaultSecretAccessKey, f.SecretKey)

	f, err = parse(t, "-api-endpoint", "http://127.0.0.1:1/", "-cbui-endpoint", "http://127.0.0.1:1/cobranded-ui/actions/start",
		"-access-key", "AKIAEXAMPLE", "-secret-key", "s3cr3t")
	require.NoError(t, err)
	require.False(t, f.InProcess())
	require.Equal(t, "AKIAEXAMPLE", f.AccessKey)

	_, err = parse(t, "-api-endpoint", "http://127.0.0.1:1/")
	require.EqualError(t, err, "-api-endpoint and -cbui-endpoint go together")
	_, err = parse(t, "-access-key", "AKIAEXAMPLE")
	require.EqualError(t, err, "give both the access key and the secret key, or neither")
	_, err = parse(t, "extra")
	require.EqualError(t, err, `unexpected argument "extra"`)
}

func TestHTTPClientTrustsTheCAFile(t *testing.T) {
	s := fpstest.NewServer(t) // https, with its own CA
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, s.CAPEM(), 0o600))

	f := &Flags{CAFile: ca}
	hc, err := f.HTTPClient()
	require.NoError(t, err)
	resp, err := hc.Get(s.CertificateURL())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	plain, err := (&Flags{}).HTTPClient()
	require.NoError(t, err)
	_, err = plain.Get(s.CertificateURL())
	require.Error(t, err, "without the CA file the simulator's certificate is not trusted")

	bad := filepath.Join(dir, "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = (&Flags{CAFile: bad}).HTTPClient()
	require.EqualError(t, err, "fps: CA file "+bad+" holds no PEM certificate")
	_, err = (&Flags{CAFile: filepath.Join(dir, "missing.pem")}).HTTPClient()
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestVerifier(t *testing.T) {
	ctx := context.Background()
	f := &Flags{AccessKey: fpstest.DefaultAccessKeyID, SecretKey: fpstest.DefaultSecretAccessKey}
	v, err := f.Verifier("https://127.0.0.1:1/", nil)
	require.NoError(t, err)
	require.Nil(t, v, "an https simulator: the integration's default")

	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.PlainHTTP = true })
	v, err = f.Verifier(s.APIEndpoint(), s.HTTPClient())
	require.NoError(t, err)
	require.IsType(t, &fps.RemoteVerifier{}, v)
	link, err := s.Client(t).LinkURL(ctx, fps.PipelineFields{"pipelineName": "SingleUse", "transactionAmount": "5",
		"callerReference": "setup-1", "returnURL": "https://shop.example/return"})
	require.NoError(t, err)
	back, err := s.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	_, err = fps.VerifyReturn(ctx, v, "https://shop.example/return", back.RawQuery)
	require.NoError(t, err, "VerifySignature checks the simulator's return")
	_, err = fps.VerifyReturn(ctx, v, "https://shop.example/return", strings.Replace(back.RawQuery, "setup-1", "setup-2", 1))
	require.ErrorIs(t, err, fps.ErrVerificationFailed)
}
