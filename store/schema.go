package store

import (
	"database/sql"
	"strconv"
	"strings"
)

// sqlType is a column's SQL type in each dialect.
type sqlType struct{ sqlite, postgres string }

func (t sqlType) in(d Dialect) string {
	if d == PostgreSQL {
		return t.postgres
	}
	return t.sqlite
}

var (
	sqlText   = sqlType{sqlite: "TEXT", postgres: "TEXT"}
	sqlBigint = sqlType{sqlite: "BIGINT", postgres: "BIGINT"}
)

// column is one column of a table of T: its name and SQL type, what an
// INSERT writes into it from a T, and where a SELECT reads it into a T.
type column[T any] struct {
	name       string
	typ        sqlType
	primaryKey bool
	notNull    bool
	// since is the migration that added the column to its table; 0 when
	// it came with the table's CREATE TABLE.
	since int
	// value is what an INSERT writes from t.
	value func(t *T) any
	// dest is what a SELECT scans into: a pointer into t, or an
	// sql.Scanner that sets t.
	dest func(t *T) any
}

// ddl is the column's definition in a CREATE TABLE or an ADD COLUMN.
func (c column[T]) ddl(d Dialect) string {
	s := c.name + " " + c.typ.in(d)
	if c.primaryKey {
		s += " PRIMARY KEY"
	}
	if c.notNull {
		s += " NOT NULL"
	}
	return s
}

// table is a table of T described once: its DDL, its INSERT and its
// SELECT all come from columns, in that order.
type table[T any] struct {
	name    string
	columns []column[T]
}

// create is the CREATE TABLE of t with the columns it was created with.
// IF NOT EXISTS lets a database whose table predates the migrations take
// the first migration as applied.
func (t table[T]) create(d Dialect) string {
	var defs []string
	for _, c := range t.columns {
		if c.since == 0 {
			defs = append(defs, "\t"+c.ddl(d))
		}
	}
	return "CREATE TABLE IF NOT EXISTS " + t.name + " (\n" + strings.Join(defs, ",\n") + "\n)"
}

// addColumns are the ALTER TABLE statements adding the columns of
// migration version.
func (t table[T]) addColumns(d Dialect, version int) []string {
	var out []string
	for _, c := range t.columns {
		if c.since == version {
			out = append(out, "ALTER TABLE "+t.name+" ADD COLUMN "+c.ddl(d))
		}
	}
	return out
}

func (t table[T]) names() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// key is the name of the primary key column.
func (t table[T]) key() string {
	for _, c := range t.columns {
		if c.primaryKey {
			return c.name
		}
	}
	panic("store: table " + t.name + " has no primary key")
}

// insertOnce is the INSERT of one row that does nothing when a row with
// the same key exists.
func (t table[T]) insertOnce(d Dialect) string {
	marks := make([]string, len(t.columns))
	for i := range marks {
		marks[i] = placeholder(d, i+1)
	}
	return "INSERT INTO " + t.name + " (" + t.names() + ") VALUES (" + strings.Join(marks, ", ") +
		") ON CONFLICT (" + t.key() + ") DO NOTHING"
}

// selectWhere is the SELECT of every column, followed by rest (a WHERE
// or ORDER BY clause, or nothing).
func (t table[T]) selectWhere(rest string) string {
	return strings.TrimSpace("SELECT " + t.names() + " FROM " + t.name + " " + rest)
}

// values are the INSERT arguments of row.
func (t table[T]) values(row *T) []any {
	out := make([]any, len(t.columns))
	for i, c := range t.columns {
		out[i] = c.value(row)
	}
	return out
}

// dests are the Scan targets of a SELECT into row.
func (t table[T]) dests(row *T) []any {
	out := make([]any, len(t.columns))
	for i, c := range t.columns {
		out[i] = c.dest(row)
	}
	return out
}

// placeholder is the i-th (from 1) query argument in dialect d.
func placeholder(d Dialect, i int) string {
	if d == PostgreSQL {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}

// text is a TEXT NOT NULL column holding the string field of T.
func text[T any, S ~string](name string, field func(*T) *S) column[T] {
	return column[T]{
		name: name, typ: sqlText, notNull: true,
		value: func(t *T) any { return string(*field(t)) },
		dest:  func(t *T) any { return field(t) },
	}
}

// scanFunc is an sql.Scanner made of a function.
type scanFunc func(src any) error

func (f scanFunc) Scan(src any) error { return f(src) }

// scanString reads a TEXT value (NULL reads as "") and hands it to set.
func scanString(set func(string) error) scanFunc {
	return func(src any) error {
		var s sql.NullString
		if err := s.Scan(src); err != nil {
			return err
		}
		return set(s.String)
	}
}

// scanInt64 reads an integer that may be NULL and hands it to set.
func scanInt64(set func(v int64, valid bool)) scanFunc {
	return func(src any) error {
		var n sql.NullInt64
		if err := n.Scan(src); err != nil {
			return err
		}
		set(n.Int64, n.Valid)
		return nil
	}
}
