package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
// path is taken from the module root), else a temporary folder.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FPS_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // this package is examples/shop
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	t.Logf("screenshots in %s", abs)
	return abs
}

// TestBrowserBuyPayRefund drives the shop in headless Chromium the way a
// buyer and the shop's admin use it, and saves a full-page screenshot of
// each page.
func TestBrowserBuyPayRefund(t *testing.T) {
	browser := chromium(t)
	dir := artifactsDir(t)
	// Credit-card payments and refunds stay pending until the test lets
	// the simulator complete them, so that the pages are seen pending,
	// then done, however slow the machine.
	a := startTestShop(t, -1)
	complete := chromedp.ActionFunc(a.sim.CompletePending)

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
		chromedp.Navigate(a.URL),
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
	require.Equal(t, a.URL+"orders/"+ref, location)
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
		chromedp.Navigate(a.URL+"admin"),
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
		chromedp.Navigate(a.URL+"orders/"+ref),
		chromedp.WaitVisible(`#status.status-refunded`, chromedp.ByQuery),
		shot("08-order-refunded.png"),
	)

	txs := a.sim.Ledger().Transactions()
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
