package fpstest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBaseURLLeavesOutTheDefaultPort(t *testing.T) {
	for _, c := range []struct{ scheme, host, port, want string }{
		{"http", "127.0.0.1", "80", "http://127.0.0.1"},
		{"https", "127.0.0.1", "443", "https://127.0.0.1"},
		{"http", "127.0.0.1", "443", "http://127.0.0.1:443"},
		{"https", "127.0.0.1", "80", "https://127.0.0.1:80"},
		{"https", "localhost", "8443", "https://localhost:8443"},
		{"https", "::1", "443", "https://[::1]"},
		{"http", "::1", "8080", "http://[::1]:8080"},
	} {
		require.Equal(t, c.want, baseURL(c.scheme, c.host, c.port))
	}
}
