package main

import (
	"go/parser"
	"go/token"
	"strings"
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
	require.Contains(t, strings.Join(strings.Fields(doc), " "), strings.Join(strings.Fields(exitStatuses), " "),
		"the package comment's exit statuses differ from fps --help's")
}

// TestHelpDocumentsExitStatuses: fps --help, on stdout, says what each
// exit status means; without a command the usage goes to stderr with
// status 2.
func TestHelpDocumentsExitStatuses(t *testing.T) {
	r := fpsCmd(t, "--help")
	require.Equal(t, 0, r.code)
	require.Empty(t, r.errOut)
	require.Contains(t, r.out, "Exit status: 0 on success (for verify: the signature is valid), 1 when the\nsignature is invalid or a call failed, 2 for a usage error")
	r = fpsCmd(t)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "Usage: fps <command> [flags]")
}
