package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunWalksTheWholePurchase(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	db := filepath.Join(t.TempDir(), "fps.db")
	var out bytes.Buffer
	err := run(context.Background(), []string{"-db", db, "-timeout", "60s"}, &out)
	require.NoError(t, err, out.String())
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`send the buyer to: http://127\.0\.0\.1:\d+/cobranded-ui/actions/start\?\S*callerReference=[\w-]{22}&\S*&signature=\S+`),
		regexp.MustCompile(`callerReference [\w-]{22} recorded for USD 19\.99`),
		regexp.MustCompile(`(?m)^   http://127\.0\.0\.1:\d+/amazon_fps/fps-return-url/\?\S*status=SC&tokenID=\w+$`),
		regexp.MustCompile(`the shop answered 200 OK: Thank you: payment \w+ is Pending\.`),
		regexp.MustCompile(`verified: status SC \(success: the buyer chose a credit card\)`),
		regexp.MustCompile(`transaction \w+ accepted \(SUCCESS\), status Pending`),
		regexp.MustCompile(`IPN PAY SUCCESS USD 19\.99: signature verified, stored at `),
		regexp.MustCompile(`refund transaction \w+ accepted \(SUCCESS\), status Pending`),
		regexp.MustCompile(`IPN REFUND SUCCESS USD 5\.00: signature verified, stored at `),
		regexp.MustCompile(`TransactionStatus/\w+/PAY/SUCCESS  USD 19\.99`),
		regexp.MustCompile(`TransactionStatus/\w+/REFUND/SUCCESS  USD 5\.00`),
		regexp.MustCompile(`(?m)^OK: every step checked out\.$`),
	} {
		require.Regexp(t, want, text)
	}
	// Each step is said once: one step pays, and Pay's answer is told
	// once, in it.
	require.Len(t, regexp.MustCompile(`(?m)^\d+\. .*Purchase`).FindAllString(text, -1), 1, text)
	require.Len(t, regexp.MustCompile(`(?m)^   Pay: transaction \w+ accepted`).FindAllString(text, -1), 1, text)
	info, err := os.Stat(db)
	require.NoError(t, err, "the SQLite file given by -db is kept")
	require.Positive(t, info.Size())
}

func TestRunNamesTheFailedStep(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	// Nothing listens on port 1: the scripted buyer cannot reach the
	// Co-Branded UI.
	var out bytes.Buffer
	err := run(context.Background(), []string{
		"-api-endpoint", "http://127.0.0.1:1/",
		"-cbui-endpoint", "http://127.0.0.1:1/cobranded-ui/actions/start",
		"-db", filepath.Join(t.TempDir(), "fps.db"),
		"-timeout", "10s",
	}, &out)
	require.ErrorContains(t, err, "step 3 (The buyer approves on the Co-Branded UI (scripted buyer)) failed")
	require.NotContains(t, out.String(), "OK: every step")
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-api-endpoint", "http://127.0.0.1:1/"}, "-api-endpoint and -cbui-endpoint go together"},
		{[]string{"-access-key", "AKIA"}, "both the access key and the secret key"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		err := run(context.Background(), tc.args, &bytes.Buffer{})
		require.ErrorContains(t, err, tc.want)
	}
}
