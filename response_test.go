package fps

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// Appendix A of the FPS research specification: the minimal bodies.
const (
	samplePay = `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/">
  <PayResult>
    <TransactionId>14GK6BGKA7U6OU6SUTNLBI5SBBV9PGDJ6UL</TransactionId>
    <TransactionStatus>Pending</TransactionStatus>
  </PayResult>
  <ResponseMetadata><RequestId>c21e7735-9c08-4cd8-99bf-535a848c79b4:0</RequestId></ResponseMetadata>
</PayResponse>`
	sampleGetTransactionStatus = `<GetTransactionStatusResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/">
  <GetTransactionStatusResult>
    <TransactionId>14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM</TransactionId>
    <TransactionStatus>Success</TransactionStatus>
    <CallerReference>CallerReference07</CallerReference>
    <StatusCode>Success</StatusCode>
    <StatusMessage>The transaction was successful and the payment instrument was charged.</StatusMessage>
  </GetTransactionStatusResult>
  <ResponseMetadata><RequestId>13279842-6f84-41ef-ae36-c1ededaf278d:0</RequestId></ResponseMetadata>
</GetTransactionStatusResponse>`
	sampleCancelToken = `<CancelTokenResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/">
  <ResponseMetadata><RequestId>a10e0ad6-148f-4afe-8bcd-e80a2680793d:0</RequestId></ResponseMetadata>
</CancelTokenResponse>`
	sampleError = `<?xml version="1.0"?>
<Response><Errors><Error><Code>InsufficientBalance</Code><Message>The transaction exceeds the account/instrument limits.</Message></Error></Errors><RequestID>c095300c-8462-4576-b4af-127c5e24a84a</RequestID></Response>`
)

func TestDecodeAppendixA(t *testing.T) {
	var pay PayOutput
	require.NoError(t, decodeResult("Pay", DefaultAPIVersion, []byte(samplePay), &pay))
	require.Equal(t, "14GK6BGKA7U6OU6SUTNLBI5SBBV9PGDJ6UL", pay.TransactionID)
	require.Equal(t, TransactionStatusPending, pay.TransactionStatus)
	require.Equal(t, "c21e7735-9c08-4cd8-99bf-535a848c79b4:0", pay.RequestID)

	var st GetTransactionStatusOutput
	require.NoError(t, decodeResult("GetTransactionStatus", DefaultAPIVersion, []byte(sampleGetTransactionStatus), &st))
	require.Equal(t, GetTransactionStatusOutput{
		TransactionID:     "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM",
		TransactionStatus: TransactionStatusSuccess,
		CallerReference:   "CallerReference07",
		StatusCode:        "Success",
		StatusMessage:     "The transaction was successful and the payment instrument was charged.",
		RequestID:         "13279842-6f84-41ef-ae36-c1ededaf278d:0",
	}, st)

	var ct CancelTokenOutput
	require.NoError(t, decodeResult("CancelToken", DefaultAPIVersion, []byte(sampleCancelToken), &ct))
	require.Equal(t, "a10e0ad6-148f-4afe-8bcd-e80a2680793d:0", ct.RequestID)

	e := decodeAPIError(400, []byte(sampleError))
	require.Equal(t, ErrCodeInsufficientBalance, e.Code)
	require.Equal(t, "The transaction exceeds the account/instrument limits.", e.Message)
	require.Equal(t, "c095300c-8462-4576-b4af-127c5e24a84a", e.RequestID)
	require.Equal(t, 400, e.HTTPStatusCode())
	require.Len(t, e.Errors, 1)
	require.Equal(t, smithy.FaultClient, e.ErrorFault())
	require.Equal(t, "InsufficientBalance", e.ErrorCode())
	require.True(t, e.Retriable())
}

func TestDecodeSDKErrorEnvelope(t *testing.T) {
	body := `<ErrorResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/">
  <Error><Type>Receiver</Type><Code>InternalError</Code><Message>try later</Message><Detail>d1</Detail></Error>
  <Error><Type>Sender</Type><Code>InvalidParams</Code><Message>bad</Message></Error>
  <RequestId>rid-1</RequestId>
</ErrorResponse>`
	e := decodeAPIError(400, []byte(body))
	require.Equal(t, ErrCodeInternalError, e.Code)
	require.Equal(t, "rid-1", e.RequestID)
	require.Equal(t, []ErrorDetail{
		{Type: "Receiver", Code: "InternalError", Message: "try later", Detail: "d1"},
		{Type: "Sender", Code: "InvalidParams", Message: "bad"},
	}, e.Errors)
	require.Equal(t, smithy.FaultServer, e.ErrorFault(), "an entry of type Receiver is the server's fault")
	require.Contains(t, e.Error(), "and 1 more")

	var api smithy.APIError
	require.True(t, errors.As(error(e), &api))

	// A body that is no envelope still gives the HTTP status.
	e = decodeAPIError(503, []byte("<html>busy</html"))
	require.Empty(t, e.Code)
	require.Equal(t, "Service Unavailable", e.Message)
	require.Equal(t, smithy.FaultServer, e.ErrorFault())
	require.Contains(t, e.Error(), "HTTP 503")
}

func TestRetriableTable(t *testing.T) {
	for code, want := range map[ErrorCode]bool{
		ErrCodeInsufficientBalance: true, ErrCodeAccountLimitsExceeded: true, ErrCodeInternalError: true,
		ErrCodeOriginalTransactionIncomplete: true, ErrCodeConcurrentModification: true,
		ErrCodeDuplicateRequest: false, ErrCodeInvalidParams: false, ErrCodeSignatureDoesNotMatch: false,
		ErrCodeRefundAmountExceeded: false, ErrCodeRequestExpired: false, "NoSuchCode": false,
	} {
		require.Equal(t, want, Retriable(code), string(code))
	}
}

func TestDecodeGetTransaction(t *testing.T) {
	body := `<GetTransactionResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/">
 <GetTransactionResult>
  <Transaction>
   <TransactionId>14GKD9GE66FAA63E6O6B2JDPZKN53LZ7F22</TransactionId>
   <CallerReference>order-17</CallerReference>
   <CallerDescription>caller text</CallerDescription>
   <DateReceived>2009-10-05T22:50:08.010-07:00</DateReceived>
   <DateCompleted>2009-10-05T22:51:08.000-07:00</DateCompleted>
   <TransactionAmount><CurrencyCode>USD</CurrencyCode><Value>1.000000</Value></TransactionAmount>
   <FPSFees><CurrencyCode>USD</CurrencyCode><Value>0.100000</Value></FPSFees>
   <FPSFeesPaidBy>Recipient</FPSFeesPaidBy>
   <SenderTokenId>SENDERTOKEN</SenderTokenId>
   <FPSOperation>Pay</FPSOperation>
   <PaymentMethod>CC</PaymentMethod>
   <TransactionStatus>Success</TransactionStatus>
   <StatusCode>Success</StatusCode>
   <SenderName>Test Buyer</SenderName>
   <CallerName>Test Seller</CallerName>
   <RelatedTransaction><TransactionId>REFUNDID</TransactionId><RelationType>Refund</RelationType></RelatedTransaction>
   <StatusHistory>
    <Date>2009-10-05T22:50:08.010-07:00</Date><TransactionStatus>Pending</TransactionStatus><StatusCode>PendingNetworkResponse</StatusCode>
   </StatusHistory>
   <StatusHistory>
    <Date>2009-10-05T22:51:08.000-07:00</Date><TransactionStatus>Success</TransactionStatus><StatusCode>Success</StatusCode>
    <Amount><CurrencyCode>USD</CurrencyCode><Value>1.000000</Value></Amount>
   </StatusHistory>
  </Transaction>
 </GetTransactionResult>
 <ResponseMetadata><RequestId>r-1:0</RequestId></ResponseMetadata>
</GetTransactionResponse>`
	var out GetTransactionOutput
	require.NoError(t, decodeResult("GetTransaction", DefaultAPIVersion, []byte(body), &out))
	tx := out.Transaction
	require.Equal(t, "14GKD9GE66FAA63E6O6B2JDPZKN53LZ7F22", tx.TransactionID)
	require.Equal(t, "order-17", tx.CallerReference)
	require.True(t, decimal.RequireFromString("1").Equal(tx.TransactionAmount.Value), tx.TransactionAmount.Value.String())
	require.Equal(t, CurrencyUSD, tx.TransactionAmount.CurrencyCode)
	require.True(t, decimal.RequireFromString("0.1").Equal(tx.FPSFees.Value))
	require.Equal(t, RoleRecipient, tx.FPSFeesPaidBy)
	require.Equal(t, FPSOperationPay, tx.FPSOperation)
	require.Equal(t, PaymentMethodCC, tx.PaymentMethod)
	require.Equal(t, TransactionStatusSuccess, tx.TransactionStatus)
	pacific := time.FixedZone("", -7*3600)
	require.True(t, time.Date(2009, 10, 5, 22, 50, 8, 10e6, pacific).Equal(tx.DateReceived), tx.DateReceived.String())
	require.Equal(t, []RelatedTransaction{{TransactionID: "REFUNDID", RelationType: RelationRefund}}, tx.RelatedTransactions)
	require.Len(t, tx.StatusHistory, 2)
	require.Equal(t, TransactionStatusPending, tx.StatusHistory[0].TransactionStatus)
	require.Equal(t, "PendingNetworkResponse", tx.StatusHistory[0].StatusCode)
	require.True(t, tx.StatusHistory[0].Amount.IsZero(), "the real sample omits Amount")
	require.Equal(t, TransactionStatusSuccess, tx.StatusHistory[1].TransactionStatus)
	require.Equal(t, "USD 1.00", tx.StatusHistory[1].Amount.String())
	require.Equal(t, "r-1:0", out.RequestID)
}

func TestDecodeGetTokensAndBalances(t *testing.T) {
	tokens := `<GetTokensResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTokensResult>
<Token><TokenId>T1</TokenId><TokenStatus>Active</TokenStatus><DateInstalled>2009-10-07T10:28:53.469-07:00</DateInstalled><CallerReference>cr1</CallerReference><TokenType>SingleUse</TokenType><OldTokenId>T0</OldTokenId><PaymentReason>book</PaymentReason></Token>
<Token><TokenId>T2</TokenId><FriendlyName>n</FriendlyName><TokenStatus>Inactive</TokenStatus><DateInstalled>2009-10-07T10:28:53.469-07:00</DateInstalled><CallerReference>cr2</CallerReference><TokenType>MultiUse</TokenType></Token>
</GetTokensResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></GetTokensResponse>`
	var out GetTokensOutput
	require.NoError(t, decodeResult("GetTokens", DefaultAPIVersion, []byte(tokens), &out))
	require.Len(t, out.Tokens, 2)
	require.Equal(t, "T1", out.Tokens[0].TokenID)
	require.Equal(t, TokenStatusActive, out.Tokens[0].TokenStatus)
	require.Equal(t, TokenTypeSingleUse, out.Tokens[0].TokenType)
	require.Equal(t, "T0", out.Tokens[0].OldTokenID)
	require.Equal(t, "book", out.Tokens[0].PaymentReason)
	require.Equal(t, 2009, out.Tokens[0].DateInstalled.Year())
	require.Equal(t, "n", out.Tokens[1].FriendlyName)
	require.Equal(t, TokenTypeMultiUse, out.Tokens[1].TokenType)

	balance := `<GetAccountBalanceResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetAccountBalanceResult><AccountBalance>
<TotalBalance><CurrencyCode>USD</CurrencyCode><Value>7.500000</Value></TotalBalance>
<PendingInBalance><CurrencyCode>USD</CurrencyCode><Value>1.250000</Value></PendingInBalance>
<PendingOutBalance><CurrencyCode>USD</CurrencyCode><Value>0</Value></PendingOutBalance>
<AvailableBalances><DisburseBalance><CurrencyCode>USD</CurrencyCode><Value>6.000000</Value></DisburseBalance><RefundBalance><CurrencyCode>USD</CurrencyCode><Value>-0.100000</Value></RefundBalance></AvailableBalances>
</AccountBalance></GetAccountBalanceResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></GetAccountBalanceResponse>`
	var bal GetAccountBalanceOutput
	require.NoError(t, decodeResult("GetAccountBalance", DefaultAPIVersion, []byte(balance), &bal))
	ab := bal.AccountBalance
	require.Equal(t, "USD 7.50", ab.TotalBalance.String())
	require.Equal(t, "USD 1.25", ab.PendingInBalance.String())
	require.Equal(t, "USD 0.00", ab.PendingOutBalance.String())
	require.Equal(t, "USD 6.00", ab.AvailableBalances.DisburseBalance.String())
	require.Equal(t, "USD -0.10", ab.AvailableBalances.RefundBalance.String())

	usage := `<GetTokenUsageResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTokenUsageResult>
<TokenUsageLimits><Amount><CurrencyCode>USD</CurrencyCode><Value>100.000000</Value></Amount><LastResetAmount><CurrencyCode>USD</CurrencyCode><Value>20.000000</Value></LastResetAmount><LastResetTimestamp>2009-10-07T10:28:53.469-07:00</LastResetTimestamp></TokenUsageLimits>
<TokenUsageLimits><Count>5</Count><LastResetCount>2</LastResetCount></TokenUsageLimits>
</GetTokenUsageResult><ResponseMetadata><RequestId>r4</RequestId></ResponseMetadata></GetTokenUsageResponse>`
	var u GetTokenUsageOutput
	require.NoError(t, decodeResult("GetTokenUsage", DefaultAPIVersion, []byte(usage), &u))
	require.Len(t, u.TokenUsageLimits, 2)
	require.Equal(t, "USD 100.00", u.TokenUsageLimits[0].Amount.String())
	require.Equal(t, "USD 20.00", u.TokenUsageLimits[0].LastResetAmount.String())
	require.Equal(t, 5, u.TokenUsageLimits[1].Count)
	require.Equal(t, 2, u.TokenUsageLimits[1].LastResetCount)

	activity := `<GetAccountActivityResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetAccountActivityResult>
<BatchSize>1</BatchSize>
<Transaction><TransactionId>A1</TransactionId><CallerTransactionDate>2009-10-07T10:28:53.469-07:00</CallerTransactionDate><DateReceived>2009-10-07T10:28:53.469-07:00</DateReceived>
<TransactionAmount><CurrencyCode>USD</CurrencyCode><Value>2.000000</Value></TransactionAmount><FPSOperation>Refund</FPSOperation><TransactionStatus>Success</TransactionStatus><OriginalTransactionId>A0</OriginalTransactionId>
<TransactionPart><Role>Caller</Role><Name>Seller</Name><FeesPaid><CurrencyCode>USD</CurrencyCode><Value>0</Value></FeesPaid></TransactionPart>
<TransactionPart><InstrumentId>I1</InstrumentId><Role>Sender</Role></TransactionPart>
<PaymentMethod>ABT</PaymentMethod><CallerName>Seller</CallerName><FPSFees><CurrencyCode>USD</CurrencyCode><Value>0</Value></FPSFees><Balance><CurrencyCode>USD</CurrencyCode><Value>5.000000</Value></Balance></Transaction>
<StartTimeForNextTransaction>2009-10-08T00:00:00Z</StartTimeForNextTransaction>
</GetAccountActivityResult><ResponseMetadata><RequestId>r5</RequestId></ResponseMetadata></GetAccountActivityResponse>`
	var act GetAccountActivityOutput
	require.NoError(t, decodeResult("GetAccountActivity", DefaultAPIVersion, []byte(activity), &act))
	require.Equal(t, 1, act.BatchSize)
	require.Len(t, act.Transactions, 1)
	tx := act.Transactions[0]
	require.Equal(t, "A0", tx.OriginalTransactionID)
	require.Equal(t, FPSOperationRefund, tx.FPSOperation)
	require.Len(t, tx.TransactionParts, 2)
	require.Equal(t, RoleSender, tx.TransactionParts[1].Role)
	require.Equal(t, "I1", tx.TransactionParts[1].InstrumentID)
	require.Equal(t, "USD 5.00", tx.Balance.String())
	require.True(t, time.Date(2009, 10, 8, 0, 0, 0, 0, time.UTC).Equal(act.StartTimeForNextTransaction))
}

func TestDecodeRecipientVerificationBothSpellings(t *testing.T) {
	for _, root := range []string{"GetRecipientVerificationStatus", "GetRecipientVerification"} {
		body := `<` + root + `Response xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><` + root + `Result><RecipientVerificationStatus>VerificationComplete</RecipientVerificationStatus></` + root + `Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></` + root + `Response>`
		var out GetRecipientVerificationStatusOutput
		require.NoError(t, decodeResult("GetRecipientVerificationStatus", DefaultAPIVersion, []byte(body), &out), root)
		require.Equal(t, RecipientVerificationComplete, out.RecipientVerificationStatus)
	}
}

func TestDecodeRefusesIncompleteAnswers(t *testing.T) {
	cases := map[string]struct {
		action, body, want string
		out                any
	}{
		"no TransactionId":     {"Pay", `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionStatus>Success</TransactionStatus></PayResult></PayResponse>`, "TransactionId", new(PayOutput)},
		"no TransactionStatus": {"Reserve", `<ReserveResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><ReserveResult><TransactionId>X</TransactionId></ReserveResult></ReserveResponse>`, "TransactionStatus", new(ReserveOutput)},
		"no Result":            {"Settle", `<SettleResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SettleResponse>`, "TransactionId", new(SettleOutput)},
		"wrong root":           {"Pay", `<RefundResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><RefundResult><TransactionId>X</TransactionId><TransactionStatus>Success</TransactionStatus></RefundResult></RefundResponse>`, "RefundResponse", new(PayOutput)},
		"empty body":           {"Pay", ``, "empty", new(PayOutput)},
		"not XML":              {"Pay", `<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult>`, "Pay response", new(PayOutput)},
		"nested required":      {"GetTransaction", `<GetTransactionResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionResult><Transaction><TransactionId>X</TransactionId><TransactionStatus>Success</TransactionStatus><StatusHistory><Date>2009-10-05T22:50:08Z</Date></StatusHistory></Transaction></GetTransactionResult></GetTransactionResponse>`, "StatusHistory.TransactionStatus", new(GetTransactionOutput)},
		"no CallerReference":   {"GetTransactionStatus", `<GetTransactionStatusResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionStatusResult><TransactionId>X</TransactionId><TransactionStatus>Success</TransactionStatus></GetTransactionStatusResult></GetTransactionStatusResponse>`, "CallerReference", new(GetTransactionStatusOutput)},
		"no balance":           {"GetAccountBalance", `<GetAccountBalanceResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetAccountBalanceResult/></GetAccountBalanceResponse>`, "AccountBalance", new(GetAccountBalanceOutput)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := decodeResult(tc.action, DefaultAPIVersion, []byte(tc.body), tc.out)
			require.Error(t, err)
			var de *smithy.DeserializationError
			require.ErrorAs(t, err, &de)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTransactionStatusCaseInsensitive(t *testing.T) {
	var out PayOutput
	require.NoError(t, decodeResult("Pay", DefaultAPIVersion, []byte(`<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>X</TransactionId><TransactionStatus>SUCCESS</TransactionStatus></PayResult></PayResponse>`), &out))
	require.Equal(t, TransactionStatusSuccess, out.TransactionStatus)
	require.True(t, out.TransactionStatus.Final())
	require.True(t, out.TransactionStatus.MoneyMoved())
}

// Enumerated values decode to their constants; a value FPS sends that this
// package does not know decodes too, kept as sent.
func TestEnumDecoding(t *testing.T) {
	tx := func(status, op, method string) TransactionDetail {
		body := `<GetTransactionResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTransactionResult><Transaction><TransactionId>X</TransactionId>` +
			`<FPSOperation>` + op + `</FPSOperation><PaymentMethod>` + method + `</PaymentMethod>` +
			`<TransactionStatus>` + status + `</TransactionStatus><FPSFeesPaidBy>Recipient</FPSFeesPaidBy>` +
			`<RelatedTransaction><TransactionId>Y</TransactionId><RelationType>Refund</RelationType></RelatedTransaction>` +
			`<StatusHistory><TransactionStatus>` + status + `</TransactionStatus></StatusHistory>` +
			`</Transaction></GetTransactionResult></GetTransactionResponse>`
		var out GetTransactionOutput
		require.NoError(t, decodeResult("GetTransaction", DefaultAPIVersion, []byte(body), &out))
		return out.Transaction
	}

	known := tx("RESERVED", "Reserve", "CC")
	require.Equal(t, TransactionStatusReserved, known.TransactionStatus, "case-insensitive, to the constant")
	require.Equal(t, TransactionStatusReserved, known.StatusHistory[0].TransactionStatus)
	require.True(t, known.TransactionStatus.Known())
	require.Equal(t, FPSOperationReserve, known.FPSOperation)
	require.Equal(t, PaymentMethodCC, known.PaymentMethod)
	require.Equal(t, RoleRecipient, known.FPSFeesPaidBy)
	require.Equal(t, RelationRefund, known.RelatedTransactions[0].RelationType)

	unknown := tx("Initiated", "Chargeback", "PayPal")
	require.Equal(t, TransactionStatus("Initiated"), unknown.TransactionStatus)
	require.False(t, unknown.TransactionStatus.Known())
	require.False(t, unknown.TransactionStatus.Final())
	require.False(t, unknown.TransactionStatus.MoneyMoved())
	require.Equal(t, FPSOperation("Chargeback"), unknown.FPSOperation)
	require.Equal(t, PaymentMethod("PayPal"), unknown.PaymentMethod)

	var pay PayOutput
	require.NoError(t, decodeResult("Pay", DefaultAPIVersion, []byte(`<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>X</TransactionId><TransactionStatus>Initiated</TransactionStatus></PayResult></PayResponse>`), &pay))
	require.Equal(t, TransactionStatus("Initiated"), pay.TransactionStatus)

	var tokens GetTokensOutput
	require.NoError(t, decodeResult("GetTokens", DefaultAPIVersion, []byte(`<GetTokensResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><GetTokensResult>`+
		`<Token><TokenId>A</TokenId><TokenStatus>Active</TokenStatus><TokenType>MultiUse</TokenType></Token>`+
		`<Token><TokenId>B</TokenId><TokenStatus>Suspended</TokenStatus><TokenType>Lifetime</TokenType></Token>`+
		`</GetTokensResult></GetTokensResponse>`), &tokens))
	require.Equal(t, TokenStatusActive, tokens.Tokens[0].TokenStatus)
	require.Equal(t, TokenTypeMultiUse, tokens.Tokens[0].TokenType)
	require.Equal(t, TokenStatus("Suspended"), tokens.Tokens[1].TokenStatus)
	require.Equal(t, TokenType("Lifetime"), tokens.Tokens[1].TokenType)

	e := decodeAPIError(400, []byte(`<Response><Errors><Error><Code>BrandNewCode</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>`))
	require.Equal(t, ErrorCode("BrandNewCode"), e.Code)
	require.False(t, e.Retriable())

	var v VerifySignatureOutput
	require.NoError(t, decodeResult("VerifySignature", DefaultAPIVersion, []byte(`<VerifySignatureResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><VerifySignatureResult><VerificationStatus>Maybe</VerificationStatus></VerifySignatureResult></VerifySignatureResponse>`), &v))
	require.Equal(t, VerificationStatus("Maybe"), v.VerificationStatus)
	require.NotEqual(t, VerificationStatusSuccess, v.VerificationStatus)
}

// Every constant of an enum is in its Values, once.
func TestEnumValues(t *testing.T) {
	require.Equal(t, []TransactionStatus{"Success", "Pending", "Reserved", "Failure", "Cancelled"}, TransactionStatus("").Values())
	require.Equal(t, []PaymentMethod{"ABT", "ACH", "CC", "Debt", "Prepaid"}, PaymentMethod("").Values())
	require.Equal(t, []ResultStatus{"SUCCESS", "FAILURE"}, ResultStatus("").Values())
	require.Equal(t, []NotificationOperation{"PAY", "REFUND", "RESERVE", "SETTLE", "CANCEL", "FUND_PREPAID", "SETTLE_DEBT", "WRITE_OFF_DEBT"},
		NotificationOperation("").Values())
	require.Equal(t, []PipelineStatus{"A", "CE", "NM", "NP", "PE", "SA", "SB", "SC", "SE", "SR", "SU"}, PipelineStatus("").Values())
	for _, st := range TransactionStatus("").Values() {
		upper := NotificationStatus(strings.ToUpper(string(st)))
		require.Contains(t, NotificationStatus("").Values(), upper, "the IPN spelling of %s", st)
	}
}

func FuzzDecodeResult(f *testing.F) {
	for _, s := range []string{samplePay, sampleGetTransactionStatus, sampleCancelToken, sampleError,
		`<PayResponse xmlns="http://fps.amazonaws.com/doc/2008-09-17/"><PayResult><TransactionId>X</TransactionId><TransactionStatus>SUCCESS</TransactionStatus></PayResult></PayResponse>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var p PayOutput
		if decodeResult("Pay", DefaultAPIVersion, []byte(body), &p) == nil {
			if p.TransactionID == "" {
				t.Fatalf("success without TransactionId: %q", body)
			}
			if p.TransactionStatus == "" {
				t.Fatalf("success without TransactionStatus: %q", body)
			}
		}
		var g GetTransactionOutput
		_ = decodeResult("GetTransaction", DefaultAPIVersion, []byte(body), &g)
		e := decodeAPIError(400, []byte(body))
		if e.StatusCode != 400 || e.Error() == "" {
			t.Fatalf("bad APIError %#v", e)
		}
	})
}

func TestEveryOutputHasRequestID(t *testing.T) {
	for _, m := range clientActions(t) {
		f := requestIDField(reflect.New(m.Output.Elem()).Interface())
		require.True(t, f.IsValid(), "%s: %s", m.Name, m.Output)
		require.Equal(t, reflect.String, f.Kind(), "%s: %s", m.Name, m.Output)
	}
}
