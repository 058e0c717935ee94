package fpstest_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/vectors"
	"github.com/stretchr/testify/require"
)

// TestSharedSigV2VectorsAccepted sends every shared Signature Version 2
// vector for an FPS action or a pipeline to a simulator that knows the
// vector's key and secret and whose clock reads the vector's Timestamp,
// with the vector's method and Host: the signature must verify (the
// action itself may still fail on its business rules). A changed
// parameter must then fail the signature.
func TestSharedSigV2VectorsAccepted(t *testing.T) {
	for _, v := range vectors.LoadSigV2(t) {
		params := url.Values{}
		for _, p := range v.Params {
			params.Add(p[0], p[1])
		}
		api := v.Path == "/" && slices.Contains(fpstest.Actions(), params.Get("Action"))
		cbui := v.Path == "/cobranded-ui/actions/start"
		if !api && !cbui {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			key := params.Get("AWSAccessKeyId")
			if cbui {
				key = params.Get("callerKey")
			}
			now := time.Now()
			if ts := params.Get("Timestamp"); ts != "" {
				var err error
				now, err = time.Parse(time.RFC3339, ts)
				require.NoError(t, err)
			}
			s := newServer(t, func(c *fpstest.Config) {
				c.PlainHTTP = true
				c.Clock = func() time.Time { return now }
				c.Accounts = []fpstest.Account{{AccessKeyID: key, SecretAccessKey: v.Secret, Name: "Vector"}}
			})
			if cbui {
				checkCBUIVector(t, s, v.Host, params, v.Signature)
				return
			}
			sig := func(p url.Values) (int, string) {
				var req *http.Request
				if v.Method == http.MethodGet {
					req, _ = http.NewRequest(http.MethodGet, s.URL+"/?"+p.Encode(), nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(p.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				req.Host = v.Host
				return sendReq(t, s, req)
			}
			p := cloneV(params)
			p.Set("Signature", v.Signature)
			status, body := sig(p)
			if status != http.StatusOK {
				var e errorDoc
				require.NoError(t, xml.Unmarshal([]byte(body), &e), body)
				if !slices.Contains(fps.ActionVersions(params.Get("Action")), params.Get("Version")) {
					// Refused for its version, which is checked once the
					// signature is.
					require.Equal(t, "InvalidAction", e.Code, body)
					require.Contains(t, e.Message, "not valid for version "+params.Get("Version"), body)
					return
				}
				require.NotContains(t, []string{"SignatureDoesNotMatch", "InvalidClientTokenId", "RequestExpired", "InvalidAction"}, e.Code, body)
			}
			p.Set("Action", params.Get("Action"))
			p.Set("Version", params.Get("Version")+"x")
			status, body = sig(p)
			require.NotEqual(t, http.StatusOK, status, body)
		})
	}
}

func cloneV(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func checkCBUIVector(t *testing.T, s *fpstest.Server, host string, params url.Values, signature string) {
	if params.Get("returnURL") == "" {
		t.Skip("no returnURL: the simulator shows an error page before the signature")
	}
	p := cloneV(params)
	p.Set("signature", signature)
	pipeline := "http://" + host + "/cobranded-ui/actions/start?"
	u, err := s.Buy(context.Background(), pipeline+p.Encode(), fpstest.BuyerChoice{Action: fpstest.Abandon})
	require.NoError(t, err)
	msg := u.Query().Get("errorMessage")
	require.NotContains(t, msg, "signature", msg)
	require.NotContains(t, msg, "callerKey", msg)
	p.Set("callerReference", p.Get("callerReference")+"x")
	u, err = s.Buy(context.Background(), pipeline+p.Encode(), fpstest.BuyerChoice{Action: fpstest.Abandon})
	require.NoError(t, err)
	require.Contains(t, u.Query().Get("errorMessage"), "signature")
}
