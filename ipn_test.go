package fps_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestParseNotification(t *testing.T) {
	t.Run("pay", func(t *testing.T) {
		n, err := fps.ParseNotification(payParams("order-1", "USD 12.50"))
		require.NoError(t, err)
		require.Equal(t, fps.NotificationTypeTransactionStatus, n.Type)
		require.Equal(t, "14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM", n.TransactionID)
		require.Equal(t, "order-1", n.CallerReference)
		require.Equal(t, fps.NotificationOperationPay, n.Operation)
		require.Equal(t, fps.CurrencyUSD, n.TransactionAmount.CurrencyCode)
		require.True(t, n.TransactionAmount.Value.Equal(decimal.RequireFromString("12.5")))
		require.Equal(t, time.Date(2009, 9, 28, 0, 2, 39, 0, time.UTC), n.TransactionDate)
		require.Equal(t, fps.NotificationStatusSuccess, n.Status)
		require.Equal(t, fps.TransactionStatusSuccess, n.TransactionStatus)
		require.Equal(t, "Success", n.StatusCode)
		require.Equal(t, fps.PaymentMethodCC, n.PaymentMethod)
		require.Equal(t, "TransactionStatus/14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM/PAY/SUCCESS", n.Key())
	})
	t.Run("refund uses status", func(t *testing.T) {
		n, err := fps.ParseNotification(url.Values{
			"notificationType": {"TransactionStatus"}, "transactionId": {"REFUND1"},
			"callerReference": {"refund-1"}, "operation": {"REFUND"}, "transactionAmount": {"USD 2.22"},
			"transactionDate": {"1254096159"}, "status": {"PENDING"}, "parentTransactionId": {"PAY1"},
		})
		require.NoError(t, err)
		require.Equal(t, fps.TransactionStatusPending, n.TransactionStatus)
		require.Equal(t, "PAY1", n.ParentTransactionID)
		require.Equal(t, "TransactionStatus/REFUND1/REFUND/PENDING", n.Key())
	})
	t.Run("token cancellation", func(t *testing.T) {
		n, err := fps.ParseNotification(url.Values{
			"notificationType": {"TokenCancellation"}, "tokenId": {"TOKEN9"}, "tokenType": {"MultiUse"},
			"callerReference": {"order-9"}, "dateInstalled": {"Sep 27, 2009"},
			"customerName": {"Test Buyer"}, "customerEmail": {"buyer@example.com"}, "paymentReason": {"Subscription"},
		})
		require.NoError(t, err)
		require.Equal(t, fps.NotificationTypeTokenCancellation, n.Type)
		require.Equal(t, "TOKEN9", n.TokenID)
		require.Equal(t, fps.TokenTypeMultiUse, n.TokenType)
		require.Equal(t, time.Date(2009, 9, 27, 0, 0, 0, 0, time.UTC), n.DateInstalled)
		require.Equal(t, "Test Buyer", n.CustomerName)
		require.Equal(t, "TokenCancellation/TOKEN9", n.Key())
	})
	t.Run("values this package does not know are kept", func(t *testing.T) {
		p := payParams("order-1", "USD 12.50")
		p.Set("operation", "chargeback")
		p.Set("transactionStatus", "disputed")
		p.Set("paymentMethod", "GiftCard")
		n, err := fps.ParseNotification(p)
		require.NoError(t, err)
		require.Equal(t, fps.NotificationOperation("CHARGEBACK"), n.Operation, "upper case, as the others")
		require.Equal(t, fps.NotificationStatus("DISPUTED"), n.Status)
		require.Empty(t, n.TransactionStatus, "no TransactionStatus: nothing may be read into it")
		require.Equal(t, fps.PaymentMethod("GiftCard"), n.PaymentMethod)
		require.Equal(t, "TransactionStatus/14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM/CHARGEBACK/DISPUTED", n.Key())
	})
	bad := []struct {
		field  string
		change func(url.Values)
	}{
		{"notificationType", func(p url.Values) { p.Del("notificationType") }},
		{"notificationType", func(p url.Values) { p.Set("notificationType", "Other") }},
		{"transactionId", func(p url.Values) { p.Del("transactionId") }},
		{"callerReference", func(p url.Values) { p.Del("callerReference") }},
		{"operation", func(p url.Values) { p.Del("operation") }},
		{"transactionAmount", func(p url.Values) { p.Set("transactionAmount", "12.50") }},
		{"transactionDate", func(p url.Values) { p.Set("transactionDate", "yesterday") }},
		{"transactionStatus", func(p url.Values) { p.Del("transactionStatus") }},
		{"tokenId", func(p url.Values) { p.Set("notificationType", "TokenCancellation") }},
		{"dateInstalled", func(p url.Values) {
			p.Set("notificationType", "TokenCancellation")
			p.Set("tokenId", "T")
			p.Set("dateInstalled", "2009-09-27")
		}},
	}
	for _, c := range bad {
		t.Run("bad "+c.field, func(t *testing.T) {
			p := payParams("order-1", "USD 12.50")
			c.change(p)
			_, err := fps.ParseNotification(p)
			var ve *fps.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, c.field, ve.Field)
		})
	}
}

const (
	ipnEndpoint    = "https://shop.example/fps/ipn"
	returnEndpoint = "https://shop.example:8443/fps/return?shop=main"
)
