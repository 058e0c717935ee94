package main

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/stretchr/testify/require"
)

// startTestShop runs the shop and an in-process simulator on free ports.
// CC payments and refunds stay pending for pendingDelay; negative keeps
// them pending until the test calls CompletePending.
func startTestShop(t *testing.T, pendingDelay time.Duration) *app {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	st, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-pending-delay", pendingDelay.String()}, io.Discard)
	require.NoError(t, err)
	a, err := start(context.Background(), st, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return do(t, c, req)
}

// do sends req and reads the answer.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// post sends a form the way a browser on origin would (no Origin header
// when origin is empty).
func post(t *testing.T, c *http.Client, u string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return do(t, c, req)
}

// waitFor reloads u until its page matches want, as the page's refresh
// would.
func waitFor(t *testing.T, c *http.Client, u string, want *regexp.Regexp) string {
	t.Helper()
	var body string
	require.Eventually(t, func() bool {
		_, body = get(t, c, u)
		return want.MatchString(body)
	}, 15*time.Second, 50*time.Millisecond, "%s never showed %s", u, want)
	return body
}

var buttonRE = regexp.MustCompile(`(?s)<article class="product" id="product-(\w+)">.*?<a href="([^"]+)"><img src="/static/amazon-payments.svg" alt="Amazon Payments" />`)

// buttonLink returns the link of the product's "Amazon Payments" button
// on the product page.
func buttonLink(t *testing.T, page, productID string) *url.URL {
	t.Helper()
	for _, m := range buttonRE.FindAllStringSubmatch(page, -1) {
		if m[1] == productID {
			u, err := url.Parse(html.UnescapeString(m[2]))
			require.NoError(t, err)
			return u
		}
	}
	require.FailNow(t, "no button for product "+productID, page)
	return nil
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	sessionRE    = regexp.MustCompile(`<input type="hidden" name="session" value="([^"]+)">`)
)

// approve plays the buyer on the simulator's Co-Branded UI page: it opens
// link, checks the page offers method, and answers with action. It
// returns where the browser lands after the redirects.
func approve(t *testing.T, c *http.Client, link *url.URL, method, action string) (*http.Response, string) {
	t.Helper()
	_, page := get(t, c, link.String())
	require.Contains(t, page, `name="paymentMethod" value="`+method+`"`)
	act := formActionRE.FindStringSubmatch(page)
	session := sessionRE.FindStringSubmatch(page)
	require.NotNil(t, act, page)
	require.NotNil(t, session, page)
	decide, err := link.Parse(html.UnescapeString(act[1]))
	require.NoError(t, err)
	return post(t, c, decide.String(), url.Values{
		"session": {html.UnescapeString(session[1])}, "action": {action}, "paymentMethod": {method},
	}, "")
}

func statusRE(code, label string) *regexp.Regexp {
	return regexp.MustCompile(`class="status status-` + code + `">` + regexp.QuoteMeta(label) + `<`)
}

func TestBuyPayRefundOverHTTP(t *testing.T) {
	a := startTestShop(t, -1)
	ctx := context.Background()
	c := &http.Client{Timeout: 10 * time.Second}
	shopOrigin := strings.TrimSuffix(a.URL, "/")

	_, page := get(t, c, a.URL)
	link := buttonLink(t, page, "plush")
	require.Equal(t, strings.TrimSuffix(a.sim.CBUIEndpoint(), "?"), link.Scheme+"://"+link.Host+link.Path)
	q := link.Query()
	require.Equal(t, "19.99", q.Get("transactionAmount"))
	require.Equal(t, a.URL+"amazon_fps/fps-return-url/", q.Get("returnURL"))
	ref := q.Get("callerReference")
	require.Len(t, ref, 22)

	// The buyer approves with a credit card and lands on the order page.
	resp, page := approve(t, c, link, "CC", "approve")
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Equal(t, "/orders/"+ref, resp.Request.URL.Path)
	orderURL := a.URL + "orders/" + ref

	// Pay answered Pending and its PENDING IPN comes first: the page
	// refreshes itself until the payment settles.
	page = waitFor(t, c, orderURL, statusRE("pending", "payment pending"))
	require.Contains(t, page, `<meta http-equiv="refresh" content="1">`)
	require.Contains(t, page, "IPN: PAY PENDING USD 19.99")

	require.NoError(t, a.sim.CompletePending(ctx))
	page = waitFor(t, c, orderURL, statusRE("paid", "paid"))
	require.Contains(t, page, "IPN: PAY SUCCESS USD 19.99")
	require.NotContains(t, page, `http-equiv="refresh"`)
	require.Contains(t, page, "<dd>CC</dd>")
	payments := a.sim.Ledger().Transactions()
	require.Len(t, payments, 1)
	payID := payments[0].ID
	require.Contains(t, page, payID)

	// The admin page lists the order, its transaction and the stored IPNs.
	_, page = get(t, c, a.URL+"admin")
	require.Contains(t, page, `<tr id="order-`+ref+`">`)
	require.Contains(t, page, payID)
	require.Regexp(t, `<td>PAY</td>\s*<td>SUCCESS</td>\s*<td class="num">USD 19.99</td>`, page)
	require.Regexp(t, `<td>PAY</td>\s*<td>PENDING</td>`, page)
	require.Contains(t, page, `action="/admin/orders/`+ref+`/refund"`)
	require.NotContains(t, page, `/admin/orders/`+ref+`/capture`)

	// A refund sent from another site, or by GET, is refused.
	refundURL := a.URL + "admin/orders/" + ref + "/refund"
	resp, _ = post(t, c, refundURL, nil, "http://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = get(t, c, refundURL)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Len(t, a.sim.Ledger().Transactions(), 1, "no refund was sent")

	// The admin refunds from the shop's own page.
	resp, page = post(t, c, refundURL, nil, shopOrigin)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Equal(t, "/admin", resp.Request.URL.Path)
	require.Regexp(t, statusRE("refunding", "refund pending"), page)
	require.NoError(t, a.sim.CompletePending(ctx))
	page = waitFor(t, c, a.URL+"admin", statusRE("refunded", "refunded"))
	require.Regexp(t, `<td>REFUND</td>\s*<td>SUCCESS</td>\s*<td class="num">USD 19.99</td>`, page)
	require.NotContains(t, page, `/admin/orders/`+ref+`/refund"`, "nothing left to refund")

	txs := a.sim.Ledger().Transactions()
	require.Len(t, txs, 2)
	require.Equal(t, "Refund", txs[1].Operation)
	require.Equal(t, fps.TransactionStatusSuccess, txs[1].Status)
	require.Contains(t, page, txs[1].ID)
	_, page = get(t, c, orderURL)
	require.Regexp(t, statusRE("refunded", "refunded"), page)
}

func TestAuthorizeCaptureAndVoid(t *testing.T) {
	a := startTestShop(t, -1)
	c := &http.Client{Timeout: 10 * time.Second}
	origin := strings.TrimSuffix(a.URL, "/")

	// Two buyers authorize the espresso machine with their Amazon
	// Payments balance (ABT), which completes at once.
	var refs []string
	for range 2 {
		_, page := get(t, c, a.URL)
		link := buttonLink(t, page, "espresso")
		require.Equal(t, "True", link.Query().Get("reserve"))
		ref := link.Query().Get("callerReference")
		resp, page := approve(t, c, link, "ABT", "approve")
		require.Equal(t, "/orders/"+ref, resp.Request.URL.Path, page)
		waitFor(t, c, a.URL+"orders/"+ref, statusRE("authorized", "authorized"))
		refs = append(refs, ref)
	}
	_, page := get(t, c, a.URL+"admin")
	for _, ref := range refs {
		require.Contains(t, page, `action="/admin/orders/`+ref+`/capture"`)
		require.Contains(t, page, `action="/admin/orders/`+ref+`/void"`)
		require.NotContains(t, page, `action="/admin/orders/`+ref+`/refund"`)
	}
	require.Contains(t, page, "2 checkout(s) started and not finished are not listed.")

	resp, _ := post(t, c, a.URL+"admin/orders/"+refs[0]+"/capture", nil, origin)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, c, a.URL+"orders/"+refs[0], statusRE("paid", "paid (captured)"))
	resp, _ = post(t, c, a.URL+"admin/orders/"+refs[1]+"/void", nil, origin)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, c, a.URL+"orders/"+refs[1], statusRE("voided", "voided"))

	txs := a.sim.Ledger().Transactions()
	require.Len(t, txs, 2)
	status := map[string]fps.TransactionStatus{}
	for _, tx := range txs {
		require.Equal(t, "Reserve", tx.Operation)
		status[tx.CallerReference] = tx.Status
	}
	require.Equal(t, fps.TransactionStatusSuccess, status[refs[0]])
	require.Equal(t, fps.TransactionStatusCancelled, status[refs[1]])

	// A voided order cannot be captured any more.
	_, page = post(t, c, a.URL+"admin/orders/"+refs[1]+"/capture", nil, origin)
	require.Contains(t, page, "cannot capture an order that is voided")
}

func TestDeclinedAndAbandoned(t *testing.T) {
	a := startTestShop(t, -1)
	c := &http.Client{Timeout: 10 * time.Second}

	_, page := get(t, c, a.URL)
	link := buttonLink(t, page, "plush")
	ref := link.Query().Get("callerReference")
	resp, page := approve(t, c, link, "CC", "decline")
	require.Equal(t, "/amazon_fps/fps-return-url/", resp.Request.URL.Path, "the return itself shows why")
	require.Regexp(t, `class="status status-declined">not paid: `, page)
	require.Contains(t, page, "<code>"+ref+"</code>")
	require.Contains(t, page, "try again")
	_, page = get(t, c, a.URL+"orders/"+ref)
	require.Regexp(t, statusRE("new", "awaiting the buyer"), page, "a declined pipeline moves nothing")

	_, page = get(t, c, a.URL)
	resp, page = approve(t, c, buttonLink(t, page, "plush"), "CC", "abandon")
	require.Equal(t, "/", resp.Request.URL.Path)
	require.Contains(t, page, "You left the Amazon Payments page: nothing was charged.")
	require.Empty(t, a.sim.Ledger().Transactions())
}

func TestForgedNotificationChangesNothing(t *testing.T) {
	a := startTestShop(t, -1)
	c := &http.Client{Timeout: 10 * time.Second}
	_, page := get(t, c, a.URL)
	link := buttonLink(t, page, "plush")
	ref := link.Query().Get("callerReference")
	_, _ = approve(t, c, link, "CC", "approve")
	waitFor(t, c, a.URL+"orders/"+ref, statusRE("pending", "payment pending"))

	// An IPN that says the payment succeeded, signed by nobody.
	forged := url.Values{
		"notificationType": {"TransactionStatus"}, "transactionId": {a.sim.Ledger().Transactions()[0].ID},
		"callerReference": {ref}, "operation": {"PAY"}, "transactionStatus": {"SUCCESS"},
		"transactionAmount": {"USD 19.99"}, "paymentMethod": {"CC"},
		"signatureVersion": {"2"}, "signatureMethod": {"RSA-SHA1"}, "signature": {"Zm9yZ2Vk"},
		"certificateUrl": {a.sim.CertificateURL()},
	}
	resp, _ := post(t, c, a.URL+"amazon_fps/fps-notify-handler/", forged, "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	_, page = get(t, c, a.URL+"orders/"+ref)
	require.Regexp(t, statusRE("pending", "payment pending"), page)
	require.NotContains(t, page, "PAY SUCCESS")
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-cbui-endpoint", "http://127.0.0.1:1/cobranded-ui/actions/start"}, "-api-endpoint and -cbui-endpoint go together"},
		{[]string{"-secret-key", "s"}, "both the access key and the secret key"},
		{[]string{"-base-url", "http://shop.example/store/"}, `-base-url "http://shop.example/store/" must be an http(s) URL of a host, with no path`},
		{[]string{"-base-url", "shop.example"}, "must be an http(s) URL"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		_, err := parseFlags(tc.args, io.Discard)
		require.ErrorContains(t, err, tc.want, tc.args)
	}
}

// TestSimulatorApartAndSQLite runs the shop against a simulator it did
// not start, over https with -ca-file (the signatures checked locally),
// and keeps the orders and IPNs in -db.
// apart is a simulator running apart from the shop (over https, its CA
// in a file) and the database the shop keeps its orders in.
type apart struct {
	sim    *fpstest.Server
	ca, db string
}

func newApart(t *testing.T) *apart {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	dir := t.TempDir()
	p := &apart{sim: fpstest.NewServer(t, func(c *fpstest.Config) { c.PendingDelay = -1 }),
		ca: filepath.Join(dir, "ca.pem"), db: filepath.Join(dir, "shop.db")}
	require.NoError(t, os.WriteFile(p.ca, p.sim.CAPEM(), 0o600))
	return p
}

// start runs the shop on addr against the simulator, with -db and
// -ca-file, and sends the simulator's IPNs to it.
func (p *apart) start(t *testing.T, addr string) *app {
	st, err := parseFlags([]string{
		"-addr", addr, "-db", p.db, "-ca-file", p.ca,
		"-api-endpoint", p.sim.APIEndpoint(), "-cbui-endpoint", p.sim.CBUIEndpoint(),
	}, io.Discard)
	require.NoError(t, err)
	a, err := start(context.Background(), st, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(a.Close)
	require.NoError(t, p.sim.SetIPNURL(fpstest.DefaultAccessKeyID, a.URL+"amazon_fps/fps-notify-handler/"))
	return a
}

func TestSimulatorApartAndSQLite(t *testing.T) {
	p := newApart(t)
	sim, db := p.sim, p.db
	a := p.start(t, "127.0.0.1:0")
	require.Nil(t, a.sim, "no simulator started in-process")

	c := sim.HTTPClient() // the buyer's browser trusts the simulator's CA
	_, page := get(t, c, a.URL)
	link := buttonLink(t, page, "plush")
	require.Equal(t, sim.CBUIEndpoint(), link.Scheme+"://"+link.Host+link.Path)
	ref := link.Query().Get("callerReference")
	resp, page := approve(t, c, link, "CC", "approve")
	require.Equal(t, "/orders/"+ref, resp.Request.URL.Path, page)
	waitFor(t, c, a.URL+"orders/"+ref, statusRE("pending", "payment pending"))
	require.NoError(t, sim.CompletePending(context.Background()))
	waitFor(t, c, a.URL+"orders/"+ref, statusRE("paid", "paid"))
	a.Close()

	orders, err := store.Open(context.Background(), db)
	require.NoError(t, err)
	defer orders.Close()
	o, err := orders.Order(context.Background(), ref)
	require.NoError(t, err)
	require.Equal(t, integration.OrderPaid, o.Status)
	stored, err := orders.List(context.Background())
	require.NoError(t, err)
	var seen []string
	for _, n := range stored {
		seen = append(seen, string(n.Notification.Operation)+" "+string(n.Notification.Status)+" "+n.Notification.CallerReference)
	}
	require.ElementsMatch(t, []string{"PAY PENDING " + ref, "PAY SUCCESS " + ref}, seen)
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		fetchSite, origin string
		want              bool
	}{
		{"same-origin", "http://shop.test:8000", true},
		{"none", "", true}, // typed in the address bar
		{"same-site", "http://shop.test:9000", false},
		{"cross-site", "http://evil.example", false},
		{"", "http://shop.test:8000", true}, // an older browser: Origin alone
		{"", "http://evil.example", false},
		{"", "http://shop.test:9000", false},
		{"", "null", false},
		{"", "", true}, // not a browser's form
	} {
		r := httptest.NewRequest(http.MethodPost, "http://shop.test:8000/admin/orders/x/refund", nil)
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		require.Equal(t, tc.want, sameOrigin(r), "Sec-Fetch-Site %q, Origin %q", tc.fetchSite, tc.origin)
	}
}

// TestRestartBetweenCheckoutAndReturn stops the shop while the buyer is
// on the Amazon Payments page, and starts it again on the same address
// and database: the buyer's return finds the order, pays it, and its IPNs
// move it, as if nothing had happened.
func TestRestartBetweenCheckoutAndReturn(t *testing.T) {
	p := newApart(t)
	sim := p.sim
	a := p.start(t, "127.0.0.1:0")
	c := sim.HTTPClient()
	_, page := get(t, c, a.URL)
	link := buttonLink(t, page, "plush")
	ref := link.Query().Get("callerReference")
	back, err := sim.Buy(context.Background(), link.String(), fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)

	a.Close() // the shop restarts while the buyer is away
	u, err := url.Parse(a.URL)
	require.NoError(t, err)
	a = p.start(t, u.Host)

	resp, page := get(t, c, back.String())
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Equal(t, "/orders/"+ref, resp.Request.URL.Path)
	waitFor(t, c, a.URL+"orders/"+ref, statusRE("pending", "payment pending"))
	require.NoError(t, sim.CompletePending(context.Background()))
	waitFor(t, c, a.URL+"orders/"+ref, statusRE("paid", "paid"))
	require.Equal(t, 1, sim.Ledger().ChargeCount(ref))
}
