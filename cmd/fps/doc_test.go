package main

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPackageDocListsEveryCommand keeps the package comment (what go doc
// shows) in step with the command table.
func TestPackageDocListsEveryCommand(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	require.NotNil(t, f.Doc)
	doc := f.Doc.Text()
	for _, c := range commands() {
		require.Contains(t, doc, "\t"+c.name+" ", "the package comment does not list %s", c.name)
		require.Contains(t, doc, c.summary, "the package comment's summary of %s differs from the command table's", c.name)
	}
}
