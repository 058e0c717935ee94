package fps

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// Spec §2.4 V3: GetTransactionStatus signed for the API (upper camel
// names) gives the published signature, for GET and for POST.
func TestSignedQueryAPIDialectSpecV3(t *testing.T) {
	c, err := New(Options{
		Environment: Sandbox,
		Credentials: StaticCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
	})
	require.NoError(t, err)
	const canonical = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Action=GetTransactionStatus" +
		"&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2009-10-06T09%3A12%3A06.921Z" +
		"&TransactionId=14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM&Version=2008-09-17"
	for method, sig := range map[string]string{
		"GET":  "gtI4l/YQDtMrSPf3s4BCZXhOKLxojegftxHf/amLTdg=",
		"POST": "ulNev42jtES8PW13P5MCRHOzcBVEMx92218o+MUfWvI=",
	} {
		params := []param{
			{Name: "Action", Value: "GetTransactionStatus"},
			{Name: "Timestamp", Value: "2009-10-06T09:12:06.921Z"},
			{Name: "TransactionId", Value: "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM"},
			{Name: "Version", Value: "2008-09-17"},
		}
		q, err := c.appendSignedQuery(context.Background(), &c.options, nil, method, c.api, apiDialect, params)
		require.NoError(t, err)
		require.Equal(t, canonical+"&Signature="+url.QueryEscape(sig), string(q), method)
	}
}

func TestClockOption(t *testing.T) {
	fixed := time.Date(2009, 10, 6, 9, 12, 6, 921e6, time.UTC)
	c, err := New(Options{
		Environment: Sandbox,
		Credentials: StaticCredentials("id", "secret"),
		Clock:       func() time.Time { return fixed },
	})
	require.NoError(t, err)
	require.Equal(t, fixed, c.options.Clock())

	c, err = New(Options{Environment: Sandbox, Credentials: StaticCredentials("id", "secret")})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), c.options.Clock(), time.Minute, "time.Now by default")
}

// An amount is checked for its currency and its value, each problem
// reported under its own name.
func TestAmountCheck(t *testing.T) {
	check := func(a Amount) []*ValidationError {
		var b builder
		b.amount("TransactionAmount.Value", "TransactionAmount.CurrencyCode", a, true)
		return b.errs
	}
	require.Empty(t, check(USD(decimal.RequireFromString("1.50"))))
	require.Empty(t, check(Amount{Value: decimal.RequireFromString("2")}))

	require.Equal(t, []*ValidationError{{Field: "TransactionAmount.CurrencyCode", Rule: `must be USD, got "EUR"`}},
		check(Amount{Value: decimal.RequireFromString("2"), CurrencyCode: "EUR"}))

	errs := check(Amount{Value: decimal.RequireFromString("0.001"), CurrencyCode: "EUR"})
	require.Len(t, errs, 2)
	require.Equal(t, "TransactionAmount.CurrencyCode", errs[0].Field)
	require.Equal(t, "TransactionAmount.Value", errs[1].Field)
	require.Contains(t, errs[1].Rule, "2 decimal places")

	errs = check(USD(decimal.RequireFromString("0")))
	require.Len(t, errs, 1)
	require.Equal(t, "TransactionAmount.Value", errs[0].Field)
}

// TestMACCacheFollowsTheSecret signs with credentials that rotate, and
// with both methods, concurrently: every signature must be the one
// computed from scratch with the secret and method of its call.
func TestMACCacheFollowsTheSecret(t *testing.T) {
	var m macCache
	msg := []byte("POST\nfps.sandbox.amazonaws.com\n/\nAction=Pay")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				secret := []string{"secret-a", "secret-b"}[(g+i)%2]
				method := []SignatureMethod{HmacSHA256, HmacSHA1}[(i/2)%2]
				got, err := m.appendHMAC(nil, method, secret, msg[:10], msg[10:])
				require.NoError(t, err)
				want, err := SignHMAC(method, secret, string(msg))
				require.NoError(t, err)
				require.Equal(t, want, string(got), "%s %s", secret, method)
			}
		}()
	}
	wg.Wait()
	_, err := m.appendHMAC(nil, "HmacMD5", "s", msg)
	require.ErrorContains(t, err, "HmacMD5")
}
