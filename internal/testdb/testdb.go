// Package testdb opens the databases the tests of the notification stores
// run on: SQLite in a temporary file (modernc.org/sqlite, always
// available) and PostgreSQL when FPS_TEST_POSTGRES holds a DSN
// (`eval "$(.ci/postgres.sh)"` sets it).
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// PostgresEnv names the environment variable holding the PostgreSQL DSN.
const PostgresEnv = "FPS_TEST_POSTGRES"

// SQLite opens a new SQLite database in tb's temporary directory, with a
// busy timeout and WAL so concurrent writers wait instead of failing. It
// is closed when the test ends.
func SQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	dsn := "file:" + filepath.Join(tb.TempDir(), "fps.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// RequirePostgres skips the test unless FPS_TEST_POSTGRES is set, and
// returns the DSN.
func RequirePostgres(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		tb.Skip(PostgresEnv + " is not set; run `eval \"$(.ci/postgres.sh)\"` to test on PostgreSQL")
	}
	return dsn
}

// Postgres opens the PostgreSQL database named by FPS_TEST_POSTGRES with
// a schema of its own (dropped when the test ends), so tests and runs do
// not see each other's rows. It skips the test when the variable is not
// set.
func Postgres(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", PostgresDSN(tb))
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the DSN of FPS_TEST_POSTGRES with a schema of its
// own (created now, dropped when the test ends) as its search path. It
// skips the test when the variable is not set.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := RequirePostgres(tb)
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("testdb: %v", err)
	}
	defer admin.Close()
	schema := "fps_test_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("testdb: creating schema: %v", err)
	}
	tb.Cleanup(func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
