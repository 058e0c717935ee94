package fps

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// answer wraps result, the inside of the Result element of action, in an
// answer of API 2008-09-17.
func answer(action, result string) []byte {
	return []byte(`<?xml version="1.0"?>
<` + action + `Response xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><` + action + `Result>` + result + `</` + action + `Result>
<ResponseMetadata><RequestId>f7b1f3a6-0c1b-4c6e-8a3b-5b6f2d5e1c9a:0</RequestId></ResponseMetadata></` + action + `Response>`)
}

// The instants Amazon's generated samples write without a zone, read as
// UTC.
var (
	sampleInstant = time.Date(2008, 9, 28, 18, 49, 45, 0, time.UTC)
	sampleMillis  = time.Date(2008, 9, 28, 18, 49, 45, 123e6, time.UTC)
)

const sampleToken = `<TokenId>T1</TokenId><FriendlyName>Book club</FriendlyName><TokenStatus>Active</TokenStatus>
<DateInstalled>2008-09-28T18:49:45</DateInstalled><CallerReference>cr1</CallerReference><TokenType>MultiUse</TokenType>`

// TestZonelessDateTimesAreUTC decodes answers of the six actions whose
// generated samples write dates without a zone: each date is read as UTC,
// with or without a fraction of a second.
func TestZonelessDateTimesAreUTC(t *testing.T) {
	t.Run("GetTransaction", func(t *testing.T) {
		var out GetTransactionOutput
		require.NoError(t, decodeResult("GetTransaction", DefaultAPIVersion, answer("GetTransaction", `<Transaction>
<TransactionId>14GKD9GE66FAA63E6O6B2JDPZKN53LZ7F22</TransactionId><CallerReference>r</CallerReference>
<DateReceived>2008-09-28T18:49:45</DateReceived><DateCompleted>2008-09-28T18:49:45.123</DateCompleted>
<TransactionStatus>Success</TransactionStatus>
<StatusHistory><Date>2008-09-28T18:49:45.123</Date><TransactionStatus>Success</TransactionStatus></StatusHistory>
</Transaction>`), &out))
		require.Equal(t, sampleInstant, out.Transaction.DateReceived)
		require.Equal(t, sampleMillis, out.Transaction.DateCompleted)
		require.Equal(t, sampleMillis, out.Transaction.StatusHistory[0].Date)
	})
	t.Run("GetAccountActivity", func(t *testing.T) {
		var out GetAccountActivityOutput
		require.NoError(t, decodeResult("GetAccountActivity", DefaultAPIVersion, answer("GetAccountActivity", `<BatchSize>1</BatchSize>
<Transaction><TransactionId>A1</TransactionId><CallerTransactionDate>2008-09-28T18:49:45</CallerTransactionDate>
<DateReceived>2008-09-28T18:49:45.123</DateReceived><DateCompleted>2008-09-28T18:49:45</DateCompleted>
<TransactionStatus>Success</TransactionStatus></Transaction>
<StartTimeForNextTransaction>2008-09-28T18:49:45.123</StartTimeForNextTransaction>`), &out))
		tx := out.Transactions[0]
		require.Equal(t, sampleInstant, tx.CallerTransactionDate)
		require.Equal(t, sampleMillis, tx.DateReceived)
		require.Equal(t, sampleInstant, tx.DateCompleted)
		require.Equal(t, sampleMillis, out.StartTimeForNextTransaction)
	})
	t.Run("GetTokens", func(t *testing.T) {
		var out GetTokensOutput
		require.NoError(t, decodeResult("GetTokens", DefaultAPIVersion, answer("GetTokens", `<Token>`+sampleToken+`</Token>`), &out))
		require.Equal(t, sampleInstant, out.Tokens[0].DateInstalled)
	})
	t.Run("GetTokenByCaller", func(t *testing.T) {
		var out GetTokenByCallerOutput
		require.NoError(t, decodeResult("GetTokenByCaller", DefaultAPIVersion, answer("GetTokenByCaller", `<Token>`+sampleToken+`</Token>`), &out))
		require.Equal(t, sampleInstant, out.Token.DateInstalled)
	})
	t.Run("GetTokenUsage", func(t *testing.T) {
		var out GetTokenUsageOutput
		require.NoError(t, decodeResult("GetTokenUsage", DefaultAPIVersion, answer("GetTokenUsage", `<TokenUsageLimits>
<Amount><CurrencyCode>USD</CurrencyCode><Value>100.00</Value></Amount>
<LastResetAmount><CurrencyCode>USD</CurrencyCode><Value>0.00</Value></LastResetAmount>
<LastResetTimestamp>2008-09-28T18:49:45.123</LastResetTimestamp></TokenUsageLimits>`), &out))
		require.Equal(t, sampleMillis, out.TokenUsageLimits[0].LastResetTimestamp)
	})
	t.Run("GetPaymentInstruction", func(t *testing.T) {
		var out GetPaymentInstructionOutput
		require.NoError(t, decodeResult("GetPaymentInstruction", DefaultAPIVersion, answer("GetPaymentInstruction", `<Token>`+sampleToken+`</Token>
<PaymentInstruction>MyRole == 'Caller';</PaymentInstruction><CallerReference>cr1</CallerReference>`), &out))
		require.Equal(t, sampleInstant, out.Token.DateInstalled)
	})
}

// TestWhitespaceAroundValuesIsIgnored: the whitespace around a number, an
// amount (value and currency), an enumerated value and a date is dropped,
// as the schema's types collapse it; a string keeps its text.
func TestWhitespaceAroundValuesIsIgnored(t *testing.T) {
	var out GetTransactionOutput
	require.NoError(t, decodeResult("GetTransaction", DefaultAPIVersion, answer("GetTransaction", `<Transaction>
<TransactionId>14GKD9GE66FAA63E6O6B2JDPZKN53LZ7F22</TransactionId>
<CallerDescription>  two  spaces  </CallerDescription>
<DateReceived>
	2009-10-05T22:50:08.010-07:00
</DateReceived>
<DateCompleted> 2008-09-28T18:49:45 </DateCompleted>
<TransactionAmount><CurrencyCode> USD </CurrencyCode><Value>
  1.50
</Value></TransactionAmount>
<FPSFeesPaidBy> Recipient </FPSFeesPaidBy>
<FPSOperation>
Pay
</FPSOperation>
<PaymentMethod> CC </PaymentMethod>
<TransactionStatus>
	Success
</TransactionStatus>
<RelatedTransaction><TransactionId>R</TransactionId><RelationType> Refund </RelationType></RelatedTransaction>
</Transaction>`), &out))
	tx := out.Transaction
	require.Equal(t, "  two  spaces  ", tx.CallerDescription)
	require.True(t, time.Date(2009, 10, 6, 5, 50, 8, 10e6, time.UTC).Equal(tx.DateReceived), tx.DateReceived.String())
	require.Equal(t, sampleInstant, tx.DateCompleted)
	require.Equal(t, CurrencyUSD, tx.TransactionAmount.CurrencyCode)
	require.True(t, decimal.RequireFromString("1.5").Equal(tx.TransactionAmount.Value))
	require.Equal(t, RoleRecipient, tx.FPSFeesPaidBy)
	require.Equal(t, FPSOperationPay, tx.FPSOperation)
	require.Equal(t, PaymentMethodCC, tx.PaymentMethod)
	require.Equal(t, TransactionStatusSuccess, tx.TransactionStatus)
	require.Equal(t, RelationRefund, tx.RelatedTransactions[0].RelationType)

	var tokens GetTokensOutput
	require.NoError(t, decodeResult("GetTokens", DefaultAPIVersion, answer("GetTokens", `<Token><TokenId>T1</TokenId>
<TokenStatus> Inactive </TokenStatus><TokenType>
SingleUse</TokenType></Token>`), &tokens))
	require.Equal(t, TokenStatusInactive, tokens.Tokens[0].TokenStatus)
	require.Equal(t, TokenTypeSingleUse, tokens.Tokens[0].TokenType)

	var usage GetTokenUsageOutput
	require.NoError(t, decodeResult("GetTokenUsage", DefaultAPIVersion, answer("GetTokenUsage", `<TokenUsageLimits><Count> 3 </Count><LastResetCount>
1
</LastResetCount></TokenUsageLimits>`), &usage))
	require.Equal(t, 3, usage.TokenUsageLimits[0].Count)
	require.Equal(t, 1, usage.TokenUsageLimits[0].LastResetCount)

	var sub GetSubscriptionDetailsOutput
	require.NoError(t, decodeResult("GetSubscriptionDetails", APIVersion20100828, []byte(inVersion(string(answer("GetSubscriptionDetails", `<SubscriptionDetails>
<SubscriptionId>S1</SubscriptionId><Description> Box </Description>
<SubscriptionAmount><CurrencyCode>USD</CurrencyCode><Value>9.99</Value></SubscriptionAmount>
<NumberOfPromotionalTransactions> 0 </NumberOfPromotionalTransactions><StartDate> 2010-09-01T00:00:00 </StartDate>
<SubscriptionFrequency><Value> 1 </Value><TimeUnit> month </TimeUnit></SubscriptionFrequency>
<SubscriptionStatus> Active </SubscriptionStatus><NumberOfTransactionsProcessed>
2 </NumberOfTransactionsProcessed></SubscriptionDetails>`)), APIVersion20100828)), &sub))
	d := sub.SubscriptionDetails
	require.Equal(t, " Box ", d.Description)
	require.Equal(t, time.Date(2010, 9, 1, 0, 0, 0, 0, time.UTC), d.StartDate)
	require.Equal(t, Duration{Value: 1, TimeUnit: TimeUnitMonth}, d.SubscriptionFrequency)
	require.Equal(t, SubscriptionStatusActive, d.SubscriptionStatus)
	require.Equal(t, 2, d.NumberOfTransactionsProcessed)
}

// TestWhatStaysStrict: a wrong namespace, a missing required element, a
// malformed amount, number or date, and a date that is not an xs:dateTime
// stay errors. (An unknown status is kept as sent: see TestEnumDecoding.)
func TestWhatStaysStrict(t *testing.T) {
	tx := func(inner string) []byte {
		return answer("GetTransaction", `<Transaction><TransactionId>X</TransactionId><TransactionStatus>Success</TransactionStatus>`+inner+`</Transaction>`)
	}
	for name, tc := range map[string]struct {
		body []byte
		want string
	}{
		"another version's namespace": {[]byte(inVersion(string(tx("")), APIVersion20100828)), "namespace"},
		"no namespace":                {[]byte(inVersion(string(tx("")), "")), "namespace"},
		"missing required element":    {answer("GetTransaction", `<Transaction><TransactionId>X</TransactionId></Transaction>`), "TransactionStatus is missing"},
		"amount with a comma":         {tx(`<TransactionAmount><CurrencyCode>USD</CurrencyCode><Value>1,50</Value></TransactionAmount>`), "1,50"},
		"amount with a space inside":  {tx(`<TransactionAmount><CurrencyCode>USD</CurrencyCode><Value>1 50</Value></TransactionAmount>`), "1 50"},
		"date with a space for T":     {tx(`<DateReceived>2008-09-28 18:49:45</DateReceived>`), "2008-09-28 18:49:45"},
		"date without seconds":        {tx(`<DateReceived>2008-09-28T18:49</DateReceived>`), "2008-09-28T18:49"},
		"date with an empty fraction": {tx(`<DateReceived>2008-09-28T18:49:45.</DateReceived>`), "2008-09-28T18:49:45."},
		"date alone":                  {tx(`<DateReceived>2008-09-28</DateReceived>`), "2008-09-28"},
		"bad zone":                    {tx(`<DateReceived>2008-09-28T18:49:45+25:00</DateReceived>`), "2008-09-28T18:49:45+25:00"},
	} {
		t.Run(name, func(t *testing.T) {
			var out GetTransactionOutput
			err := decodeResult("GetTransaction", DefaultAPIVersion, tc.body, &out)
			var de *smithy.DeserializationError
			require.ErrorAs(t, err, &de)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	var usage GetTokenUsageOutput
	err := decodeResult("GetTokenUsage", DefaultAPIVersion, answer("GetTokenUsage", `<TokenUsageLimits><Count>3 uses</Count></TokenUsageLimits>`), &usage)
	require.ErrorContains(t, err, "3 uses")
}

// TestSettleAndCancelReadLenientAnswers: a Settle or Cancel answered with
// whitespace around its values, or a Settle whose lost answer is looked
// up in a GetTransaction with zone-less dates, has a known outcome.
func TestSettleAndCancelReadLenientAnswers(t *testing.T) {
	ctx := context.Background()
	padded := func(action, id string) string {
		return string(answer(action, "\n  <TransactionId>"+id+"</TransactionId>\n  <TransactionStatus>\n    Success\n  </TransactionStatus>\n"))
	}
	t.Run("Settle answer", func(t *testing.T) {
		f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
			writeXML(w, 200, padded("Settle", "RESERVE1"))
		})
		out, err := newTestClient(t, f).Settle(ctx, &SettleInput{ReserveTransactionID: "RESERVE1"})
		require.NoError(t, err)
		require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
		require.EqualValues(t, 1, f.hits.Load())
	})
	t.Run("Cancel answer", func(t *testing.T) {
		f := newFakeFPS(t, func(w http.ResponseWriter, _ *http.Request, _ url.Values, _ int) {
			writeXML(w, 200, strings.Replace(padded("Cancel", "TX1"), "Success", "Cancelled", 1))
		})
		out, err := newTestClient(t, f).Cancel(ctx, &CancelInput{TransactionID: "TX1"})
		require.NoError(t, err)
		require.Equal(t, TransactionStatusCancelled, out.TransactionStatus)
		require.EqualValues(t, 1, f.hits.Load())
	})
	t.Run("Settle looked up", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Settle", func(w http.ResponseWriter, form url.Values) bool {
			switch form.Get("Action") {
			case "GetTransactionStatus":
				writeXML(w, 200, statusBody("RESERVE1", TransactionStatusPending))
			case "GetTransaction":
				writeXML(w, 200, string(answer("GetTransaction", `<Transaction><TransactionId>RESERVE1</TransactionId>
<DateReceived>2008-09-28T18:49:45</DateReceived><TransactionStatus>Pending</TransactionStatus>
<StatusHistory><Date>2008-09-28T18:49:45</Date><TransactionStatus>Reserved</TransactionStatus></StatusHistory>
<StatusHistory><Date>2008-09-28T18:50:45.5</Date><TransactionStatus> Pending </TransactionStatus></StatusHistory>
</Transaction>`)))
			default:
				return false
			}
			return true
		}))
		out, err := newTestClient(t, f).Settle(ctx, &SettleInput{ReserveTransactionID: "RESERVE1"})
		require.NoError(t, err, "the outcome is known")
		require.Equal(t, TransactionStatusPending, out.TransactionStatus)
		require.Equal(t, 1, countAction(f, "Settle"), "not sent again: it took effect")
	})
	t.Run("Cancel looked up", func(t *testing.T) {
		f := newFakeFPS(t, dropFirst("Cancel", func(w http.ResponseWriter, form url.Values) bool {
			if form.Get("Action") != "GetTransactionStatus" {
				return false
			}
			writeXML(w, 200, strings.Replace(statusBody("TX1", TransactionStatusCancelled), "Cancelled", "\n Cancelled \n", 1))
			return true
		}))
		out, err := newTestClient(t, f).Cancel(ctx, &CancelInput{TransactionID: "TX1"})
		require.NoError(t, err, "the outcome is known")
		require.Equal(t, TransactionStatusCancelled, out.TransactionStatus)
		require.Equal(t, 1, countAction(f, "Cancel"))
	})
}

func TestZoneless(t *testing.T) {
	for v, want := range map[string]bool{
		"2008-09-28T18:49:45": true, "2008-09-28T18:49:45.1": true, "2008-09-28T18:49:45.123456789": true,
		"2008-09-28T18:49:45Z": false, "2008-09-28T18:49:45-07:00": false, "2008-09-28T18:49:45.": false,
		"2008-09-28T18:49": false, "2008-09-28 18:49:45": false, "2008-9-28T18:49:45": false, "": false,
		"2008-09-28T18:49:45.12a": false,
	} {
		require.Equal(t, want, zoneless([]byte(v)), v)
	}
}
