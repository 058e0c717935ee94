package fpstest_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// partDoc is one TransactionPart, its elements in document order.
type partDoc struct {
	Elems []struct {
		XMLName xml.Name
		Text    string `xml:",chardata"`
		Value   string `xml:"Value"`
	} `xml:",any"`
}

func (p partDoc) String() string {
	var out []string
	for _, e := range p.Elems {
		v := e.Text
		if e.Value != "" {
			v = e.Value
		}
		out = append(out, e.XMLName.Local+"="+v)
	}
	return strings.Join(out, " ")
}

// activityParts returns the TransactionParts of each transaction of the
// caller's activity, by transaction id.
func activityParts(t *testing.T, s *fpstest.Server) map[string][]string {
	t.Helper()
	status, body := call(t, s, "GetAccountActivity", map[string]string{"StartDate": s.Clock().Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	require.Equal(t, http.StatusOK, status, body)
	var d struct {
		Tx []struct {
			ID    string    `xml:"TransactionId"`
			Parts []partDoc `xml:"TransactionPart"`
		} `xml:"GetAccountActivityResult>Transaction"`
	}
	require.NoError(t, xml.Unmarshal([]byte(body), &d), body)
	out := map[string][]string{}
	for _, tx := range d.Tx {
		for _, p := range tx.Parts {
			out[tx.ID] = append(out[tx.ID], p.String())
		}
	}
	return out
}

// The docs' GetAccountActivity sample gives each transaction a Caller part
// with the CallerReference and description, and a Recipient part (a
// Sender part for a refund), each with the fees it paid.
func TestAccountActivityTransactionParts(t *testing.T) {
	s := newServer(t)
	name := fpstest.DefaultAccount().Name
	tok := install(t, s, "ABT", fpstest.TokenMultiUse)
	p := okTxFn(t)(call(t, s, "Pay", map[string]string{"SenderTokenId": tok, "TransactionAmount.Value": "20",
		"CallerReference": "parts-pay", "CallerDescription": "order 7"}))
	r := okTxFn(t)(call(t, s, "Refund", map[string]string{"TransactionId": p.TransactionID, "CallerReference": "parts-refund"}))

	parts := activityParts(t, s)
	require.Equal(t, []string{
		"Role=Caller Name=" + name + " Reference=parts-pay Description=order 7 FeesPaid=0.000000",
		"Role=Recipient Name=" + name + " FeesPaid=0.880000", // 2.9% of 20.00 + 0.30
	}, parts[p.TransactionID])
	require.Equal(t, []string{
		"Role=Caller Name=" + name + " Reference=parts-refund FeesPaid=0.000000",
		"Role=Sender Name=" + name + " FeesPaid=-0.880000",
	}, parts[r.TransactionID])
}

// The docs' samples leave FriendlyName out of a token that has none.
func TestTokenWithoutFriendlyNameOmitsIt(t *testing.T) {
	s := newServer(t)
	tok := multiUseToken(t, s, "no-name", "ABT", map[string]string{"globalAmountLimit": "10"})
	for _, c := range []struct {
		action string
		params map[string]string
	}{
		{"GetTokens", nil},
		{"GetTokenByCaller", map[string]string{"TokenId": tok}},
	} {
		status, body := call(t, s, c.action, c.params)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "<TokenId>"+tok+"</TokenId><TokenStatus>Active</TokenStatus>", c.action)
		require.NotContains(t, body, "FriendlyName", c.action)
	}
}

// On the scheme's default port the certificate URL, like every URL of
// the simulator, carries no port.
func TestCertificateURLWithoutDefaultPort(t *testing.T) {
	for _, c := range []struct {
		plain bool
		port  string
		want  string
	}{{true, "80", "http://127.0.0.1/certs/"}, {false, "443", "https://127.0.0.1/certs/"}} {
		s, err := fpstest.Start(fpstest.Config{Addr: "127.0.0.1:" + c.port, PlainHTTP: c.plain, SigningKey: testKey})
		if err != nil {
			t.Logf("port %s not available here (%v); skipped", c.port, err)
			continue
		}
		t.Cleanup(s.Close)
		require.True(t, strings.HasPrefix(s.CertificateURL(), c.want), s.CertificateURL())
		require.Equal(t, strings.TrimSuffix(c.want, "/certs/"), s.URL)
		resp, err := s.HTTPClient().Get(s.CertificateURL())
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}
