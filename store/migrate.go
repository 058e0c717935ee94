package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MigrationsTable records the schema versions applied to a database: one
// row per migration, with the time it was applied.
const MigrationsTable = "fps_schema_migrations"

// migration is one step of the schema: the statements that take a
// database from the version before it to its own.
type migration struct {
	name string
	up   func(d Dialect) []string
}

// migrations are the steps of the schema, oldest first: the version of
// migrations[i] is i+1. Each runs once per database. An entry is never
// changed once released, since databases have applied it; a change of
// the schema is a new entry at the end (a new column of a table also
// names that entry's version in its since field).
var migrations = []migration{
	// The table the store created, with CREATE TABLE IF NOT EXISTS,
	// before it had migrations: a database of that time takes this step
	// as applied.
	{"notifications", func(d Dialect) []string { return []string{notifications.create(d)} }},
	{"orders", func(d Dialect) []string {
		return []string{
			orders.create(d), transactions.create(d), history.create(d),
			transactions.index("order_reference"), transactions.index("transaction_id"),
		}
	}},
	// The orders Recover looks for: by status, oldest change first.
	{"orders by status", func(Dialect) []string {
		return []string{orders.index("status", "updated_at", "caller_reference")}
	}},
	// The changes whose callback Recover runs again: by callback state,
	// oldest first.
	{"history by callback", func(Dialect) []string {
		return []string{history.index("callback", "at", "order_reference", "entry_key")}
	}},
}

// SchemaVersion is the schema version this package brings a database to:
// the number of its migrations.
func SchemaVersion() int { return len(migrations) }

// execer is what a migration runs statements on: a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrate brings db to the version of the last of steps, one step per
// transaction. Each transaction first takes a lock that a second process
// migrating the same database waits for, then reads the version: so each
// step runs once, whoever runs it.
func migrate(ctx context.Context, db *sql.DB, d Dialect, steps []migration) error {
	for {
		done := false
		err := locked(ctx, db, d, func(tx execer) error {
			version, err := schemaVersion(ctx, tx, d)
			if err != nil {
				return err
			}
			switch {
			case version > len(steps):
				return fmt.Errorf("store: the database's schema is at version %d (in %s), newer than version %d that this program knows; run a newer program on it",
					version, MigrationsTable, len(steps))
			case version == len(steps):
				done = true
				return nil
			}
			next := steps[version]
			for _, stmt := range next.up(d) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("store: migration %d (%s): %w", version+1, next.name, err)
				}
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO "+MigrationsTable+" (version, applied_at) VALUES ("+placeholder(d, 1)+", "+placeholder(d, 2)+")",
				version+1, time.Now().UTC().Format(time.RFC3339Nano))
			if err != nil {
				return fmt.Errorf("store: recording migration %d: %w", version+1, err)
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// schemaVersion creates MigrationsTable when it is missing and returns
// the newest version it records, 0 for none.
func schemaVersion(ctx context.Context, tx execer, d Dialect) (int, error) {
	_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+MigrationsTable+" (\n"+
		"\tversion    "+sqlBigint.in(d)+" PRIMARY KEY,\n"+
		"\tapplied_at "+sqlText.in(d)+" NOT NULL\n)")
	if err != nil {
		return 0, fmt.Errorf("store: creating table %s: %w", MigrationsTable, err)
	}
	var version int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM "+MigrationsTable).Scan(&version); err != nil {
		return 0, fmt.Errorf("store: reading the schema version: %w", err)
	}
	return version, nil
}

// migrationLock is the key of the PostgreSQL advisory lock that
// migrations take: "fpsmigra" in ASCII.
const migrationLock = 0x6670736d69677261

// locked runs f in a transaction that holds the database's migration
// lock from its first statement: PostgreSQL's advisory lock
// migrationLock, or SQLite's write lock (BEGIN IMMEDIATE, which waits up
// to the busy timeout). It commits when f returns nil and rolls back
// otherwise.
func locked(ctx context.Context, db *sql.DB, d Dialect, f func(tx execer) error) error {
	if d == PostgreSQL {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrating: %w", err)
		}
		defer tx.Rollback() // a no-op after Commit
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return fmt.Errorf("store: taking the migration lock: %w", err)
		}
		if err := f(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	// database/sql cannot begin an IMMEDIATE transaction: run it by hand
	// on one connection.
	conn, err := db.Conn(ctx)
	for wait := time.Millisecond; err != nil && sqliteBusy(err) && wait <= maxOpenWait; wait *= 2 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: migrating: %w", ctx.Err())
		case <-time.After(wait):
		}
		conn, err = db.Conn(ctx)
	}
	if err != nil {
		return fmt.Errorf("store: migrating: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("store: taking the migration lock: %w", err)
	}
	err = f(conn)
	if err == nil {
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
	}
	if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
		// The connection may still be inside the transaction: keep it
		// out of the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}

// maxOpenWait bounds each wait between two tries to open an SQLite
// connection that found the database busy; the waits double from 1 ms,
// about 8 s in all.
const maxOpenWait = 8 * time.Second

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY. Opening a
// connection to a new database answers it, whatever the busy timeout,
// while another connection switches the file to write-ahead logging:
// app servers starting at once on a new file meet it.
func sqliteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
