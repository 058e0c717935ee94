package fps_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
	"github.com/fpskit/fps"
	"github.com/stretchr/testify/require"
)

func TestNewRequiresEnvironment(t *testing.T) {
	_, err := fps.New(fps.Options{Credentials: fps.StaticCredentials(testKeyID, testSecret)})
	require.ErrorContains(t, err, "Options.Environment is required")

	_, err = fps.New(fps.Options{Environment: "staging", Credentials: fps.StaticCredentials(testKeyID, testSecret)})
	require.ErrorContains(t, err, `Options.Environment "staging" is not fps.Sandbox or fps.Production`)
}

func TestNewRequiresCredentials(t *testing.T) {
	_, err := fps.New(fps.Options{Environment: fps.Sandbox})
	require.ErrorContains(t, err, "Options.Credentials is required")
}

func TestEnvironmentHosts(t *testing.T) {
	// Both hosts of an environment come from one table.
	want := map[fps.Environment][2]string{
		fps.Sandbox: {"https://fps.sandbox.amazonaws.com/",
			"https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start"},
		fps.Production: {"https://fps.amazonaws.com/",
			"https://authorize.payments.amazon.com/cobranded-ui/actions/start"},
	}
	for env, hosts := range want {
		c := newTestClient(t, func(o *fps.Options) { o.Environment = env })
		require.Equal(t, env, c.Environment())
		require.Equal(t, hosts[0], c.ServiceURL())
		require.Equal(t, hosts[1], c.CBUIEndpoint())
		e, ok := fps.EndpointsFor(env)
		require.True(t, ok)
		require.Equal(t, fps.Endpoints{API: hosts[0], CBUI: hosts[1]}, e)
	}
	_, ok := fps.EndpointsFor("")
	require.False(t, ok)
}

func TestEnvironmentForTestMode(t *testing.T) {
	require.Equal(t, fps.Sandbox, fps.EnvironmentForTestMode(true))
	require.Equal(t, fps.Production, fps.EnvironmentForTestMode(false))
}

func TestEndpointOverrides(t *testing.T) {
	for _, env := range []fps.Environment{fps.Sandbox, fps.Production} {
		c := newTestClient(t, func(o *fps.Options) {
			o.Environment = env
			o.APIEndpoint = "http://127.0.0.1:8080"
			o.CBUIEndpoint = "http://127.0.0.1:8080/cobranded-ui/actions/start"
		})
		require.Equal(t, env, c.Environment(), "an override does not change the environment")
		require.Equal(t, "http://127.0.0.1:8080/", c.ServiceURL())
		require.Equal(t, "http://127.0.0.1:8080/cobranded-ui/actions/start", c.CBUIEndpoint())
	}
	for _, bad := range []string{"127.0.0.1:8080", "ftp://127.0.0.1/", "http:///x", "http://127.0.0.1/?a=b", "http://127.0.0.1/#f"} {
		_, err := fps.New(fps.Options{
			Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, testSecret), APIEndpoint: bad,
		})
		require.ErrorContains(t, err, "Options.APIEndpoint", bad)
		_, err = fps.New(fps.Options{
			Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, testSecret), CBUIEndpoint: bad,
		})
		require.ErrorContains(t, err, "Options.CBUIEndpoint", bad)
	}
}

func TestSignatureMethodAndAPIVersion(t *testing.T) {
	c := newTestClient(t)
	require.Equal(t, fps.HmacSHA256, c.Options().SignatureMethod)
	require.Equal(t, "2008-09-17", c.Options().APIVersion)

	c = newTestClient(t, func(o *fps.Options) { o.SignatureMethod = fps.HmacSHA1; o.APIVersion = "2010-08-28" })
	require.Equal(t, fps.HmacSHA1, c.Options().SignatureMethod)
	require.Equal(t, "2010-08-28", c.Options().APIVersion)

	_, err := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, testSecret),
		SignatureMethod: "HmacMD5"})
	require.ErrorContains(t, err, `Options.SignatureMethod "HmacMD5"`)
	_, err = fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, testSecret),
		APIVersion: "2007-01-08"})
	require.ErrorContains(t, err, `Options.APIVersion "2007-01-08"`)
	_, err = fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, testSecret),
		MaxAttempts: -1})
	require.ErrorContains(t, err, "Options.MaxAttempts")
}

func TestNewWrapsCredentialsInCache(t *testing.T) {
	calls := 0
	provider := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		calls++
		return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, nil
	})
	c, err := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: provider})
	require.NoError(t, err)
	_, isCache := c.Options().Credentials.(*aws.CredentialsCache)
	require.True(t, isCache)
	for range 3 {
		_, err := c.PipelineURL(context.Background(), validSingleUse())
		require.NoError(t, err)
	}
	require.Equal(t, 1, calls, "credentials are retrieved once and cached")

	cache := aws.NewCredentialsCache(provider)
	c, err = fps.New(fps.Options{Environment: fps.Sandbox, Credentials: cache})
	require.NoError(t, err)
	require.Same(t, cache, c.Options().Credentials, "a cache is not wrapped twice")
}

func TestOptionFunctionsApplyInOrder(t *testing.T) {
	c, err := fps.New(fps.Options{Credentials: fps.StaticCredentials(testKeyID, testSecret)},
		func(o *fps.Options) { o.Environment = fps.Production },
		func(o *fps.Options) { o.Environment = fps.Sandbox })
	require.NoError(t, err)
	require.Equal(t, fps.Sandbox, c.Environment())
}

func TestNewFromConfig(t *testing.T) {
	httpClient := &http.Client{}
	var logged bytes.Buffer
	base := "http://127.0.0.1:9999/"
	cfg := aws.Config{
		Credentials:  fps.StaticCredentials(testKeyID, testSecret),
		HTTPClient:   httpClient,
		BaseEndpoint: &base,
		Logger: logging.LoggerFunc(func(class logging.Classification, format string, v ...any) {
			fmt.Fprintf(&logged, "%s "+format+"\n", append([]any{class}, v...)...)
		}),
	}
	_, err := fps.NewFromConfig(cfg)
	require.ErrorContains(t, err, "Options.Environment is required", "NewFromConfig does not pick an environment")

	c, err := fps.NewFromConfig(cfg, func(o *fps.Options) { o.Environment = fps.Production })
	require.NoError(t, err)
	require.Equal(t, fps.Production, c.Environment())
	require.Same(t, httpClient, c.Options().HTTPClient)
	require.Equal(t, base, c.ServiceURL())
	require.Equal(t, "https://authorize.payments.amazon.com/cobranded-ui/actions/start", c.CBUIEndpoint())
	creds, err := c.Options().Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, testKeyID, creds.AccessKeyID)
	require.Equal(t, testSecret, creds.SecretAccessKey)

	require.NotNil(t, c.Options().Logger)
	c.Options().Logger.Warn("hello", "attempt", 2)
	require.Equal(t, "WARN hello attempt=2\n", logged.String())
}

func TestStringToSignLogRedactsKeys(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, func(o *fps.Options) { o.Logger = logger; o.LogStringToSign = true })
	link, err := c.PipelineURL(context.Background(), validSingleUse())
	require.NoError(t, err)
	_, sig, _ := strings.Cut(link, "&signature=")
	out := buf.String()
	require.Contains(t, out, "string to sign")
	require.Contains(t, out, "callerKey=REDACTED")
	require.NotContains(t, out, testKeyID)
	require.NotContains(t, out, testSecret)
	require.NotContains(t, out, sig)
}
