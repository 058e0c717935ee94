package fps_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestDefaultClientRefusesRedirects: a 307 or 308 from the API endpoint
// must not make the default HTTP client send the signed request (body,
// access key and signature) to another host.
func TestDefaultClientRefusesRedirects(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var leaked atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				leaked.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				_, _ = io.WriteString(w, `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM</TransactionId><TransactionStatus>Success</TransactionStatus></PayResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PayResponse>`)
			}))
			defer other.Close()
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/", code)
			}))
			defer api.Close()

			c, err := fps.New(fps.Options{
				Environment: fps.Sandbox,
				Credentials: fps.StaticCredentials(testKeyID, testSecret),
				APIEndpoint: api.URL + "/",
			})
			require.NoError(t, err)
			_, err = c.Pay(context.Background(), &fps.PayInput{
				SenderTokenID: "T", TransactionAmount: fps.USD(decimal.NewFromInt(1)), CallerReference: "order-redirect",
			})
			require.Zero(t, leaked.Load(), "the signed request was sent to the redirect target")
			var ae *fps.APIError
			require.True(t, errors.As(err, &ae), "want an *APIError, got %v", err)
			require.Equal(t, code, ae.StatusCode)
			require.False(t, fps.MayHaveMoved(err), "a redirect is an answer: nothing was done")
			require.NotContains(t, err.Error(), testSecret)
		})
	}
}
