package fps_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/rules"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

const (
	testKeyID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sandboxCBUI = "https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start"
)

func newTestClient(t testing.TB, optFns ...func(*fps.Options)) *fps.Client {
	t.Helper()
	c, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(testKeyID, testSecret),
	}, optFns...)
	require.NoError(t, err)
	return c
}

// verifiedQuery checks that rawURL starts at endpoint, that its query is
// exactly the canonical query of its parameters followed by the
// signature, and that the signature is the HMAC of the string to sign
// under testSecret. It returns the parameters, signature left out, one
// value each.
func verifiedQuery(t *testing.T, rawURL, endpoint string, method fps.SignatureMethod) map[string]string {
	t.Helper()
	base, query, ok := strings.Cut(rawURL, "?")
	require.True(t, ok, "no query in %s", rawURL)
	require.Equal(t, endpoint, base)
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	values, err := url.ParseQuery(query)
	require.NoError(t, err)
	require.Len(t, values["signature"], 1)
	sig := values.Get("signature")
	values.Del("signature")
	require.Equal(t, sigv2.CanonicalQuery(sigv2.Params(values))+"&signature="+sigv2.Escape(sig), query,
		"the URL must carry exactly what was signed, then the signature")
	sts := fps.StringToSign("GET", &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}, values)
	want, err := fps.SignHMAC(method, testSecret, sts)
	require.NoError(t, err)
	require.Equal(t, want, sig)

	out := make(map[string]string, len(values))
	for k, vs := range values {
		require.Len(t, vs, 1, "parameter %s given twice", k)
		out[k] = vs[0]
	}
	return out
}

// signedBy are the parameters the client adds to every pipeline URL.
func signedBy(pipeline string, extra map[string]string) map[string]string {
	m := map[string]string{
		"callerKey":        testKeyID,
		"signatureMethod":  "HmacSHA256",
		"signatureVersion": "2",
		"version":          "2009-01-09",
		"pipelineName":     pipeline,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

var (
	start  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // 1767225600
	expiry = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) // 1798761600
)

func common(ref string) fps.PipelineCommon {
	return fps.PipelineCommon{
		ReturnURL:          "https://shop.example.com/fps/return?order=7",
		CallerReference:    ref,
		CobrandingStyle:    fps.CobrandingBanner,
		CobrandingURL:      "https://shop.example.com/logo.png",
		WebsiteDescription: "Bob's \"Best\" <Store>",
	}
}

var commonWant = map[string]string{
	"returnURL":          "https://shop.example.com/fps/return?order=7",
	"cobrandingStyle":    "banner",
	"cobrandingUrl":      "https://shop.example.com/logo.png",
	"websiteDescription": "Bob's \"Best\" <Store>",
}

func withCommon(ref string, m map[string]string) map[string]string {
	out := map[string]string{"callerReference": ref}
	for k, v := range commonWant {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestPipelineURLEveryPipeline(t *testing.T) {
	address := fps.ShippingAddress{
		Name: "Ann Buyer", Line1: "1 Main St", Line2: "Apt 2", City: "Seattle",
		State: "WA", Country: "US", Zip: "98101", PhoneNumber: "206-555-0100",
	}
	addressWant := map[string]string{
		"collectShippingAddress": "False",
		"addressName":            "Ann Buyer", "addressLine1": "1 Main St", "addressLine2": "Apt 2",
		"city": "Seattle", "state": "WA", "country": "US", "zip": "98101", "phoneNumber": "206-555-0100",
	}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	cases := []struct {
		name string
		p    fps.Pipeline
		want map[string]string
	}{
		{"SingleUse", &fps.SingleUsePipeline{
			PipelineCommon:    common("su-1"),
			TransactionAmount: dec("19.9"),
			CurrencyCode:      "USD",
			PaymentReason:     "Order 7",
			PaymentMethods:    []fps.PaymentMethod{fps.PaymentMethodCC, fps.PaymentMethodABT},
			RecipientToken:    "RT1",
			Reserve:           aws.Bool(true),
			ItemTotal:         dec("15"), Shipping: dec("2.5"), Handling: dec("1"),
			Discount: dec("0.6"), Tax: dec("1.5"), GiftWrapping: dec("0.50"),
			CollectShippingAddress: aws.Bool(false),
			Address:                address,
			DisableGuest:           aws.Bool(true),
		}, merge(withCommon("su-1", map[string]string{
			"transactionAmount": "19.90", "currencyCode": "USD", "paymentReason": "Order 7",
			"paymentMethod": "CC,ABT", "recipientToken": "RT1", "reserve": "True",
			"itemTotal": "15.00", "shipping": "2.50", "handling": "1.00", "discount": "0.60",
			"tax": "1.50", "giftWrapping": "0.50", "disableGuest": "True",
		}), addressWant)},
		{"MultiUse", &fps.MultiUsePipeline{
			PipelineCommon:         common("mu-1"),
			GlobalAmountLimit:      dec("100"),
			AmountType:             fps.AmountTypeMaximum,
			TransactionAmount:      dec("10"),
			CurrencyCode:           "USD",
			PaymentReason:          "Subscription",
			PaymentMethods:         []fps.PaymentMethod{fps.PaymentMethodABT, fps.PaymentMethodACH, fps.PaymentMethodCC},
			IsRecipientCobranding:  aws.Bool(true),
			RecipientTokenList:     []string{"R1", "R2"},
			UsageLimit1:            fps.UsageLimit{Type: fps.UsageLimitAmount, Value: dec("50"), Period: "1 Month"},
			UsageLimit2:            fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("3"), Period: "2 Weeks"},
			ValidityStart:          start,
			ValidityExpiry:         expiry,
			CollectShippingAddress: aws.Bool(false),
			Address:                address,
		}, merge(withCommon("mu-1", map[string]string{
			"globalAmountLimit": "100.00", "amountType": "Maximum", "transactionAmount": "10.00",
			"currencyCode": "USD", "paymentReason": "Subscription", "paymentMethod": "ABT,ACH,CC",
			"isRecipientCobranding": "True", "recipientTokenList": "R1,R2",
			"usageLimitType1": "Amount", "usageLimitValue1": "50.00", "usageLimitPeriod1": "1 Month",
			"usageLimitType2": "Count", "usageLimitValue2": "3", "usageLimitPeriod2": "2 Weeks",
			"validityStart": "1767225600", "validityExpiry": "1798761600",
		}), addressWant)},
		{"Recurring", &fps.RecurringPipeline{
			PipelineCommon:         common("rc-1"),
			TransactionAmount:      dec("9.99"),
			RecurringPeriod:        "1 Month",
			CurrencyCode:           "USD",
			PaymentReason:          "Monthly box",
			PaymentMethods:         []fps.PaymentMethod{fps.PaymentMethodCC},
			RecipientToken:         "RT2",
			ValidityStart:          start,
			ValidityExpiry:         expiry,
			CollectShippingAddress: aws.Bool(false),
			Address:                address,
		}, merge(withCommon("rc-1", map[string]string{
			"transactionAmount": "9.99", "recurringPeriod": "1 Month", "currencyCode": "USD",
			"paymentReason": "Monthly box", "paymentMethod": "CC", "recipientToken": "RT2",
			"validityStart": "1767225600", "validityExpiry": "1798761600",
		}), addressWant)},
		{"Recipient", &fps.RecipientPipeline{
			PipelineCommon:   common("rp-1"),
			MaxFixedFee:      dec("0.25"),
			MaxVariableFee:   dec("5"),
			RecipientPaysFee: aws.Bool(true),
			PaymentMethods:   []fps.PaymentMethod{fps.PaymentMethodABT},
			ValidityStart:    start,
			ValidityExpiry:   expiry,
		}, withCommon("rp-1", map[string]string{
			"maxFixedFee": "0.25", "maxVariableFee": "5", "recipientPaysFee": "True",
			"paymentMethod": "ABT", "validityStart": "1767225600", "validityExpiry": "1798761600",
		})},
		{"EditToken", &fps.EditTokenPipeline{
			PipelineCommon: common("et-1"),
			TokenID:        "I39FL7SSHU3S6DPH",
			PaymentMethods: []fps.PaymentMethod{fps.PaymentMethodACH},
		}, withCommon("et-1", map[string]string{"tokenId": "I39FL7SSHU3S6DPH", "paymentMethod": "ACH"})},
		{"SetupPrepaid", &fps.SetupPrepaidPipeline{
			PipelineCommon:         common("spp-1"),
			CallerReferenceSender:  "spp-s-1",
			CallerReferenceFunding: "spp-f-1",
			FundingAmount:          dec("25"),
			PaymentMethods:         []fps.PaymentMethod{fps.PaymentMethodCC},
			PaymentReason:          "Gift card",
			ValidityStart:          start,
			ValidityExpiry:         expiry,
		}, withCommon("spp-1", map[string]string{
			"callerReferenceSender": "spp-s-1", "callerReferenceFunding": "spp-f-1",
			"fundingAmount": "25.00", "paymentMethod": "CC", "paymentReason": "Gift card",
			"validityStart": "1767225600", "validityExpiry": "1798761600",
		})},
		{"SetupPostpaid", &fps.SetupPostpaidPipeline{
			PipelineCommon:            common("spo-1"),
			CallerReferenceSender:     "spo-s-1",
			CallerReferenceSettlement: "spo-st-1",
			CreditLimit:               dec("50"),
			GlobalAmountLimit:         dec("500"),
			PaymentMethods:            []fps.PaymentMethod{fps.PaymentMethodCC, fps.PaymentMethodACH},
			PaymentReason:             "Tab",
			UsageLimit1:               fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("10")},
			UsageLimit2:               fps.UsageLimit{Type: fps.UsageLimitAmount, Value: dec("99.5"), Period: "1 Year"},
			ValidityStart:             start,
			ValidityExpiry:            expiry,
		}, withCommon("spo-1", map[string]string{
			"callerReferenceSender": "spo-s-1", "callerReferenceSettlement": "spo-st-1",
			"creditLimit": "50.00", "globalAmountLimit": "500.00", "paymentMethod": "CC,ACH",
			"paymentReason": "Tab", "usageLimitType1": "Count", "usageLimitValue1": "10",
			"usageLimitType2": "Amount", "usageLimitValue2": "99.50", "usageLimitPeriod2": "1 Year",
			"validityStart": "1767225600", "validityExpiry": "1798761600",
		})},
	}
	c := newTestClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			link, err := c.PipelineURL(context.Background(), tc.p)
			require.NoError(t, err)
			got := verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA256)
			require.Equal(t, signedBy(tc.name, tc.want), got)
		})
	}
}

func TestPipelineURLMinimalSendsOnlyWhatWasAsked(t *testing.T) {
	c := newTestClient(t)
	link, err := c.PipelineURL(context.Background(), &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "order-1"},
		TransactionAmount: dec("5"),
	})
	require.NoError(t, err)
	got := verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA256)
	require.Equal(t, signedBy("SingleUse", map[string]string{
		"returnURL": "https://shop.example.com/r", "callerReference": "order-1", "transactionAmount": "5.00",
	}), got)
	require.NotContains(t, link, "CallerReference=", "no second, capitalised CallerReference")
	require.NotContains(t, link, "=&", "no empty parameter")
}

func TestPipelineURLFalseIsSentNilIsNot(t *testing.T) {
	c := newTestClient(t)
	p := &fps.RecipientPipeline{
		PipelineCommon:   fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "rp-2"},
		RecipientPaysFee: aws.Bool(false),
	}
	link, err := c.PipelineURL(context.Background(), p)
	require.NoError(t, err)
	got := verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA256)
	require.Equal(t, "False", got["recipientPaysFee"])
	require.Equal(t, "0.00", got["maxFixedFee"])
	require.Equal(t, "0", got["maxVariableFee"])
	_, hasMethod := got["paymentMethod"]
	require.False(t, hasMethod)
}

func TestPipelineURLHmacSHA1(t *testing.T) {
	c := newTestClient(t, func(o *fps.Options) { o.SignatureMethod = fps.HmacSHA1 })
	link, err := c.PipelineURL(context.Background(), &fps.EditTokenPipeline{
		PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "et-2"},
		TokenID:        "T1",
	})
	require.NoError(t, err)
	got := verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA1)
	require.Equal(t, "HmacSHA1", got["signatureMethod"])
}

func TestPipelineURLProductionHost(t *testing.T) {
	c := newTestClient(t, func(o *fps.Options) { o.Environment = fps.Production })
	link, err := c.PipelineURL(context.Background(), &fps.EditTokenPipeline{
		PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "et-3"},
		TokenID:        "T1",
	})
	require.NoError(t, err)
	verifiedQuery(t, link, "https://authorize.payments.amazon.com/cobranded-ui/actions/start", fps.HmacSHA256)
}

// The host line of the string to sign keeps a port that is not the
// scheme's default; written out here by hand.
func TestPipelineURLNonDefaultPortIsSigned(t *testing.T) {
	c := newTestClient(t, func(o *fps.Options) {
		o.CBUIEndpoint = "http://127.0.0.1:8443/cobranded-ui/actions/start"
	})
	require.Equal(t, fps.Sandbox, c.Environment())
	link, err := c.PipelineURL(context.Background(), &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "http://127.0.0.1:9000/return", CallerReference: "p-1"},
		TransactionAmount: dec("1"),
	})
	require.NoError(t, err)
	base, query, _ := strings.Cut(link, "?")
	require.Equal(t, "http://127.0.0.1:8443/cobranded-ui/actions/start", base)
	unsigned, sig, ok := strings.Cut(query, "&signature=")
	require.True(t, ok)
	sts := "GET\n127.0.0.1:8443\n/cobranded-ui/actions/start\n" + unsigned
	want, err := fps.SignHMAC(fps.HmacSHA256, testSecret, sts)
	require.NoError(t, err)
	require.Equal(t, sigv2.Escape(want), sig)

	// The default port is left out of the host line.
	c = newTestClient(t, func(o *fps.Options) {
		o.CBUIEndpoint = "https://Authorize.Payments-Sandbox.Amazon.com:443/cobranded-ui/actions/start"
	})
	link, err = c.PipelineURL(context.Background(), &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "http://127.0.0.1:9000/return", CallerReference: "p-1"},
		TransactionAmount: dec("1"),
	})
	require.NoError(t, err)
	_, query, _ = strings.Cut(link, "?")
	unsigned, sig, _ = strings.Cut(query, "&signature=")
	want, err = fps.SignHMAC(fps.HmacSHA256, testSecret,
		"GET\nauthorize.payments-sandbox.amazon.com\n/cobranded-ui/actions/start\n"+unsigned)
	require.NoError(t, err)
	require.Equal(t, sigv2.Escape(want), sig)
}

// Spec §2.4 V4: Amazon's SingleUse sample, signed by the fields path,
// gives the published canonical query and signature.
func TestLinkURLSpecVector(t *testing.T) {
	c := newTestClient(t)
	fields := fps.PipelineFields{"pipelineName": "SingleUse"}
	fields.AddFields(map[string]string{
		"callerReference":   "callerReferenceSingleUse",
		"currencyCode":      "USD",
		"paymentReason":     "HarryPotter 1-5 DVD set",
		"returnURL":         "http://www.mysite.com/call_back.jsp",
		"transactionAmount": "5",
	})
	link, err := c.LinkURL(context.Background(), fields)
	require.NoError(t, err)
	require.Equal(t, sandboxCBUI+"?callerKey=AKIAIOSFODNN7EXAMPLE&callerReference=callerReferenceSingleUse"+
		"&currencyCode=USD&paymentReason=HarryPotter%201-5%20DVD%20set&pipelineName=SingleUse"+
		"&returnURL=http%3A%2F%2Fwww.mysite.com%2Fcall_back.jsp&signatureMethod=HmacSHA256"+
		"&signatureVersion=2&transactionAmount=5&version=2009-01-09"+
		"&signature="+url.QueryEscape("NAaqud8OQQIkjr27XEPIZib8lCtFRxnkUG+k+VnsEjc="), link)
}

// django-merchant's testLinkGen fields: every field is in the URL, once,
// with callerKey, and nothing else but what the client adds.
func TestLinkURLMerchantFields(t *testing.T) {
	c := newTestClient(t)
	fields := fps.PipelineFields{}
	fields.AddFields(map[string]string{
		"callerReference": "100", "paymentReason": "Digital Download", "pipelineName": "SingleUse",
		"transactionAmount": "30", "returnURL": "http://localhost/fps/fps-return-url/",
		"recipientToken": "", // empty: not sent
	})
	link, err := c.LinkURL(context.Background(), fields)
	require.NoError(t, err)
	got := verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA256)
	require.Equal(t, signedBy("SingleUse", map[string]string{
		"callerReference": "100", "paymentReason": "Digital Download", "transactionAmount": "30",
		"returnURL": "http://localhost/fps/fps-return-url/",
	}), got)
}

// A typed pipeline and the same fields make the same URL: one code path.
func TestTypedAndFieldsAgree(t *testing.T) {
	c := newTestClient(t)
	typed, err := c.PipelineURL(context.Background(), &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "mu-9"},
		GlobalAmountLimit: dec("100"),
		UsageLimit2:       fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("3")},
	})
	require.NoError(t, err)
	fields, err := c.LinkURL(context.Background(), fps.PipelineFields{
		"pipelineName": "MultiUse", "returnURL": "https://shop.example.com/r", "callerReference": "mu-9",
		"globalAmountLimit": "100.00", "usageLimitType2": "Count", "usageLimitValue2": "3",
	})
	require.NoError(t, err)
	require.Equal(t, typed, fields)
}

func TestPipelineURLConcurrent(t *testing.T) {
	c := newTestClient(t)
	var wg sync.WaitGroup
	links := make([]string, 8)
	for i := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			links[i], _ = c.PipelineURL(context.Background(), &fps.SingleUsePipeline{
				PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "c"},
				TransactionAmount: dec("1"),
			})
		}()
	}
	wg.Wait()
	for _, l := range links {
		require.Equal(t, links[0], l)
		require.NotEmpty(t, l)
	}
}

// countingCredentials fails the test if validation let a bad pipeline
// reach the signer.
type countingCredentials struct{ calls atomic.Int32 }

func (c *countingCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c.calls.Add(1)
	return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, nil
}

func validSingleUse() *fps.SingleUsePipeline {
	return &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "ref-1"},
		TransactionAmount: dec("10"),
	}
}

func validMultiUse() *fps.MultiUsePipeline {
	return &fps.MultiUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "ref-1"},
		GlobalAmountLimit: dec("100"),
	}
}

func validRecurring() *fps.RecurringPipeline {
	return &fps.RecurringPipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "ref-1"},
		TransactionAmount: dec("10"), RecurringPeriod: "1 Month",
	}
}

func validSetupPostpaid() *fps.SetupPostpaidPipeline {
	return &fps.SetupPostpaidPipeline{
		PipelineCommon:        fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "ref-1"},
		CallerReferenceSender: "s", CallerReferenceSettlement: "st",
		CreditLimit: dec("10"), GlobalAmountLimit: dec("100"),
	}
}

func validFields(extra map[string]string) fps.PipelineFields {
	f := fps.PipelineFields{
		"pipelineName": "SingleUse", "returnURL": "https://shop.example.com/r",
		"callerReference": "ref-1", "transactionAmount": "10",
	}
	f.AddFields(extra)
	return f
}

func TestPipelineValidation(t *testing.T) {
	cases := []struct {
		name  string
		p     fps.Pipeline
		field string
		rule  string
	}{
		// common
		{"returnURL required", func() fps.Pipeline { p := validSingleUse(); p.ReturnURL = ""; return p }(),
			"returnURL", "is required"},
		{"returnURL absolute", func() fps.Pipeline { p := validSingleUse(); p.ReturnURL = "/fps/return"; return p }(),
			"returnURL", "absolute http or https URL"},
		{"returnURL scheme", func() fps.Pipeline { p := validSingleUse(); p.ReturnURL = "javascript:alert(1)"; return p }(),
			"returnURL", "absolute http or https URL"},
		{"callerReference required", func() fps.Pipeline { p := validSingleUse(); p.CallerReference = ""; return p }(),
			"callerReference", "is required"},
		{"callerReference length", func() fps.Pipeline {
			p := validSingleUse()
			p.CallerReference = strings.Repeat("é", 129)
			return p
		}(), "callerReference", "at most 128 characters, got 129"},
		{"cobrandingStyle", func() fps.Pipeline { p := validSingleUse(); p.CobrandingStyle = "big"; return p }(),
			"cobrandingStyle", "one of logo, banner"},
		{"cobrandingUrl https", func() fps.Pipeline {
			p := validSingleUse()
			p.CobrandingURL = "http://shop.example.com/logo.png"
			return p
		}(), "cobrandingUrl", "absolute https URL"},
		// amounts
		{"transactionAmount required", func() fps.Pipeline {
			p := validSingleUse()
			p.TransactionAmount = decimal.Decimal{}
			return p
		}(), "transactionAmount", "is required by the SingleUse pipeline"},
		{"transactionAmount positive", func() fps.Pipeline { p := validSingleUse(); p.TransactionAmount = dec("-1"); return p }(),
			"transactionAmount", "greater than 0"},
		{"transactionAmount places", func() fps.Pipeline { p := validSingleUse(); p.TransactionAmount = dec("1.005"); return p }(),
			"transactionAmount", "at most 2 decimal places, got 1.005"},
		{"display amount places", func() fps.Pipeline { p := validSingleUse(); p.Tax = dec("0.125"); return p }(),
			"tax", "at most 2 decimal places"},
		{"currencyCode", func() fps.Pipeline { p := validSingleUse(); p.CurrencyCode = "EUR"; return p }(),
			"currencyCode", "must be USD"},
		{"paymentMethod unknown", func() fps.Pipeline {
			p := validSingleUse()
			p.PaymentMethods = []fps.PaymentMethod{"CC", "PayPal"}
			return p
		}(), "paymentMethod", "subset of ABT,ACH,CC"},
		{"paymentMethod twice", func() fps.Pipeline {
			p := validSingleUse()
			p.PaymentMethods = []fps.PaymentMethod{"CC", "CC"}
			return p
		}(), "paymentMethod", "at most once"},
		// MultiUse
		{"globalAmountLimit required", func() fps.Pipeline {
			p := validMultiUse()
			p.GlobalAmountLimit = decimal.Decimal{}
			return p
		}(), "globalAmountLimit", "is required by the MultiUse pipeline"},
		{"amountType value", func() fps.Pipeline {
			p := validMultiUse()
			p.AmountType = "Exactly"
			p.TransactionAmount = dec("1")
			return p
		}(), "amountType", "one of Exact, Maximum, Minimum"},
		{"amountType needs transactionAmount", func() fps.Pipeline { p := validMultiUse(); p.AmountType = fps.AmountTypeExact; return p }(),
			"transactionAmount", "required when amountType is set"},
		{"recipientTokenList with isRecipientCobranding", func() fps.Pipeline {
			p := validMultiUse()
			p.IsRecipientCobranding = aws.Bool(true)
			return p
		}(), "recipientTokenList", "required when isRecipientCobranding is True"},
		{"recipientTokenList empty item", func() fps.Pipeline {
			p := validMultiUse()
			p.RecipientTokenList = []string{"R1", ""}
			return p
		}(), "recipientTokenList", "none empty"},
		{"usageLimitType value", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit1 = fps.UsageLimit{Type: "Dollars", Value: dec("1")}
			return p
		}(), "usageLimitType1", "one of Amount, Count"},
		{"usageLimitValue1 required with type", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit1 = fps.UsageLimit{Type: fps.UsageLimitAmount}
			return p
		}(), "usageLimitValue1", "required when usageLimitType1 is set"},
		{"usageLimitValue2 required with type", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit2 = fps.UsageLimit{Type: fps.UsageLimitCount, Period: "1 Day"}
			return p
		}(), "usageLimitValue2", "required when usageLimitType2 is set"},
		{"usageLimitType2 required with value", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit2 = fps.UsageLimit{Value: dec("3")}
			return p
		}(), "usageLimitType2", "required when usageLimitValue2 is set"},
		{"usageLimitType1 required with period", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit1 = fps.UsageLimit{Period: "1 Month"}
			return p
		}(), "usageLimitType1", "required when usageLimitPeriod1 is set"},
		{"usage Count whole", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit2 = fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("2.5")}
			return p
		}(), "usageLimitValue2", "whole number of charges"},
		{"usage Amount places", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit1 = fps.UsageLimit{Type: fps.UsageLimitAmount, Value: dec("2.555")}
			return p
		}(), "usageLimitValue1", "at most 2 decimal places"},
		{"usageLimitPeriod", func() fps.Pipeline {
			p := validMultiUse()
			p.UsageLimit1 = fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("2"), Period: "monthly"}
			return p
		}(), "usageLimitPeriod1", "a whole number, a space and a unit"},
		{"validityExpiry after start", func() fps.Pipeline {
			p := validMultiUse()
			p.ValidityStart, p.ValidityExpiry = expiry, start
			return p
		}(), "validityExpiry", "after validityStart"},
		{"validityStart before epoch", func() fps.Pipeline {
			p := validMultiUse()
			p.ValidityStart = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
			return p
		}(), "validityStart", "seconds since the Unix epoch"},
		// Recurring
		{"recurringPeriod required", func() fps.Pipeline { p := validRecurring(); p.RecurringPeriod = ""; return p }(),
			"recurringPeriod", "is required by the Recurring pipeline"},
		{"recurringPeriod zero", func() fps.Pipeline { p := validRecurring(); p.RecurringPeriod = "0 Months"; return p }(),
			"recurringPeriod", "a whole number, a space and a unit"},
		{"recurringPeriod unit", func() fps.Pipeline { p := validRecurring(); p.RecurringPeriod = "1 Fortnight"; return p }(),
			"recurringPeriod", "a whole number, a space and a unit"},
		// Recipient
		{"recipientPaysFee required", &fps.RecipientPipeline{
			PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
		}, "recipientPaysFee", "is required by the Recipient pipeline"},
		{"maxFixedFee negative", &fps.RecipientPipeline{
			PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
			MaxFixedFee:    dec("-0.01"), RecipientPaysFee: aws.Bool(true),
		}, "maxFixedFee", "0 or more"},
		{"maxVariableFee over 100", &fps.RecipientPipeline{
			PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
			MaxVariableFee: dec("100.5"), RecipientPaysFee: aws.Bool(true),
		}, "maxVariableFee", "percentage from 0 to 100"},
		// EditToken
		{"tokenId required", &fps.EditTokenPipeline{
			PipelineCommon: fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
		}, "tokenId", "is required by the EditToken pipeline"},
		// SetupPrepaid
		{"callerReferenceFunding required", &fps.SetupPrepaidPipeline{
			PipelineCommon:        fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
			CallerReferenceSender: "s", FundingAmount: dec("5"),
		}, "callerReferenceFunding", "is required by the SetupPrepaid pipeline"},
		{"fundingAmount required", &fps.SetupPrepaidPipeline{
			PipelineCommon:        fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
			CallerReferenceSender: "s", CallerReferenceFunding: "f",
		}, "fundingAmount", "is required by the SetupPrepaid pipeline"},
		{"callerReferenceSender length", &fps.SetupPrepaidPipeline{
			PipelineCommon:        fps.PipelineCommon{ReturnURL: "https://shop.example.com/r", CallerReference: "r"},
			CallerReferenceSender: strings.Repeat("s", 129), CallerReferenceFunding: "f", FundingAmount: dec("5"),
		}, "callerReferenceSender", "at most 128 characters"},
		// SetupPostpaid
		{"callerReferenceSettlement required", func() fps.Pipeline {
			p := validSetupPostpaid()
			p.CallerReferenceSettlement = ""
			return p
		}(), "callerReferenceSettlement", "is required by the SetupPostpaid pipeline"},
		{"creditLimit required", func() fps.Pipeline { p := validSetupPostpaid(); p.CreditLimit = decimal.Decimal{}; return p }(),
			"creditLimit", "is required by the SetupPostpaid pipeline"},
		{"postpaid usage limit", func() fps.Pipeline {
			p := validSetupPostpaid()
			p.UsageLimit2 = fps.UsageLimit{Type: fps.UsageLimitAmount}
			return p
		}(), "usageLimitValue2", "required when usageLimitType2 is set"},
		// fields path
		{"fields pipelineName required", fps.PipelineFields{"returnURL": "https://shop.example.com/r"},
			"pipelineName", "is required"},
		{"fields pipelineName unknown", fps.PipelineFields{"pipelineName": "DoubleUse"},
			"pipelineName", "one of SingleUse, MultiUse, Recurring, Recipient, EditToken, SetupPrepaid, SetupPostpaid"},
		{"fields unknown parameter", validFields(map[string]string{"CallerReference": "x"}),
			"CallerReference", "not a parameter of the SingleUse pipeline"},
		{"fields parameter of another pipeline", validFields(map[string]string{"globalAmountLimit": "5"}),
			"globalAmountLimit", "not a parameter of the SingleUse pipeline"},
		{"fields client parameter", validFields(map[string]string{"callerKey": "AKIAOTHER"}),
			"callerKey", "added by the client"},
		{"fields version", validFields(map[string]string{"version": "2009-01-09"}),
			"version", "added by the client"},
		{"fields amount not a number", validFields(map[string]string{"transactionAmount": "ten"}),
			"transactionAmount", "plain decimal number"},
		{"fields amount exponent", validFields(map[string]string{"transactionAmount": "1e2"}),
			"transactionAmount", "plain decimal number"},
		{"fields amount places", validFields(map[string]string{"transactionAmount": "1.005"}),
			"transactionAmount", "at most 2 decimal places, got 1.005"},
		{"fields boolean", validFields(map[string]string{"reserve": "true"}),
			"reserve", "True or False"},
		{"fields epoch", fps.PipelineFields{
			"pipelineName": "Recurring", "returnURL": "https://shop.example.com/r", "callerReference": "r",
			"transactionAmount": "1", "recurringPeriod": "1 Day", "validityStart": "2026-01-01",
		}, "validityStart", "seconds since the Unix epoch"},
		{"fields required empty", validFields(map[string]string{"callerReference": ""}),
			"callerReference", "is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := &countingCredentials{}
			c, err := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: creds})
			require.NoError(t, err)
			link, err := c.PipelineURL(context.Background(), tc.p)
			require.Empty(t, link)
			var ve *fps.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
			require.Contains(t, ve.Rule, tc.rule)
			require.Contains(t, err.Error(), tc.field)
			require.Zero(t, creds.calls.Load(), "validation must come before signing")
		})
	}
}

func TestPipelineURLNil(t *testing.T) {
	_, err := newTestClient(t).PipelineURL(context.Background(), nil)
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
}

func TestPipelineURLMissingKeys(t *testing.T) {
	c, err := fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials("", "")})
	require.NoError(t, err)
	_, err = c.PipelineURL(context.Background(), validSingleUse())
	require.ErrorContains(t, err, "access key id and secret access key missing")

	c, err = fps.New(fps.Options{Environment: fps.Sandbox, Credentials: fps.StaticCredentials(testKeyID, "")})
	require.NoError(t, err)
	_, err = c.PipelineURL(context.Background(), validSingleUse())
	require.ErrorContains(t, err, "secret access key missing")
	require.NotContains(t, err.Error(), testKeyID)

	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("no profile")
	})
	c, err = fps.New(fps.Options{Environment: fps.Sandbox, Credentials: failing})
	require.NoError(t, err)
	_, err = c.PipelineURL(context.Background(), validSingleUse())
	require.ErrorContains(t, err, "no profile")
}

func TestParsePipelineReturn(t *testing.T) {
	const sig = "&signatureVersion=2&signatureMethod=RSA-SHA1" +
		"&certificateUrl=https%3A%2F%2Ffps.sandbox.amazonaws.com%2Fcerts%2F090911%2FPKICert.pem" +
		"&signature=abc%2Bdef%0A%3D%3D"
	cases := []struct {
		name  string
		query string
		want  fps.PipelineReturn // Params not compared
	}{
		{"SC with expiry",
			"tokenID=I39FL7SSHU3S6DPH4ZYGL2SZDUAPP1B5&status=SC&callerReference=order-7&expiry=10%2F2013" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusSuccessCC, TokenID: "I39FL7SSHU3S6DPH4ZYGL2SZDUAPP1B5",
				CallerReference: "order-7", Expiry: "10/2013"}},
		{"SA", "tokenID=T1&status=SA&callerReference=o-1&expiry=01%2F2030" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusSuccessABT, TokenID: "T1", CallerReference: "o-1", Expiry: "01/2030"}},
		{"SR with refund token",
			"tokenID=R1TOKEN&refundTokenID=R1REFUND&status=SR&callerReference=rp-1" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusRecipientSuccess, TokenID: "R1TOKEN",
				RefundTokenID: "R1REFUND", CallerReference: "rp-1"}},
		{"SetupPostpaid ids",
			"creditInstrumentID=CI1&creditSenderTokenID=CS1&settlementTokenID=ST1&status=SC&expiry=12%2F2015" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusSuccessCC, CreditInstrumentID: "CI1",
				CreditSenderTokenID: "CS1", SettlementTokenID: "ST1", Expiry: "12/2015"}},
		{"SetupPrepaid ids",
			"prepaidInstrumentID=PI1&prepaidSenderTokenID=PS1&fundingTokenID=FT1&status=SB" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusSuccessACH, PrepaidInstrumentID: "PI1",
				PrepaidSenderTokenID: "PS1", FundingTokenID: "FT1"}},
		{"CE with form-encoded message",
			"status=CE&errorMessage=The+following+input%28s%29+are+not+well+formed%3A[callerReferenceSettlement]&callerReference=spp-1" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusCallerException, CallerReference: "spp-1",
				ErrorMessage: "The following input(s) are not well formed:[callerReferenceSettlement]"}},
		{"NP", "status=NP&errorMessage=NP" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusNotPermitted, ErrorMessage: "NP"}},
		{"abandon", "status=A" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusAborted}},
		{"SU edit unchanged", "tokenID=T2&status=SU&callerReference=et-1" + sig,
			fps.PipelineReturn{Status: fps.PipelineStatusUnchanged, TokenID: "T2", CallerReference: "et-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			r, err := fps.ParsePipelineReturn(q)
			require.NoError(t, err)
			require.Equal(t, q, r.Params)
			require.Equal(t, "abc+def\n==", r.Params.Get("signature"))
			r.Params = nil
			require.Equal(t, tc.want, *r)
		})
	}

	errCases := []struct{ name, query, msg string }{
		{"missing status", "tokenID=T1&callerReference=o" + sig, "status is missing"},
		{"unknown status", "status=PS&tokenID=T1" + sig, `status "PS" is not a Co-Branded UI status code`},
		{"lower-case status", "status=sc&tokenID=T1" + sig, `status "sc"`},
		{"success without token", "status=SC&callerReference=o&expiry=10%2F2013" + sig, "status SC without a token id"},
		{"recipient success without token", "status=SR&refundTokenID=R" + sig, "status SR without a token id"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			_, err = fps.ParsePipelineReturn(q)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestPipelineStatusMeaning(t *testing.T) {
	for _, s := range []fps.PipelineStatus{"SA", "SB", "SC", "SE", "A", "CE", "PE", "NP", "NM", "SR", "SU"} {
		require.True(t, s.Known(), s)
		require.NotEqual(t, "unknown status", s.Meaning(), s)
	}
	require.False(t, fps.PipelineStatus("PS").Known())
	require.Equal(t, "unknown status", fps.PipelineStatus("PS").Meaning())
	var ok []fps.PipelineStatus
	for _, s := range []fps.PipelineStatus{"SA", "SB", "SC", "SE", "A", "CE", "PE", "NP", "NM", "SR", "SU"} {
		if s.Success() {
			ok = append(ok, s)
		}
	}
	require.Equal(t, []fps.PipelineStatus{"SA", "SB", "SC", "SR", "SU"}, ok)
}

// TestTypedConstantsAreTheRuleValues: the values of the package's enum
// types are exactly those the rule table takes, in its order.
func TestTypedConstantsAreTheRuleValues(t *testing.T) {
	require.Equal(t, rules.PipelineNames, strs(fps.PipelineName("").Values()))
	// A pipeline takes the payment methods a buyer chooses, the first three.
	require.Equal(t, rules.PaymentMethods, strs(fps.PaymentMethod("").Values()[:3]))
	require.Equal(t, rules.CobrandingStyles, strs(fps.CobrandingStyle("").Values()))
	require.Equal(t, rules.AmountTypes, strs(fps.AmountType("").Values()))
	require.Equal(t, rules.UsageLimitTypes, strs(fps.UsageLimitType("").Values()))
	require.Equal(t, []string{rules.CurrencyUSD}, strs(fps.CurrencyCode("").Values()))
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// A pipeline with several bad parameters names them all: those it does
// not take, those whose value breaks its rule, the required ones missing.
func TestPipelineValidationListsEveryField(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	_, err := c.LinkURL(ctx, fps.PipelineFields{
		"pipelineName": "SingleUse", "returnURL": "https://shop.example.com/r",
		"transactionAmount": "1.005", "CallerReference": "x", "reserve": "yes",
	})
	var ipe *fps.InvalidParamsError
	require.ErrorAs(t, err, &ipe)
	var got []string
	for _, ve := range ipe.Errs {
		got = append(got, ve.Field)
	}
	// Given parameters in byte order, then what is missing.
	require.Equal(t, []string{"CallerReference", "reserve", "transactionAmount", "callerReference"}, got)
	require.Equal(t, "fps: 4 invalid parameters: CallerReference: is not a parameter of the SingleUse pipeline; "+
		"reserve: "+ipe.Errs[1].Rule+"; transactionAmount: "+ipe.Errs[2].Rule+"; callerReference: is required by the SingleUse pipeline", err.Error())
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Same(t, ipe.Errs[0], ve)

	_, err = c.PipelineURL(ctx, &fps.MultiUsePipeline{
		PipelineCommon: fps.PipelineCommon{ReturnURL: "ftp://shop.example.com/r"},
		AmountType:     fps.AmountTypeExact,
		UsageLimit1:    fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("1.5")},
	})
	require.ErrorAs(t, err, &ipe)
	got = got[:0]
	for _, ve := range ipe.Errs {
		got = append(got, ve.Field)
	}
	require.ElementsMatch(t, []string{"returnURL", "callerReference", "globalAmountLimit", "usageLimitValue1", "transactionAmount"}, got)
}

// The option functions of PipelineURL and LinkURL change what signs the
// URL and where it starts, for that URL alone.
func TestPipelineURLPerCallOptions(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()

	other := "https://cbui.example:8443/start"
	link, err := c.PipelineURL(ctx, validSingleUse(), func(o *fps.Options) {
		o.CBUIEndpoint = other
		o.SignatureMethod = fps.HmacSHA1
	})
	require.NoError(t, err)
	got := verifiedQuery(t, link, other, fps.HmacSHA1)
	require.Equal(t, testKeyID, got["callerKey"])

	link, err = c.LinkURL(ctx, validFields(nil), func(o *fps.Options) { o.Environment = fps.Production })
	require.NoError(t, err)
	verifiedQuery(t, link, "https://authorize.payments.amazon.com/cobranded-ui/actions/start", fps.HmacSHA256)

	link, err = c.PipelineURL(ctx, validSingleUse(), func(o *fps.Options) {
		o.Credentials = fps.StaticCredentials("AKIDOTHERACCOUNT", "other-secret")
	})
	require.NoError(t, err)
	u, err := url.Parse(link)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "AKIDOTHERACCOUNT", q.Get("callerKey"))
	sig := q.Get("signature")
	q.Del("signature")
	want, err := fps.SignHMAC(fps.HmacSHA256, "other-secret", fps.StringToSign("GET", &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}, q))
	require.NoError(t, err)
	require.Equal(t, want, sig, "signed with the call's secret")

	// The client's own options are untouched.
	link, err = c.PipelineURL(ctx, validSingleUse())
	require.NoError(t, err)
	require.Equal(t, testKeyID, verifiedQuery(t, link, sandboxCBUI, fps.HmacSHA256)["callerKey"])

	_, err = c.PipelineURL(ctx, validSingleUse(), func(o *fps.Options) { o.CBUIEndpoint = "ftp://cbui.example/start" })
	require.ErrorContains(t, err, "Options.CBUIEndpoint")
	_, err = c.PipelineURL(ctx, validSingleUse(), func(o *fps.Options) { o.Environment = "staging" })
	require.ErrorContains(t, err, "Options.Environment")
}
