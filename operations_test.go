package fps

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/fpskit/fps/internal/sigv2"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

const (
	testAccessKey = "AKIDTESTONLY0000"
	testSecret    = "test/secret+KEY=never-logged"
)

// fakeFPS records every request, checks its signature independently of the
// code under test, and answers through handle.
type fakeFPS struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	bodies []string
	hits   atomic.Int32
	// handle answers request n (0-based) whose parameters are form.
	handle func(w http.ResponseWriter, r *http.Request, form url.Values, n int)
}

func newFakeFPS(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, form url.Values, n int)) *fakeFPS {
	f := &fakeFPS{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.hits.Add(1)) - 1
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded; charset=utf-8" {
			t.Errorf("request %d: %s with Content-Type %q", n, r.Method, r.Header.Get("Content-Type"))
		}
		form := checkSigned(t, r.Host, string(body))
		f.mu.Lock()
		f.forms = append(f.forms, form)
		f.bodies = append(f.bodies, string(body))
		f.mu.Unlock()
		f.handle(w, r, form, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFPS) form(i int) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[i]
}

// checkSigned verifies body the way FPS does, with its own HMAC: the body is
// the canonical query followed by &Signature=, names sorted.
func checkSigned(t *testing.T, host, body string) url.Values {
	i := strings.LastIndex(body, "&Signature=")
	if i < 0 {
		t.Errorf("body has no trailing Signature: %s", body)
		return nil
	}
	canonical := body[:i]
	sig, err := url.QueryUnescape(body[i+len("&Signature="):])
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte("POST\n" + host + "\n/\n" + canonical))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("signature %s, want %s", sig, want)
	}
	var prev string
	for _, kv := range strings.Split(canonical, "&") {
		name, _, _ := strings.Cut(kv, "=")
		if name < prev {
			t.Errorf("parameter %s after %s: not sorted", name, prev)
		}
		prev = name
	}
	form, err := url.ParseQuery(body)
	require.NoError(t, err)
	return form
}

// stepClock returns a clock that moves one second per reading.
func stepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	now := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := now
		now = now.Add(time.Second)
		return t
	}
}

// quickRetryer is the default retryer with a fixed delay.
type quickRetryer struct {
	aws.RetryerV2
	delay time.Duration
}

func (r quickRetryer) RetryDelay(int, error) (time.Duration, error) { return r.delay, nil }

func newTestClient(t *testing.T, f *fakeFPS, optFns ...func(*Options)) *Client {
	t.Helper()
	c, err := New(Options{
		Environment: Sandbox,
		Credentials: StaticCredentials(testAccessKey, testSecret),
		APIEndpoint: f.srv.URL + "/",
		Clock:       stepClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))),
		Retryer:     quickRetryer{newDefaultRetryer(3), time.Millisecond},
	}, optFns...)
	require.NoError(t, err)
	return c
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func txBody(action, id string, st TransactionStatus, requestID string) string {
	return fmt.Sprintf(`<%[1]sResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><%[1]sResult><TransactionId>%[2]s</TransactionId><TransactionStatus>%[3]s</TransactionStatus></%[1]sResult><ResponseMetadata><RequestId>%[4]s</RequestId></ResponseMetadata></%[1]sResponse>`,
		action, id, st, requestID)
}

func errBody(code, msg string) string {
	return `<?xml version="1.0"?><Response><Errors><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error></Errors><RequestID>err-req-1</RequestID></Response>`
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestPayRequestEncodingExact(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, samplePay)
	})
	c := newTestClient(t, f)
	out, err := c.Pay(context.Background(), &PayInput{
		SenderTokenID:          "SENDER~TOKEN",
		TransactionAmount:      USD(dec("19.9")),
		CallerReference:        "order 1/ü",
		CallerDescription:      "Books & more",
		DescriptorPolicy:       DescriptorPolicy{SoftDescriptorType: SoftDescriptorStatic, CSOwner: CSOwnerCaller},
		MarketplaceVariableFee: dec("2.5"),
	})
	require.NoError(t, err)
	require.Equal(t, "14GK6BGKA7U6OU6SUTNLBI5SBBV9PGDJ6UL", out.TransactionID)

	// Written out by hand: sorted by name, RFC 3986, Timestamp in UTC.
	canonical := "AWSAccessKeyId=AKIDTESTONLY0000" +
		"&Action=Pay" +
		"&CallerDescription=Books%20%26%20more" +
		"&CallerReference=order%201%2F%C3%BC" +
		"&DescriptorPolicy.CSOwner=Caller" +
		"&DescriptorPolicy.SoftDescriptorType=Static" +
		"&MarketplaceVariableFee=2.5" +
		"&SenderTokenId=SENDER~TOKEN" +
		"&SignatureMethod=HmacSHA256" +
		"&SignatureVersion=2" +
		"&Timestamp=2026-01-02T02%3A04%3A05Z" +
		"&TransactionAmount.CurrencyCode=USD" +
		"&TransactionAmount.Value=19.90" +
		"&Version=2008-09-17"
	u, _ := url.Parse(f.srv.URL)
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte("POST\n" + u.Host + "\n/\n" + canonical))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sig = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(sig)
	require.Equal(t, canonical+"&Signature="+sig, f.bodies[0])
}

func TestZeroValuesAreNotSent(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, samplePay)
	})
	c := newTestClient(t, f)
	_, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: Amount{Value: dec("5")}, CallerReference: "r"})
	require.NoError(t, err)
	form := f.form(0)
	var names []string
	for name, vs := range form {
		names = append(names, name)
		require.Len(t, vs, 1, name)
		require.NotEmpty(t, vs[0], name)
		require.NotEqual(t, "None", vs[0], name)
	}
	require.ElementsMatch(t, []string{"AWSAccessKeyId", "Action", "CallerReference", "SenderTokenId", "Signature",
		"SignatureMethod", "SignatureVersion", "Timestamp", "TransactionAmount.CurrencyCode", "TransactionAmount.Value", "Version"}, names)
	require.Equal(t, "USD", form.Get("TransactionAmount.CurrencyCode"), "the currency is sent explicitly")
	require.Equal(t, "5.00", form.Get("TransactionAmount.Value"))
}

func TestValidationBeforeAnyRequest(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 500, "")
	})
	c := newTestClient(t, f)
	ctx := context.Background()
	one := USD(dec("1"))
	pay := func(mod func(*PayInput)) func() error {
		return func() error {
			in := &PayInput{SenderTokenID: "S", TransactionAmount: one, CallerReference: "r"}
			mod(in)
			_, err := c.Pay(ctx, in)
			return err
		}
	}
	long := strings.Repeat("x", 129)
	cases := []struct {
		field string
		call  func() error
	}{
		{"SenderTokenId", pay(func(in *PayInput) { in.SenderTokenID = "" })},
		{"TransactionAmount.Value", pay(func(in *PayInput) { in.TransactionAmount = Amount{} })},
		{"TransactionAmount.Value", pay(func(in *PayInput) { in.TransactionAmount = USD(dec("1.005")) })},
		{"TransactionAmount.Value", pay(func(in *PayInput) { in.TransactionAmount = USD(dec("-1")) })},
		{"TransactionAmount.CurrencyCode", pay(func(in *PayInput) { in.TransactionAmount.CurrencyCode = "EUR" })},
		{"CallerReference", pay(func(in *PayInput) { in.CallerReference = "" })},
		{"CallerReference", pay(func(in *PayInput) { in.CallerReference = long })},
		{"CallerDescription", pay(func(in *PayInput) { in.CallerDescription = strings.Repeat("é", 161) })},
		{"ChargeFeeTo", pay(func(in *PayInput) { in.ChargeFeeTo = "None" })},
		{"DescriptorPolicy.CSOwner", pay(func(in *PayInput) { in.DescriptorPolicy.CSOwner = "caller" })},
		{"TransactionTimeoutInMins", pay(func(in *PayInput) { in.TransactionTimeoutInMins = -1 })},
		{"MarketplaceVariableFee", pay(func(in *PayInput) { in.MarketplaceVariableFee = dec("101") })},
		{"MarketplaceFixedFee.Value", pay(func(in *PayInput) { in.MarketplaceFixedFee = USD(dec("0")) })},
		{"SenderTokenId", func() error {
			_, err := c.Reserve(ctx, &ReserveInput{TransactionAmount: one, CallerReference: "r"})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.Reserve(ctx, &ReserveInput{SenderTokenID: "S", TransactionAmount: one})
			return err
		}},
		{"ReserveTransactionId", func() error { _, err := c.Settle(ctx, &SettleInput{TransactionAmount: one}); return err }},
		{"TransactionAmount.Value", func() error {
			_, err := c.Settle(ctx, &SettleInput{ReserveTransactionID: "R", TransactionAmount: USD(dec("0.001"))})
			return err
		}},
		{"TransactionId", func() error { _, err := c.Refund(ctx, &RefundInput{CallerReference: "r"}); return err }},
		{"CallerReference", func() error { _, err := c.Refund(ctx, &RefundInput{TransactionID: "T"}); return err }},
		{"MarketplaceRefundPolicy", func() error {
			_, err := c.Refund(ctx, &RefundInput{TransactionID: "T", CallerReference: "r", MarketplaceRefundPolicy: "All"})
			return err
		}},
		{"TransactionId", func() error { _, err := c.Cancel(ctx, &CancelInput{}); return err }},
		{"TokenId", func() error { _, err := c.CancelToken(ctx, nil); return err }},
		{"TransactionId", func() error { _, err := c.GetTransactionStatus(ctx, &GetTransactionStatusInput{}); return err }},
		{"TransactionId", func() error { _, err := c.GetTransaction(ctx, &GetTransactionInput{}); return err }},
		{"TokenType", func() error { _, err := c.GetTokens(ctx, &GetTokensInput{TokenType: "Forever"}); return err }},
		{"TokenId", func() error { _, err := c.GetTokenByCaller(ctx, &GetTokenByCallerInput{}); return err }},
		{"TokenId", func() error {
			_, err := c.GetTokenByCaller(ctx, &GetTokenByCallerInput{TokenID: "T", CallerReference: "r"})
			return err
		}},
		{"TokenId", func() error { _, err := c.GetTokenUsage(ctx, &GetTokenUsageInput{}); return err }},
		{"StartDate", func() error { _, err := c.GetAccountActivity(ctx, &GetAccountActivityInput{}); return err }},
		{"EndDate", func() error {
			now := time.Now()
			_, err := c.GetAccountActivity(ctx, &GetAccountActivityInput{StartDate: now, EndDate: now.Add(-time.Hour)})
			return err
		}},
		{"Role.2", func() error {
			_, err := c.GetAccountActivity(ctx, &GetAccountActivityInput{StartDate: time.Now(), Role: []TransactionalRole{RoleSender, "Buyer"}})
			return err
		}},
		{"UrlEndPoint", func() error {
			_, err := c.VerifySignature(ctx, &VerifySignatureInput{HTTPParameters: "a=b"})
			return err
		}},
		{"HttpParameters", func() error {
			_, err := c.VerifySignature(ctx, &VerifySignatureInput{URLEndPoint: "https://example.com/ipn"})
			return err
		}},
		{"SenderTokenId", func() error {
			_, err := c.FundPrepaid(ctx, &FundPrepaidInput{PrepaidInstrumentID: "P", FundingAmount: one, CallerReference: "r"})
			return err
		}},
		{"PrepaidInstrumentId", func() error {
			_, err := c.FundPrepaid(ctx, &FundPrepaidInput{SenderTokenID: "S", FundingAmount: one, CallerReference: "r"})
			return err
		}},
		{"FundingAmount.Value", func() error {
			_, err := c.FundPrepaid(ctx, &FundPrepaidInput{SenderTokenID: "S", PrepaidInstrumentID: "P", CallerReference: "r"})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.FundPrepaid(ctx, &FundPrepaidInput{SenderTokenID: "S", PrepaidInstrumentID: "P", FundingAmount: one})
			return err
		}},
		{"PrepaidInstrumentId", func() error { _, err := c.GetPrepaidBalance(ctx, &GetPrepaidBalanceInput{}); return err }},
		{"SenderTokenId", func() error {
			_, err := c.SettleDebt(ctx, &SettleDebtInput{CreditInstrumentID: "C", SettlementAmount: one, CallerReference: "r"})
			return err
		}},
		{"CreditInstrumentId", func() error {
			_, err := c.SettleDebt(ctx, &SettleDebtInput{SenderTokenID: "S", SettlementAmount: one, CallerReference: "r"})
			return err
		}},
		{"SettlementAmount.Value", func() error {
			_, err := c.SettleDebt(ctx, &SettleDebtInput{SenderTokenID: "S", CreditInstrumentID: "C", CallerReference: "r"})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.SettleDebt(ctx, &SettleDebtInput{SenderTokenID: "S", CreditInstrumentID: "C", SettlementAmount: one})
			return err
		}},
		{"CreditInstrumentId", func() error {
			_, err := c.WriteOffDebt(ctx, &WriteOffDebtInput{AdjustmentAmount: one, CallerReference: "r"})
			return err
		}},
		{"AdjustmentAmount.Value", func() error {
			_, err := c.WriteOffDebt(ctx, &WriteOffDebtInput{CreditInstrumentID: "C", CallerReference: "r"})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.WriteOffDebt(ctx, &WriteOffDebtInput{CreditInstrumentID: "C", AdjustmentAmount: one})
			return err
		}},
		{"CreditInstrumentId", func() error { _, err := c.GetDebtBalance(ctx, &GetDebtBalanceInput{}); return err }},
		{"PaymentInstruction", func() error {
			_, err := c.InstallPaymentInstruction(ctx, &InstallPaymentInstructionInput{CallerReference: "r", TokenType: TokenTypeUnrestricted})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.InstallPaymentInstruction(ctx, &InstallPaymentInstructionInput{PaymentInstruction: "MyRole == 'Caller';", TokenType: TokenTypeUnrestricted})
			return err
		}},
		{"TokenType", func() error {
			_, err := c.InstallPaymentInstruction(ctx, &InstallPaymentInstructionInput{PaymentInstruction: "MyRole == 'Caller';", CallerReference: "r"})
			return err
		}},
		{"TokenId", func() error { _, err := c.GetPaymentInstruction(ctx, &GetPaymentInstructionInput{}); return err }},
		{"SubscriptionId", func() error {
			_, err := c.CancelSubscriptionAndRefund(ctx, &CancelSubscriptionAndRefundInput{})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.CancelSubscriptionAndRefund(ctx, &CancelSubscriptionAndRefundInput{SubscriptionID: "S", RefundAmount: one})
			return err
		}},
		{"RecipientTokenId", func() error {
			_, err := c.GetRecipientVerificationStatus(ctx, &GetRecipientVerificationStatusInput{})
			return err
		}},
		{"CallerReference", func() error {
			_, err := c.Purchase(ctx, dec("1"), PurchaseOptions{TokenID: "S"})
			return err
		}},
		{"SenderTokenId", func() error {
			_, err := c.Authorize(ctx, dec("1"), PurchaseOptions{CallerReference: "r"})
			return err
		}},
		{"ReserveTransactionId", func() error { _, err := c.Capture(ctx, dec("1"), CaptureOptions{}); return err }},
		{"CallerReference", func() error {
			_, err := c.Credit(ctx, dec("1"), CreditOptions{TransactionID: "T"})
			return err
		}},
		{"TransactionId", func() error { _, err := c.Void(ctx, "", VoidOptions{}); return err }},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", i, tc.field), func(t *testing.T) {
			err := tc.call()
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field, err.Error())
			require.NotEmpty(t, ve.Rule)
			require.False(t, MayHaveMoved(err))
		})
	}
	require.Zero(t, f.hits.Load(), "no request may be sent for invalid input")
}

func TestRetry503ThenSuccess(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, n int) {
		if n < 2 {
			writeXML(w, 503, "<html>Service Unavailable</html>")
			return
		}
		writeXML(w, 200, samplePay)
	})
	c := newTestClient(t, f)
	out, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref-1"})
	require.NoError(t, err)
	require.Equal(t, TransactionStatusPending, out.TransactionStatus)
	require.EqualValues(t, 3, f.hits.Load())
	seenTS := map[string]bool{}
	seenSig := map[string]bool{}
	for i := 0; i < 3; i++ {
		form := f.form(i)
		require.Equal(t, "ref-1", form.Get("CallerReference"))
		seenTS[form.Get("Timestamp")] = true
		seenSig[form.Get("Signature")] = true
		// Everything but Timestamp and Signature is identical.
		form.Del("Timestamp")
		form.Del("Signature")
		require.Equal(t, f.form(0), form)
	}
	require.Len(t, seenTS, 3, "each attempt has a fresh Timestamp")
	require.Len(t, seenSig, 3, "each attempt is signed again")
}

func TestRetryClassification(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		attempts int32
		code     ErrorCode
		moved    bool
	}{
		{"InternalError is retried", 500, errBody("InternalError", "try again"), 3, ErrCodeInternalError, true},
		{"InternalError code on 400 is retried", 400, errBody("InternalError", "try again"), 3, ErrCodeInternalError, true},
		{"ConcurrentModification is retried", 409, errBody("ConcurrentModification", "busy"), 3, ErrCodeConcurrentModification, false},
		{"InsufficientBalance is not retried", 400, errBody("InsufficientBalance", "The transaction exceeds the account/instrument limits."), 1, ErrCodeInsufficientBalance, false},
		{"a plain 400 is not retried", 400, errBody("InvalidParams", "bad"), 1, ErrCodeInvalidParams, false},
		{"DuplicateRequest is not retried", 400, errBody("DuplicateRequest", "dup"), 1, ErrCodeDuplicateRequest, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
				writeXML(w, tc.status, tc.body)
			})
			c := newTestClient(t, f)
			_, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref"})
			require.Error(t, err)
			require.Equal(t, tc.attempts, f.hits.Load())
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.code, ae.Code)
			require.Equal(t, "err-req-1", ae.RequestID)
			require.Equal(t, tc.status, ae.HTTPStatusCode())
			var oe *smithy.OperationError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "FPS", oe.ServiceID)
			require.Equal(t, "Pay", oe.OperationName)
			require.Equal(t, tc.moved, MayHaveMoved(err), err.Error())
			require.Equal(t, tc.moved, errors.Is(err, ErrOutcomeUnknown))
			if tc.moved {
				require.Contains(t, err.Error(), "money may have moved")
			} else {
				require.Contains(t, err.Error(), "no money moved")
			}
		})
	}
}

func TestPerCallMaxAttempts(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 503, "")
	})
	c := newTestClient(t, f)
	_, err := c.GetTransactionStatus(context.Background(), &GetTransactionStatusInput{TransactionID: "T"},
		func(o *Options) { o.MaxAttempts = 1 })
	require.Error(t, err)
	require.EqualValues(t, 1, f.hits.Load())
	require.False(t, MayHaveMoved(err), "a read moves nothing")
	require.NotContains(t, err.Error(), "money", "a read says nothing about money")
	require.False(t, errors.Is(err, ErrOutcomeUnknown))
}

func TestCancelDuringBackoffReturnsAtOnce(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 503, "")
	})
	c := newTestClient(t, f, func(o *Options) { o.Retryer = quickRetryer{newDefaultRetryer(3), time.Minute} })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Pay(ctx, &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref"})
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, elapsed, 5*time.Second, "must not wait for the one-minute back-off")
	require.EqualValues(t, 1, f.hits.Load())
	require.True(t, MayHaveMoved(err), "the 503 left the outcome open")
}

func TestCancelledContextStopsBeforeSending(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) { writeXML(w, 200, samplePay) })
	c := newTestClient(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Pay(ctx, &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref"})
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, f.hits.Load())
}

// dropFirst answers the first request of action by closing the connection
// after reading it, and passes everything else to next.
func dropFirst(action string, next func(w http.ResponseWriter, form url.Values) bool) func(http.ResponseWriter, *http.Request, url.Values, int) {
	var dropped atomic.Bool
	return func(w http.ResponseWriter, _ *http.Request, form url.Values, _ int) {
		if form.Get("Action") == action && dropped.CompareAndSwap(false, true) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if !next(w, form) {
			writeXML(w, 400, errBody("InvalidParams", "unexpected "+form.Get("Action")))
		}
	}
}

func statusBody(id string, st TransactionStatus) string {
	return `<GetTransactionStatusResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionStatusResult><TransactionId>` + id + `</TransactionId><TransactionStatus>` + string(st) +
		`</TransactionStatus><CallerReference>reserve-ref</CallerReference></GetTransactionStatusResult><ResponseMetadata><RequestId>status-req</RequestId></ResponseMetadata></GetTransactionStatusResponse>`
}

func historyBody(id string, history ...TransactionStatus) string {
	var b strings.Builder
	for _, st := range history {
		b.WriteString("<StatusHistory><Date>2009-10-05T22:50:08Z</Date><TransactionStatus>" + string(st) + "</TransactionStatus></StatusHistory>")
	}
	return `<GetTransactionResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionResult><Transaction><TransactionId>` + id + `</TransactionId><TransactionStatus>` +
		string(history[len(history)-1]) + `</TransactionStatus>` + b.String() + `</Transaction></GetTransactionResult></GetTransactionResponse>`
}

// inVersion puts body, an answer in the namespace of 2008-09-17, into
// that of version.
func inVersion(body, version string) string {
	return strings.Replace(body, Namespace(DefaultAPIVersion), Namespace(version), 1)
}

func countAction(f *fakeFPS, action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, form := range f.forms {
		if form.Get("Action") == action {
			n++
		}
	}
	return n
}

func TestSettleLostAnswer(t *testing.T) {
	ctx := context.Background()
	in := &SettleInput{ReserveTransactionID: "RESERVE1", TransactionAmount: USD(dec("4"))}

	t.Run("it happened", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
			switch {
			case form.Get("TransactionId") != "RESERVE1":
				return false
			case form.Get("Action") == "GetTransactionStatus":
				writeXML(w, 200, statusBody("RESERVE1", TransactionStatusPending))
			case form.Get("Action") == "GetTransaction":
				writeXML(w, 200, historyBody("RESERVE1", TransactionStatusPending, TransactionStatusReserved, TransactionStatusPending))
			default:
				return false
			}
			return true
		}))
		out, err := newTestClient(t, f).Settle(ctx, in)
		require.NoError(t, err)
		require.Equal(t, "RESERVE1", out.TransactionID)
		require.Equal(t, TransactionStatusPending, out.TransactionStatus)
		require.Equal(t, "status-req", out.RequestID)
		require.Equal(t, 1, countAction(f, "Settle"), "never sent twice")
		require.Equal(t, 1, countAction(f, "GetTransactionStatus"))
	})

	t.Run("it did not happen", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
			switch form.Get("Action") {
			case "GetTransactionStatus":
				writeXML(w, 200, statusBody("RESERVE1", TransactionStatusReserved))
			case "Settle":
				writeXML(w, 200, txBody("Settle", "RESERVE1", TransactionStatusSuccess, "settle-req"))
			default:
				return false
			}
			return true
		}))
		out, err := newTestClient(t, f).Settle(ctx, in)
		require.NoError(t, err)
		require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
		require.Equal(t, "settle-req", out.RequestID)
		require.Equal(t, 2, countAction(f, "Settle"), "sent again after learning it had not happened")
		require.Equal(t, 1, countAction(f, "GetTransactionStatus"))
		for _, i := range []int{0, 2} {
			require.Equal(t, "Settle", f.form(i).Get("Action"))
			require.Equal(t, "4.00", f.form(i).Get("TransactionAmount.Value"))
		}
	})

	t.Run("a pending reserve was never settled", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
			switch form.Get("Action") {
			case "GetTransactionStatus":
				writeXML(w, 200, statusBody("RESERVE1", TransactionStatusPending))
			case "GetTransaction":
				writeXML(w, 200, historyBody("RESERVE1", TransactionStatusPending))
			case "Settle":
				writeXML(w, 400, errBody("InvalidTransactionState", "only a Reserved transaction can be settled"))
			default:
				return false
			}
			return true
		}))
		_, err := newTestClient(t, f).Settle(ctx, in)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, ErrCodeInvalidTransactionState, ae.Code)
		require.False(t, MayHaveMoved(err))
		require.Equal(t, 2, countAction(f, "Settle"), "sent again: the first one did nothing")
	})

	t.Run("unknown", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
			if form.Get("Action") == "GetTransactionStatus" {
				writeXML(w, 400, errBody("InvalidTransactionId", "no such transaction"))
				return true
			}
			return false
		}))
		_, err := newTestClient(t, f).Settle(ctx, in)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		require.True(t, MayHaveMoved(err))
		require.Contains(t, err.Error(), "money may have moved")
		var ae *APIError
		require.ErrorAs(t, err, &ae, "the status error is kept")
		require.Equal(t, ErrCodeInvalidTransactionID, ae.Code)
		require.Equal(t, 1, countAction(f, "Settle"))
	})

	t.Run("5xx answer", func(t *testing.T) {
		f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, form url.Values, _ int) {
			switch form.Get("Action") {
			case "GetTransactionStatus":
				writeXML(w, 200, statusBody("RESERVE1", TransactionStatusSuccess))
			default:
				writeXML(w, 500, errBody("InternalError", "oops"))
			}
		})
		out, err := newTestClient(t, f).Settle(ctx, in)
		require.NoError(t, err)
		require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
		require.Equal(t, 1, countAction(f, "Settle"))
	})
}

func TestCancelLostAnswer(t *testing.T) {
	f := newFakeFPS(t, dropFirst("Cancel", func(w http.ResponseWriter, form url.Values) bool {
		if form.Get("Action") == "GetTransactionStatus" {
			writeXML(w, 200, statusBody("TX1", TransactionStatusCancelled))
			return true
		}
		return false
	}))
	res, err := newTestClient(t, f).Void(context.Background(), "TX1", VoidOptions{Description: "changed mind"})
	require.NoError(t, err)
	require.Equal(t, ResultSuccess, res.Status)
	require.Equal(t, TransactionStatusCancelled, res.TransactionStatus)
	require.Equal(t, 1, countAction(f, "Cancel"))
}

func TestIdempotentActionResendsAfterLostAnswer(t *testing.T) {
	f := newFakeFPS(t, dropFirst("Refund", func(w http.ResponseWriter, form url.Values) bool {
		writeXML(w, 200, txBody("Refund", "REFUND1", TransactionStatusSuccess, "r"))
		return true
	}))
	_, err := newTestClient(t, f).Refund(context.Background(), &RefundInput{TransactionID: "T", CallerReference: "refund-1"})
	require.NoError(t, err)
	require.Equal(t, 2, countAction(f, "Refund"))
	require.Equal(t, 0, countAction(f, "GetTransactionStatus"), "a CallerReference makes resending safe")
	require.Equal(t, "refund-1", f.form(1).Get("CallerReference"))
}

func TestSuccessWithoutRequiredElementIsAnError(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>X</TransactionId></PayResult></PayResponse>`)
	})
	out, err := newTestClient(t, f).Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: "r"})
	require.Nil(t, out)
	var de *smithy.DeserializationError
	require.ErrorAs(t, err, &de)
	require.Contains(t, err.Error(), "TransactionStatus")
	require.True(t, MayHaveMoved(err), "FPS answered 2xx: the payment may exist")
	require.EqualValues(t, 1, f.hits.Load(), "not resent blindly")
}

func TestResponseSizeIsCapped(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "<GetAccountBalanceResponse>"+strings.Repeat(" ", maxResponseBytes)+"</GetAccountBalanceResponse>")
	})
	_, err := newTestClient(t, f).GetAccountBalance(context.Background(), nil)
	require.ErrorContains(t, err, "exceeds")
}

func TestDefaultHTTPClientHasTimeout(t *testing.T) {
	c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("a", "b")})
	require.NoError(t, err)
	hc, ok := c.Options().HTTPClient.(*http.Client)
	require.True(t, ok)
	require.Equal(t, time.Minute, hc.Timeout)
}

func TestLogsCarryNoSecrets(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, n int) {
		if n == 0 {
			writeXML(w, 503, "")
			return
		}
		writeXML(w, 200, samplePay)
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, f, func(o *Options) { o.Logger = logger; o.LogStringToSign = true })
	_, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: "r"})
	require.NoError(t, err)
	logs := buf.String()
	require.Contains(t, logs, "action=Pay")
	require.Contains(t, logs, "attempt=1")
	require.Contains(t, logs, "attempt=2")
	require.Contains(t, logs, "http_status=503")
	require.Contains(t, logs, "request_id=c21e7735-9c08-4cd8-99bf-535a848c79b4:0")
	require.Contains(t, logs, "outcome=retry")
	require.Contains(t, logs, "outcome=success")
	require.Contains(t, logs, "duration=")
	require.NotContains(t, logs, testSecret)
	require.NotContains(t, logs, testAccessKey)
	for i := 0; i < 2; i++ {
		sig := f.form(i).Get("Signature")
		require.NotEmpty(t, sig)
		require.NotContains(t, logs, sig)
		require.NotContains(t, logs, sigv2.Escape(sig))
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 403, errBody("SignatureDoesNotMatch", "The request signature we calculated does not match"))
	})
	_, err := newTestClient(t, f).Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: "r"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), testSecret)
	require.NotContains(t, err.Error(), testAccessKey)
	require.NotContains(t, err.Error(), f.form(0).Get("Signature"))
}

func TestSeedCalls(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, form url.Values, _ int) {
		switch a := form.Get("Action"); a {
		case "Pay":
			writeXML(w, 200, txBody(a, "PAY1", TransactionStatusSuccess, "r1"))
		case "Reserve":
			writeXML(w, 200, txBody(a, "RES1", TransactionStatusReserved, "r2"))
		case "Settle":
			writeXML(w, 200, txBody(a, "RES1", TransactionStatusPending, "r3"))
		case "Refund":
			writeXML(w, 200, txBody(a, "REF1", TransactionStatusFailure, "r4"))
		case "Cancel":
			writeXML(w, 200, txBody(a, "RES2", TransactionStatusCancelled, "r5"))
		}
	})
	c := newTestClient(t, f)
	ctx := context.Background()

	res, err := c.Purchase(ctx, dec("10"), PurchaseOptions{TokenID: "TOK", CallerReference: "order-1", SenderDescription: "a book", TransactionTimeoutInMins: 30})
	require.NoError(t, err)
	require.Equal(t, &PurchaseOutput{Status: ResultSuccess, TransactionOutput: TransactionOutput{
		TransactionID: "PAY1", TransactionStatus: TransactionStatusSuccess, RequestID: "r1",
	}}, res)
	form := f.form(0)
	require.Equal(t, "TOK", form.Get("SenderTokenId"))
	require.Equal(t, "order-1", form.Get("CallerReference"))
	require.Equal(t, "10.00", form.Get("TransactionAmount.Value"))
	require.Equal(t, "a book", form.Get("SenderDescription"))
	require.Equal(t, "30", form.Get("TransactionTimeoutInMins"), "the seed dropped it; it is sent")

	res, err = c.Authorize(ctx, dec("12.5"), PurchaseOptions{TokenID: "TOK", CallerReference: "order-2"})
	require.NoError(t, err)
	require.Equal(t, "RES1", res.TransactionID)
	require.Equal(t, TransactionStatusReserved, res.TransactionStatus)
	require.Equal(t, "Reserve", f.form(1).Get("Action"))
	require.Equal(t, "12.50", f.form(1).Get("TransactionAmount.Value"))

	res, err = c.Capture(ctx, dec("12.5"), CaptureOptions{TransactionID: "RES1"})
	require.NoError(t, err)
	require.Equal(t, ResultSuccess, res.Status)
	require.Equal(t, "RES1", f.form(2).Get("ReserveTransactionId"))
	require.Equal(t, "12.50", f.form(2).Get("TransactionAmount.Value"))

	res, err = c.Credit(ctx, dec("2"), CreditOptions{TransactionID: "PAY1", CallerReference: "refund-1", Description: "damaged"})
	require.NoError(t, err)
	require.Equal(t, ResultFailure, res.Status, "a Failure transaction status is a FAILURE result")
	form = f.form(3)
	require.Equal(t, "PAY1", form.Get("TransactionId"))
	require.Equal(t, "refund-1", form.Get("CallerReference"))
	require.Equal(t, "2.00", form.Get("RefundAmount.Value"))
	require.Equal(t, "damaged", form.Get("CallerDescription"))

	res, err = c.Void(ctx, "RES2", VoidOptions{Description: "out of stock"})
	require.NoError(t, err)
	require.Equal(t, &VoidOutput{Status: ResultSuccess, TransactionOutput: TransactionOutput{
		TransactionID: "RES2", TransactionStatus: TransactionStatusCancelled, RequestID: "r5",
	}}, res)
	require.Equal(t, "RES2", f.form(4).Get("TransactionId"))
	require.Equal(t, "out of stock", f.form(4).Get("Description"))

	// Capture and Credit without an amount settle or refund everything.
	_, err = c.Capture(ctx, decimal.Zero, CaptureOptions{TransactionID: "RES1"})
	require.NoError(t, err)
	require.NotContains(t, f.form(5), "TransactionAmount.Value")
}

func TestNewCallerReference(t *testing.T) {
	a, b := NewCallerReference(), NewCallerReference()
	require.NotEqual(t, a, b)
	require.LessOrEqual(t, len(a), MaxCallerReferenceLength)
	require.GreaterOrEqual(t, len(a), 16)
	require.Equal(t, a, sigv2.Escape(a), "URL-safe: nothing to escape")
}

func TestFormatAmount(t *testing.T) {
	for in, want := range map[string]string{
		"19.9": "19.90", "5": "5.00", "0.01": "0.01", "-0.1": "-0.10", "1000": "1000.00", "1e3": "1000.00",
		"123456789012.34": "123456789012.34", "1.000000": "1.00", "99999999999999999999.99": "99999999999999999999.99",
		"0": "0.00", "12.345": "12.35", "-3.1": "-3.10", "1E2": "100.00",
		"123456789012345678.5": "123456789012345678.50",
	} {
		d := dec(in)
		require.Equal(t, want, formatAmount(d), in)
		require.Equal(t, d.StringFixed(2), formatAmount(d), in)
	}
}

func TestRefusedConnectionMovedNothing(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {})
	c := newTestClient(t, f)
	f.srv.Close() // the port now refuses connections: nothing can be sent
	_, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: "r"})
	require.Error(t, err)
	require.False(t, MayHaveMoved(err), err.Error())
	require.NotErrorIs(t, err, ErrOutcomeUnknown)
	require.Contains(t, err.Error(), "after 3 attempts", "refused connections are retried")
}

func TestConcurrentCalls(t *testing.T) {
	var seen sync.Map
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, form url.Values, _ int) {
		if _, again := seen.LoadOrStore(form.Get("CallerReference"), true); !again {
			writeXML(w, 503, "") // the first attempt of every call fails
			return
		}
		writeXML(w, 200, txBody("Pay", "TX-"+form.Get("CallerReference"), TransactionStatusSuccess, "r"))
	})
	c := newTestClient(t, f)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := fmt.Sprintf("ref-%d", i)
			out, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: ref})
			if err != nil {
				t.Error(err)
				return
			}
			if out.TransactionID != "TX-"+ref {
				t.Errorf("answer %s for %s", out.TransactionID, ref)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 40, f.hits.Load())
}

// An action's option functions may send that call to another endpoint,
// signed for it; the client's endpoint serves the next call.
func TestPerCallAPIEndpoint(t *testing.T) {
	answer := func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, statusBody("T", TransactionStatusSuccess))
	}
	home, away := newFakeFPS(t, answer), newFakeFPS(t, answer)
	c := newTestClient(t, home)
	ctx := context.Background()

	_, err := c.GetTransactionStatus(ctx, &GetTransactionStatusInput{TransactionID: "T"},
		func(o *Options) { o.APIEndpoint = away.srv.URL + "/" })
	require.NoError(t, err)
	require.EqualValues(t, 1, away.hits.Load(), "checkSigned verified the signature over its host")
	require.Zero(t, home.hits.Load())

	_, err = c.GetTransactionStatus(ctx, &GetTransactionStatusInput{TransactionID: "T"})
	require.NoError(t, err)
	require.EqualValues(t, 1, home.hits.Load())

	_, err = c.GetTransactionStatus(ctx, &GetTransactionStatusInput{TransactionID: "T"},
		func(o *Options) { o.APIEndpoint = "not a url" })
	require.ErrorContains(t, err, "Options.APIEndpoint")
	require.EqualValues(t, 2, home.hits.Load()+away.hits.Load(), "nothing sent")
}

// FPS may answer Cancel without TransactionId: Void's answer names the
// transaction it was given.
func TestVoidWithoutTransactionID(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, `<CancelResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><CancelResult><TransactionStatus>Cancelled</TransactionStatus></CancelResult>`+
			`<ResponseMetadata><RequestId>r9</RequestId></ResponseMetadata></CancelResponse>`)
	})
	res, err := newTestClient(t, f).Void(context.Background(), "RES9", VoidOptions{})
	require.NoError(t, err)
	require.Equal(t, &VoidOutput{Status: ResultSuccess, TransactionOutput: TransactionOutput{
		TransactionID: "RES9", TransactionStatus: TransactionStatusCancelled, RequestID: "r9",
	}}, res)
}

// doerFunc is an aws.HTTPClient made of a function.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// TestAnswerCutShortByContext: a 2xx answer that cannot be read because
// the caller's context ended meanwhile (the transport may hand over what
// came before the connection closed) is reported as the context's error,
// with the outcome open, not as a server fault.
func TestAnswerCutShortByContext(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) { writeXML(w, 200, samplePay) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newTestClient(t, f, func(o *Options) {
		o.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
			cancel()
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		})
	})
	_, err := c.Pay(ctx, &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref"})
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, MayHaveMoved(err), "%v", err)
	require.Contains(t, err.Error(), "empty body", "the unreadable answer is still named")

	// With the context alive, the same answer is the server's fault.
	c = newTestClient(t, f, func(o *Options) {
		o.MaxAttempts = 1
		o.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		})
	})
	_, err = c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("3")), CallerReference: "ref"})
	require.NotErrorIs(t, err, context.Canceled)
	var de *smithy.DeserializationError
	require.ErrorAs(t, err, &de)
}
