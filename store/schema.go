package store

import (
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
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

// ddl is the column's definition in a CREATE TABLE or an ADD COLUMN;
// inlineKey puts PRIMARY KEY on a key column (a table keyed by one
// column).
func (c column[T]) ddl(d Dialect, inlineKey bool) string {
	s := c.name + " " + c.typ.in(d)
	if c.primaryKey && inlineKey {
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

// create is the CREATE TABLE of t with the columns it was created with,
// and its key: PRIMARY KEY on the key column, or a PRIMARY KEY
// constraint naming the key columns when there are several. IF NOT
// EXISTS lets a database whose table predates the migrations take the
// first migration as applied.
func (t table[T]) create(d Dialect) string {
	keys := t.keys()
	var defs []string
	for _, c := range t.columns {
		if c.since == 0 {
			defs = append(defs, "\t"+c.ddl(d, len(keys) == 1))
		}
	}
	if len(keys) > 1 {
		defs = append(defs, "\tPRIMARY KEY ("+strings.Join(keys, ", ")+")")
	}
	return "CREATE TABLE IF NOT EXISTS " + t.name + " (\n" + strings.Join(defs, ",\n") + "\n)"
}

// index is the CREATE INDEX of t on columns, named after them.
func (t table[T]) index(columns ...string) string {
	return "CREATE INDEX IF NOT EXISTS " + t.name + "_" + strings.Join(columns, "_") + " ON " + t.name + " (" + strings.Join(columns, ", ") + ")"
}

// addColumns are the ALTER TABLE statements adding the columns of
// migration version.
func (t table[T]) addColumns(d Dialect, version int) []string {
	var out []string
	for _, c := range t.columns {
		if c.since == version {
			out = append(out, "ALTER TABLE "+t.name+" ADD COLUMN "+c.ddl(d, false))
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

// keys are the names of the primary key columns.
func (t table[T]) keys() []string {
	var out []string
	for _, c := range t.columns {
		if c.primaryKey {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 {
		panic("store: table " + t.name + " has no primary key")
	}
	return out
}

// insertOnce is the INSERT of one row that does nothing when a row with
// the same key exists.
func (t table[T]) insertOnce(d Dialect) string {
	marks := make([]string, len(t.columns))
	for i := range marks {
		marks[i] = placeholder(d, i+1)
	}
	return "INSERT INTO " + t.name + " (" + t.names() + ") VALUES (" + strings.Join(marks, ", ") +
		") ON CONFLICT (" + strings.Join(t.keys(), ", ") + ") DO NOTHING"
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

// amountValue is a TEXT NOT NULL column holding the value of the amount
// field of T: "" for the zero Amount. Its currency is a text column of
// its own.
func amountValue[T any](name string, field func(*T) *fps.Amount) column[T] {
	return column[T]{
		name: name, typ: sqlText, notNull: true,
		value: func(t *T) any {
			if a := field(t); !a.IsZero() {
				return a.Value.String()
			}
			return ""
		},
		dest: func(t *T) any {
			return scanString(func(s string) (err error) {
				if s != "" {
					field(t).Value, err = decimal.NewFromString(s)
				}
				return err
			})
		},
	}
}

// decimalText is a TEXT NOT NULL column holding the decimal field of T.
func decimalText[T any](name string, field func(*T) *decimal.Decimal) column[T] {
	return column[T]{
		name: name, typ: sqlText, notNull: true,
		value: func(t *T) any { return field(t).String() },
		dest: func(t *T) any {
			return scanString(func(s string) (err error) {
				*field(t) = decimal.Zero
				if s != "" {
					*field(t), err = decimal.NewFromString(s)
				}
				return err
			})
		},
	}
}

// micros is a BIGINT NOT NULL column holding the time field of T in
// microseconds since the Unix epoch, 0 for the zero time.
func micros[T any](name string, field func(*T) *time.Time) column[T] {
	return column[T]{
		name: name, typ: sqlBigint, notNull: true,
		value: func(t *T) any { return micro(*field(t)) },
		dest: func(t *T) any {
			return scanInt64(func(us int64, _ bool) {
				*field(t) = time.Time{}
				if us != 0 {
					*field(t) = time.UnixMicro(us).UTC()
				}
			})
		},
	}
}

// bigint is a BIGINT NOT NULL column holding the int64 field of T.
func bigint[T any](name string, field func(*T) *int64) column[T] {
	return column[T]{
		name: name, typ: sqlBigint, notNull: true,
		value: func(t *T) any { return *field(t) },
		dest:  func(t *T) any { return field(t) },
	}
}
