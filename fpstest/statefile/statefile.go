// Package statefile keeps the ledger of an fpstest simulator in a SQLite
// file (modernc.org/sqlite), so that a simulator started again on the
// same file continues where the last one stopped: `fps sandbox -state
// FILE` uses it.
//
//	f, err := statefile.Open("sandbox.db")
//	...
//	defer f.Close()
//	s, err := fpstest.Start(fpstest.Config{State: f})
//
// The file holds one table of the ledger's records, each replaced or
// removed as the ledger changes, one SQLite transaction per change (WAL
// journal, synchronous=NORMAL: a process that dies loses no change it
// answered; a power failure may lose the last ones). Its schema version
// is the file's user_version; Open brings an older file to
// SchemaVersion and refuses a newer one. One process at a time uses a
// file: Open holds it exclusively until Close.
package statefile

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/fpskit/fps/fpstest"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// migrations are the steps of the schema, oldest first: migrations[i]
// takes a file from version i to i+1. A step is never changed once
// released; a change of the schema is a new step at the end.
var migrations = [][]string{
	{`CREATE TABLE records (
		kind TEXT NOT NULL,
		key  TEXT NOT NULL,
		data BLOB NOT NULL,
		PRIMARY KEY (kind, key)
	) WITHOUT ROWID`},
}

// SchemaVersion is the schema version Open brings a file to.
func SchemaVersion() int { return len(migrations) }

// File is a ledger's state in a SQLite file: an fpstest.Store. It is safe
// for concurrent use.
type File struct {
	db   *sql.DB
	path string
}

var _ fpstest.Store = (*File)(nil)

// Open opens the state file at path, creating it when it does not exist,
// and brings its schema to SchemaVersion. It fails when another process
// holds the file.
func Open(path string) (*File, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("statefile: %q: a path with ? or # is not supported", path)
	}
	// Every transaction takes the write lock as it begins (immediate),
	// and the exclusive locking mode keeps it until the connection
	// closes.
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=locking_mode(EXCLUSIVE)&_pragma=busy_timeout(0)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("statefile: %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // the one connection holds the exclusive lock
	f := &File{db: db, path: path}
	if err := f.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return f, nil
}

// migrate takes the file's lock (held until Close) and brings its
// schema to SchemaVersion.
func (f *File) migrate(ctx context.Context) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return f.errorf("open: %w (is another process using it?)", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return f.errorf("read the schema version: %w", err)
	}
	if version > len(migrations) {
		return f.errorf("the schema is at version %d, newer than version %d that this program knows", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return f.errorf("migration %d: %w", i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return f.errorf("record the schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return f.errorf("open: %w", err)
	}
	return nil
}

func (f *File) errorf(format string, args ...any) error {
	return fmt.Errorf("statefile: %s: "+format, append([]any{f.path}, args...)...)
}

// Load calls fn with every record of the file.
func (f *File) Load(fn func(fpstest.Record) error) error {
	rows, err := f.db.Query("SELECT kind, key, data FROM records")
	if err != nil {
		return f.errorf("load: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r fpstest.Record
		if err := rows.Scan(&r.Kind, &r.Key, &r.Data); err != nil {
			return f.errorf("load: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return f.errorf("load: %w", err)
	}
	return nil
}

// Save replaces or removes records in one transaction.
func (f *File) Save(records []fpstest.Record) error {
	tx, err := f.db.Begin()
	if err != nil {
		return f.errorf("save: %w", err)
	}
	defer tx.Rollback()
	for _, r := range records {
		if r.Data == nil {
			_, err = tx.Exec("DELETE FROM records WHERE kind = ? AND key = ?", r.Kind, r.Key)
		} else {
			_, err = tx.Exec("INSERT INTO records (kind, key, data) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
				r.Kind, r.Key, r.Data)
		}
		if err != nil {
			return f.errorf("save %s %s: %w", r.Kind, r.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return f.errorf("save: %w", err)
	}
	return nil
}

// Close releases the file.
func (f *File) Close() error {
	if err := f.db.Close(); err != nil {
		return f.errorf("close: %w", err)
	}
	return nil
}
