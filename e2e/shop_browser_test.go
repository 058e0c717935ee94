package e2e_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/stretchr/testify/require"
)

// chromium returns the path of a Chromium or Chrome binary. Without one
// the test is skipped, or fails when CI is set: CI installs Debian's
// chromium package.
func chromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but no browser was found (looked for %v on PATH): install Debian's chromium package", names)
	}
	t.Skipf("browser test skipped: no Chromium found (looked for %v on PATH); install it (apt-get install chromium) to run it", names)
	return ""
}

// artifactsDir is where the screenshots go: $FPS_ARTIFACTS (a relative
// path is taken from the repository root), else a temporary folder.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FPS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir) // this package is e2e
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	t.Logf("screenshots in %s", abs)
	return abs
}

// startShop builds the shop example (go build, from the repository root)
// and runs it against sim, as a shop runs against an FPS it does not
// start; it returns the shop's URL. The shop is stopped when t ends.
func startShop(t *testing.T, sim *fpstest.Server) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shop")
	build := exec.Command("go", "build", "-o", bin, "./examples/shop")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./examples/shop: %s", out)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0",
		"-api-endpoint", sim.APIEndpoint(), "-cbui-endpoint", sim.CBUIEndpoint(),
		"-access-key", fpstest.DefaultAccessKeyID, "-secret-key", fpstest.DefaultSecretAccessKey)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // the shop stops on SIGINT
	cmd.WaitDelay = 10 * time.Second
	urls := make(chan string, 1)
	cmd.Stdout = &shopOutput{t: t, urls: urls}
	cmd.Stderr = &shopOutput{t: t}
	require.NoError(t, cmd.Start())
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-ended
	})

	select {
	case u := <-urls:
		require.NoError(t, sim.SetIPNURL(fpstest.DefaultAccessKeyID, u+integration.NotifyPath))
		return u
	case err := <-ended:
		ended <- err
		t.Fatalf("the shop ended before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the shop did not say where it serves within a minute")
	}
	return ""
}

// shopURLLine is the line the shop prints once it serves.
var shopURLLine = regexp.MustCompile(`^shop: open (http://\S+/) in a browser`)

// shopOutput logs what the shop writes, line by line, and sends the URL
// the shop serves at on urls (when not nil).
type shopOutput struct {
	t    *testing.T
	urls chan<- string
	line []byte
}

func (o *shopOutput) Write(p []byte) (int, error) {
	o.line = append(o.line, p...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		text := string(o.line[:i])
		o.line = o.line[i+1:]
		o.t.Logf("[shop] %s", text)
		if m := shopURLLine.FindStringSubmatch(text); m != nil && o.urls != nil {
			o.urls <- m[1]
			o.urls = nil
		}
	}
}

// TestBrowserBuyPayRefund drives the shop in headless Chromium the way a
// buyer and the shop's admin use it, and saves a full-page screenshot of
// each page.
func TestBrowserBuyPayRefund(t *testing.T) {
	browser := chromium(t)
	dir := artifactsDir(t)
	// Credit-card payments and refunds stay pending until the test lets
	// the simulator complete them, so that the pages are seen pending,
	// then done, however slow the machine. Plain http: the browser needs
	// no certificate.
	sim := fpstest.NewServer(t, func(c *fpstest.Config) { c.PlainHTTP, c.PendingDelay = true, -1 })
	shopURL := startShop(t, sim)
	complete := chromedp.ActionFunc(sim.CompletePending)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer func() {
		// Close Chromium gracefully, so that it is done with its profile
		// before the temporary folder is removed.
		cctx, cancelClose := context.WithTimeout(bctx, 10*time.Second)
		defer cancelClose()
		if err := chromedp.Cancel(cctx); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
		cancelBrowser()
	}()

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil { // quality 100: PNG
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), png, 0o644)
		})
	}
	step := func(what string, actions ...chromedp.Action) {
		t.Helper()
		began := time.Now()
		require.NoError(t, chromedp.Run(bctx, actions...), what)
		t.Logf("%s: %s", what, time.Since(began).Round(time.Millisecond))
	}
	var (
		link, location, status string
	)

	step("product page",
		chromedp.Navigate(shopURL),
		chromedp.WaitVisible(`#product-plush .buy img`, chromedp.ByQuery),
		chromedp.AttributeValue(`#product-plush .buy a`, "href", &link, nil, chromedp.ByQuery),
		shot("01-products.png"),
	)
	u, err := url.Parse(link)
	require.NoError(t, err)
	ref := u.Query().Get("callerReference")
	require.NotEmpty(t, ref, link)

	step("the button leads to the Co-Branded UI page",
		chromedp.Click(`#product-plush .buy a`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[value="approve"]`, chromedp.ByQuery),
		chromedp.Click(`input[name="paymentMethod"][value="CC"]`, chromedp.ByQuery),
		shot("02-amazon-payments.png"),
	)
	step("approving brings the buyer back to the order page, pending",
		chromedp.Click(`button[value="approve"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#status.status-pending`, chromedp.ByQuery),
		chromedp.Location(&location),
		chromedp.Text(`#status`, &status, chromedp.ByQuery),
		shot("03-order-pending.png"),
	)
	require.Equal(t, shopURL+"orders/"+ref, location)
	require.Equal(t, "payment pending", status)

	step("the order page refreshes until the IPN says paid",
		complete,
		chromedp.WaitVisible(`#status.status-paid`, chromedp.ByQuery),
		chromedp.Text(`#status`, &status, chromedp.ByQuery),
		shot("04-order-paid.png"),
	)
	require.Equal(t, "paid", status)

	row := `#order-` + ref
	step("the admin page lists the paid order",
		chromedp.Navigate(shopURL+"admin"),
		chromedp.WaitVisible(`#refund-`+ref, chromedp.ByQuery),
		chromedp.Text(row+` .status`, &status, chromedp.ByQuery),
		shot("05-admin-paid.png"),
	)
	require.Equal(t, "paid", status)

	step("refund",
		chromedp.Click(`#refund-`+ref, chromedp.ByQuery),
		chromedp.WaitVisible(row+` .status-refunding`, chromedp.ByQuery),
		shot("06-admin-refund-pending.png"),
	)
	step("the admin page refreshes until the refund's IPN",
		complete,
		chromedp.WaitVisible(row+` .status-refunded`, chromedp.ByQuery),
		chromedp.Text(row+` .status`, &status, chromedp.ByQuery),
		shot("07-admin-refunded.png"),
	)
	require.Equal(t, "refunded", status)

	step("the buyer's order page shows the refund",
		chromedp.Navigate(shopURL+"orders/"+ref),
		chromedp.WaitVisible(`#status.status-refunded`, chromedp.ByQuery),
		shot("08-order-refunded.png"),
	)

	txs := sim.Ledger().Transactions()
	require.Len(t, txs, 2)
	require.Equal(t, "Pay", txs[0].Operation)
	require.Equal(t, "Refund", txs[1].Operation)
	require.Equal(t, txs[0].ID, txs[1].ParentID)
	for _, name := range []string{
		"01-products.png", "02-amazon-payments.png", "03-order-pending.png", "04-order-paid.png",
		"05-admin-paid.png", "06-admin-refund-pending.png", "07-admin-refunded.png", "08-order-refunded.png",
	} {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Greater(t, info.Size(), int64(1000), name)
	}
}
