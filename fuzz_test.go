package fps_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/fpskit/fps"
)

// specReturnQuery is the signed return URL query of the spec's SingleUse
// sample (PHP08 ReturnUrlVerificationSampleCode).
const specReturnQuery = "callerReference=1253247023946cMcrTRrjtLjNrZGNKchWfDtUEIGuJfiOBAAJYPjbytBV&certificateUrl=https%3A%2F%2Ffps.amazonaws.com%2Fcerts%2F090909%2FPKICert.pem&expiry=10%2F2013&signatureMethod=RSA-SHA1&signatureVersion=2&status=SC&tokenID=Q5IG5ETFCEBU8KBLTI4JHINQVL6VAJVHICBRR49AKLPIEZH1KB1S8C7VHAJJMLJ3"

// specIPNBody is the spec's IPN sample (PHP08 IPNVerificationSampleCode).
const specIPNBody = "buyerName=BuyerName-SsUo3oDjHx&callerReference=callerReference%3DReferenceStringJYI1251832057319108&certificateUrl=https%3A%2F%2Ffps.amazonaws.com%2Fcerts%2F090909%2FPKICert.pem&notificationType=TransactionStatus&operation=PAY&paymentMethod=CC&paymentReason=DescriptionString-1251832057319108&recipientEmail=recipientemail%40amazon.com&signatureMethod=RSA-SHA1&signatureVersion=2&status=INITIATED&transactionAmount=USD%201.00&transactionDate=1251832057&transactionId=14DRG2JGR7LK4J54P544DKKNDLQFFZLE323"

// FuzzInboundMessages feeds any query or form body to the notification and
// return parsers and to VerifyIPN and VerifyReturn with a pinned key: none
// may panic, and whatever verifies parses into a value.
func FuzzInboundMessages(f *testing.F) {
	key := testKey(f)
	f.Add(specReturnQuery)
	f.Add(specIPNBody)
	f.Add(signIPN(f, key, ipnEndpoint, pinnedCertURL, payParams("order-1", "USD 12.50")))
	f.Add(signReturn(f, key, returnEndpoint, pinnedCertURL, url.Values{"status": {"SC"}, "tokenID": {"T1"}, "callerReference": {"order-1"}}))
	f.Add("notificationType=TokenCancellation&tokenId=T&tokenType=MultiUse&callerReference=r&dateInstalled=Sep+27%2C+2009")
	f.Add("signatureVersion=1&signature=VEAAvfPO2F0IGaDGXYemaQQfzkA%3D&status=SC")
	v := pinnedVerifier(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		if vals, err := url.ParseQuery(raw); err == nil {
			if n, err := fps.ParseNotification(vals); err == nil && n == nil {
				t.Fatal("ParseNotification: nil without an error")
			}
			if r, err := fps.ParsePipelineReturn(vals); err == nil && (r == nil || !r.Status.Known()) {
				t.Fatalf("ParsePipelineReturn: %#v", r)
			}
		}
		if n, err := fps.VerifyIPN(ctx, v, ipnEndpoint, []byte(raw)); err == nil && n == nil {
			t.Fatal("VerifyIPN: nil without an error")
		}
		if r, err := fps.VerifyReturn(ctx, v, returnEndpoint, raw); err == nil && r == nil {
			t.Fatal("VerifyReturn: nil without an error")
		}
	})
}

// FuzzLinkURL builds a pipeline URL from any fields: it never panics, and
// a URL it returns carries exactly the fields given (empty ones left out)
// under a signature that verifies.
func FuzzLinkURL(f *testing.F) {
	f.Add("pipelineName=SingleUse&callerReference=callerReferenceSingleUse&currencyCode=USD&paymentReason=HarryPotter+1-5+DVD+set&returnURL=http%3A%2F%2Fwww.mysite.com%2Fcall_back.jsp&transactionAmount=5")
	f.Add("pipelineName=MultiUse&callerReference=r&returnURL=https%3A%2F%2Fshop.example%2Fr&globalAmountLimit=100&usageLimitType1=Amount&usageLimitValue1=10&usageLimitPeriod1=1+Month")
	f.Add("pipelineName=Recurring&callerReference=r&returnURL=https%3A%2F%2Fshop.example%2Fr&transactionAmount=9.99&recurringPeriod=1+Month")
	f.Add("pipelineName=Recipient&callerReference=r&returnURL=https%3A%2F%2Fshop.example%2Fr&maxFixedFee=1&maxVariableFee=5&recipientPaysFee=True")
	f.Add("pipelineName=SetupPrepaid&callerReferenceSender=a&callerReferenceFunding=b&returnURL=https%3A%2F%2Fshop.example%2Fr&fundingAmount=50")
	f.Add("pipelineName=EditToken&tokenId=T&returnURL=https%3A%2F%2Fshop.example%2Fr")
	f.Add("pipelineName=SingleUse&signature=x&callerKey=y")
	c := newTestClient(f)
	ctx := context.Background()
	cbui, err := url.Parse(sandboxCBUI)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fields := fps.PipelineFields{}
		for k, vs := range vals {
			fields[k] = vs[0]
		}
		link, err := c.LinkURL(ctx, fields)
		if err != nil {
			return
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("%q: %v", link, err)
		}
		if u.Scheme+"://"+u.Host+u.Path != sandboxCBUI {
			t.Fatalf("endpoint of %q", link)
		}
		sent, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("%q: %v", link, err)
		}
		sig := sent.Get("signature")
		delete(sent, "signature")
		want, err := fps.SignHMAC(fps.HmacSHA256, testSecret, fps.StringToSign("GET", cbui, sent))
		if err != nil || sig != want {
			t.Fatalf("signature of %q does not verify (%v)", link, err)
		}
		for k, v := range fields {
			if v != "" && sent.Get(k) != v {
				t.Fatalf("%s: sent %q, given %q", k, sent.Get(k), v)
			}
		}
		for _, k := range []string{"callerKey", "signatureMethod", "signatureVersion", "version", "pipelineName"} {
			if sent.Get(k) == "" {
				t.Fatalf("%s missing from %q", k, link)
			}
		}
	})
}
