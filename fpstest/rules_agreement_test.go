package fpstest_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/internal/rules"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The client and the simulator check a pipeline by the same rules: the
// tests below put every rule case through both, and require that the
// client refuses a field exactly when the simulator answers CE naming it
// (and only it), and that both take the rest.

// ruleJudge sends pipelines to the client and to a running simulator.
type ruleJudge struct {
	t      *testing.T
	s      *fpstest.Server
	client *fps.Client
	hc     *http.Client
}

func newRuleJudge(t *testing.T) *ruleJudge {
	s := newServer(t)
	return &ruleJudge{t: t, s: s, client: s.Client(t), hc: noRedirect(s.HTTPClient())}
}

var ceMessage = regexp.MustCompile(`^The following input\(s\) are not well formed: \[(.*)\]$`)

// simulator returns the parameters the simulator refuses in the signed
// pipeline URL link: the names its CE lists, "returnURL" for the error
// page it shows without a returnURL to go back to, none when it opens the
// buyer's page.
func (j *ruleJudge) simulator(link string) []string {
	t := j.t
	t.Helper()
	resp, err := j.hc.Get(link)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	switch resp.StatusCode {
	case http.StatusOK:
		require.Contains(t, string(body), `name="session"`)
		return nil
	case http.StatusBadRequest:
		require.Contains(t, string(body), "returnURL")
		return []string{"returnURL"}
	case http.StatusFound:
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "CE", loc.Query().Get("status"), loc.String())
		m := ceMessage.FindStringSubmatch(loc.Query().Get("errorMessage"))
		require.Len(t, m, 2, loc.String())
		return strings.Split(m[1], ", ")
	}
	t.Fatalf("simulator answered %d: %s", resp.StatusCode, body)
	return nil
}

// agree puts fields through the client's LinkURL and through the
// simulator, and requires them to agree: want is the field both refuse,
// "" when both take fields. The simulator gets the client's own URL when
// the client signs one, else the same fields signed by the test.
func (j *ruleJudge) agree(fields map[string]string, want string) {
	t := j.t
	t.Helper()
	link, err := j.client.LinkURL(context.Background(), fps.PipelineFields(maps.Clone(fields)))
	var clientField string
	if err != nil {
		var ve *fps.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		clientField = ve.Field
		link = pipelineURL(t, j.s, fields)
	}
	simFields := j.simulator(link)
	if want == "" {
		require.NoError(t, err, "the client refuses %v", fields)
		require.Empty(t, simFields, "the simulator refuses %v", fields)
		return
	}
	require.Equal(t, want, clientField, "the client on %v: %v", fields, err)
	require.Equal(t, []string{want}, simFields, "the simulator on %v", fields)
}

// with returns base with changes applied ("" removes a field).
func with(base map[string]string, changes ...map[string]string) map[string]string {
	out := maps.Clone(base)
	for _, c := range changes {
		for k, v := range c {
			if v == "" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

// pipelineBases returns a valid request of each pipeline with nothing but
// what it requires; editToken is the token the EditToken pipeline edits.
func pipelineBases(editToken string) map[string]map[string]string {
	common := map[string]string{"returnURL": "https://shop.example.com/fps/return", "callerReference": "rules-1"}
	return map[string]map[string]string{
		"SingleUse":     with(common, map[string]string{"pipelineName": "SingleUse", "transactionAmount": "5"}),
		"MultiUse":      with(common, map[string]string{"pipelineName": "MultiUse", "globalAmountLimit": "100"}),
		"Recurring":     with(common, map[string]string{"pipelineName": "Recurring", "transactionAmount": "5", "recurringPeriod": "1 Month"}),
		"Recipient":     with(common, map[string]string{"pipelineName": "Recipient", "maxFixedFee": "0", "maxVariableFee": "5", "recipientPaysFee": "True"}),
		"EditToken":     with(common, map[string]string{"pipelineName": "EditToken", "tokenId": editToken}),
		"SetupPrepaid":  with(common, map[string]string{"pipelineName": "SetupPrepaid", "callerReferenceSender": "s", "callerReferenceFunding": "f", "fundingAmount": "50"}),
		"SetupPostpaid": with(common, map[string]string{"pipelineName": "SetupPostpaid", "callerReferenceSender": "s", "callerReferenceSettlement": "st", "creditLimit": "100", "globalAmountLimit": "100"}),
	}
}

// requiredBySpec are the required parameters of each pipeline, from
// fps-api §5.1 and §5.2.
var requiredBySpec = map[string][]string{
	"SingleUse":     {"returnURL", "callerReference", "transactionAmount"},
	"MultiUse":      {"returnURL", "callerReference", "globalAmountLimit"},
	"Recurring":     {"returnURL", "callerReference", "transactionAmount", "recurringPeriod"},
	"Recipient":     {"returnURL", "callerReference", "maxFixedFee", "maxVariableFee", "recipientPaysFee"},
	"EditToken":     {"returnURL", "callerReference", "tokenId"},
	"SetupPrepaid":  {"returnURL", "callerReference", "callerReferenceSender", "callerReferenceFunding", "fundingAmount"},
	"SetupPostpaid": {"returnURL", "callerReference", "callerReferenceSender", "callerReferenceSettlement", "creditLimit", "globalAmountLimit"},
}

// samples are values each kind of parameter must take and refuse. An
// empty value is never sent (it counts as absent), so it is not here.
var samples = map[rules.Kind]struct{ valid, invalid []string }{
	rules.KindText: {valid: []string{"Order 1 — two DVDs & a book", "<b>"}},
	rules.KindURL: {
		valid: []string{"https://shop.example.com/r", "http://127.0.0.1:9/r?order=42&x=a%20b", "HTTPS://SHOP.EXAMPLE.COM/r#top", "https://[::1]:8443/r"},
		invalid: []string{"/fps/return", "javascript:alert(1)", "ftp://shop.example.com/r", "http://", "https:///path",
			"http://:80/r", "http://exa mple.com/r", "https://shop.example.com/%zz", "shop.example.com/r"},
	},
	rules.KindHTTPSURL: {
		valid:   []string{"https://shop.example.com/logo.png"},
		invalid: []string{"http://shop.example.com/logo.png", "logo.png", "https://"},
	},
	rules.KindCallerReference: {
		valid:   []string{"x", strings.Repeat("é", 128)},
		invalid: []string{strings.Repeat("é", 129)},
	},
	rules.KindAmount: {
		valid:   []string{"5", "19.99", "0.01", "1.5", "1.500", ".5", "10000000"},
		invalid: []string{"0", "0.00", "-1", "1.005", "0.001", "ten", "1e2", "1E2", "1,00", " 1", "$5"},
	},
	rules.KindFee: {
		valid:   []string{"0", "2.50", "0.00"},
		invalid: []string{"-0.01", "1.005", "x", "1e1"},
	},
	rules.KindPercent: {
		valid:   []string{"0", "5", "12.5", "100"},
		invalid: []string{"-1", "100.5", "x", "1e1"},
	},
	rules.KindBool: {
		valid:   []string{"True", "False"},
		invalid: []string{"true", "FALSE", "yes", "1"},
	},
	rules.KindEpoch: {
		valid:   []string{"0", "1767225600"},
		invalid: []string{"-5", "+5", "1.5", "2026-01-01", "99999999999999999999"},
	},
	rules.KindPeriod: {
		valid:   []string{"1 Day", "2 Weeks", "1 Month", "6 Months", "1 Year", "3 Day", "1 Months"},
		invalid: []string{"1 Hour", "2 Hours", "0 Months", "01 Month", "+1 Month", "1 month", "1 Fortnight", "monthly", "1  Month", "Month"},
	},
	rules.KindPaymentMethods: {
		valid:   []string{"ABT", "CC", "ABT,ACH,CC", "CC,ABT"},
		invalid: []string{"CC,BTC", "CC,CC", "CC, ABT", "cc", ",CC", "CC,"},
	},
	rules.KindCurrency: {
		valid:   []string{"USD"},
		invalid: []string{"EUR", "usd"},
	},
	rules.KindCobrandingStyle: {
		valid:   []string{"logo", "banner"},
		invalid: []string{"Logo", "big"},
	},
	rules.KindAmountType: {
		valid:   []string{"Exact", "Maximum", "Minimum"},
		invalid: []string{"exact", "Exactly"},
	},
	rules.KindUsageLimitType: {
		valid:   []string{"Amount", "Count"},
		invalid: []string{"amount", "Dollars"},
	},
	// Checked with usage limit type Amount (see companions); Count has
	// cases of its own.
	rules.KindUsageLimitValue: {
		valid:   []string{"5", "2.50"},
		invalid: []string{"0", "2.555", "x"},
	},
	rules.KindTokenList: {
		valid:   []string{"R1", "R1,R2"},
		invalid: []string{"R1,", ",R1", "R1,,R2"},
	},
}

// companions are what a parameter needs beside it to be valid at all
// (the rules between parameters have cases of their own).
var companions = map[string]map[string]string{
	"amountType":            {"transactionAmount": "5"},
	"isRecipientCobranding": {"recipientTokenList": "R1"},
	"usageLimitType1":       {"usageLimitValue1": "3"},
	"usageLimitValue1":      {"usageLimitType1": "Amount"},
	"usageLimitPeriod1":     {"usageLimitType1": "Count", "usageLimitValue1": "3"},
	"usageLimitType2":       {"usageLimitValue2": "3"},
	"usageLimitValue2":      {"usageLimitType2": "Amount"},
	"usageLimitPeriod2":     {"usageLimitType2": "Count", "usageLimitValue2": "3"},
}

// TestRulesAgreeEveryParameter: for every parameter of every pipeline,
// the valid and invalid values of its kind, and each required parameter
// missing.
func TestRulesAgreeEveryParameter(t *testing.T) {
	j := newRuleJudge(t)
	bases := pipelineBases(install(t, j.s, "ABT", fpstest.TokenMultiUse))
	for _, name := range rules.PipelineNames {
		t.Run(name, func(t *testing.T) {
			j.t = t
			base := bases[name]
			j.agree(base, "")
			rp, e := rules.LookupPipeline(name)
			require.Nil(t, e)
			var required []string
			for _, p := range rp.Params() {
				if p.Required {
					required = append(required, p.Name)
				}
				if p.Name == "tokenId" {
					continue // only the caller's own token is valid: a fact of the ledger, not a rule
				}
				kind, ok := samples[p.Kind]
				require.True(t, ok, "no samples for %s (%s)", p.Kind, p.Name)
				for _, v := range kind.valid {
					j.agree(with(base, companions[p.Name], map[string]string{p.Name: v}), "")
				}
				for _, v := range kind.invalid {
					j.agree(with(base, companions[p.Name], map[string]string{p.Name: v}), p.Name)
				}
			}
			require.ElementsMatch(t, requiredBySpec[name], required)
			for _, r := range required {
				j.agree(with(base, map[string]string{r: ""}), r)
			}
		})
	}
}

// TestRulesAgreeBetweenParameters: the rules that tie two parameters,
// parameters a pipeline does not take, and the pipeline name.
func TestRulesAgreeBetweenParameters(t *testing.T) {
	j := newRuleJudge(t)
	bases := pipelineBases(install(t, j.s, "ABT", fpstest.TokenMultiUse))
	multi, post, recurring := bases["MultiUse"], bases["SetupPostpaid"], bases["Recurring"]
	cases := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"amountType needs transactionAmount", with(multi, map[string]string{"amountType": "Exact"}), "transactionAmount"},
		{"isRecipientCobranding True needs recipientTokenList", with(multi, map[string]string{"isRecipientCobranding": "True"}), "recipientTokenList"},
		{"isRecipientCobranding False alone", with(multi, map[string]string{"isRecipientCobranding": "False"}), ""},
		{"usage limit type needs value", with(multi, map[string]string{"usageLimitType1": "Amount"}), "usageLimitValue1"},
		{"usage limit value needs type", with(multi, map[string]string{"usageLimitValue2": "5"}), "usageLimitType2"},
		{"usage limit period needs type", with(multi, map[string]string{"usageLimitPeriod1": "1 Month"}), "usageLimitType1"},
		{"usage Count whole", with(multi, map[string]string{"usageLimitType1": "Count", "usageLimitValue1": "3"}), ""},
		{"usage Count fraction", with(multi, map[string]string{"usageLimitType1": "Count", "usageLimitValue1": "2.5"}), "usageLimitValue1"},
		{"usage Count zero", with(multi, map[string]string{"usageLimitType2": "Count", "usageLimitValue2": "0"}), "usageLimitValue2"},
		{"usage Amount places", with(post, map[string]string{"usageLimitType2": "Amount", "usageLimitValue2": "2.555"}), "usageLimitValue2"},
		{"usage limit with its period", with(post, map[string]string{"usageLimitType1": "Amount", "usageLimitValue1": "50", "usageLimitPeriod1": "1 Week"}), ""},
		{"validity in order", with(recurring, map[string]string{"validityStart": "1000", "validityExpiry": "2000"}), ""},
		{"validityExpiry before validityStart", with(recurring, map[string]string{"validityStart": "2000", "validityExpiry": "1000"}), "validityExpiry"},
		{"validityExpiry at validityStart", with(recurring, map[string]string{"validityStart": "2000", "validityExpiry": "2000"}), "validityExpiry"},
		{"not a parameter of any pipeline", with(bases["SingleUse"], map[string]string{"CallerReference": "x"}), "CallerReference"},
		{"a parameter of another pipeline", with(bases["SingleUse"], map[string]string{"globalAmountLimit": "5"}), "globalAmountLimit"},
		{"recurringPeriod not for SingleUse", with(bases["SingleUse"], map[string]string{"recurringPeriod": "1 Month"}), "recurringPeriod"},
		{"unknown pipeline", with(bases["SingleUse"], map[string]string{"pipelineName": "DoubleUse"}), "pipelineName"},
		{"no pipeline", with(bases["SingleUse"], map[string]string{"pipelineName": ""}), "pipelineName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j.t = t
			j.agree(tc.fields, tc.want)
		})
	}
}

// TestRulesAgreeTypedPipelines: a typed pipeline the client refuses is
// refused by the simulator under the same field, and one it signs is
// taken.
func TestRulesAgreeTypedPipelines(t *testing.T) {
	j := newRuleJudge(t)
	common := fps.PipelineCommon{ReturnURL: "https://shop.example.com/fps/return", CallerReference: "typed-1"}
	dec := decimal.RequireFromString
	yes := true
	cases := []struct {
		name   string
		p      fps.Pipeline
		fields map[string]string // what p sends
		want   string
	}{
		{"recurring 1 Month", &fps.RecurringPipeline{PipelineCommon: common, TransactionAmount: dec("5"), RecurringPeriod: "1 Month"},
			map[string]string{"pipelineName": "Recurring", "transactionAmount": "5.00", "recurringPeriod": "1 Month"}, ""},
		{"recurring 1 Hour", &fps.RecurringPipeline{PipelineCommon: common, TransactionAmount: dec("5"), RecurringPeriod: "1 Hour"},
			map[string]string{"pipelineName": "Recurring", "transactionAmount": "5.00", "recurringPeriod": "1 Hour"}, "recurringPeriod"},
		{"multi-use usage limit", &fps.MultiUsePipeline{PipelineCommon: common, GlobalAmountLimit: dec("100"),
			UsageLimit1: fps.UsageLimit{Type: fps.UsageLimitCount, Value: dec("2.5")}},
			map[string]string{"pipelineName": "MultiUse", "globalAmountLimit": "100.00", "usageLimitType1": "Count", "usageLimitValue1": "2.5"}, "usageLimitValue1"},
		{"single-use tax places", &fps.SingleUsePipeline{PipelineCommon: common, TransactionAmount: dec("5"), Tax: dec("0.125")},
			map[string]string{"pipelineName": "SingleUse", "transactionAmount": "5.00", "tax": "0.125"}, "tax"},
		{"recipient variable fee", &fps.RecipientPipeline{PipelineCommon: common, MaxVariableFee: dec("100.5"), RecipientPaysFee: &yes},
			map[string]string{"pipelineName": "Recipient", "maxFixedFee": "0.00", "maxVariableFee": "100.5", "recipientPaysFee": "True"}, "maxVariableFee"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j.t = t
			link, err := j.client.PipelineURL(context.Background(), tc.p)
			fields := with(tc.fields, map[string]string{"returnURL": common.ReturnURL, "callerReference": common.CallerReference})
			if tc.want == "" {
				require.NoError(t, err)
				require.Empty(t, j.simulator(link))
				sent, err := url.Parse(link)
				require.NoError(t, err)
				for k, v := range fields {
					require.Equal(t, v, sent.Query().Get(k), k)
				}
				return
			}
			var ve *fps.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.want, ve.Field)
			require.Equal(t, []string{tc.want}, j.simulator(pipelineURL(t, j.s, fields)))
		})
	}
}
