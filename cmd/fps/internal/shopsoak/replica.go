package shopsoak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/store"
	"github.com/shopspring/decimal"
)

// The shop's and the attacker's accounts at the simulator.
var (
	shopAccount = fpstest.Account{
		AccessKeyID: "AKIAFPSSOAKSHOP00000", SecretAccessKey: "fpstest/SOAK/SHOP/secret+key/not+a+real+secret",
		Name: "Soak Shop", Email: "payments@soak-shop.example",
	}
	attackerAccount = fpstest.Account{
		AccessKeyID: "AKIAFPSSOAKATTACKER0", SecretAccessKey: "fpstest/SOAK/ATTACKER/secret+key/not+a+real+secret",
		Name: "Attacker's Shop", Email: "attacker@example.com",
	}
)

// discardLog swallows what the HTTP servers would log.
var discardLog = log.New(io.Discard, "", 0)

// errDead is the error of everything an app server does once it died.
var errDead = errors.New("the app server is down")

// start starts the simulator, the shop's front, its two app servers and
// the attacker.
func (s *soak) start(ctx context.Context) error {
	cfg := s.cfg
	sim, err := fpstest.Start(fpstest.Config{
		Accounts:     []fpstest.Account{shopAccount, attackerAccount},
		PendingDelay: time.Nanosecond, // a CC payment completes by the next call
		BuyerBalance: decimal.NewFromInt(1 << 40),
		Faults: fpstest.Faults{Rate: cfg.FaultRate, Seed: int64(cfg.Seed), Latency: cfg.FaultLatency, Kinds: []fpstest.FaultKind{
			fpstest.Fault500, fpstest.Fault503, fpstest.FaultInternalError, fpstest.FaultLatency, fpstest.FaultDropAfterCommit,
			fpstest.FaultIPNDuplicate, fpstest.FaultIPNHoldBack,
		}},
		IPNRetryWindow: ipnRetryWindow,
		IPNFirstDelay:  20 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("shop soak: simulator: %w", err)
	}
	s.sim = sim
	if s.front, err = newFront(); err != nil {
		return err
	}
	for i := range s.replicas {
		r, err := newReplica(s, string(rune('A'+i)))
		if err != nil {
			return err
		}
		s.replicas[i] = r
		s.front.backends = append(s.front.backends, r)
		if err := r.up(ctx); err != nil {
			return err
		}
	}
	if err := sim.SetIPNURL(shopAccount.AccessKeyID, s.front.url+integration.NotifyPath); err != nil {
		return err
	}
	s.attacker, err = newAttacker(s)
	return err
}

// stop stops everything start started.
func (s *soak) stop() {
	for _, r := range s.replicas {
		if r != nil {
			r.down(false)
			r.closeAll()
		}
	}
	if s.front != nil {
		s.front.srv.Close()
	}
	if s.sim != nil {
		s.sim.Close()
	}
}

// restart stops the app server r, leaves it down a while (requests to it
// fail meanwhile), and starts a new one in its place.
func (s *soak) restart(ctx context.Context, r *replica) {
	r.down(true)
	time.Sleep(downtime)
	if err := r.up(ctx); err != nil {
		s.errorf("restarting app server %s: %v", r.name, err)
		return
	}
	s.restarts.Add(1)
}

// replica is one app server of the shop, at a fixed loopback address,
// restarted in generations: each a new AmazonFPS on the shop's database,
// with an HTTP server of its own.
type replica struct {
	s    *soak
	name string
	addr string // host:port, kept across generations

	mu   sync.Mutex
	gen  *generation // nil while down
	gens []*generation
}

// generation is one life of an app server. When it dies, everything it
// still does (its store, its FPS calls, its hooks' records) fails from
// the next call on; what it had sent is done.
type generation struct {
	name   string // the replica's name and its generation's number
	a      *integration.AmazonFPS
	store  *store.SQL
	srv    *http.Server
	dead   atomic.Bool
	cancel context.CancelFunc // stops its Recover ticker
	ticker sync.WaitGroup
}

func newReplica(s *soak, name string) (*replica, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &replica{s: s, name: name, addr: addr}, nil
}

// current returns the generation serving now, or nil while down.
func (r *replica) current() *generation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

// up starts a new generation of r.
func (r *replica) up(ctx context.Context) error {
	s := r.s
	g := &generation{name: fmt.Sprintf("%s%d", r.name, len(r.gens)+1)}
	var err error
	if g.store, err = store.Open(ctx, s.db.name); err != nil {
		return fmt.Errorf("shop soak: app server %s: %w", g.name, err)
	}
	var st integration.Store = &gatedStore{Store: g.store, g: g}
	if s.cfg.wrapStore != nil {
		st = s.cfg.wrapStore(st)
	}
	hc := s.sim.HTTPClient()
	g.a, err = integration.New(integration.Config{
		AccessKey: shopAccount.AccessKeyID, SecretKey: shopAccount.SecretAccessKey, TestMode: true,
		BaseURL:     s.front.url,
		APIEndpoint: s.sim.APIEndpoint(), CBUIEndpoint: s.sim.CBUIEndpoint(),
		HTTPClient: &http.Client{Transport: &gatedTransport{base: hc.Transport, g: g}, Timeout: 10 * time.Second},
		RootCAs:    s.sim.CAPool(),
		Store:      st,
		TransactionHook: func(ctx context.Context, a *integration.AmazonFPS, w http.ResponseWriter, r *http.Request, ret *fps.PipelineReturn, o integration.Order) {
			page(w, ret, o)
		},
		Charge: func(ctx context.Context, a *integration.AmazonFPS, o integration.Order) error {
			return s.charge(ctx, g, a, o)
		},
		NotificationCallback: func(ctx context.Context, ch integration.OrderChange) error {
			return s.fulfil(ctx, g, ch)
		},
		HookTimeout: hookTimeout,
		Logger:      s.cfg.logger,
	})
	if err != nil {
		g.store.Close()
		return err
	}
	var ln net.Listener
	for range 50 { // the port of the generation before may take a moment to free
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		g.store.Close()
		return fmt.Errorf("shop soak: app server %s: %w", g.name, err)
	}
	g.srv = &http.Server{Handler: g.answers(g.a.Handler()), ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog}
	go g.srv.Serve(ln)
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g.cancel = cancel
	g.ticker.Add(1)
	go func() {
		defer g.ticker.Done()
		t := time.NewTicker(recoverEvery)
		defer t.Stop()
		for {
			select {
			case <-tctx.Done():
				return
			case <-t.C:
				r.recoverWith(tctx, g, recoverMaxAge)
			}
		}
	}()
	r.mu.Lock()
	r.gen = g
	r.gens = append(r.gens, g)
	r.mu.Unlock()
	return nil
}

// answers sends the answers of h unless the generation died meanwhile:
// what a dead app server would have answered never arrives.
func (g *generation) answers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if g.dead.Load() {
			panic(http.ErrAbortHandler)
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// down stops the generation serving now: it dies (died records it in
// the database, as a crash), its HTTP server closes, its ticker stops.
func (r *replica) down(died bool) {
	r.mu.Lock()
	g := r.gen
	r.gen = nil
	r.mu.Unlock()
	if g == nil {
		return
	}
	g.dead.Store(true)
	if died {
		if _, err := r.s.db.db.Exec(r.s.db.placeholders("INSERT INTO "+deathsTable+" (replica) VALUES (?)"), g.name); err != nil {
			r.s.errorf("recording the death of %s: %v", g.name, err)
		}
	}
	g.srv.Close()
	g.cancel()
	g.ticker.Wait()
}

// closeAll closes the stores of every generation.
func (r *replica) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.gens {
		g.store.Close()
	}
}

// recover runs Recover on the generation serving now, if any.
func (r *replica) recover(ctx context.Context, maxAge time.Duration) {
	if g := r.current(); g != nil {
		r.recoverWith(ctx, g, maxAge)
	}
}

func (r *replica) recoverWith(ctx context.Context, g *generation, maxAge time.Duration) {
	done, _ := g.a.Recover(ctx, integration.RecoverOptions{Grace: recoverGrace, MaxAge: maxAge})
	r.s.recovered.Add(int64(done.Approved))
}

// live returns the AmazonFPS of an app server that is up, trying them in
// turn from a random one.
func (s *soak) live() (*integration.AmazonFPS, *generation) {
	first := s.rng.intn(len(s.replicas))
	for i := range s.replicas {
		if g := s.replicas[(first+i)%len(s.replicas)].current(); g != nil {
			return g.a, g
		}
	}
	return nil, nil
}

// gatedStore is an app server's store: it fails once the app server
// died.
type gatedStore struct {
	integration.Store
	g *generation
}

func (s *gatedStore) check() error {
	if s.g.dead.Load() {
		return errDead
	}
	return nil
}

func (s *gatedStore) CreateOrder(ctx context.Context, o integration.Order) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.CreateOrder(ctx, o)
}

func (s *gatedStore) AddTransaction(ctx context.Context, ref string, t integration.Transaction) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.AddTransaction(ctx, ref, t)
}

func (s *gatedStore) Order(ctx context.Context, ref string) (integration.Order, error) {
	if err := s.check(); err != nil {
		return integration.Order{}, err
	}
	return s.Store.Order(ctx, ref)
}

func (s *gatedStore) OrderByTransaction(ctx context.Context, id string) (integration.Order, error) {
	if err := s.check(); err != nil {
		return integration.Order{}, err
	}
	return s.Store.OrderByTransaction(ctx, id)
}

func (s *gatedStore) StaleOrders(ctx context.Context, st integration.OrderStatus, before time.Time, after integration.Order, limit int) ([]integration.Order, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.StaleOrders(ctx, st, before, after, limit)
}

func (s *gatedStore) Transactions(ctx context.Context, ref string) ([]integration.Transaction, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.Transactions(ctx, ref)
}

func (s *gatedStore) History(ctx context.Context, ref string) ([]integration.HistoryEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.History(ctx, ref)
}

func (s *gatedStore) Commit(ctx context.Context, c integration.Change) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Commit(ctx, c)
}

func (s *gatedStore) ClaimCallback(ctx context.Context, ref, key string, now, until time.Time) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	return s.Store.ClaimCallback(ctx, ref, key, now, until)
}

func (s *gatedStore) EndCallback(ctx context.Context, ref, key string, until time.Time, ok bool) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.EndCallback(ctx, ref, key, until, ok)
}

// gatedTransport sends an app server's FPS calls until it died.
type gatedTransport struct {
	base http.RoundTripper
	g    *generation
}

func (t *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.g.dead.Load() {
		return nil, errDead
	}
	return t.base.RoundTrip(req)
}

// front is the shop's public address: it hands each request (buyers'
// returns, the simulator's IPNs, the attacker's messages) to the app
// servers in turn, answering 502 when the one whose turn it is is down;
// it keeps a sample of the messages the app servers accepted, which the
// attacker replays.
type front struct {
	url      string // the shop's BaseURL
	srv      *http.Server
	backends []*replica
	next     atomic.Uint64
	proxy    *httputil.ReverseProxy
	// watch, when set, is told each IPN body and the shop's answer; it
	// reports whether the IPN is the attacker's.
	watch atomic.Pointer[func(body string, status int) bool]

	mu      sync.Mutex
	sample  []tapped // a ring of accepted messages
	sampled int
	// unanswered holds the shop's IPNs (not the attacker's) whose last
	// delivery was not accepted: the simulator delivers them again.
	unanswered map[string]bool
	lastIPN    time.Time // the last delivery of one of the shop's IPNs
}

// tapped is a message an app server accepted.
type tapped struct {
	method, path, query, body string
}

const sampleSize = 256

func newFront() (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{url: "http://" + ln.Addr().String() + "/"}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(backendKey{}).(*url.URL))
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "the app server is down", http.StatusBadGateway)
		},
	}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second, ErrorLog: discardLog}
	go f.srv.Serve(ln)
	return f, nil
}

type backendKey struct{}

// attackerHeader marks the requests the attacker sends himself, so that
// the front does not wait for them as for the simulator's deliveries.
const attackerHeader = "X-Soak-Attacker"

// ServeHTTP hands r to the app server whose turn it is.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := f.backends[f.next.Add(1)%uint64(len(f.backends))]
	target := &url.URL{Scheme: "http", Host: b.addr}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, integration.DefaultMaxIPNBodySize)); err != nil {
			http.Error(w, "could not read the body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	rec := &statusWriter{ResponseWriter: w}
	f.proxy.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), backendKey{}, target)))
	if rec.status == http.StatusOK {
		f.keep(tapped{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, body: string(body)})
	}
	if r.Method == http.MethodPost && r.Header.Get(attackerHeader) == "" {
		if watch := f.watch.Load(); watch == nil || !(*watch)(string(body), rec.status) {
			f.delivered(string(body), rec.status)
		}
	}
}

// delivered notes the shop's answer to one of its IPNs: 200, or 403
// (the shop refuses it for good), ends it; any other answer leaves it to
// be delivered again.
func (f *front) delivered(body string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unanswered == nil {
		f.unanswered = map[string]bool{}
	}
	if status == http.StatusOK || status == http.StatusForbidden {
		delete(f.unanswered, body)
	} else {
		f.unanswered[body] = true
	}
	f.lastIPN = time.Now()
}

// inFlight returns how many of the shop's IPNs are still to be delivered
// again, and since when none was delivered.
func (f *front) inFlight() (int, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.unanswered), time.Since(f.lastIPN)
}

// keep adds m to the sample.
func (f *front) keep(m tapped) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sample) < sampleSize {
		f.sample = append(f.sample, m)
	} else {
		f.sample[f.sampled%sampleSize] = m
	}
	f.sampled++
}

// pick returns a message of the sample at random, if any.
func (f *front) pick(rng *lockedRand) (tapped, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sample) == 0 {
		return tapped{}, false
	}
	return f.sample[rng.intn(len(f.sample))], true
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
