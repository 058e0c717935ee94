package statefile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// Find searches the index of the narrowest field its query gives, and a
// query by key alone the primary key: never every record of a kind when
// the query names an owner, a CallerReference or a token.
func TestFindSearchesAnIndex(t *testing.T) {
	f, err := Open(filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, err)
	defer f.Close()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for q, want := range map[fpstest.Query]string{
		{Kind: "tx", Owner: "a", From: at, To: at.Add(time.Hour)}: "USING INDEX records_owner (kind=? AND owner=? AND at>?)",
		{Kind: "token", Owner: "a"}:                               "USING INDEX records_owner (kind=? AND owner=?)",
		{Kind: "token", Owner: "a", Ref: "r"}:                     "USING INDEX records_ref (kind=? AND ref=?)",
		{Kind: "tx", Ref: "r"}:                                    "USING INDEX records_ref (kind=? AND ref=?)",
		{Kind: "tx", Owner: "a", Link: "t"}:                       "USING INDEX records_link (kind=? AND link=?)",
		{Kind: "answer", To: at}:                                  "USING PRIMARY KEY (kind=?)",
	} {
		stmt, args := findSQL(q)
		rows, err := f.db.Query("EXPLAIN QUERY PLAN "+stmt, args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Contains(t, strings.Join(plan, "; "), want, "%+v", q)
	}
}
