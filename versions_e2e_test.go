package fps_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/actionmethods"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// answerRecorder is a transport that keeps the body of the last answer.
type answerRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
	n    int
}

func (r *answerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.last, r.n = body, r.n+1
	r.mu.Unlock()
	return resp, nil
}

func (r *answerRecorder) answers() (int, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, r.last
}

// TestEveryActionOfEveryVersion drives every action method of the Client
// (found by internal/actionmethods) in every API version against the
// simulator: an action the version has answers, and its answer's root is
// <{Action}Response> in the version's namespace; one it lacks is refused
// before anything is sent. The actions that take OverrideIPNURL carry it
// from 2010-08-28 on.
func TestEveryActionOfEveryVersion(t *testing.T) {
	ipns := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	t.Cleanup(ipns.Close)
	methods := actionmethods.Of(reflect.TypeFor[*fps.Client]())
	require.Len(t, methods, 27)
	for _, version := range fps.APIVersions() {
		t.Run(version, func(t *testing.T) {
			s := fpstest.NewServer(t)
			rec := &answerRecorder{base: s.HTTPClient().Transport}
			c := s.Client(t, func(o *fps.Options) {
				o.APIVersion = version
				o.HTTPClient = &http.Client{Transport: rec, Timeout: fps.DefaultHTTPTimeout}
			})
			inputs := everyActionInput(t, s, c)
			for _, m := range methods {
				t.Run(m.Name, func(t *testing.T) {
					in, ok := inputs[m.Name]
					require.True(t, ok, "no input for %s in the test", m.Name)
					if f := reflect.ValueOf(in).Elem().FieldByName("OverrideIPNURL"); f.IsValid() && version != fps.APIVersion20080917 {
						f.SetString(ipns.URL + "/ipn")
					}
					before, _ := rec.answers()
					res := m.Func.Call([]reflect.Value{reflect.ValueOf(c), reflect.ValueOf(context.Background()), reflect.ValueOf(in)})
					err, _ := res[1].Interface().(error)
					after, body := rec.answers()
					if !slices.Contains(fps.ActionVersions(m.Name), version) {
						var ve *fps.ValidationError
						require.True(t, errors.As(err, &ve), "%v", err)
						require.Equal(t, before, after, "nothing is sent")
						return
					}
					require.NoError(t, err)
					require.Equal(t, before+1, after)
					var root struct{ XMLName xml.Name }
					require.NoError(t, xml.Unmarshal(body, &root))
					require.Equal(t, xml.Name{Space: "http://fps.amazonaws.com/doc/" + version + "/", Local: m.Name + "Response"}, root.XMLName)
				})
			}
		})
	}
}

// everyActionInput returns a valid input of each action for the
// simulator s, by action name.
func everyActionInput(t *testing.T, s *fpstest.Server, c *fps.Client) map[string]any {
	multi := multiUse(t, s, c, "500", "ABT")
	paid := pay(t, c, multi, "20")
	reserve := func() string {
		out, err := c.Reserve(context.Background(), &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("5"), CallerReference: fps.NewCallerReference()})
		require.NoError(t, err)
		return out.TransactionID
	}
	pre := setupPrepaid(t, s, c, 50)
	post := setupPostpaid(t, s, c, 100)
	pay(t, c, post.CreditSenderTokenID, "30")
	recipient := buy(t, s, c, &fps.RecipientPipeline{
		PipelineCommon: fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()},
		MaxFixedFee:    decimal.NewFromInt(1), MaxVariableFee: decimal.NewFromInt(5), RecipientPaysFee: new(bool),
	}, "ABT").TokenID
	instruction, err := c.InstallPaymentInstruction(context.Background(), &fps.InstallPaymentInstructionInput{
		PaymentInstruction: "MyRole == 'Caller';", CallerReference: fps.NewCallerReference(), TokenType: fps.TokenTypeUnrestricted})
	require.NoError(t, err)
	link, err := c.PipelineURL(context.Background(), &fps.SingleUsePipeline{
		PipelineCommon: fps.PipelineCommon{ReturnURL: e2eReturnURL, CallerReference: fps.NewCallerReference()}, TransactionAmount: decimal.NewFromInt(5)})
	require.NoError(t, err)
	ret, err := s.Buy(context.Background(), link, fpstest.BuyerChoice{Action: fpstest.Approve})
	require.NoError(t, err)
	endpoint := *ret
	endpoint.RawQuery = ""
	sub, err := s.Ledger().Subscribe(fpstest.DefaultAccessKeyID, fpstest.Subscription{
		Description: "Monthly box", Amount: decimal.RequireFromString("9.99"),
		Frequency: fps.Duration{Value: 1, TimeUnit: fps.TimeUnitMonth},
	})
	require.NoError(t, err)
	return map[string]any{
		"Pay":                            &fps.PayInput{SenderTokenID: multi, TransactionAmount: usd("1"), CallerReference: fps.NewCallerReference()},
		"Reserve":                        &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("1"), CallerReference: fps.NewCallerReference()},
		"Settle":                         &fps.SettleInput{ReserveTransactionID: reserve()},
		"Refund":                         &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: usd("1"), CallerReference: fps.NewCallerReference()},
		"Cancel":                         &fps.CancelInput{TransactionID: reserve()},
		"CancelToken":                    &fps.CancelTokenInput{TokenID: multiUse(t, s, c, "5", "ABT")},
		"GetTransactionStatus":           &fps.GetTransactionStatusInput{TransactionID: paid.TransactionID},
		"GetTransaction":                 &fps.GetTransactionInput{TransactionID: paid.TransactionID},
		"GetTokens":                      &fps.GetTokensInput{},
		"GetTokenByCaller":               &fps.GetTokenByCallerInput{TokenID: multi},
		"GetTokenUsage":                  &fps.GetTokenUsageInput{TokenID: multi},
		"GetAccountActivity":             &fps.GetAccountActivityInput{StartDate: s.Clock().Now().Add(-time.Hour)},
		"GetAccountBalance":              &fps.GetAccountBalanceInput{},
		"VerifySignature":                &fps.VerifySignatureInput{URLEndPoint: endpoint.String(), HTTPParameters: ret.RawQuery},
		"FundPrepaid":                    &fps.FundPrepaidInput{SenderTokenID: pre.FundingTokenID, PrepaidInstrumentID: pre.PrepaidInstrumentID, FundingAmount: usd("10"), CallerReference: fps.NewCallerReference()},
		"GetPrepaidBalance":              &fps.GetPrepaidBalanceInput{PrepaidInstrumentID: pre.PrepaidInstrumentID},
		"GetTotalPrepaidLiability":       &fps.GetTotalPrepaidLiabilityInput{},
		"SettleDebt":                     &fps.SettleDebtInput{SenderTokenID: post.SettlementTokenID, CreditInstrumentID: post.CreditInstrumentID, SettlementAmount: usd("5"), CallerReference: fps.NewCallerReference()},
		"WriteOffDebt":                   &fps.WriteOffDebtInput{CreditInstrumentID: post.CreditInstrumentID, AdjustmentAmount: usd("5"), CallerReference: fps.NewCallerReference()},
		"GetDebtBalance":                 &fps.GetDebtBalanceInput{CreditInstrumentID: post.CreditInstrumentID},
		"GetOutstandingDebtBalance":      &fps.GetOutstandingDebtBalanceInput{},
		"InstallPaymentInstruction":      &fps.InstallPaymentInstructionInput{PaymentInstruction: "MyRole == 'Caller';", CallerReference: fps.NewCallerReference(), TokenType: fps.TokenTypeUnrestricted},
		"GetPaymentInstruction":          &fps.GetPaymentInstructionInput{TokenID: instruction.TokenID},
		"CancelSubscriptionAndRefund":    &fps.CancelSubscriptionAndRefundInput{SubscriptionID: sub, RefundAmount: usd("1"), CallerReference: fps.NewCallerReference()},
		"GetRecipientVerificationStatus": &fps.GetRecipientVerificationStatusInput{RecipientTokenID: recipient},
		"GetSubscriptionDetails":         &fps.GetSubscriptionDetailsInput{SubscriptionID: sub},
		"GetTransactionsForSubscription": &fps.GetTransactionsForSubscriptionInput{SubscriptionID: sub},
	}
}
