package statefile_test

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/fpstest/statefile"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func records(t *testing.T, f *statefile.File) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, f.Load(func(r fpstest.Record) error {
		out[r.Kind+"/"+r.Key] = string(r.Data)
		return nil
	}))
	return out
}

// Save replaces and removes records; Load gives the live ones, Get any
// one with its Index, after the file is opened again too.
func TestSaveLoadGetRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	f, err := statefile.Open(path)
	require.NoError(t, err)
	at := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)
	full := fpstest.Record{Kind: "tx", Key: "C", Index: fpstest.Index{Owner: "o", Ref: "r", Link: "l", At: at, Seq: 7}, Data: []byte("c")}
	require.NoError(t, f.Save([]fpstest.Record{
		{Kind: "tx", Key: "A", Index: fpstest.Index{Live: true}, Data: []byte(`{"a":1}`)},
		{Kind: "tx", Key: "B", Index: fpstest.Index{Live: true}, Data: []byte("b")},
		full,
	}))
	require.NoError(t, f.Save([]fpstest.Record{{Kind: "tx", Key: "A", Index: fpstest.Index{Live: true}, Data: []byte(`{"a":2}`)}, {Kind: "tx", Key: "B"}}))
	check := func() {
		require.Equal(t, map[string]string{"tx/A": `{"a":2}`}, records(t, f))
		got, ok, err := f.Get("tx", "C")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, full, got)
		_, ok, err = f.Get("tx", "B")
		require.NoError(t, err)
		require.False(t, ok)
	}
	check()
	require.NoError(t, f.Close())

	f, err = statefile.Open(path)
	require.NoError(t, err)
	defer f.Close()
	check()
}

// Find selects what Query.Matches selects, in the documented order:
// Index.At, then Index.Seq, then Key.
func TestFindAgreesWithMatches(t *testing.T) {
	f, err := statefile.Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	defer f.Close()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []fpstest.Record
	for i := range 60 {
		r := fpstest.Record{Kind: []string{"tx", "token"}[i%2], Key: fmt.Sprintf("k%02d", (i*37)%60), Data: []byte("x"),
			Index: fpstest.Index{Owner: []string{"a", "b", "c"}[i%3], Ref: []string{"", "r1", "r2", "r3"}[i%4],
				Link: []string{"", "t1"}[i%5%2], Seq: uint64(i % 7), Live: i%3 == 0}}
		if i%6 != 5 {
			r.At = base.Add(time.Duration(i%11) * time.Minute)
		}
		all = append(all, r)
	}
	require.NoError(t, f.Save(all))
	queries := []fpstest.Query{
		{Kind: "tx"}, {Kind: "token", Owner: "b"}, {Kind: "tx", Ref: "r2"}, {Kind: "tx", Owner: "a", Ref: "r2"},
		{Kind: "token", Link: "t1"}, {Kind: "tx", From: base.Add(3 * time.Minute)}, {Kind: "tx", To: base.Add(4 * time.Minute)},
		{Kind: "token", Owner: "c", From: base.Add(2 * time.Minute), To: base.Add(7 * time.Minute)}, {Kind: "none"},
	}
	for _, q := range queries {
		var want []string
		var selected []fpstest.Record
		for _, r := range all {
			if q.Matches(r) {
				selected = append(selected, r)
			}
		}
		slices.SortFunc(selected, func(a, b fpstest.Record) int {
			return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq), strings.Compare(a.Key, b.Key))
		})
		for _, r := range selected {
			want = append(want, r.Key)
		}
		var got []string
		require.NoError(t, f.Find(q, func(r fpstest.Record) error {
			got = append(got, r.Key)
			return nil
		}))
		require.Equal(t, want, got, "%+v", q)
	}
	var live []string
	require.NoError(t, f.Load(func(r fpstest.Record) error {
		require.True(t, r.Live)
		live = append(live, r.Kind+r.Key)
		return nil
	}))
	require.Len(t, live, 20)
}

// One process at a time: a second Open of a file in use is refused.
func TestFileInUseIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	f, err := statefile.Open(path)
	require.NoError(t, err)
	_, err = statefile.Open(path)
	require.ErrorContains(t, err, "another process")
	require.NoError(t, f.Close())
	g, err := statefile.Open(path)
	require.NoError(t, err)
	require.NoError(t, g.Close())
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	f, err := statefile.Open(path)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	var version int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&version))
	require.Equal(t, statefile.SchemaVersion(), version)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = statefile.Open(path)
	require.ErrorContains(t, err, "newer than version")
}

// A simulator on a state file, stopped and started again on it,
// continues: its tokens pay, a replayed CallerReference answers the
// first answer, the balance is the same.
func TestSimulatorContinuesOnItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	start := func() (*fpstest.Server, *statefile.File) {
		f, err := statefile.Open(path)
		require.NoError(t, err)
		s, err := fpstest.Start(fpstest.Config{State: f, PlainHTTP: true})
		require.NoError(t, err)
		return s, f
	}
	s, f := start()
	tok, err := s.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenMultiUse, "ABT", "file-tok", decimal.Zero)
	require.NoError(t, err)
	in := &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(12)), CallerReference: "file-pay"}
	first, err := s.Client(t).Pay(ctx, in)
	require.NoError(t, err)
	balance := s.Ledger().Balance(fpstest.DefaultAccessKeyID)
	s.Close()
	require.NoError(t, f.Close())

	s, f = start()
	defer f.Close()
	defer s.Close()
	require.True(t, balance.Equal(s.Ledger().Balance(fpstest.DefaultAccessKeyID)))
	again, err := s.Client(t).Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, first.TransactionID, again.TransactionID)
	_, err = s.Client(t).Pay(ctx, &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(1)), CallerReference: "file-pay-2"})
	require.NoError(t, err)
	require.Equal(t, 1, s.Ledger().ChargeCount("file-pay"))
}

// A file of schema 1, whose records have no index (state format 1), is
// brought to the current schema, and the simulator started on it indexes
// its records: a completed payment is read and refunded, a token pays, a
// replayed CallerReference answers the first answer.
func TestFileOfSchema1IsUpgraded(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// A ledger as format 1 wrote it: the records of today's, without
	// what format 1 did not have (their index, the last number, the
	// keys).
	f, err := statefile.Open(filepath.Join(dir, "now.db"))
	require.NoError(t, err)
	s, err := fpstest.Start(fpstest.Config{State: f, PlainHTTP: true})
	require.NoError(t, err)
	tok, err := s.Ledger().InstallToken(fpstest.DefaultAccessKeyID, fpstest.TokenMultiUse, "ABT", "v1-tok", decimal.Zero)
	require.NoError(t, err)
	in := &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(12)), CallerReference: "v1-pay"}
	paid, err := s.Client(t).Pay(ctx, in)
	require.NoError(t, err)
	balance := s.Ledger().Balance(fpstest.DefaultAccessKeyID)
	s.Close()
	require.NoError(t, f.Close())

	old := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite", old)
	require.NoError(t, err)
	for _, stmt := range []string{
		"CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID",
		"ATTACH DATABASE '" + filepath.Join(dir, "now.db") + "' AS now",
		"INSERT INTO records SELECT kind, key, data FROM now.records WHERE kind NOT IN ('meta', 'keys')",
		"INSERT INTO records VALUES ('meta', 'format', '1')",
		"DETACH DATABASE now",
		"PRAGMA user_version = 1",
	} {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())

	f, err = statefile.Open(old)
	require.NoError(t, err)
	defer f.Close()
	s, err = fpstest.Start(fpstest.Config{State: f, PlainHTTP: true})
	require.NoError(t, err)
	defer s.Close()
	c := s.Client(t)
	require.True(t, balance.Equal(s.Ledger().Balance(fpstest.DefaultAccessKeyID)))
	again, err := c.Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, paid.TransactionID, again.TransactionID)
	_, err = c.Refund(ctx, &fps.RefundInput{TransactionID: paid.TransactionID, RefundAmount: fps.USD(decimal.NewFromInt(2)), CallerReference: "v1-refund"})
	require.NoError(t, err)
	got, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: "v1-tok"})
	require.NoError(t, err)
	require.Equal(t, tok, got.Token.TokenID)
	format, ok, err := f.Get("meta", "format")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, fmt.Sprint(fpstest.StateFormat), string(format.Data))
	var owned int
	require.NoError(t, f.Find(fpstest.Query{Kind: "tx", Owner: fpstest.DefaultAccessKeyID}, func(fpstest.Record) error {
		owned++
		return nil
	}))
	require.Equal(t, 2, owned, "the payment, indexed, and its refund")
}
