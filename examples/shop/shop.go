package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/integration"
	"github.com/shopspring/decimal"
)

//go:embed templates static
var files embed.FS

// product is an item of the catalogue.
type product struct {
	ID, Name, Description string
	Price                 decimal.Decimal
	// AuthorizeOnly makes the return reserve the price (Reserve) instead
	// of charging it; the admin captures it when the item ships, or voids
	// it.
	AuthorizeOnly bool
}

func catalogue() []product {
	return []product{
		{ID: "plush", Name: "Gopher plush", Price: decimal.RequireFromString("19.99"),
			Description: "A soft blue gopher, 30 cm tall. Paid at once."},
		{ID: "espresso", Name: "Espresso machine", Price: decimal.RequireFromString("249.00"), AuthorizeOnly: true,
			Description: "Made to order: authorized now, charged when it ships."},
	}
}

// The steps of an order's transaction, as IPNs name them.
const (
	opPay     = "PAY"
	opReserve = "RESERVE"
	opSettle  = "SETTLE"
	opCancel  = "CANCEL"
	opRefund  = "REFUND"
)

// order is one checkout: created with its button, paid through FPS, and
// moved on by the IPNs of its transaction and refunds.
type order struct {
	Ref     string // the callerReference of the pipeline and of Pay or Reserve
	Product product
	Amount  decimal.Decimal

	Returned bool   // the buyer came back from the Co-Branded UI
	Declined string // why the pipeline did not succeed
	TxID     string // the Pay or Reserve transaction
	Method   string // the payment method, from the IPNs
	// ops holds the status of each step of TxID (PAY, RESERVE, SETTLE,
	// CANCEL) as its IPNs report it.
	ops      map[string]fps.TransactionStatus
	Captured decimal.Decimal // settled amount, from the SETTLE IPN
	Refunds  []*refund
	Problem  string // the last call that failed, shown on the pages
	History  []event
	busy     bool // a call for this order is in flight
}

// refund is one Refund of an order.
type refund struct {
	Ref    string // its own callerReference
	TxID   string
	Amount decimal.Decimal
	Status fps.TransactionStatus // empty until its IPN or answer
}

type event struct {
	At   time.Time
	Text string
}

// shop holds the catalogue, the orders and the integration.
type shop struct {
	fps      *integration.AmazonFPS // set by start before the shop serves
	notes    notificationStore
	products []product
	pages    map[string]*template.Template
	log      *slog.Logger
	now      func() time.Time

	mu     sync.Mutex
	orders []*order          // oldest first
	byRef  map[string]*order // by callerReference: the order's and its refunds'
}

func newShop(notes notificationStore, logger *slog.Logger) *shop {
	pages := map[string]*template.Template{}
	for _, name := range []string{"products", "order", "admin"} {
		pages[name] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return &shop{notes: notes, products: catalogue(), pages: pages, log: logger, now: time.Now, byRef: map[string]*order{}}
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/amazon_fps/", s.fps.Handler())
	mux.Handle("GET /static/", http.FileServerFS(files))
	mux.HandleFunc("GET /{$}", s.productPage)
	mux.HandleFunc("GET /orders/{ref}", s.orderPage)
	mux.HandleFunc("GET /admin", s.adminPage)
	mux.HandleFunc("POST /admin/orders/{ref}/{action}", s.adminAction)
	return securityHeaders(mux)
}

// securityHeaders keeps the pages to their own origin: no scripts, no
// framing, forms posting only to the shop.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func orderPath(ref string) string { return "/orders/" + url.PathEscape(ref) }

func (o *order) note(at time.Time, format string, args ...any) {
	o.History = append(o.History, event{At: at, Text: fmt.Sprintf(format, args...)})
}

// fail records a failed call on the order. Called with s.mu held.
func (o *order) fail(at time.Time, format string, args ...any) {
	o.Problem = fmt.Sprintf(format, args...)
	o.note(at, "%s", o.Problem)
}

// productPage shows the catalogue, each product with the button of a new
// order. An order the buyer never pays stays "awaiting the buyer" and is
// not listed on the admin page.
func (s *shop) productPage(w http.ResponseWriter, r *http.Request) {
	type item struct {
		product
		Button template.HTML
	}
	items := make([]item, 0, len(s.products))
	for _, p := range s.products {
		o := s.newOrder(p)
		fields := map[string]string{
			"pipelineName":      string(fps.PipelineSingleUse),
			"callerReference":   o.Ref,
			"transactionAmount": p.Price.StringFixed(2),
			"paymentReason":     p.Name,
		}
		if p.AuthorizeOnly {
			fields["reserve"] = "True"
		}
		button, err := s.fps.WithFields(fields).Button(r.Context(), func(b *integration.ButtonOptions) {
			b.ImageURL = "/static/amazon-payments.svg" // served here: the page loads nothing from elsewhere
		})
		if err != nil {
			s.serverError(w, "could not prepare the payment button", err)
			return
		}
		items = append(items, item{p, button})
	}
	s.render(w, "products", map[string]any{
		"Title": "Products", "Items": items, "Left": r.URL.Query().Has("left"),
	})
}

func (s *shop) newOrder(p product) *order {
	o := &order{Ref: fps.NewCallerReference(), Product: p, Amount: p.Price, ops: map[string]fps.TransactionStatus{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	o.note(s.now(), "Order created: %s, USD %s", p.Name, p.Price.StringFixed(2))
	s.orders = append(s.orders, o)
	s.byRef[o.Ref] = o
	return o
}

// lookup returns the order of ref, or nil. Called with s.mu held.
func (s *shop) lookup(ref string) *order {
	if o := s.byRef[ref]; o != nil && o.Ref == ref {
		return o
	}
	return nil
}

// transaction is the integration's TransactionHook: the buyer is back
// from the Co-Branded UI with a verified return. It charges the token
// (Pay), or reserves the amount (Reserve) for an authorize-only product,
// and sends the buyer to the order page. The order's status then comes
// from the IPNs.
func (s *shop) transaction(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, _ integration.Order) {
	s.mu.Lock()
	o := s.lookup(ret.CallerReference)
	if o == nil { // an abandoned pipeline names no callerReference
		s.mu.Unlock()
		http.Redirect(w, r, "/?left", http.StatusSeeOther)
		return
	}
	o.Returned = true
	now := s.now()
	pay := ret.Status.Success() && o.TxID == "" && !o.busy // a reload of the return URL pays once
	switch {
	case !ret.Status.Success() && o.TxID == "":
		o.Declined = ret.Status.Meaning()
		o.note(now, "Back from Amazon: %s (status %s)", o.Declined, ret.Status)
	case pay:
		o.busy = true
		o.note(now, "Back from Amazon: %s (status %s)", ret.Status.Meaning(), ret.Status)
	}
	s.mu.Unlock()
	if pay {
		s.pay(ctx, a, o, ret.TokenID)
	}
	http.Redirect(w, r, orderPath(o.Ref), http.StatusSeeOther)
}

// pay sends Pay, or Reserve for an authorize-only product, for order o.
func (s *shop) pay(ctx context.Context, a *integration.AmazonFPS, o *order, tokenID string) {
	call, action := a.Purchase, "Pay"
	if o.Product.AuthorizeOnly {
		call, action = a.Authorize, "Reserve"
	}
	res, err := call(ctx, o.Amount, fps.PurchaseOptions{TokenID: tokenID, CallerReference: o.Ref})
	s.mu.Lock()
	defer s.mu.Unlock()
	o.busy = false
	s.answered(o, action, res, err)
	if err == nil && o.TxID == "" {
		o.TxID = res.TransactionID
	}
}

// answered records the answer of an action on o. Called with s.mu held.
func (s *shop) answered(o *order, action string, res *fps.Result, err error) {
	now := s.now()
	switch {
	case err != nil && fps.MayHaveMoved(err):
		o.fail(now, "%s: no answer (%v); its IPN will tell whether it happened", action, err)
	case err != nil:
		o.fail(now, "%s failed: %v", action, err)
	case res.Status != fps.ResultSuccess:
		o.fail(now, "%s refused: transaction %s is %s", action, res.TransactionID, res.TransactionStatus)
	default:
		o.Problem = ""
		o.note(now, "%s sent: transaction %s is %s; waiting for its IPN", action, res.TransactionID, res.TransactionStatus)
	}
}

// notified is the integration's NotificationCallback: it runs once for
// each verified and stored IPN, and moves the order on.
func (s *shop) notified(_ context.Context, n *fps.Notification) error {
	if n.Type != fps.NotificationTypeTransactionStatus {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.byRef[n.CallerReference]
	if o == nil { // the integration matched it to its order book: another shop's order
		s.log.Warn("IPN of an order this shop does not hold", "callerReference", n.CallerReference, "transactionId", n.TransactionID)
		return nil
	}
	now := s.now()
	o.note(now, "IPN: %s %s %s, transaction %s", n.Operation, n.Status, n.TransactionAmount, n.TransactionID)
	if n.PaymentMethod != "" {
		o.Method = string(n.PaymentMethod)
	}
	if n.TransactionStatus == fps.TransactionStatusFailure {
		o.Problem = fmt.Sprintf("%s failed: %s", n.Operation, n.StatusMessage)
	}
	if n.Operation == opRefund {
		for _, rf := range o.Refunds {
			if rf.Ref == n.CallerReference {
				rf.TxID = n.TransactionID
				rf.Status = advance(rf.Status, n.TransactionStatus)
			}
		}
		return nil
	}
	if o.TxID == "" { // the IPN came before Pay's answer
		o.TxID = n.TransactionID
	}
	if n.TransactionID != o.TxID {
		s.log.Warn("IPN of another transaction of the order", "callerReference", n.CallerReference, "transactionId", n.TransactionID)
		return nil
	}
	o.ops[string(n.Operation)] = advance(o.ops[string(n.Operation)], n.TransactionStatus)
	if n.Operation == opSettle && n.TransactionStatus == fps.TransactionStatusSuccess {
		o.Captured = n.TransactionAmount.Value
	}
	return nil
}

// advance moves a step's status to next, unless the step was already
// past Pending: an IPN retried late does not take it back.
func advance(cur, next fps.TransactionStatus) fps.TransactionStatus {
	if cur == "" || cur == fps.TransactionStatusPending {
		return next
	}
	return cur
}

// state is an order's status as the pages show it.
type state struct {
	Code   string // the CSS class: paid, pending, refunded, ...
	Label  string
	Moving bool // an IPN is awaited: the pages refresh
}

// paid is the amount the buyer paid: the price once PAY succeeded, the
// captured amount once SETTLE did.
func (o *order) paid() decimal.Decimal {
	switch {
	case o.ops[opPay] == fps.TransactionStatusSuccess:
		return o.Amount
	case o.ops[opSettle] == fps.TransactionStatusSuccess:
		return o.Captured
	}
	return decimal.Zero
}

// refunds sums the refunds done and those in flight.
func (o *order) refunds() (done, inFlight decimal.Decimal) {
	for _, rf := range o.Refunds {
		switch rf.Status {
		case fps.TransactionStatusSuccess:
			done = done.Add(rf.Amount)
		case "", fps.TransactionStatusPending:
			inFlight = inFlight.Add(rf.Amount)
		}
	}
	return done, inFlight
}

// state derives the order's status from the IPNs received. Called with
// s.mu held.
func (o *order) state() state {
	done, inFlight := o.refunds()
	paid := o.paid()
	ops := o.ops
	switch {
	case o.Declined != "":
		return state{"declined", "not paid: " + o.Declined, false}
	case inFlight.IsPositive():
		return state{"refunding", "refund pending", true}
	case done.IsPositive() && !done.LessThan(paid):
		return state{"refunded", "refunded", false}
	case done.IsPositive():
		return state{"paid", "paid, partly refunded", false}
	case ops[opCancel] == fps.TransactionStatusCancelled:
		return state{"voided", "voided", false}
	case ops[opSettle] == fps.TransactionStatusSuccess:
		return state{"paid", "paid (captured)", false}
	case ops[opSettle] == fps.TransactionStatusPending:
		return state{"pending", "capture pending", true}
	case ops[opSettle] == fps.TransactionStatusFailure:
		return state{"failed", "capture failed", false}
	case ops[opReserve] == fps.TransactionStatusReserved:
		return state{"authorized", "authorized", false}
	case ops[opReserve] == fps.TransactionStatusPending:
		return state{"pending", "authorization pending", true}
	case ops[opPay] == fps.TransactionStatusSuccess:
		return state{"paid", "paid", false}
	case ops[opPay] == fps.TransactionStatusPending:
		return state{"pending", "payment pending", true}
	case ops[opPay] == fps.TransactionStatusFailure, ops[opReserve] == fps.TransactionStatusFailure:
		return state{"failed", "payment failed", false}
	case o.TxID != "" || o.busy:
		return state{"sent", "sent to Amazon", true}
	case o.Returned:
		return state{"failed", "payment not sent", false}
	}
	return state{"new", "awaiting the buyer", false}
}

// orderView is an order as the templates read it, copied under s.mu.
type orderView struct {
	Ref, Path, Product, Amount string
	State                      state
	Method, TxID               string
	Paid, Refunded             string
	Refunds                    []refund
	Problem                    string
	History                    []event
	CanCapture, CanVoid        bool
	CanRefund                  bool
	refundable                 decimal.Decimal
}

// view copies o for a page. Called with s.mu held.
func (o *order) view() orderView {
	st := o.state()
	done, inFlight := o.refunds()
	v := orderView{
		Ref: o.Ref, Path: orderPath(o.Ref), Product: o.Product.Name, Amount: usd(o.Amount),
		State: st, Method: o.Method, TxID: o.TxID,
		Paid: usd(o.paid()), Refunded: usd(done),
		Problem: o.Problem, History: slices.Clone(o.History),
	}
	for _, rf := range o.Refunds {
		v.Refunds = append(v.Refunds, *rf)
	}
	authorized := st.Code == "authorized"
	v.CanCapture, v.CanVoid = authorized, authorized
	v.refundable = o.paid().Sub(done).Sub(inFlight)
	v.CanRefund = st.Code == "paid" && v.refundable.IsPositive()
	return v
}

func usd(d decimal.Decimal) string { return "USD " + d.StringFixed(2) }

func (s *shop) orderPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o := s.lookup(r.PathValue("ref"))
	var v orderView
	if o != nil {
		v = o.view()
	}
	s.mu.Unlock()
	if o == nil {
		http.NotFound(w, r)
		return
	}
	data := map[string]any{"Title": "Order " + v.Ref, "Order": v}
	if v.State.Moving {
		data["Refresh"] = 1
	}
	s.render(w, "order", data)
}

func (s *shop) adminPage(w http.ResponseWriter, r *http.Request) {
	notes, err := s.notes.List(r.Context())
	if err != nil {
		s.serverError(w, "could not read the notification store", err)
		return
	}
	slices.Reverse(notes) // newest first
	var (
		orders    []orderView
		abandoned int
		moving    bool
	)
	s.mu.Lock()
	for _, o := range slices.Backward(s.orders) {
		if !o.Returned {
			abandoned++
			continue
		}
		v := o.view()
		moving = moving || v.State.Moving
		orders = append(orders, v)
	}
	s.mu.Unlock()
	data := map[string]any{"Title": "Admin", "Orders": orders, "Abandoned": abandoned, "Notifications": notes}
	if moving {
		data["Refresh"] = 2
	}
	s.render(w, "admin", data)
}

// adminAction runs capture, refund or void on an order, then shows the
// admin page again. The order's status changes when the IPN comes.
func (s *shop) adminAction(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "refused: the form was not sent from this shop's pages", http.StatusForbidden)
		return
	}
	action := r.PathValue("action")
	if action != "capture" && action != "refund" && action != "void" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	o := s.lookup(r.PathValue("ref"))
	if o == nil {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	v := o.view()
	allowed := map[string]bool{"capture": v.CanCapture, "refund": v.CanRefund, "void": v.CanVoid}[action]
	var rf *refund
	switch {
	case o.busy:
		o.fail(s.now(), "cannot %s now: a request for this order is in flight", action)
		allowed = false
	case !allowed:
		o.fail(s.now(), "cannot %s an order that is %s", action, v.State.Label)
	default:
		o.busy = true
		if action == "refund" {
			rf = &refund{Ref: fps.NewCallerReference(), Amount: v.refundable}
			o.Refunds = append(o.Refunds, rf)
			s.byRef[rf.Ref] = o
		}
	}
	s.mu.Unlock()
	if allowed {
		s.act(r.Context(), o, action, v.TxID, rf)
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// act sends the FPS action for an admin button.
func (s *shop) act(ctx context.Context, o *order, action, txID string, rf *refund) {
	var (
		res  *fps.Result
		err  error
		name string
	)
	switch action {
	case "capture":
		name = "Settle"
		res, err = s.fps.Capture(ctx, decimal.Zero, fps.CaptureOptions{TransactionID: txID})
	case "void":
		name = "Cancel"
		res, err = s.fps.Void(ctx, txID, fps.VoidOptions{Description: "Voided by Gopher Goods"})
	case "refund":
		name = "Refund"
		res, err = s.fps.Credit(ctx, rf.Amount, fps.CreditOptions{
			TransactionID: txID, CallerReference: rf.Ref, Description: "Refunded by Gopher Goods",
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o.busy = false
	s.answered(o, name, res, err)
	if rf == nil {
		return
	}
	switch {
	case err == nil:
		rf.TxID = res.TransactionID
		rf.Status = advance(rf.Status, res.TransactionStatus)
	case !fps.MayHaveMoved(err): // it did not happen
		o.Refunds = slices.DeleteFunc(o.Refunds, func(x *refund) bool { return x == rf })
	}
}

// sameOrigin reports whether a POST may act. Browsers say where a form
// was sent from (Sec-Fetch-Site, else Origin); a request from another site
// is refused. A request with neither header does not come from a
// browser's form, so it carries no buyer's or admin's session to abuse.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// render writes page name with data, or an error page when the template
// fails.
func (s *shop) render(w http.ResponseWriter, name string, data map[string]any) {
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		s.serverError(w, "could not show the page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = b.WriteTo(w)
}

func (s *shop) serverError(w http.ResponseWriter, msg string, err error) {
	s.log.Error(msg, "err", err)
	http.Error(w, msg, http.StatusInternalServerError)
}
