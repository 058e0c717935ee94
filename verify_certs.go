package fps

import (
	"container/list"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fpskit/fps/internal/sigv2"
)

// certificateKey returns the normalised form of a certificate URL (see
// LocalVerifierOptions): scheme, canonical host, the path re-encoded
// segment by segment; no query or fragment. A "." or ".." segment is
// refused.
func certificateKey(u *url.URL) (string, error) {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.Grow(len(u.Scheme) + 3 + len(u.Host) + len(path))
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(sigv2.Host(u))
	for i, segment := range strings.Split(path, "/") {
		decoded, err := url.PathUnescape(segment)
		if err != nil {
			return "", err
		}
		if decoded == "." || decoded == ".." {
			return "", fmt.Errorf("the path has a %q segment", decoded)
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(sigv2.Escape(decoded))
	}
	return b.String(), nil
}

// publicKey returns the pinned or (cached) fetched key of certURL.
func (v *LocalVerifier) publicKey(ctx context.Context, certURL string) (*rsa.PublicKey, error) {
	if l := v.last.Load(); l != nil && l.certURL == certURL && (l.pinned || v.options.Clock().Before(l.notAfter)) {
		return l.pub, nil
	}
	u, err := url.Parse(certURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL", ErrCertificateURLNotAllowed, certURL)
	}
	key, err := certificateKey(u)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrCertificateURLNotAllowed, certURL, err)
	}
	if pub, ok := v.pinned[key]; ok {
		v.last.Store(&lastKey{certURL: certURL, pub: pub, pinned: true})
		return pub, nil
	}
	if u.Scheme != "https" || u.User != nil || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q is not a plain https URL", ErrCertificateURLNotAllowed, certURL)
	}
	host := sigv2.Host(u)
	if !v.allowed[host] {
		return nil, fmt.Errorf("%w: host %q is not allowed", ErrCertificateURLNotAllowed, host)
	}
	e, err := v.certs.get(ctx, v, key, host)
	if err != nil {
		return nil, err
	}
	v.last.Store(&lastKey{certURL: certURL, pub: e.pub, notAfter: e.notAfter})
	return e.pub, nil
}

// certCache holds the certificates of a LocalVerifier by normalised URL,
// the failed downloads, the downloads in flight and the recent downloads
// of each host, all bounded (see LocalVerifierOptions).
type certCache struct {
	mu       sync.Mutex
	good     lru                   // usable certificates, until they expire
	failed   lru                   // failed downloads, until until
	inFlight map[string]*certEntry // downloads not done yet
	recent   map[string]*downloads // by host
}

// certEntry is one download: in flight until done is closed, then either
// a key good until notAfter or an error remembered until until.
type certEntry struct {
	done     chan struct{}
	pub      *rsa.PublicKey
	notAfter time.Time
	err      error
	until    time.Time
}

func newCertCache(size int) certCache {
	return certCache{
		good:     lru{max: size, items: make(map[string]*list.Element)},
		failed:   lru{max: size, items: make(map[string]*list.Element)},
		inFlight: make(map[string]*certEntry),
		recent:   make(map[string]*downloads),
	}
}

// get returns the entry of key (on host) with a usable key: cached,
// shared with a download in flight, or downloaded now if the host's limit
// allows.
func (c *certCache) get(ctx context.Context, v *LocalVerifier, key, host string) (*certEntry, error) {
	now := v.options.Clock()
	c.mu.Lock()
	if e := c.good.get(key); e != nil {
		if now.Before(e.notAfter) {
			c.mu.Unlock()
			return e, nil
		}
		c.good.remove(key) // expired since it was cached: fetch again
	}
	if e := c.failed.get(key); e != nil {
		if now.Before(e.until) {
			c.mu.Unlock()
			return nil, fmt.Errorf("%w (failed less than %v ago; not fetched again before %s)",
				e.err, v.options.FailureTTL, e.until.UTC().Format(time.RFC3339))
		}
		c.failed.remove(key)
	}
	e, shared := c.inFlight[key]
	if !shared {
		d := c.recent[host]
		if d == nil {
			d = &downloads{}
			c.recent[host] = d
		}
		if !d.start(now, v.options.FailureTTL, v.options.MaxDownloadsPerHost) {
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: %d certificate downloads from %s in the last %v; %s not fetched, try again later",
				ErrCertificateUnusable, v.options.MaxDownloadsPerHost, host, v.options.FailureTTL, key)
		}
		e = &certEntry{done: make(chan struct{})}
		c.inFlight[key] = e
	}
	c.mu.Unlock()
	if !shared {
		c.fill(ctx, v, e, key)
	} else {
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

// fill downloads the certificate of e, files e as good or failed, then
// wakes the waiters. The download is not cancelled with ctx, since others
// may wait for it; FetchTimeout bounds it.
func (c *certCache) fill(ctx context.Context, v *LocalVerifier, e *certEntry, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.options.FetchTimeout)
	defer cancel()
	e.pub, e.notAfter, e.err = v.fetch(ctx, key)
	c.mu.Lock()
	delete(c.inFlight, key)
	if e.err != nil {
		e.until = v.options.Clock().Add(v.options.FailureTTL)
		c.failed.add(key, e)
	} else {
		c.good.add(key, e)
	}
	c.mu.Unlock()
	close(e.done)
}

// downloads holds the start times of the last downloads from one host,
// oldest at next once full.
type downloads struct {
	starts []time.Time
	next   int
}

// start records a download at now and reports true, unless max downloads
// started less than window ago.
func (d *downloads) start(now time.Time, window time.Duration, max int) bool {
	if len(d.starts) < max {
		d.starts = append(d.starts, now)
		return true
	}
	if now.Sub(d.starts[d.next]) < window {
		return false
	}
	d.starts[d.next] = now
	d.next = (d.next + 1) % len(d.starts)
	return true
}

// lru is a map of at most max entries that drops the least recently used.
type lru struct {
	max   int
	order list.List // of *lruItem, most recently used first
	items map[string]*list.Element
}

type lruItem struct {
	key   string
	entry *certEntry
}

// get returns the entry of key, now the most recently used, or nil.
func (l *lru) get(key string) *certEntry {
	el, ok := l.items[key]
	if !ok {
		return nil
	}
	l.order.MoveToFront(el)
	return el.Value.(*lruItem).entry
}

// add sets the entry of key, dropping the least recently used past max.
func (l *lru) add(key string, e *certEntry) {
	if el, ok := l.items[key]; ok {
		el.Value.(*lruItem).entry = e
		l.order.MoveToFront(el)
		return
	}
	l.items[key] = l.order.PushFront(&lruItem{key: key, entry: e})
	for l.order.Len() > l.max {
		l.remove(l.order.Back().Value.(*lruItem).key)
	}
}

func (l *lru) remove(key string) {
	if el, ok := l.items[key]; ok {
		l.order.Remove(el)
		delete(l.items, key)
	}
}

// fetch downloads the certificate at certURL (a normalised URL) and
// checks it: a PEM chain to RootCAs, issued to the host of certURL, with
// an RSA key.
func (v *LocalVerifier) fetch(ctx context.Context, certURL string) (*rsa.PublicKey, time.Time, error) {
	var never time.Time
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, never, fmt.Errorf("%w: %v", ErrCertificateUnusable, err)
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return nil, never, fmt.Errorf("%w: fetching %s: %v", ErrCertificateUnusable, certURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, never, fmt.Errorf("%w: %s answered a redirect (HTTP %d), which is not followed", ErrCertificateUnusable, certURL, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, never, fmt.Errorf("%w: %s answered HTTP %d", ErrCertificateUnusable, certURL, resp.StatusCode)
	}
	max := v.options.MaxCertificateSize
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, never, fmt.Errorf("%w: reading %s: %v", ErrCertificateUnusable, certURL, err)
	}
	if int64(len(body)) > max {
		return nil, never, fmt.Errorf("%w: %s is larger than %d bytes", ErrCertificateUnusable, certURL, max)
	}
	var certs []*x509.Certificate
	for rest := body; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, never, fmt.Errorf("%w: %s: %v", ErrCertificateUnusable, certURL, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, never, fmt.Errorf("%w: %s holds no PEM certificate", ErrCertificateUnusable, certURL)
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.options.RootCAs,
		Intermediates: intermediates,
		CurrentTime:   v.options.Clock(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, never, fmt.Errorf("%w: %s: %v", ErrCertificateUnusable, certURL, err)
	}
	if err := leaf.VerifyHostname(req.URL.Hostname()); err != nil {
		return nil, never, fmt.Errorf("%w: the certificate at %s is not issued to its host: %v", ErrCertificateURLNotAllowed, certURL, err)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, never, fmt.Errorf("%w: %s holds no RSA public key", ErrCertificateUnusable, certURL)
	}
	return pub, leaf.NotAfter, nil
}
