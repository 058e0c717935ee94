package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", for Open
	_ "modernc.org/sqlite"             // driver "sqlite", for Open
)

// Dialect names the SQL database behind a SQL store.
type Dialect string

// The supported dialects. Both take INSERT ... ON CONFLICT DO NOTHING.
const (
	// SQLite is SQLite 3.24 or later (e.g. modernc.org/sqlite, driver "sqlite").
	SQLite Dialect = "sqlite"
	// PostgreSQL is PostgreSQL 9.5 or later (e.g. pgx's stdlib, driver "pgx").
	PostgreSQL Dialect = "postgres"
)

// Table is the table of notifications a SQL store keeps.
const Table = "fps_notifications"

type stored = integration.StoredNotification

// notifications describes Table: one row per notification key. The
// PRIMARY KEY on notification_key is the uniqueness rule that makes
// duplicates harmless across app servers sharing the database. Dates are
// integers (Unix seconds for transaction_date, microseconds for
// received_at) and date_installed is YYYY-MM-DD, so both dialects read
// them alike. A new column is appended here with the version of the
// migration that adds it in since.
var notifications = table[stored]{name: Table, columns: []column[stored]{
	{
		name: "notification_key", typ: sqlText, primaryKey: true,
		value: func(sn *stored) any { return sn.Key },
		dest:  func(sn *stored) any { return &sn.Key },
	},
	text("notification_type", func(sn *stored) *fps.NotificationType { return &sn.Notification.Type }),
	text("transaction_id", func(sn *stored) *string { return &sn.Notification.TransactionID }),
	text("caller_reference", func(sn *stored) *string { return &sn.Notification.CallerReference }),
	text("operation", func(sn *stored) *fps.NotificationOperation { return &sn.Notification.Operation }),
	amountValue("amount_value", func(sn *stored) *fps.Amount { return &sn.Notification.TransactionAmount }),
	text("amount_currency", func(sn *stored) *fps.CurrencyCode { return &sn.Notification.TransactionAmount.CurrencyCode }),
	{
		name: "transaction_date", typ: sqlBigint,
		value: func(sn *stored) any {
			if sn.Notification.TransactionDate.IsZero() {
				return nil
			}
			return sn.Notification.TransactionDate.Unix()
		},
		dest: func(sn *stored) any {
			return scanInt64(func(secs int64, valid bool) {
				if valid {
					sn.Notification.TransactionDate = time.Unix(secs, 0).UTC()
				}
			})
		},
	},
	text("status", func(sn *stored) *fps.NotificationStatus { return &sn.Notification.Status }),
	text("transaction_status", func(sn *stored) *fps.TransactionStatus { return &sn.Notification.TransactionStatus }),
	text("status_code", func(sn *stored) *string { return &sn.Notification.StatusCode }),
	text("status_message", func(sn *stored) *string { return &sn.Notification.StatusMessage }),
	text("payment_method", func(sn *stored) *fps.PaymentMethod { return &sn.Notification.PaymentMethod }),
	text("parent_transaction_id", func(sn *stored) *string { return &sn.Notification.ParentTransactionID }),
	text("buyer_name", func(sn *stored) *string { return &sn.Notification.BuyerName }),
	text("buyer_email", func(sn *stored) *string { return &sn.Notification.BuyerEmail }),
	text("recipient_name", func(sn *stored) *string { return &sn.Notification.RecipientName }),
	text("recipient_email", func(sn *stored) *string { return &sn.Notification.RecipientEmail }),
	text("payment_reason", func(sn *stored) *string { return &sn.Notification.PaymentReason }),
	text("token_id", func(sn *stored) *string { return &sn.Notification.TokenID }),
	text("token_type", func(sn *stored) *fps.TokenType { return &sn.Notification.TokenType }),
	{
		name: "date_installed", typ: sqlText, notNull: true,
		value: func(sn *stored) any {
			if sn.Notification.DateInstalled.IsZero() {
				return ""
			}
			return sn.Notification.DateInstalled.Format(time.DateOnly)
		},
		dest: func(sn *stored) any {
			return scanString(func(s string) (err error) {
				if s != "" {
					sn.Notification.DateInstalled, err = time.Parse(time.DateOnly, s)
				}
				return err
			})
		},
	},
	text("customer_name", func(sn *stored) *string { return &sn.Notification.CustomerName }),
	text("customer_email", func(sn *stored) *string { return &sn.Notification.CustomerEmail }),
	text("raw_body", func(sn *stored) *string { return &sn.RawBody }),
	micros("received_at", func(sn *stored) *time.Time { return &sn.ReceivedAt }),
}}

// SQL is an integration.Store on database/sql: the orders and the
// notifications in one database, safe for concurrent use and for several
// processes (app servers) sharing it. Open opens one by its name; NewSQL
// takes a database opened by the caller. With SQLite, open the database
// with a busy timeout (modernc.org/sqlite:
// "file:fps.db?_pragma=busy_timeout(5000)") so concurrent writers wait
// instead of failing.
type SQL struct {
	db                *sql.DB
	owned             bool // opened by Open: Close closes it
	insert, get, list string
	q                 orderQueries
}

// NewSQL returns a store on db, after bringing its schema to the newest
// version: the migrations the database has not had yet run, each once and
// in a transaction, also when several processes open the database at the
// same time. A database whose schema is newer than this package knows is
// refused.
func NewSQL(ctx context.Context, db *sql.DB, d Dialect) (*SQL, error) {
	if d != SQLite && d != PostgreSQL {
		return nil, fmt.Errorf("store: dialect %q is not store.SQLite or store.PostgreSQL", string(d))
	}
	if err := migrate(ctx, db, d, migrations); err != nil {
		return nil, err
	}
	return &SQL{
		db:     db,
		insert: notifications.insertOnce(d),
		get:    notifications.selectWhere("WHERE notification_key = " + placeholder(d, 1)),
		list:   notifications.selectWhere("ORDER BY received_at, notification_key"),
		q:      newOrderQueries(d),
	}, nil
}

// Open opens the database named by database and returns its store,
// migrated (see NewSQL): a "postgres://" or "postgresql://" DSN opens
// PostgreSQL (through pgx), anything else is an SQLite file path or
// "file:" URI (modernc.org/sqlite, created when missing), opened with a
// busy timeout, write-ahead logging and immediate transactions, so that
// app servers sharing the file wait for each other instead of failing.
// integration.DefaultDatabase, "fps.db", is an SQLite file in the
// working directory. Close the store when done.
func Open(ctx context.Context, database string) (*SQL, error) {
	db, d, err := OpenDB(database)
	if err != nil {
		return nil, err
	}
	s, err := NewSQL(ctx, db, d)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", redact(database), err)
	}
	s.owned = true
	return s, nil
}

// MaxIdleConns is how many idle connections Open and OpenDB keep: as
// many as an app server's requests use at once, so that a burst does not
// open and close a connection per statement (database/sql keeps 2).
const MaxIdleConns = 32

// OpenDB opens the database named by database as Open does, without
// migrating it, and returns it with its dialect: for the shop's own
// tables next to the store's, or NewSQL. Close it when done.
func OpenDB(database string) (*sql.DB, Dialect, error) {
	driver, dsn, d := "sqlite", database, SQLite
	switch {
	case database == "":
		return nil, "", errors.New("store: no database named (an SQLite file such as fps.db, or a postgres:// DSN)")
	case strings.HasPrefix(database, "postgres://"), strings.HasPrefix(database, "postgresql://"):
		driver, d = "pgx", PostgreSQL
	default:
		if !strings.HasPrefix(dsn, "file:") {
			dsn = "file:" + dsn
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("store: opening %s: %w", redact(database), err)
	}
	db.SetMaxIdleConns(MaxIdleConns)
	return db, d, nil
}

// redact hides the password of a DSN.
func redact(database string) string {
	if u, err := url.Parse(database); err == nil && u.User != nil {
		return u.Redacted()
	}
	return database
}

// Close closes the database when Open opened it; a store made by NewSQL
// leaves its database to the caller.
func (s *SQL) Close() error {
	if !s.owned {
		return nil
	}
	return s.db.Close()
}

// Save stores n unless a notification with the same key is stored
// already; inserted reports which. The database's uniqueness rule decides
// which of two concurrent Saves of one key inserts.
func (s *SQL) Save(ctx context.Context, sn *integration.StoredNotification) (bool, error) {
	if sn.Key == "" {
		return false, errors.New("store: notification key is empty")
	}
	return s.changedOne(ctx, "saving notification", s.insert, notifications.values(sn)...)
}

// changedOne runs query with args and reports whether it changed exactly
// one row; what names the work in its error.
func (s *SQL) changedOne(ctx context.Context, what, query string, args ...any) (bool, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil {
			return n == 1, nil
		}
	}
	return false, fmt.Errorf("store: %s: %w", what, err)
}

// Get returns the notification stored under key, or ErrNotFound.
func (s *SQL) Get(ctx context.Context, key string) (*integration.StoredNotification, error) {
	sn, err := scan(s.db.QueryRowContext(ctx, s.get, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return sn, err
}

// List returns every stored notification, oldest ReceivedAt first.
func (s *SQL) List(ctx context.Context) ([]*integration.StoredNotification, error) {
	rows, err := s.db.QueryContext(ctx, s.list)
	if err != nil {
		return nil, fmt.Errorf("store: listing notifications: %w", err)
	}
	defer rows.Close()
	var out []*integration.StoredNotification
	for rows.Next() {
		sn, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing notifications: %w", err)
	}
	return out, nil
}

func scan(row interface{ Scan(...any) error }) (*integration.StoredNotification, error) {
	var sn integration.StoredNotification
	if err := row.Scan(notifications.dests(&sn)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("store: reading notification: %w", err)
	}
	var err error
	if sn.Notification.Params, err = url.ParseQuery(sn.RawBody); err != nil {
		return nil, fmt.Errorf("store: notification %s: raw_body: %w", sn.Key, err)
	}
	return &sn, nil
}
