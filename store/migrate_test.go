package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/testdb"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// unversionedSchema is the table exactly as NewSQL created it before the
// store had migrations ("version 0"): databases of that time hold it.
const unversionedSchema = `CREATE TABLE IF NOT EXISTS fps_notifications (
	notification_key      TEXT PRIMARY KEY,
	notification_type     TEXT NOT NULL,
	transaction_id        TEXT NOT NULL,
	caller_reference      TEXT NOT NULL,
	operation             TEXT NOT NULL,
	amount_value          TEXT NOT NULL,
	amount_currency       TEXT NOT NULL,
	transaction_date      BIGINT,
	status                TEXT NOT NULL,
	transaction_status    TEXT NOT NULL,
	status_code           TEXT NOT NULL,
	status_message        TEXT NOT NULL,
	payment_method        TEXT NOT NULL,
	parent_transaction_id TEXT NOT NULL,
	buyer_name            TEXT NOT NULL,
	buyer_email           TEXT NOT NULL,
	recipient_name        TEXT NOT NULL,
	recipient_email       TEXT NOT NULL,
	payment_reason        TEXT NOT NULL,
	token_id              TEXT NOT NULL,
	token_type            TEXT NOT NULL,
	date_installed        TEXT NOT NULL,
	customer_name         TEXT NOT NULL,
	customer_email        TEXT NOT NULL,
	raw_body              TEXT NOT NULL,
	received_at           BIGINT NOT NULL
)`

// unversionedRows are two rows as the store of that time wrote them: a
// PAY and a token cancellation (no amount, no transaction date).
var unversionedRows = []string{
	`INSERT INTO fps_notifications VALUES ('TransactionStatus/TX1/PAY/SUCCESS', 'TransactionStatus', 'TX1',
		'order-1', 'PAY', '12.5', 'USD', 1254096159, 'SUCCESS', 'Success', 'Success', 'The transaction was successful',
		'CC', '', 'Buyer One', 'buyer@example.com', 'Shop', 'shop@example.com', 'Two books', '', '', '', '', '',
		'notificationType=TransactionStatus&transactionId=TX1&callerReference=order-1', 1795788000123456)`,
	`INSERT INTO fps_notifications VALUES ('TokenCancellation/TOKEN123', 'TokenCancellation', '',
		'order-2', '', '', '', NULL, '', '', '', '', '', '', '', '', '', '', 'Subscription', 'TOKEN123', 'MultiUse',
		'2009-09-27', 'Buyer Two', 'two@example.com', 'notificationType=TokenCancellation&tokenId=TOKEN123', 1795788001000000)`,
}

type dialect struct {
	d    store.Dialect
	open func(tb testing.TB) *sql.DB
}

// dialects are SQLite always and PostgreSQL when FPS_TEST_POSTGRES is set.
func dialects(t *testing.T, run func(t *testing.T, dl dialect)) {
	t.Run("sqlite", func(t *testing.T) { run(t, dialect{store.SQLite, testdb.SQLite}) })
	t.Run("postgres", func(t *testing.T) {
		testdb.RequirePostgres(t)
		run(t, dialect{store.PostgreSQL, testdb.Postgres})
	})
}

// appliedVersions reads the schema versions table: version → applied_at.
func appliedVersions(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	rows, err := db.Query("SELECT version, applied_at FROM " + store.MigrationsTable)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var at string
		require.NoError(t, rows.Scan(&v, &at))
		out[v] = at
	}
	require.NoError(t, rows.Err())
	return out
}

// requireNewest checks that versions 1 to the newest are recorded, each
// with its time.
func requireNewest(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	applied := appliedVersions(t, db)
	require.Len(t, applied, store.SchemaVersion())
	for v := 1; v <= store.SchemaVersion(); v++ {
		at, err := time.Parse(time.RFC3339Nano, applied[v])
		require.NoError(t, err, "version %d", v)
		require.WithinDuration(t, time.Now(), at, time.Hour)
	}
	return applied
}

// tableColumns describes the columns of the notifications table as the
// database reports them: name, type, nullability, primary key.
func tableColumns(t *testing.T, db *sql.DB, d store.Dialect) []string {
	t.Helper()
	q := `SELECT name, type, "notnull" <> 0, pk <> 0 FROM pragma_table_info('fps_notifications') ORDER BY cid`
	if d == store.PostgreSQL {
		q = `SELECT c.column_name, c.data_type, c.is_nullable = 'NO', EXISTS (
				SELECT 1 FROM information_schema.table_constraints tc
				JOIN information_schema.key_column_usage k
					ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
				WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name
					AND tc.constraint_type = 'PRIMARY KEY' AND k.column_name = c.column_name)
			FROM information_schema.columns c
			WHERE c.table_schema = current_schema() AND c.table_name = 'fps_notifications'
			ORDER BY c.ordinal_position`
	}
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		var notNull, pk bool
		require.NoError(t, rows.Scan(&name, &typ, &notNull, &pk))
		out = append(out, fmt.Sprintf("%s %s notnull=%t pk=%t", name, typ, notNull, pk))
	}
	require.NoError(t, rows.Err())
	return out
}

// TestUpgradeFromUnversioned opens a database made by the store before it
// had migrations, rows included: the rows are kept and read back, and the
// versions table says the newest version.
func TestUpgradeFromUnversioned(t *testing.T) {
	dialects(t, func(t *testing.T, dl dialect) {
		ctx := context.Background()
		db := dl.open(t)
		_, err := db.Exec(unversionedSchema)
		require.NoError(t, err)
		for _, row := range unversionedRows {
			_, err := db.Exec(row)
			require.NoError(t, err)
		}

		s, err := store.NewSQL(ctx, db, dl.d)
		require.NoError(t, err)
		requireNewest(t, db)

		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
		pay := list[0]
		require.Equal(t, "TransactionStatus/TX1/PAY/SUCCESS", pay.Key)
		require.Equal(t, fps.NotificationTypeTransactionStatus, pay.Notification.Type)
		require.Equal(t, "order-1", pay.Notification.CallerReference)
		require.True(t, pay.Notification.TransactionAmount.Value.Equal(decimal.RequireFromString("12.50")))
		require.Equal(t, fps.CurrencyUSD, pay.Notification.TransactionAmount.CurrencyCode)
		require.Equal(t, time.Date(2009, 9, 28, 0, 2, 39, 0, time.UTC), pay.Notification.TransactionDate)
		require.Equal(t, fps.TransactionStatusSuccess, pay.Notification.TransactionStatus)
		require.Equal(t, "shop@example.com", pay.Notification.RecipientEmail)
		require.Equal(t, time.Date(2026, 11, 27, 14, 0, 0, 123456000, time.UTC), pay.ReceivedAt)
		require.Equal(t, "TX1", pay.Notification.Params.Get("transactionId"), "parameters read from the raw body")

		cancel, err := s.Get(ctx, "TokenCancellation/TOKEN123")
		require.NoError(t, err)
		require.Equal(t, fps.TokenTypeMultiUse, cancel.Notification.TokenType)
		require.Equal(t, time.Date(2009, 9, 27, 0, 0, 0, 0, time.UTC), cancel.Notification.DateInstalled)
		require.True(t, cancel.Notification.TransactionAmount.IsZero())
		require.True(t, cancel.Notification.TransactionDate.IsZero())

		// The upgraded table still takes new rows, and still refuses a
		// second row of one key.
		inserted, err := s.Save(ctx, stored(t, payBody, time.Now()))
		require.NoError(t, err)
		require.True(t, inserted)
		inserted, err = s.Save(ctx, stored(t, payBody, time.Now()))
		require.NoError(t, err)
		require.False(t, inserted)
	})
}

// TestMigratedSchemaIsTheUnversionedOne: a new database gets the same
// columns (names, types, NOT NULL, primary key) as the store made before
// migrations, so old and new databases are alike.
func TestMigratedSchemaIsTheUnversionedOne(t *testing.T) {
	dialects(t, func(t *testing.T, dl dialect) {
		old := dl.open(t)
		_, err := old.Exec(unversionedSchema)
		require.NoError(t, err)
		fresh := dl.open(t)
		_, err = store.NewSQL(context.Background(), fresh, dl.d)
		require.NoError(t, err)
		want := tableColumns(t, old, dl.d)
		require.Len(t, want, 26)
		require.Equal(t, want, tableColumns(t, fresh, dl.d))
	})
}

// TestReopenRunsNothing: a database at the newest version is opened
// again without any migration running or being recorded again.
func TestReopenRunsNothing(t *testing.T) {
	dialects(t, func(t *testing.T, dl dialect) {
		ctx := context.Background()
		db := dl.open(t)
		s, err := store.NewSQL(ctx, db, dl.d)
		require.NoError(t, err)
		first := requireNewest(t, db)
		_, err = s.Save(ctx, stored(t, payBody, time.Now()))
		require.NoError(t, err)

		s, err = store.NewSQL(ctx, db, dl.d)
		require.NoError(t, err)
		require.Equal(t, first, appliedVersions(t, db), "nothing applied again")
		list, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}

// TestNewerSchemaRefused: a database migrated by a newer program (a
// version this one does not know) is refused, and left as it is.
func TestNewerSchemaRefused(t *testing.T) {
	dialects(t, func(t *testing.T, dl dialect) {
		ctx := context.Background()
		db := dl.open(t)
		_, err := store.NewSQL(ctx, db, dl.d)
		require.NoError(t, err)
		newer := store.SchemaVersion() + 1
		_, err = db.Exec(fmt.Sprintf("INSERT INTO %s (version, applied_at) VALUES (%d, '2030-01-01T00:00:00Z')", store.MigrationsTable, newer))
		require.NoError(t, err)
		before := appliedVersions(t, db)

		_, err = store.NewSQL(ctx, db, dl.d)
		require.ErrorContains(t, err, fmt.Sprintf("schema is at version %d", newer))
		require.ErrorContains(t, err, fmt.Sprintf("newer than version %d", store.SchemaVersion()))
		require.Equal(t, before, appliedVersions(t, db))
	})
}

// TestConcurrentOpen: app servers starting at once against one new
// database all open it, and each migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	dialects(t, func(t *testing.T, dl dialect) {
		db := dl.open(t)
		const servers = 8
		var wg sync.WaitGroup
		errs := make(chan error, servers)
		start := make(chan struct{})
		for range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := store.NewSQL(context.Background(), db, dl.d)
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		var failed []string
		for err := range errs {
			if err != nil {
				failed = append(failed, err.Error())
			}
		}
		require.Empty(t, failed, strings.Join(failed, "\n"))
		requireNewest(t, db)
	})
}
