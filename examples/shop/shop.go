package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
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

// productNamed returns the product whose name is the order's description
// (its pipeline's paymentReason).
func (s *shop) productNamed(name string) (product, bool) {
	for _, p := range s.products {
		if p.Name == name {
			return p, true
		}
	}
	return product{}, false
}

type event struct {
	At   time.Time
	Text string
}

// orderStore is what the shop needs of its store: the integration's order
// Store, the latest orders for the admin page, and the notifications.
// store.SQL and store.Memory have it all.
type orderStore interface {
	integration.Store
	Orders(ctx context.Context, limit int) ([]integration.Order, error)
	Get(ctx context.Context, key string) (*integration.StoredNotification, error)
	List(ctx context.Context) ([]*integration.StoredNotification, error)
}

// shop holds the catalogue and the integration. Orders live in the
// integration's store, so that a restart loses none; what the shop keeps
// in memory is only which orders have a call in flight and the last
// failed call of each, shown on the pages.
type shop struct {
	fps      *integration.AmazonFPS // set by start before the shop serves
	orders   orderStore
	products []product
	pages    map[string]*template.Template
	log      *slog.Logger
	now      func() time.Time

	mu       sync.Mutex
	busy     map[string]bool   // a call for the order is in flight
	problems map[string]*event // the last failed call of the order
}

func newShop(orders orderStore, logger *slog.Logger) *shop {
	pages := map[string]*template.Template{}
	for _, name := range []string{"products", "order", "admin"} {
		pages[name] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return &shop{orders: orders, products: catalogue(), pages: pages, log: logger, now: time.Now,
		busy: map[string]bool{}, problems: map[string]*event{}}
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

// productPage shows the catalogue, each product with the button of a new
// order: LinkURL records it in the store, created. An order the buyer
// never pays stays created and is not listed on the admin page.
func (s *shop) productPage(w http.ResponseWriter, r *http.Request) {
	type item struct {
		product
		Button template.HTML
	}
	items := make([]item, 0, len(s.products))
	for _, p := range s.products {
		fields := map[string]string{
			"pipelineName":      string(fps.PipelineSingleUse),
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

// transaction is the integration's TransactionHook. For a confirmed
// return it runs once per order, after charge: it sends the buyer to the
// order page, whose status then comes from the IPNs. A declined pipeline
// moves nothing: the buyer sees why, and may buy again.
func (s *shop) transaction(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o integration.Order) {
	switch {
	case !ret.Status.Success() && o.CallerReference == "": // abandoned: no callerReference
		http.Redirect(w, r, "/?left", http.StatusSeeOther)
	case !ret.Status.Success():
		v, err := s.view(ctx, o)
		if err != nil {
			s.serverError(w, "could not read the order", err)
			return
		}
		v.State = state{"declined", "not paid: " + ret.Status.Meaning(), false}
		v.CanCapture, v.CanVoid, v.CanRefund = false, false, false
		s.render(w, "order", map[string]any{"Title": "Order " + v.Ref, "Order": v, "Again": true})
	default:
		http.Redirect(w, r, orderPath(o.CallerReference), http.StatusSeeOther)
	}
}

// showOrder is the integration's OrderPage: a return loaded again goes to
// the order page.
func (s *shop) showOrder(_ context.Context, w http.ResponseWriter, r *http.Request, o integration.Order) {
	http.Redirect(w, r, orderPath(o.CallerReference), http.StatusSeeOther)
}

// charge is the integration's Charge, run once per approved order (and
// by Recover for a buyer who never came back): Pay, or Reserve for an
// authorize-only product, under the order's CallerReference.
func (s *shop) charge(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
	call, action := a.Purchase, "Pay"
	if p, _ := s.productNamed(o.Description); p.AuthorizeOnly {
		call, action = a.Authorize, "Reserve"
	}
	s.setBusy(o.CallerReference, true)
	res, err := call(ctx, o.Amount.Value, fps.PurchaseOptions{TokenID: o.TokenID, CallerReference: o.CallerReference})
	s.setBusy(o.CallerReference, false)
	s.answered(o.CallerReference, action, res, err)
	return err
}

func (s *shop) setBusy(ref string, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy {
		s.busy[ref] = true
	} else {
		delete(s.busy, ref)
	}
}

// answered records the answer of an action on the order ref: a problem
// to show, or none.
func (s *shop) answered(ref, action string, res *fps.Result, err error) {
	var text string
	switch {
	case err != nil && fps.MayHaveMoved(err):
		text = fmt.Sprintf("%s: no answer (%v); its IPN will tell whether it happened", action, err)
	case err != nil:
		text = fmt.Sprintf("%s failed: %v", action, err)
	case res.Status != fps.ResultSuccess:
		text = fmt.Sprintf("%s refused: transaction %s is %s", action, res.TransactionID, res.TransactionStatus)
	}
	s.problem(ref, text)
}

// problem records text as the order's problem; "" clears it.
func (s *shop) problem(ref, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if text == "" {
		delete(s.problems, ref)
		return
	}
	s.problems[ref] = &event{At: s.now(), Text: text}
}

// notified is the integration's NotificationCallback: it runs once for
// each change of an order that a confirmed IPN made. This shop has
// nothing to ship, so it logs the change; a real one fulfils the order
// here when ch.Entry.To is paid.
func (s *shop) notified(_ context.Context, ch integration.OrderChange) error {
	s.log.Info("order changed", "order", ch.Order.CallerReference, "from", ch.Entry.From, "to", ch.Entry.To, "by", ch.Entry.Note)
	return nil
}

// state is an order's status as the pages show it.
type state struct {
	Code   string // the CSS class: paid, pending, refunded, ...
	Label  string
	Moving bool // an IPN is awaited: the pages refresh
}

// orderView is an order as the templates read it.
type orderView struct {
	Ref, Path, Product, Amount string
	State                      state
	Method, TxID               string
	Paid, Refunded             string
	Refunds                    []integration.Transaction
	Problem                    string
	History                    []event
	CanCapture, CanVoid        bool
	CanRefund                  bool
	refundable                 decimal.Decimal
}

// view reads what the pages show of o: its transactions, history and the
// payment method its notifications name.
func (s *shop) view(ctx context.Context, o integration.Order) (orderView, error) {
	txs, err := s.orders.Transactions(ctx, o.CallerReference)
	if err != nil {
		return orderView{}, err
	}
	hist, err := s.orders.History(ctx, o.CallerReference)
	if err != nil {
		return orderView{}, err
	}
	v := orderView{
		Ref: o.CallerReference, Path: orderPath(o.CallerReference), Product: o.Description, Amount: o.Amount.String(),
		Paid: usd(o.Paid), Refunded: usd(o.Refunded),
	}
	var payment integration.Transaction
	inFlight := decimal.Zero
	for _, t := range txs {
		switch t.Operation {
		case fps.FPSOperationRefund:
			v.Refunds = append(v.Refunds, t)
			if !t.Status.Final() {
				inFlight = inFlight.Add(t.Amount.Value)
			}
		default:
			payment = t
		}
	}
	v.TxID = payment.ID
	for _, e := range hist {
		text := e.Note
		if e.Key != "return" {
			text = "IPN: " + text
			if sn, err := s.orders.Get(ctx, e.Key); err == nil && sn.Notification.PaymentMethod != "" {
				v.Method = string(sn.Notification.PaymentMethod)
			}
		}
		v.History = append(v.History, event{At: e.At, Text: text})
	}
	s.mu.Lock()
	busy := s.busy[o.CallerReference]
	if p := s.problems[o.CallerReference]; p != nil {
		v.Problem = p.Text
		v.History = append(v.History, *p)
	}
	s.mu.Unlock()
	slices.SortStableFunc(v.History, func(a, b event) int { return a.At.Compare(b.At) })
	v.State = stateOf(o, payment, inFlight, busy)
	authorized := o.Status == integration.OrderAuthorized
	v.CanCapture, v.CanVoid = authorized, authorized
	v.refundable = o.Paid.Sub(o.Refunded).Sub(inFlight)
	v.CanRefund = v.State.Code == "paid" && v.refundable.IsPositive()
	return v, nil
}

// stateOf is how the pages show an order: its status, with a refund in
// flight and the kind of its payment.
func stateOf(o integration.Order, payment integration.Transaction, refunding decimal.Decimal, busy bool) state {
	reserve := payment.Operation == fps.FPSOperationReserve
	switch o.Status {
	case integration.OrderCreated:
		return state{"new", "awaiting the buyer", false}
	case integration.OrderApproved:
		if busy || payment.CallerReference != "" {
			return state{"sent", "sent to Amazon", true}
		}
		return state{"failed", "payment not sent", false}
	case integration.OrderPending:
		if reserve {
			return state{"pending", "authorization pending", true}
		}
		return state{"pending", "payment pending", true}
	case integration.OrderAuthorized:
		return state{"authorized", "authorized", false}
	case integration.OrderCapturing:
		return state{"pending", "capture pending", true}
	case integration.OrderFailed:
		if payment.Step == "SETTLE" {
			return state{"failed", "capture failed", false}
		}
		return state{"failed", "payment failed", false}
	case integration.OrderCancelled:
		return state{"voided", "voided", false}
	case integration.OrderRefunded:
		return state{"refunded", "refunded", false}
	}
	switch { // paid, partly refunded
	case refunding.IsPositive():
		return state{"refunding", "refund pending", true}
	case o.Status == integration.OrderPartlyRefunded:
		return state{"paid", "paid, partly refunded", false}
	case reserve:
		return state{"paid", "paid (captured)", false}
	}
	return state{"paid", "paid", false}
}

func usd(d decimal.Decimal) string { return "USD " + d.StringFixed(2) }

// order returns the order whose own callerReference is ref, or false.
func (s *shop) order(ctx context.Context, ref string) (integration.Order, bool, error) {
	o, err := s.orders.Order(ctx, ref)
	switch {
	case errors.Is(err, integration.ErrUnknownOrder):
		return o, false, nil
	case err != nil:
		return o, false, err
	}
	return o, o.CallerReference == ref, nil
}

func (s *shop) orderPage(w http.ResponseWriter, r *http.Request) {
	o, ok, err := s.order(r.Context(), r.PathValue("ref"))
	if err == nil && ok {
		var v orderView
		if v, err = s.view(r.Context(), o); err == nil {
			data := map[string]any{"Title": "Order " + v.Ref, "Order": v}
			if v.State.Moving {
				data["Refresh"] = 1
			}
			s.render(w, "order", data)
			return
		}
	}
	if err != nil {
		s.serverError(w, "could not read the order", err)
		return
	}
	http.NotFound(w, r)
}

// adminOrders is how many of the latest orders the admin page reads.
const adminOrders = 200

func (s *shop) adminPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	notes, err := s.orders.List(ctx)
	if err != nil {
		s.serverError(w, "could not read the notification store", err)
		return
	}
	slices.Reverse(notes) // newest first
	latest, err := s.orders.Orders(ctx, adminOrders)
	if err != nil {
		s.serverError(w, "could not read the orders", err)
		return
	}
	var (
		orders    []orderView
		abandoned int
		moving    bool
	)
	for _, o := range latest {
		if o.Status == integration.OrderCreated {
			abandoned++
			continue
		}
		v, err := s.view(ctx, o)
		if err != nil {
			s.serverError(w, "could not read the orders", err)
			return
		}
		moving = moving || v.State.Moving
		orders = append(orders, v)
	}
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
	ctx := r.Context()
	o, ok, err := s.order(ctx, r.PathValue("ref"))
	if err != nil {
		s.serverError(w, "could not read the order", err)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	v, err := s.view(ctx, o)
	if err != nil {
		s.serverError(w, "could not read the order", err)
		return
	}
	allowed := map[string]bool{"capture": v.CanCapture, "refund": v.CanRefund, "void": v.CanVoid}[action]
	s.mu.Lock()
	busy := s.busy[v.Ref]
	if allowed && !busy {
		s.busy[v.Ref] = true
	}
	s.mu.Unlock()
	switch {
	case busy:
		s.problem(v.Ref, fmt.Sprintf("cannot %s now: a request for this order is in flight", action))
	case !allowed:
		s.problem(v.Ref, fmt.Sprintf("cannot %s an order that is %s", action, v.State.Label))
	default:
		s.act(ctx, v, action)
		s.setBusy(v.Ref, false)
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// act sends the FPS action for an admin button.
func (s *shop) act(ctx context.Context, v orderView, action string) {
	var (
		res  *fps.Result
		err  error
		name string
	)
	switch action {
	case "capture":
		name = "Settle"
		res, err = s.fps.Capture(ctx, decimal.Zero, fps.CaptureOptions{TransactionID: v.TxID})
	case "void":
		name = "Cancel"
		res, err = s.fps.Void(ctx, v.TxID, fps.VoidOptions{Description: "Voided by Gopher Goods"})
	case "refund":
		name = "Refund"
		res, err = s.fps.Credit(ctx, v.refundable, fps.CreditOptions{
			TransactionID: v.TxID, CallerReference: fps.NewCallerReference(), Description: "Refunded by Gopher Goods",
		})
	}
	s.answered(v.Ref, name, res, err)
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
