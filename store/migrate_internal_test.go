package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/fpskit/fps/internal/testdb"
	"github.com/stretchr/testify/require"
)

// eachDialect runs run on SQLite, and on PostgreSQL when FPS_TEST_POSTGRES
// is set; open opens a new database of the dialect.
func eachDialect(t *testing.T, run func(t *testing.T, d Dialect, open func(testing.TB) *sql.DB)) {
	t.Run("sqlite", func(t *testing.T) { run(t, SQLite, testdb.SQLite) })
	t.Run("postgres", func(t *testing.T) {
		testdb.RequirePostgres(t)
		run(t, PostgreSQL, testdb.Postgres)
	})
}

// counted is a migration that runs stmts and counts its runs in *runs.
func counted(name string, runs *int, stmts ...string) migration {
	return migration{name: name, up: func(Dialect) []string {
		*runs++
		return stmts
	}}
}

func version(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	require.NoError(t, db.QueryRow("SELECT COALESCE(MAX(version), 0) FROM "+MigrationsTable).Scan(&v))
	return v
}

func tableExists(db *sql.DB, name string) bool {
	_, err := db.Exec("SELECT 1 FROM " + name)
	return err == nil
}

// TestMigrationsRunOnceInATransaction: an appended migration is all it
// takes to change the schema; each runs once; one that fails leaves
// nothing of itself behind, not even its first statements, and no
// version, so that it runs whole once it is fixed.
func TestMigrationsRunOnceInATransaction(t *testing.T) {
	eachDialect(t, func(t *testing.T, d Dialect, open func(testing.TB) *sql.DB) {
		ctx := context.Background()
		db := open(t)
		var a, b int
		steps := []migration{counted("a", &a, "CREATE TABLE t_a (id TEXT PRIMARY KEY)")}
		require.NoError(t, migrate(ctx, db, d, steps))
		require.NoError(t, migrate(ctx, db, d, steps))
		require.Equal(t, 1, a)
		require.Equal(t, 1, version(t, db))

		broken := append(steps[:1:1], counted("b", &b,
			"CREATE TABLE t_b (id TEXT PRIMARY KEY)",
			"INSERT INTO t_b (id) VALUES ('one')",
			"INSERT INTO t_missing (id) VALUES ('x')"))
		err := migrate(ctx, db, d, broken)
		require.ErrorContains(t, err, "migration 2 (b)")
		require.False(t, tableExists(db, "t_b"), "the failed migration's table is rolled back")
		require.Equal(t, 1, version(t, db))

		fixed := append(steps[:1:1], counted("b", &b,
			"CREATE TABLE t_b (id TEXT PRIMARY KEY)",
			"INSERT INTO t_b (id) VALUES ('one')"))
		require.NoError(t, migrate(ctx, db, d, fixed))
		require.NoError(t, migrate(ctx, db, d, fixed))
		require.Equal(t, 1, a)
		require.Equal(t, 2, b, "the failed run and the fixed one")
		require.Equal(t, 2, version(t, db))
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM t_b").Scan(&n))
		require.Equal(t, 1, n)
	})
}

// note is a row of the table of TestColumnAddedByALaterMigration.
type note struct{ ID, Text, Tag string }

// TestColumnAddedByALaterMigration: a column appended to a table's
// description with the version of the migration that adds it is created
// by that migration alone, and the INSERT and SELECT of the table carry
// it.
func TestColumnAddedByALaterMigration(t *testing.T) {
	notes := table[note]{name: "t_notes", columns: []column[note]{
		{name: "id", typ: sqlText, primaryKey: true, value: func(n *note) any { return n.ID }, dest: func(n *note) any { return &n.ID }},
		text("body", func(n *note) *string { return &n.Text }),
	}}
	tagged := notes
	tagged.columns = append(notes.columns[:2:2], column[note]{
		name: "tag", typ: sqlText, since: 2,
		value: func(n *note) any { return n.Tag },
		dest:  func(n *note) any { return scanString(func(s string) error { n.Tag = s; return nil }) },
	})
	eachDialect(t, func(t *testing.T, d Dialect, open func(testing.TB) *sql.DB) {
		ctx := context.Background()
		db := open(t)
		v1 := []migration{{"notes", func(d Dialect) []string { return []string{notes.create(d)} }}}
		require.NoError(t, migrate(ctx, db, d, v1))
		_, err := db.Exec(notes.insertOnce(d), notes.values(&note{ID: "1", Text: "before"})...)
		require.NoError(t, err)

		v2 := append(v1[:1:1], migration{"notes.tag", func(d Dialect) []string { return tagged.addColumns(d, 2) }})
		require.NoError(t, migrate(ctx, db, d, v2))
		_, err = db.Exec(tagged.insertOnce(d), tagged.values(&note{ID: "2", Text: "after", Tag: "new"})...)
		require.NoError(t, err)

		rows, err := db.Query(tagged.selectWhere("ORDER BY id"))
		require.NoError(t, err)
		defer rows.Close()
		var got []note
		for rows.Next() {
			var n note
			require.NoError(t, rows.Scan(tagged.dests(&n)...))
			got = append(got, n)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []note{{ID: "1", Text: "before"}, {ID: "2", Text: "after", Tag: "new"}}, got)

		// A new database runs both migrations and gets the same table.
		fresh := open(t)
		require.NoError(t, migrate(ctx, fresh, d, v2))
		_, err = fresh.Exec(tagged.insertOnce(d), tagged.values(&note{ID: "3", Tag: "x"})...)
		require.NoError(t, err)
	})
}
