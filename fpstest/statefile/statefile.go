// Package statefile keeps the ledger of an fpstest simulator in a SQLite
// file (modernc.org/sqlite): an fpstest.Store, so that the simulator's
// memory holds only what can still change, and a simulator started again
// on the same file continues where the last one stopped. `fps sandbox`
// uses it (-state FILE, or a temporary file).
//
//	f, err := statefile.Open("sandbox.db")
//	...
//	defer f.Close()
//	s, err := fpstest.Start(fpstest.Config{State: f})
//
// The file holds one table of the ledger's records, each with its index
// columns, replaced or removed as the ledger changes, one SQLite
// transaction per change (WAL journal, synchronous=NORMAL: a process that
// dies loses no change it answered; a power failure may lose the last
// ones). It holds the simulator's CA and signing keys in the clear: it is
// a test sandbox's key, to keep as such. Its schema version is the file's
// user_version; Open brings an older file to SchemaVersion and refuses a
// newer one. One process at a time uses a file: Open holds it
// exclusively until Close.
package statefile

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

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
	// The fpstest.Index of each record (the ledger indexes the records
	// of earlier files itself, as it reads them). An empty value is
	// NULL, so that the record is in no index of that column.
	{
		`ALTER TABLE records ADD COLUMN owner TEXT`,
		`ALTER TABLE records ADD COLUMN ref TEXT`,
		`ALTER TABLE records ADD COLUMN link TEXT`,
		`ALTER TABLE records ADD COLUMN at INTEGER`, // Unix nanoseconds
		`ALTER TABLE records ADD COLUMN seq INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE records ADD COLUMN live INTEGER NOT NULL DEFAULT 0`,
		`CREATE INDEX records_owner ON records (kind, owner, at, seq) WHERE owner IS NOT NULL`,
		`CREATE INDEX records_ref ON records (kind, ref) WHERE ref IS NOT NULL`,
		`CREATE INDEX records_link ON records (kind, link) WHERE link IS NOT NULL`,
		`CREATE INDEX records_live ON records (kind) WHERE live`,
	},
}

// columns are the columns of a record, in the order scan reads them.
const columns = "kind, key, owner, ref, link, at, seq, live, data"

// SchemaVersion is the schema version Open brings a file to.
func SchemaVersion() int { return len(migrations) }

// File is a ledger's state in a SQLite file: an fpstest.Store. It is safe
// for concurrent use.
type File struct {
	db   *sql.DB
	path string
	// The statements of every change, prepared once.
	update, upsert, remove *sql.Stmt
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
	if err := f.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	return f, nil
}

// prepare prepares the statements of Save. A record saved again keeps
// its index columns but live, which are the same for the ledger's
// records (an update of those alone leaves the other indexes alone); a
// record whose index columns change is replaced.
func (f *File) prepare() error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&f.update, "UPDATE records SET data = ?, live = ? WHERE kind = ? AND key = ? AND owner IS ? AND ref IS ? AND link IS ? AND at IS ? AND seq = ?"},
		{&f.upsert, "INSERT INTO records (" + columns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET " +
			"owner = excluded.owner, ref = excluded.ref, link = excluded.link, at = excluded.at, seq = excluded.seq, " +
			"live = excluded.live, data = excluded.data"},
		{&f.remove, "DELETE FROM records WHERE kind = ? AND key = ?"},
	} {
		var err error
		if *p.stmt, err = f.db.Prepare(p.sql); err != nil {
			return f.errorf("prepare: %w", err)
		}
	}
	return nil
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

// Load calls fn with every live record of the file.
func (f *File) Load(fn func(fpstest.Record) error) error {
	return f.query("load", "SELECT "+columns+" FROM records WHERE live", nil, fn)
}

// Get returns the record of kind and key.
func (f *File) Get(kind, key string) (fpstest.Record, bool, error) {
	var r fpstest.Record
	found := false
	err := f.query("get", "SELECT "+columns+" FROM records WHERE kind = ? AND key = ?", []any{kind, key}, func(got fpstest.Record) error {
		r, found = got, true
		return nil
	})
	return r, found, err
}

// Find calls fn with the records q selects, ordered by their time, then
// number, then key.
func (f *File) Find(q fpstest.Query, fn func(fpstest.Record) error) error {
	stmt, args := findSQL(q)
	return f.query("find", stmt, args, fn)
}

// findSQL returns the SELECT of Find and its arguments. It names the
// index to search, the narrowest that q allows (SQLite, which has no
// statistics of the file, would rather search all the records of the
// kind).
func findSQL(q fpstest.Query) (string, []any) {
	where, args := []string{"kind = ?"}, []any{q.Kind}
	index := "NOT INDEXED"
	for _, c := range []struct{ col, v string }{{"owner", q.Owner}, {"ref", q.Ref}, {"link", q.Link}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
			index = "INDEXED BY records_" + c.col
		}
	}
	if !q.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, q.From.UnixNano())
	}
	if !q.To.IsZero() {
		where, args = append(where, "coalesce(at, 0) <= ?"), append(args, q.To.UnixNano())
	}
	return "SELECT " + columns + " FROM records " + index + " WHERE " + strings.Join(where, " AND ") + " ORDER BY at, seq, key", args
}

// query calls fn with each record that the SELECT of columns stmt
// answers; op names the operation in errors.
func (f *File) query(op, stmt string, args []any, fn func(fpstest.Record) error) error {
	rows, err := f.db.Query(stmt, args...)
	if err != nil {
		return f.errorf("%s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r               fpstest.Record
			owner, ref, lnk sql.NullString
			at              sql.NullInt64
			seq             int64
		)
		if err := rows.Scan(&r.Kind, &r.Key, &owner, &ref, &lnk, &at, &seq, &r.Live, &r.Data); err != nil {
			return f.errorf("%s: %w", op, err)
		}
		r.Owner, r.Ref, r.Link, r.Seq = owner.String, ref.String, lnk.String, uint64(seq)
		if at.Valid {
			r.At = time.Unix(0, at.Int64).UTC()
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return f.errorf("%s: %w", op, err)
	}
	return nil
}

// null is v, or NULL when v is empty.
func null(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// nanos is t in Unix nanoseconds, or NULL for the zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Save replaces or removes records in one transaction.
func (f *File) Save(records []fpstest.Record) error {
	tx, err := f.db.Begin()
	if err != nil {
		return f.errorf("save: %w", err)
	}
	defer tx.Rollback()
	update, upsert, remove := tx.Stmt(f.update), tx.Stmt(f.upsert), tx.Stmt(f.remove)
	for _, r := range records {
		if r.Data == nil {
			_, err = remove.Exec(r.Kind, r.Key)
		} else if err = f.save(update, upsert, r); err != nil {
			return err
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

// save updates r in place when its index columns (but live) are the
// same, else inserts or replaces it.
func (f *File) save(update, upsert *sql.Stmt, r fpstest.Record) error {
	owner, ref, link, at, seq := null(r.Owner), null(r.Ref), null(r.Link), nanos(r.At), int64(r.Seq)
	res, err := update.Exec(r.Data, r.Live, r.Kind, r.Key, owner, ref, link, at, seq)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			_, err = upsert.Exec(r.Kind, r.Key, owner, ref, link, at, seq, r.Live, r.Data)
		}
	}
	if err != nil {
		return f.errorf("save %s %s: %w", r.Kind, r.Key, err)
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
