package fps_test

import (
	"net/url"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/fpskit/fps/internal/vectors"
	"github.com/stretchr/testify/require"
)

func TestSigV2Vectors(t *testing.T) {
	for _, v := range vectors.LoadSigV2(t) {
		t.Run(v.ID, func(t *testing.T) {
			params := url.Values{}
			for _, p := range v.Params {
				params.Add(p[0], p[1])
			}
			endpoint := &url.URL{Scheme: "https", Host: v.Host, Path: v.Path}
			sts := fps.StringToSign(v.Method, endpoint, params)
			require.Equal(t, v.StringToSign, sts)
			sig, err := fps.SignHMAC(fps.SignatureMethod(v.Algorithm), v.Secret, sts)
			require.NoError(t, err)
			require.Equal(t, v.Signature, sig)
		})
	}
}

func TestOutboundVectors(t *testing.T) {
	for _, v := range vectors.LoadOutbound(t) {
		t.Run(v.ID, func(t *testing.T) {
			endpoint, err := url.Parse(v.Endpoint)
			require.NoError(t, err)
			received, err := url.ParseQuery(v.Raw)
			require.NoError(t, err)
			sts := fps.OutboundStringToSign(v.Method, endpoint, received)
			require.Equal(t, v.StringToSign, sts)
			err = sigv2.VerifyRSASHA1(vectors.PublicKey(t, v.Key), []byte(sts), received.Get("signature"))
			if v.Valid {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, fps.ErrSignatureMismatch)
			}
		})
	}
}
