package fps_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The end-to-end tests run a shop (an httptest server with a ReturnHandler
// at /return and an IPNHandler at /ipn) against the simulator: the
// simulator signs the return URLs and IPNs, the shop's verifiers check
// them (the local one fetching the simulator's certificate over https, the
// remote one calling VerifySignature), and the notifications land in a
// real store.

// verifiers returns both verifiers of c, a client of s.
func verifiers(s *fpstest.Server, c *fps.Client) map[string]fps.Verifier {
	return map[string]fps.Verifier{
		"local":  fps.NewLocalVerifierForClient(c, func(o *fps.LocalVerifierOptions) { o.RootCAs = s.CAPool() }),
		"remote": fps.NewRemoteVerifier(c),
	}
}

// ipnSink collects the IPN bodies the simulator sends it.
func ipnSink(t *testing.T) (*httptest.Server, <-chan string) {
	bodies := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	t.Cleanup(srv.Close)
	return srv, bodies
}

func nextBody(t *testing.T, bodies <-chan string) string {
	t.Helper()
	select {
	case b := <-bodies:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no IPN arrived")
		return ""
	}
}

func TestSimulatorMessagesPassBothVerifiers(t *testing.T) {
	ctx := context.Background()
	s := fpstest.NewServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 })
	c := s.Client(t)
	sink, bodies := ipnSink(t)
	ipnURL := sink.URL + "/fps/ipn"
	require.NoError(t, s.SetIPNURL(fpstest.DefaultAccessKeyID, ipnURL))

	ref := fps.NewCallerReference()
	pipelineURL, err := c.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: returnEndpoint, CallerReference: ref},
		TransactionAmount: decimal.RequireFromString("12.50"),
		PaymentReason:     "Two books",
	})
	require.NoError(t, err)
	ret, err := s.Buy(ctx, pipelineURL, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)
	token := ret.Query().Get("tokenID")
	require.NotEmpty(t, token)

	_, err = c.Purchase(ctx, decimal.RequireFromString("12.50"), fps.PurchaseOptions{TokenID: token, CallerReference: ref})
	require.NoError(t, err)
	ipn := nextBody(t, bodies)

	for name, v := range verifiers(s, c) {
		t.Run(name, func(t *testing.T) {
			r, err := fps.VerifyReturn(ctx, v, returnEndpoint, ret.RawQuery)
			require.NoError(t, err)
			require.Equal(t, fps.PipelineStatusSuccessCC, r.Status)
			require.Equal(t, ref, r.CallerReference)
			require.Equal(t, token, r.TokenID)
			require.Equal(t, "main", r.Params.Get("shop"), "the return URL's own query is signed too")

			n, err := fps.VerifyIPN(ctx, v, ipnURL, []byte(ipn))
			require.NoError(t, err)
			require.Equal(t, ref, n.CallerReference)
			require.Equal(t, fps.NotificationOperationPay, n.Operation)
			require.Equal(t, fps.TransactionStatusPending, n.TransactionStatus)
			require.True(t, n.TransactionAmount.Value.Equal(decimal.RequireFromString("12.50")))

			tampered := map[string]struct {
				verify func() error
			}{
				"return token": {func() error {
					last := "X"
					if strings.HasSuffix(token, last) {
						last = "Y"
					}
					_, err := fps.VerifyReturn(ctx, v, returnEndpoint, strings.Replace(ret.RawQuery, token, token[:len(token)-1]+last, 1))
					return err
				}},
				"return for another shop": {func() error {
					_, err := fps.VerifyReturn(ctx, v, "https://other.example/fps/return", ret.RawQuery)
					return err
				}},
				"IPN amount": {func() error {
					_, err := fps.VerifyIPN(ctx, v, ipnURL, []byte(strings.Replace(ipn, "USD+12.50", "USD+1.25", 1)))
					return err
				}},
				"IPN status": {func() error {
					_, err := fps.VerifyIPN(ctx, v, ipnURL, []byte(strings.Replace(ipn, "PENDING", "SUCCESS", 1)))
					return err
				}},
				"IPN received elsewhere": {func() error {
					_, err := fps.VerifyIPN(ctx, v, sink.URL+"/other", []byte(ipn))
					return err
				}},
			}
			for what, c := range tampered {
				err := c.verify()
				require.Error(t, err, what)
				require.True(t, errors.Is(err, fps.ErrSignatureMismatch) || errors.Is(err, fps.ErrVerificationFailed), "%s: %v", what, err)
			}
		})
	}
}
