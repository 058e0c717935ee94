package fps

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

func TestNewTakesTheThreeVersions(t *testing.T) {
	require.Equal(t, []string{"2008-09-17", "2010-08-28", "2011-09-20"}, APIVersions())
	for _, v := range APIVersions() {
		c, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("k", "s"), APIVersion: v})
		require.NoError(t, err, v)
		require.Equal(t, v, c.Options().APIVersion)
		require.Equal(t, "http://fps.amazonaws.com/doc/"+v+"/", Namespace(v))
	}
	_, err := New(Options{Environment: Sandbox, Credentials: StaticCredentials("k", "s"), APIVersion: "2009-01-09"})
	require.EqualError(t, err, `fps: Options.APIVersion "2009-01-09" is not 2008-09-17, 2010-08-28 or 2011-09-20`)
	require.Empty(t, Namespace("2009-01-09"))
}

// TestEveryActionDeclaresItsVersions: the two subscription queries exist
// from 2010-08-28 on, every other action in every version; OverrideIPNURL
// is a parameter of 2010-08-28 on of exactly the actions whose input has
// the field.
func TestEveryActionDeclaresItsVersions(t *testing.T) {
	for _, m := range clientActions(t) {
		want := APIVersions()
		if m.Name == "GetSubscriptionDetails" || m.Name == "GetTransactionsForSubscription" {
			want = []string{APIVersion20100828, APIVersion20110920}
		}
		require.Equal(t, want, ActionVersions(m.Name), m.Name)
		var ipn []string
		if _, ok := m.Input.Elem().FieldByName("OverrideIPNURL"); ok {
			ipn = []string{APIVersion20100828, APIVersion20110920}
		}
		require.Equal(t, ipn, ParameterVersions(m.Name, "OverrideIPNURL"), m.Name)
		require.Nil(t, ParameterVersions(m.Name, "CallerReference"), m.Name)
	}
	require.Nil(t, ActionVersions("GetResults"))
	var takers []string
	for _, m := range clientActions(t) {
		if ParameterVersions(m.Name, "OverrideIPNURL") != nil {
			takers = append(takers, m.Name)
		}
	}
	require.ElementsMatch(t, []string{"Pay", "Reserve", "Settle", "Refund", "Cancel", "CancelToken", "FundPrepaid", "SettleDebt"}, takers)
}

// TestVersionRefusesBeforeSending calls every action method in every
// version, the version set on the client or per call: an action the
// version lacks, or an OverrideIPNURL under 2008-09-17, is a
// *ValidationError naming it and the version, and nothing is sent; what
// the version has is sent with its Version.
func TestVersionRefusesBeforeSending(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 400, errBody("InvalidParams", "recorded"))
	})
	for _, perCall := range []bool{false, true} {
		for _, version := range APIVersions() {
			var c *Client
			var optFns []func(*Options)
			if perCall {
				c = newTestClient(t, f)
				optFns = []func(*Options){func(o *Options) { o.APIVersion = version }}
			} else {
				c = newTestClient(t, f, func(o *Options) { o.APIVersion = version })
			}
			for _, m := range clientActions(t) {
				for _, withIPN := range []bool{false, true} {
					in := reflect.New(m.Input.Elem())
					if field := in.Elem().FieldByName("OverrideIPNURL"); withIPN && field.IsValid() {
						field.SetString("https://shop.example/ipn")
					} else if withIPN {
						continue
					}
					sent := f.hits.Load()
					args := []reflect.Value{reflect.ValueOf(c), reflect.ValueOf(context.Background()), in}
					for _, fn := range optFns {
						args = append(args, reflect.ValueOf(fn))
					}
					res := m.Func.Call(args)
					err, _ := res[1].Interface().(error)
					require.Error(t, err)
					var ve *ValidationError
					switch {
					case !slices.Contains(ActionVersions(m.Name), version):
						require.ErrorAs(t, err, &ve, "%s in %s", m.Name, version)
						require.Equal(t, "Action", ve.Field)
						require.Contains(t, ve.Rule, m.Name)
						require.Contains(t, ve.Rule, "API version "+version)
						require.Equal(t, sent, f.hits.Load(), "%s in %s was sent", m.Name, version)
					case withIPN && version == APIVersion20080917:
						require.ErrorAs(t, err, &ve, "%s in %s", m.Name, version)
						require.Equal(t, "OverrideIPNURL", ve.Field)
						require.Contains(t, ve.Rule, "API version 2008-09-17")
						require.Contains(t, ve.Rule, "2010-08-28")
						require.Equal(t, sent, f.hits.Load(), "%s in %s was sent", m.Name, version)
					case f.hits.Load() > sent: // the zero input may be refused for itself
						form := f.form(int(f.hits.Load()) - 1)
						require.Equal(t, version, form.Get("Version"))
						if withIPN {
							require.Equal(t, "https://shop.example/ipn", form.Get("OverrideIPNURL"))
						}
					}
				}
			}
		}
	}
}

func TestOverrideIPNURLMustBeAbsolute(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) { writeXML(w, 200, samplePay) })
	c := newTestClient(t, f, func(o *Options) { o.APIVersion = APIVersion20100828 })
	_, err := c.Pay(context.Background(), &PayInput{SenderTokenID: "S", TransactionAmount: USD(dec("1")), CallerReference: "r", OverrideIPNURL: "/ipn"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "OverrideIPNURL", ve.Field)
	require.Contains(t, ve.Rule, "absolute")
	require.Zero(t, f.hits.Load())
}

func TestPerCallUnknownVersionIsRefused(t *testing.T) {
	f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
		writeXML(w, 200, sampleGetTransactionStatus)
	})
	_, err := newTestClient(t, f).GetTransactionStatus(context.Background(), &GetTransactionStatusInput{TransactionID: "T"},
		func(o *Options) { o.APIVersion = "2007-01-08" })
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Version", ve.Field)
	require.Contains(t, ve.Rule, "2008-09-17, 2010-08-28 or 2011-09-20")
	var oe *smithy.OperationError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "GetTransactionStatus", oe.OperationName)
	require.Zero(t, f.hits.Load())

	// Emptied for one call, it is the default, as for New.
	c := newTestClient(t, f, func(o *Options) { o.APIVersion = APIVersion20110920 })
	_, err = c.GetTransactionStatus(context.Background(), &GetTransactionStatusInput{TransactionID: "T"}, func(o *Options) { o.APIVersion = "" })
	require.NoError(t, err)
	require.Equal(t, DefaultAPIVersion, f.form(0).Get("Version"))
}

// TestAnswerIsReadInTheVersionsNamespace: an answer is read only in the
// namespace of the version the request was sent in, as Amazon's SDKs read
// it; another version's namespace, or none, is an error.
func TestAnswerIsReadInTheVersionsNamespace(t *testing.T) {
	for _, sent := range APIVersions() {
		for _, answered := range append(APIVersions(), "") {
			body := inVersion(sampleGetTransactionStatus, answered) // "": xmlns=""
			var out GetTransactionStatusOutput
			err := decodeResult("GetTransactionStatus", sent, []byte(body), &out)
			if sent == answered {
				require.NoError(t, err)
				require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
				continue
			}
			var de *smithy.DeserializationError
			require.ErrorAs(t, err, &de, "sent %s, answered %q", sent, answered)
			require.Contains(t, err.Error(), "namespace")
			require.Contains(t, err.Error(), "API version "+sent)
		}
	}
	// The Result element must be in the namespace too.
	body := `<PayResponse xmlns="http://fps.amazonaws.com/doc/2010-08-28/"><PayResult xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><TransactionId>X</TransactionId><TransactionStatus>Success</TransactionStatus></PayResult></PayResponse>`
	require.ErrorContains(t, decodeResult("Pay", APIVersion20100828, []byte(body), new(PayOutput)), "TransactionId is missing")
}

// TestRecipientVerificationStatusesByVersion: each version's values (the
// only change 2011-09-20 is known for).
func TestRecipientVerificationStatusesByVersion(t *testing.T) {
	v2010 := []RecipientVerificationStatus{"VerificationComplete", "VerificationPending", "VerificationCompleteNoLimits"}
	require.Equal(t, v2010, RecipientVerificationStatuses(APIVersion20080917))
	require.Equal(t, v2010, RecipientVerificationStatuses(APIVersion20100828))
	require.Equal(t, []RecipientVerificationStatus{"PendingUserAction", "PendingReview", "Closed", "Active"}, RecipientVerificationStatuses(APIVersion20110920))
	require.Nil(t, RecipientVerificationStatuses("2007-01-08"))
}
