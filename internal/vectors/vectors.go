// Package vectors loads the shared signature test vectors in place: from
// the folder that FPS_VECTORS names, or by default from ../shared/vectors
// beside the module root, wherever the test that asks lives.
package vectors

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Dir returns the vectors folder. When it is missing the test fails if the
// CI environment variable is set, and is skipped otherwise.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FPS_VECTORS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			tb.Fatalf("vectors: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "vectors")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") != "" {
			tb.Fatalf("vectors: folder %s is missing (set FPS_VECTORS)", dir)
		}
		tb.Skipf("vectors: folder %s is missing; set FPS_VECTORS to run these tests", dir)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SigV2 is one request signed with Signature Version 2 (HMAC).
type SigV2 struct {
	ID           string      `json:"id"`
	Source       string      `json:"source"`
	Method       string      `json:"method"`
	Host         string      `json:"host"`
	Path         string      `json:"path"`
	Params       [][2]string `json:"params"`
	Secret       string      `json:"secret"`
	Algorithm    string      `json:"algorithm"`
	StringToSign string      `json:"string_to_sign"`
	Signature    string      `json:"signature"`
}

// Outbound is one return URL or IPN signed by Amazon with RSA-SHA1 (or an
// altered copy that must not verify).
type Outbound struct {
	ID             string            `json:"id"`
	Source         string            `json:"source"`
	Kind           string            `json:"kind"`
	Method         string            `json:"method"`
	Endpoint       string            `json:"endpoint"`
	Raw            string            `json:"raw"`
	Params         map[string]string `json:"params"`
	CertificateURL string            `json:"certificate_url"`
	Key            string            `json:"key"`
	StringToSign   string            `json:"string_to_sign"`
	Valid          bool              `json:"valid"`
	Note           string            `json:"note"`
}

// LoadSigV2 reads every sigv2/*.json vector.
func LoadSigV2(tb testing.TB) []SigV2 {
	tb.Helper()
	var out []SigV2
	load(tb, "sigv2", func() any { out = append(out, SigV2{}); return &out[len(out)-1] })
	return out
}

// LoadOutbound reads every outbound/*.json vector.
func LoadOutbound(tb testing.TB) []Outbound {
	tb.Helper()
	var out []Outbound
	load(tb, "outbound", func() any { out = append(out, Outbound{}); return &out[len(out)-1] })
	return out
}

func load(tb testing.TB, sub string, next func() any) {
	tb.Helper()
	dir := filepath.Join(Dir(tb), sub)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("vectors: no *.json in %s", dir)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(data, next()); err != nil {
			tb.Fatalf("vectors: %s: %v", f, err)
		}
	}
}

// PublicKey loads the RSA public key an outbound vector names (a path
// relative to the vectors folder).
func PublicKey(tb testing.TB, rel string) *rsa.PublicKey {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		tb.Fatalf("vectors: %s holds no PEM block", rel)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		tb.Fatalf("vectors: %s: %v", rel, err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		tb.Fatalf("vectors: %s is not an RSA key", rel)
	}
	return pub
}
