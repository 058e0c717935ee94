package statefile_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

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

func TestSaveLoadRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	f, err := statefile.Open(path)
	require.NoError(t, err)
	require.NoError(t, f.Save([]fpstest.Record{{Kind: "tx", Key: "A", Data: []byte(`{"a":1}`)}, {Kind: "tx", Key: "B", Data: []byte("b")}}))
	require.NoError(t, f.Save([]fpstest.Record{{Kind: "tx", Key: "A", Data: []byte(`{"a":2}`)}, {Kind: "tx", Key: "B"}}))
	require.Equal(t, map[string]string{"tx/A": `{"a":2}`}, records(t, f))
	require.NoError(t, f.Close())

	f, err = statefile.Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, map[string]string{"tx/A": `{"a":2}`}, records(t, f))
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
