package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTableIsInStep: the table of the fps command is what the source of
// package fps gives now; after changing a doc comment there, run
// go generate ./cmd/fps.
func TestTableIsInStep(t *testing.T) {
	want, err := generate(filepath.Join("..", "..", "..", ".."))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "..", "docs_gen.go"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "cmd/fps/docs_gen.go is out of step with package fps: run go generate ./cmd/fps")
}

// TestGenerateReadsDocs reads a package written for the test: the doc
// comments of an action method, its input, a field (own or from its
// line), a nested type, a defined type and the constants of a string type.
func TestGenerateReadsDocs(t *testing.T) {
	dir := t.TempDir()
	src := `package fps

import "context"

type Client struct{}
type Options struct{}

// Pay pays.
func (c *Client) Pay(ctx context.Context, in *PayInput, optFns ...func(*Options)) (*PayOutput, error) { return nil, nil }

// Other is not an action.
func (c *Client) Other(s string) {}

type PayOutput struct{}

// PayInput is the input of Pay.
type PayInput struct {
	// Token is the token.
	Token string
	Fee   ChargeFeeTo // who pays
	Money Amount
	hidden string
}

// ReserveInput is the input of Reserve.
type ReserveInput PayInput

// Reserve reserves.
func (c *Client) Reserve(ctx context.Context, in *ReserveInput, optFns ...func(*Options)) (*PayOutput, error) { return nil, nil }

// Amount is money.
type Amount struct {
	// Value is how much.
	Value string
}

// ChargeFeeTo names who pays.
type ChargeFeeTo string

const (
	ChargeFeeToCaller    ChargeFeeTo = "Caller"
	ChargeFeeToRecipient ChargeFeeTo = "Recipient"
	untyped                          = "x"
)
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fps.go"), []byte(src), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fps_test.go"), []byte("package fps\n\n// Ignored is a test type.\ntype IgnoredInput struct{}\n"), 0o600))
	b, err := generate(dir)
	require.NoError(t, err)
	got := strings.Join(strings.Fields(string(b)), " ") // gofmt's alignment aside
	for _, want := range []string{
		`"Client.Pay":           "Pay pays.",`,
		`"Client.Reserve":       "Reserve reserves.",`,
		`"PayInput.Token":       "Token is the token.",`,
		`"PayInput.Fee":         "who pays",`,
		`"ReserveInput.Token":   "Token is the token.",`,
		`"Amount.Value":         "Value is how much.",`,
		`"ChargeFeeTo":          "ChargeFeeTo names who pays.",`,
		`"ChargeFeeTo": {"Caller", "Recipient"},`,
	} {
		require.Contains(t, got, strings.Join(strings.Fields(want), " "))
	}
	for _, unwanted := range []string{"Client.Other", "hidden", "Ignored", `"x"`} {
		require.NotContains(t, got, unwanted)
	}
}
