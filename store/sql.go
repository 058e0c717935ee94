package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
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

// Table is the table a SQL store creates and uses.
const Table = "fps_notifications"

// columns in the order of the schema, the INSERT and the SELECT.
var columns = []string{
	"notification_key", "notification_type", "transaction_id", "caller_reference", "operation",
	"amount_value", "amount_currency", "transaction_date", "status", "transaction_status",
	"status_code", "status_message", "payment_method", "parent_transaction_id",
	"buyer_name", "buyer_email", "recipient_name", "recipient_email", "payment_reason",
	"token_id", "token_type", "date_installed", "customer_name", "customer_email",
	"raw_body", "received_at",
}

// schema: one row per notification key. The PRIMARY KEY on
// notification_key is the uniqueness rule that makes duplicates harmless
// across app servers sharing the database. Dates are integers (Unix
// seconds for transaction_date, microseconds for received_at) and
// date_installed is YYYY-MM-DD, so both dialects read them alike.
const schema = `CREATE TABLE IF NOT EXISTS ` + Table + ` (
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

// SQL is an integration.NotificationStore on database/sql, safe for concurrent
// use and for several processes sharing one database. With SQLite, open
// the database with a busy timeout (modernc.org/sqlite:
// "file:fps.db?_pragma=busy_timeout(5000)") so concurrent writers wait
// instead of failing.
type SQL struct {
	db                *sql.DB
	insert, get, list string
}

// NewSQL returns a store on db, creating its table when it does not
// exist.
func NewSQL(ctx context.Context, db *sql.DB, d Dialect) (*SQL, error) {
	var ph func(i int) string
	switch d {
	case SQLite:
		ph = func(int) string { return "?" }
	case PostgreSQL:
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	default:
		return nil, fmt.Errorf("store: dialect %q is not store.SQLite or store.PostgreSQL", string(d))
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("store: creating table %s: %w", Table, err)
	}
	marks := make([]string, len(columns))
	for i := range marks {
		marks[i] = ph(i + 1)
	}
	cols := strings.Join(columns, ", ")
	return &SQL{
		db: db,
		insert: "INSERT INTO " + Table + " (" + cols + ") VALUES (" + strings.Join(marks, ", ") +
			") ON CONFLICT (notification_key) DO NOTHING",
		get:  "SELECT " + cols + " FROM " + Table + " WHERE notification_key = " + ph(1),
		list: "SELECT " + cols + " FROM " + Table + " ORDER BY received_at, notification_key",
	}, nil
}

// Save implements integration.NotificationStore: the database's uniqueness rule
// decides which of two concurrent Saves of one key inserts.
func (s *SQL) Save(ctx context.Context, sn *integration.StoredNotification) (bool, error) {
	if sn.Key == "" {
		return false, errors.New("store: notification key is empty")
	}
	n := &sn.Notification
	var txDate sql.NullInt64
	if !n.TransactionDate.IsZero() {
		txDate = sql.NullInt64{Int64: n.TransactionDate.Unix(), Valid: true}
	}
	var installed, amountValue string
	if !n.DateInstalled.IsZero() {
		installed = n.DateInstalled.Format(time.DateOnly)
	}
	if !n.TransactionAmount.IsZero() {
		amountValue = n.TransactionAmount.Value.String()
	}
	res, err := s.db.ExecContext(ctx, s.insert,
		sn.Key, string(n.Type), n.TransactionID, n.CallerReference, n.Operation,
		amountValue, n.TransactionAmount.CurrencyCode, txDate, n.Status, string(n.TransactionStatus),
		n.StatusCode, n.StatusMessage, n.PaymentMethod, n.ParentTransactionID,
		n.BuyerName, n.BuyerEmail, n.RecipientName, n.RecipientEmail, n.PaymentReason,
		n.TokenID, n.TokenType, installed, n.CustomerName, n.CustomerEmail,
		sn.RawBody, sn.ReceivedAt.UnixMicro(),
	)
	if err != nil {
		return false, fmt.Errorf("store: saving notification: %w", err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: saving notification: %w", err)
	}
	return rows == 1, nil
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
	var (
		sn                              integration.StoredNotification
		n                               = &sn.Notification
		typ, txStatus, value, installed string
		txDate                          sql.NullInt64
		received                        int64
	)
	err := row.Scan(
		&sn.Key, &typ, &n.TransactionID, &n.CallerReference, &n.Operation,
		&value, &n.TransactionAmount.CurrencyCode, &txDate, &n.Status, &txStatus,
		&n.StatusCode, &n.StatusMessage, &n.PaymentMethod, &n.ParentTransactionID,
		&n.BuyerName, &n.BuyerEmail, &n.RecipientName, &n.RecipientEmail, &n.PaymentReason,
		&n.TokenID, &n.TokenType, &installed, &n.CustomerName, &n.CustomerEmail,
		&sn.RawBody, &received,
	)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("store: reading notification: %w", err)
	}
	n.Type = fps.NotificationType(typ)
	n.TransactionStatus = fps.TransactionStatus(txStatus)
	if value != "" {
		if n.TransactionAmount.Value, err = decimal.NewFromString(value); err != nil {
			return nil, fmt.Errorf("store: notification %s: amount_value: %w", sn.Key, err)
		}
	}
	if txDate.Valid {
		n.TransactionDate = time.Unix(txDate.Int64, 0).UTC()
	}
	if installed != "" {
		if n.DateInstalled, err = time.Parse(time.DateOnly, installed); err != nil {
			return nil, fmt.Errorf("store: notification %s: date_installed: %w", sn.Key, err)
		}
	}
	sn.ReceivedAt = time.UnixMicro(received).UTC()
	if n.Params, err = url.ParseQuery(sn.RawBody); err != nil {
		return nil, fmt.Errorf("store: notification %s: raw_body: %w", sn.Key, err)
	}
	return &sn, nil
}
