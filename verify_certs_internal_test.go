package fps

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// CertificateCacheLen returns how many certificates v keeps and how many
// failed downloads it remembers, for the tests of package fps_test.
func CertificateCacheLen(v *LocalVerifier) (good, failed int) {
	v.certs.mu.Lock()
	defer v.certs.mu.Unlock()
	return v.certs.good.order.Len(), v.certs.failed.order.Len()
}

func TestCertificateKey(t *testing.T) {
	const genuine = "https://fps.amazonaws.com/certs/090909/PKICert.pem"
	for _, spelling := range []string{
		genuine,
		"https://FPS.AmazonAWS.com/certs/090909/PKICert.pem",
		"HTTPS://fps.amazonaws.com/certs/090909/PKICert.pem",
		"https://fps.amazonaws.com:443/certs/090909/PKICert.pem",
		"https://fps.amazonaws.com:/certs/090909/PKICert.pem",
		"https://fps.amazonaws.com/%63erts/%30%39%30%39%30%39/PKICert%2Epem",
		"https://fps.amazonaws.com/certs/090909/PKICert%2epem",
		"https://fps.amazonaws.com/%63%65%72%74%73/090909/%50%4b%49%43%65%72%74.pem",
		"https://fps.amazonaws.com/certs/090909/PKICert.pem?requestId=abc",
		"https://fps.amazonaws.com/certs/090909/PKICert.pem#top",
	} {
		t.Run(spelling, func(t *testing.T) {
			require.Equal(t, genuine, key(t, spelling))
		})
	}

	for spelling, want := range map[string]string{
		"https://fps.amazonaws.com:8443/certs/1/PKICert.pem":  "https://fps.amazonaws.com:8443/certs/1/PKICert.pem",
		"https://fps.amazonaws.com/certs%2F1/PKICert.pem":     "https://fps.amazonaws.com/certs%2F1/PKICert.pem",
		"https://fps.amazonaws.com/certs%2f1/PKICert.pem":     "https://fps.amazonaws.com/certs%2F1/PKICert.pem",
		"https://fps.amazonaws.com/certs//1/PKICert.pem":      "https://fps.amazonaws.com/certs//1/PKICert.pem",
		"https://fps.amazonaws.com/certs/1/PKICert.pem/":      "https://fps.amazonaws.com/certs/1/PKICert.pem/",
		"https://fps.amazonaws.com":                           "https://fps.amazonaws.com/",
		"https://fps.amazonaws.com/a b/~x/%7Ey/a;b/a%3bb/%C3": "https://fps.amazonaws.com/a%20b/~x/~y/a%3Bb/a%3Bb/%C3",
		"https://[::1]:443/certs/1/PKICert.pem":               "https://[::1]/certs/1/PKICert.pem",
		"http://fps.amazonaws.com:80/certs/1/PKICert.pem":     "http://fps.amazonaws.com/certs/1/PKICert.pem",
	} {
		t.Run(spelling, func(t *testing.T) {
			require.Equal(t, want, key(t, spelling))
		})
	}

	for _, dotted := range []string{
		"https://fps.amazonaws.com/certs/./1/PKICert.pem",
		"https://fps.amazonaws.com/certs/../certs/1/PKICert.pem",
		"https://fps.amazonaws.com/certs/%2E%2E/certs/1/PKICert.pem",
		"https://fps.amazonaws.com/certs/%2e/1/PKICert.pem",
		"https://fps.amazonaws.com/certs/1/..",
	} {
		t.Run(dotted, func(t *testing.T) {
			u, err := url.Parse(dotted)
			require.NoError(t, err)
			_, err = certificateKey(u)
			require.ErrorContains(t, err, "segment")
		})
	}
}

func key(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	k, err := certificateKey(u)
	require.NoError(t, err)
	return k
}

func TestCertificateLRU(t *testing.T) {
	l := newCertCache(2).good
	a, b, c := &certEntry{}, &certEntry{}, &certEntry{}
	l.add("a", a)
	l.add("b", b)
	require.Same(t, a, l.get("a")) // a is now the most recently used
	l.add("c", c)
	require.Nil(t, l.get("b"), "the least recently used is dropped")
	require.Same(t, a, l.get("a"))
	require.Same(t, c, l.get("c"))
	require.Equal(t, 2, l.order.Len())
	require.Len(t, l.items, 2)

	l.add("a", b) // replaced in place
	require.Same(t, b, l.get("a"))
	require.Equal(t, 2, l.order.Len())
	l.remove("a")
	require.Nil(t, l.get("a"))
	require.Equal(t, 1, l.order.Len())
}

func TestDownloadsPerHost(t *testing.T) {
	t0 := time.Date(2010, 9, 22, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var d downloads
	for _, step := range []struct {
		second  int
		allowed bool
	}{
		{0, true}, {10, true}, {20, true},
		{30, false}, {59, false},
		{60, true},  // the download at 0 is a minute old
		{61, false}, // the one at 10 is not
		{70, true}, {80, true},
		{81, false},
	} {
		require.Equal(t, step.allowed, d.start(at(step.second), time.Minute, 3), "at %ds", step.second)
	}
	require.Len(t, d.starts, 3, "bounded by max")
}
