package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzPlainHTTPURL: the shortcut of CheckHTTPURL never takes a URL that
// ParseHTTPURL refuses, so that both give the same answer.
func FuzzPlainHTTPURL(f *testing.F) {
	for _, s := range []string{
		"https://shop.example.com/fps/return", "http://127.0.0.1:9/r?order=42&note=a b", "https://h:/r",
		"http://:80/r", "https://shop.example.com/%zz", "http://h/a#b?c", "https://shop-1.example.com:8443",
		"http://[::1]/", "http://h.example/é", "http://u@h/", "https://h/{x}|^`\"<>\\", "http://h?%zz",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, value string, httpsOnly bool) {
		if plainHTTPURL(value, httpsOnly) {
			_, e := ParseHTTPURL("url", value, httpsOnly)
			require.Nil(t, e, "%q", value)
		}
	})
}

func TestCheckHTTPURL(t *testing.T) {
	for _, tc := range []struct {
		value     string
		httpsOnly bool
		ok        bool
	}{
		{"https://shop.example.com/fps/return", false, true},
		{"http://127.0.0.1:9/r?order=42", false, true},
		{"HTTP://SHOP.EXAMPLE.COM/r", false, true},
		{"https://[::1]:8443/r", true, true},
		{"http://shop.example.com/r", true, false},
		{"http://:80/r", false, false},
		{"http://exa mple.com/r", false, false},
		{"https://shop.example.com/%zz", false, false},
		{"ftp://shop.example.com/r", false, false},
		{"/fps/return", false, false},
		{"https://", false, false},
	} {
		e := CheckHTTPURL("returnURL", tc.value, tc.httpsOnly)
		_, pe := ParseHTTPURL("returnURL", tc.value, tc.httpsOnly)
		require.Equal(t, tc.ok, e == nil, "%q", tc.value)
		require.Equal(t, e, pe, "%q", tc.value)
	}
}
