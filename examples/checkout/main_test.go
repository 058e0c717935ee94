package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
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
		regexp.MustCompile(`send the buyer to: https://127\.0\.0\.1:\d+/cobranded-ui/actions/start\?\S*callerReference=[\w-]{22}&\S*&signature=\S+`),
		regexp.MustCompile(`order [\w-]{22} recorded for USD 19\.99, created`),
		regexp.MustCompile(`(?m)^   http://127\.0\.0\.1:\d+/amazon_fps/fps-return-url/\?\S*status=SC&tokenID=\w+$`),
		regexp.MustCompile(`the shop answered 200 OK: Thank you: payment \w+ is Pending\.`),
		regexp.MustCompile(`verified: status SC \(success: the buyer chose a credit card\)`),
		regexp.MustCompile(`confirmed: FPS holds token \w+ for callerReference [\w-]{22}; order USD 19\.99 is approved`),
		regexp.MustCompile(`transaction \w+ accepted \(SUCCESS\), status Pending`),
		regexp.MustCompile(`IPN PAY PENDING USD 19\.99: verified, confirmed with FPS, stored at \S+; order approved -> pending`),
		regexp.MustCompile(`IPN PAY SUCCESS USD 19\.99: verified, confirmed with FPS, stored at \S+; order pending -> paid`),
		regexp.MustCompile(`refund transaction \w+ accepted \(SUCCESS\), status Pending`),
		regexp.MustCompile(`IPN REFUND SUCCESS USD 5\.00: verified, confirmed with FPS, stored at \S+; order paid -> partly-refunded`),
		regexp.MustCompile(`the shop answered 200 OK: order [\w-]{22} is partly-refunded`),
		regexp.MustCompile(`the TransactionHook did not run again; the order has one Pay`),
		regexp.MustCompile(`order [\w-]{22}: partly-refunded, paid 19\.99, refunded 5\.00`),
		regexp.MustCompile(`transaction \w{35}  Pay    USD 19\.99  callerReference [\w-]{22}: PAY Success`),
		regexp.MustCompile(`transaction \w{35}  Refund USD 5\.00  callerReference [\w-]{22}: REFUND Success`),
		regexp.MustCompile(`history    pending   -> paid            PAY SUCCESS USD 19\.99`),
		regexp.MustCompile(`2 transactions, \d+ history entries; every IPN received is in the history`),
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

	// The file holds the order: a restarted shop finds it.
	orders, err := store.Open(context.Background(), db)
	require.NoError(t, err)
	defer orders.Close()
	ref := regexp.MustCompile(`order ([\w-]{22}) recorded`).FindStringSubmatch(text)[1]
	o, err := orders.Order(context.Background(), ref)
	require.NoError(t, err)
	require.Equal(t, integration.OrderPartlyRefunded, o.Status)
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
