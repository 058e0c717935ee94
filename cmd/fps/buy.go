package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
)

const buyUsage = `
Usage: fps buy [flags] PIPELINE_URL

Plays the buyer on fps sandbox: the buyer opens PIPELINE_URL (a signed
pipeline URL, from fps link for example) and approves it, paying with
--payment-method, or declines or abandons it (--action). Prints the
signed return URL the sandbox sends the buyer back to, which fps verify
checks. The buyer form of the sandbox is next to the pipeline start URL
(POST .../cobranded-ui/actions/buy); Amazon never had one.

Exit status 1 when the sandbox refuses the URL, or when an approval does
not come back with a success status (the return URL is printed all the
same, with the sandbox's errorMessage on stderr).

Examples:

  RETURN_URL=$(fps buy --ca-file /tmp/fps-ca.pem --payment-method CC "$LINK")
  fps buy --action decline --ca-file /tmp/fps-ca.pem "$LINK"
`

// buyerMethods are the payment methods the buyer can pick.
var buyerMethods = []fps.PaymentMethod{fps.PaymentMethodABT, fps.PaymentMethodACH, fps.PaymentMethodCC}

// buyerActions are what the buyer can do.
var buyerActions = []fpstest.BuyerAction{fpstest.Approve, fpstest.Decline, fpstest.Abandon}

func runBuy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("buy", buyUsage)
	method := fs.String("payment-method", "", "how the buyer pays: ABT (Amazon Payments balance), ACH (bank account) or CC (credit card); default the first the pipeline allows")
	act := fs.String("action", string(fpstest.Approve), "what the buyer does: approve, decline or abandon")
	var caFile string
	registerCAFile(fs.FlagSet, &caFile)
	if ok, code := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	link, err := buyArgs(fs, *method, *act)
	if err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	hc, err := fps.NewHTTPClient(fps.WithCAFile(caFile))
	if err != nil {
		return fs.usageError(stderr, "--ca-file: %v", err)
	}
	ret, err := buy(ctx, hc, link, url.Values{"action": {*act}, "paymentMethod": {*method}})
	if err != nil {
		return failed(stderr, "buy", err)
	}
	fmt.Fprintln(stdout, ret)
	if q := ret.Query(); *act == string(fpstest.Approve) && !fps.PipelineStatus(q.Get("status")).Success() {
		fmt.Fprintf(stderr, "fps buy: the pipeline answered status %s: %s\n", q.Get("status"), q.Get("errorMessage"))
		return exitFail
	}
	return exitOK
}

// buyArgs checks the flags and returns the pipeline URL.
func buyArgs(fs *flagSet, method, act string) (*url.URL, error) {
	if method != "" && !slices.Contains(buyerMethods, fps.PaymentMethod(method)) {
		return nil, fmt.Errorf("--payment-method must be ABT, ACH or CC, got %q", method)
	}
	if !slices.Contains(buyerActions, fpstest.BuyerAction(act)) {
		return nil, fmt.Errorf("--action must be approve, decline or abandon, got %q", act)
	}
	if fs.NArg() != 1 {
		return nil, fmt.Errorf("give one PIPELINE_URL, got %d arguments", fs.NArg())
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery == "" {
		return nil, fmt.Errorf("PIPELINE_URL must be a signed pipeline URL (https://host/cobranded-ui/actions/start?...), got %q", fs.Arg(0))
	}
	return u, nil
}

// buy posts the buyer's choice about link to the buyer form next to it,
// and returns the return URL the form redirects to.
func buy(ctx context.Context, hc *http.Client, link *url.URL, form url.Values) (*url.URL, error) {
	form.Set("url", link.String())
	target := link.ResolveReference(&url.URL{Path: "buy"})
	target.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("%s answered %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	return url.Parse(resp.Header.Get("Location"))
}
