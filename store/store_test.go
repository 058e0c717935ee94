package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// notificationStore is what every store of the package offers.
type notificationStore interface {
	Save(ctx context.Context, n *integration.StoredNotification) (inserted bool, err error)
	Get(ctx context.Context, key string) (*integration.StoredNotification, error)
	List(ctx context.Context) ([]*integration.StoredNotification, error)
}

// backends are the stores of the package, each opened new for a test:
// in memory, on SQLite, and on PostgreSQL when FPS_TEST_POSTGRES is set.
var backends = []struct {
	name string
	open func(t *testing.T) orderStore
}{
	{"Memory", func(t *testing.T) orderStore { return store.NewMemory() }},
	{"SQLite", func(t *testing.T) orderStore { return openSQL(t, testdb.SQLite(t), store.SQLite) }},
	{"PostgreSQL", func(t *testing.T) orderStore { return openSQL(t, testdb.Postgres(t), store.PostgreSQL) }},
}

func TestNotifications(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			suite(t, func(t *testing.T) notificationStore { return b.open(t) })
		})
	}
}

func openSQL(t *testing.T, db *sql.DB, d store.Dialect) *store.SQL {
	s, err := store.NewSQL(context.Background(), db, d)
	require.NoError(t, err)
	return s
}

func TestNewSQLUnknownDialect(t *testing.T) {
	_, err := store.NewSQL(context.Background(), nil, store.Dialect("oracle"))
	require.ErrorContains(t, err, `"oracle"`)
}

const payBody = "notificationType=TransactionStatus&transactionId=14DRG2JGR7LK4J54P544DKKNDLQFFZLE323" +
	"&callerReference=order-1&operation=PAY&transactionAmount=USD+12.50&transactionDate=1254096159" +
	"&transactionStatus=SUCCESS&statusCode=Success&statusMessage=The+transaction+was+successful" +
	"&paymentMethod=CC&buyerName=Buyer+One&buyerEmail=buyer%40example.com&recipientName=Shop" +
	"&recipientEmail=shop%40example.com&paymentReason=Two+books" +
	"&signatureVersion=2&signatureMethod=RSA-SHA1&certificateUrl=https%3A%2F%2Ffps.amazonaws.com%2Fcerts%2F1%2FPKICert.pem&signature=c2ln"

const cancelBody = "notificationType=TokenCancellation&tokenId=TOKEN123&tokenType=MultiUse" +
	"&callerReference=order-2&dateInstalled=Sep+27%2C+2009&customerName=Buyer+Two" +
	"&customerEmail=two%40example.com&paymentReason=Subscription"

func stored(t *testing.T, body string, received time.Time) *integration.StoredNotification {
	t.Helper()
	params, err := url.ParseQuery(body)
	require.NoError(t, err)
	n, err := fps.ParseNotification(params)
	require.NoError(t, err)
	return &integration.StoredNotification{Key: n.Key(), Notification: *n, RawBody: body, ReceivedAt: received}
}

func suite(t *testing.T, open func(t *testing.T) notificationStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 14, 0, 0, 123456000, time.UTC)

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		pay := stored(t, payBody, t0)
		cancel := stored(t, cancelBody, t0.Add(time.Second))
		for _, n := range []*integration.StoredNotification{cancel, pay} {
			inserted, err := s.Save(ctx, n)
			require.NoError(t, err)
			require.True(t, inserted)
		}

		got, err := s.Get(ctx, "TransactionStatus/14DRG2JGR7LK4J54P544DKKNDLQFFZLE323/PAY/SUCCESS")
		require.NoError(t, err)
		require.Equal(t, payBody, got.RawBody)
		require.True(t, got.ReceivedAt.Equal(t0), "received at %v", got.ReceivedAt)
		n := got.Notification
		require.Equal(t, fps.NotificationTypeTransactionStatus, n.Type)
		require.Equal(t, "14DRG2JGR7LK4J54P544DKKNDLQFFZLE323", n.TransactionID)
		require.Equal(t, "order-1", n.CallerReference)
		require.Equal(t, fps.NotificationOperationPay, n.Operation)
		require.True(t, n.TransactionAmount.Value.Equal(decimal.RequireFromString("12.5")))
		require.Equal(t, fps.CurrencyUSD, n.TransactionAmount.CurrencyCode)
		require.True(t, n.TransactionDate.Equal(time.Date(2009, 9, 28, 0, 2, 39, 0, time.UTC)), "%v", n.TransactionDate)
		require.Equal(t, fps.NotificationStatusSuccess, n.Status)
		require.Equal(t, fps.TransactionStatusSuccess, n.TransactionStatus)
		require.Equal(t, "Success", n.StatusCode)
		require.Equal(t, "The transaction was successful", n.StatusMessage)
		require.Equal(t, fps.PaymentMethodCC, n.PaymentMethod)
		require.Equal(t, "Buyer One", n.BuyerName)
		require.Equal(t, "buyer@example.com", n.BuyerEmail)
		require.Equal(t, "Shop", n.RecipientName)
		require.Equal(t, "shop@example.com", n.RecipientEmail)
		require.Equal(t, "Two books", n.PaymentReason)
		require.Equal(t, "c2ln", n.Params.Get("signature"))

		got, err = s.Get(ctx, "TokenCancellation/TOKEN123")
		require.NoError(t, err)
		n = got.Notification
		require.Equal(t, fps.NotificationTypeTokenCancellation, n.Type)
		require.Equal(t, fps.TokenTypeMultiUse, n.TokenType)
		require.Equal(t, "order-2", n.CallerReference)
		require.True(t, n.DateInstalled.Equal(time.Date(2009, 9, 27, 0, 0, 0, 0, time.UTC)))
		require.Equal(t, "Buyer Two", n.CustomerName)
		require.Equal(t, "two@example.com", n.CustomerEmail)
		require.True(t, n.TransactionAmount.IsZero())
		require.True(t, n.TransactionDate.IsZero())

		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, pay.Key, list[0].Key, "oldest first")
		require.Equal(t, cancel.Key, list[1].Key)

		_, err = s.Get(ctx, "TransactionStatus/none")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("DuplicateStoredOnce", func(t *testing.T) {
		s := open(t)
		first := stored(t, payBody, t0)
		inserted, err := s.Save(ctx, first)
		require.NoError(t, err)
		require.True(t, inserted)
		again := stored(t, payBody+"&extra=1", t0.Add(time.Hour))
		inserted, err = s.Save(ctx, again)
		require.NoError(t, err)
		require.False(t, inserted)
		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, payBody, list[0].RawBody, "the first delivery is kept")
	})

	t.Run("SameTransactionNewStatusStoredAgain", func(t *testing.T) {
		s := open(t)
		pending := strings.Replace(payBody, "transactionStatus=SUCCESS", "transactionStatus=PENDING", 1)
		for _, body := range []string{pending, payBody} {
			inserted, err := s.Save(ctx, stored(t, body, t0))
			require.NoError(t, err)
			require.True(t, inserted)
		}
		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
	})

	t.Run("RaceInsertsOnce", func(t *testing.T) {
		s := open(t)
		const racers = 8
		var wg sync.WaitGroup
		results := make(chan bool, racers)
		errs := make(chan error, racers)
		start := make(chan struct{})
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				inserted, err := s.Save(ctx, stored(t, payBody, t0))
				results <- inserted
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		n := 0
		for inserted := range results {
			if inserted {
				n++
			}
		}
		require.Equal(t, 1, n, "exactly one Save inserts")
		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})

	t.Run("EmptyKeyRefused", func(t *testing.T) {
		s := open(t)
		_, err := s.Save(ctx, &integration.StoredNotification{RawBody: payBody})
		require.ErrorContains(t, err, "key is empty")
	})
}
