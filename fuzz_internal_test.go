package fps

import (
	"context"
	"math/rand/v2"
	"net/url"
	"slices"
	"testing"

	"github.com/fpskit/fps/internal/sigv2"
)

// FuzzSignedQuery checks the canonicaliser on any parameters: the string
// to sign does not depend on their order, and the query that is sent
// decodes back to exactly the parameters that were signed, under a
// signature that is the HMAC of their string to sign.
func FuzzSignedQuery(f *testing.F) {
	for _, s := range []string{
		"Action=Pay&SenderTokenId=A3DN8J&TransactionAmount.Value=19.99&TransactionAmount.CurrencyCode=USD&CallerReference=order-1",
		"callerReference=callerReferenceSingleUse&currencyCode=USD&paymentReason=HarryPotter+1-5+DVD+set&pipelineName=SingleUse&returnURL=http%3A%2F%2Fwww.mysite.com%2Fcall_back.jsp&transactionAmount=5&version=2009-01-09",
		"a=%C3%A9&a=%00&b=~-._&c=%2B+%20&=empty-name&d=",
		"x=%FF%FE&X=1&x=0",
	} {
		f.Add(s, uint64(1))
	}
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials(testAccessKey, testSecret)})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string, seed uint64) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		for _, n := range []string{apiDialect.key, apiDialect.method, apiDialect.version, apiDialect.signature} {
			delete(vals, n)
		}
		params := sigv2.Params(vals)
		shuffled := slices.Clone(params)
		rand.New(rand.NewPCG(seed, seed>>1)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		if a, b := sigv2.StringToSign("POST", c.api, params), sigv2.StringToSign("POST", c.api, shuffled); a != b {
			t.Fatalf("order changes the string to sign:\n%q\n%q", a, b)
		}

		q, err := c.appendSignedQuery(ctx, &c.options, nil, "POST", c.api, apiDialect, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := url.ParseQuery(string(q))
		if err != nil {
			t.Fatalf("sent query %q does not decode: %v", q, err)
		}
		sig := sent.Get(apiDialect.signature)
		delete(sent, apiDialect.signature)
		want, err := SignHMAC(HmacSHA256, testSecret, StringToSign("POST", c.api, sent))
		if err != nil || sig != want {
			t.Fatalf("signature %q, want %q (%v)", sig, want, err)
		}
		if sent.Get(apiDialect.key) != testAccessKey || sent.Get(apiDialect.version) != "2" || sent.Get(apiDialect.method) != string(HmacSHA256) {
			t.Fatalf("signature parameters missing from %q", q)
		}
		for _, n := range []string{apiDialect.key, apiDialect.method, apiDialect.version} {
			delete(sent, n)
		}
		if len(sent) != len(vals) {
			t.Fatalf("sent %v, signed %v", sent, vals)
		}
		for k, vs := range vals {
			got := slices.Clone(sent[k])
			wantVals := slices.Clone(vs)
			slices.Sort(got)
			slices.Sort(wantVals)
			if !slices.Equal(got, wantVals) {
				t.Fatalf("%q: sent %q, signed %q", k, got, wantVals)
			}
		}
	})
}
