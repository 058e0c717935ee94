package shopsoak

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fpskit/fps/store"
)

// The soak's own tables, next to the shop's in its database: what the
// shop's hooks did, as the shop would keep it, and when its app servers
// died.
const (
	// runsTable holds one row per successful run of the shop's
	// notification callback ("callback": the order, the change's history
	// key, what it reported) and per run of its charge ("charge").
	runsTable = "fps_soak_runs"
	// deathsTable holds the app server generations that died.
	deathsTable = "fps_soak_deaths"
)

// database is the shop's database: its name for store.Open, and its own
// handle for the soak's tables and the checks.
type database struct {
	name    string // for store.Open
	label   string // for the summary, without a password
	dialect store.Dialect
	db      *sql.DB
	store   *store.SQL // the checks' view of the shop's store
	cleanup func()
}

// openDatabase opens (or makes) the database spec names, migrated, with
// the soak's tables.
func openDatabase(ctx context.Context, spec string) (*database, error) {
	d := &database{name: spec, cleanup: func() {}}
	switch {
	case spec == "":
		dir, err := os.MkdirTemp("", "fps-shop-soak-")
		if err != nil {
			return nil, err
		}
		d.name = filepath.Join(dir, "shop.db")
		d.label = "SQLite " + d.name
		d.cleanup = func() { os.RemoveAll(dir) }
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		name, label, drop, err := ownSchema(ctx, spec)
		if err != nil {
			return nil, err
		}
		d.name, d.label, d.cleanup = name, label, drop
	default:
		d.label = "SQLite " + spec
	}
	var err error
	if d.store, err = store.Open(ctx, d.name); err != nil {
		d.cleanup()
		return nil, fmt.Errorf("shop soak: %w", err)
	}
	if d.db, d.dialect, err = store.OpenDB(d.name); err != nil {
		d.close()
		return nil, fmt.Errorf("shop soak: %w", err)
	}
	if list, err := d.store.Orders(ctx, 1); err != nil || len(list) > 0 {
		d.close()
		if err != nil {
			return nil, fmt.Errorf("shop soak: %w", err)
		}
		return nil, fmt.Errorf("shop soak: %s holds orders already; name a new database", d.label)
	}
	for _, stmt := range []string{
		"CREATE TABLE IF NOT EXISTS " + runsTable + " (kind TEXT NOT NULL, order_reference TEXT NOT NULL, entry_key TEXT NOT NULL, detail TEXT NOT NULL, replica TEXT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS " + deathsTable + " (replica TEXT NOT NULL)",
	} {
		if _, err := d.db.ExecContext(ctx, stmt); err != nil {
			d.close()
			return nil, fmt.Errorf("shop soak: creating the soak's tables: %w", err)
		}
	}
	return d, nil
}

// ownSchema makes a schema of its own in the PostgreSQL database dsn
// names, and returns the DSN that works in it, its label and what drops
// it.
func ownSchema(ctx context.Context, dsn string) (name, label string, drop func(), err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", nil, fmt.Errorf("shop soak: -db is not a DSN: %w", err)
	}
	admin, _, err := store.OpenDB(dsn)
	if err != nil {
		return "", "", nil, err
	}
	defer admin.Close()
	schema := "fps_soak_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", nil, fmt.Errorf("shop soak: creating schema %s in %s: %w", schema, u.Redacted(), err)
	}
	drop = func() {
		if db, _, err := store.OpenDB(dsn); err == nil {
			_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), "PostgreSQL " + u.Redacted(), drop, nil
}

func (d *database) close() {
	if d.db != nil {
		d.db.Close()
	}
	if d.store != nil {
		d.store.Close()
	}
	d.cleanup()
}

// placeholders returns the query with its ? marks in the database's
// dialect.
func (d *database) placeholders(query string) string {
	if d.dialect != store.PostgreSQL {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// run is a row of runsTable.
type run struct {
	kind, order, key, detail, replica string
}

// runs reads runsTable.
func (d *database) runs(ctx context.Context) ([]run, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT kind, order_reference, entry_key, detail, replica FROM "+runsTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []run
	for rows.Next() {
		var r run
		if err := rows.Scan(&r.kind, &r.order, &r.key, &r.detail, &r.replica); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// deaths reads deathsTable.
func (d *database) deaths(ctx context.Context) (map[string]bool, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT replica FROM "+deathsTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out[r] = true
	}
	return out, rows.Err()
}
