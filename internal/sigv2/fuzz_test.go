package sigv2_test

import (
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/fpskit/fps/internal/sigv2"
)

// FuzzParseForm checks that ParseForm reads any input as url.ParseQuery
// does: the same values, and an error exactly when it gives one; and that
// the list holds the same parameters as the values.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"a=1&b=x+y&a=%7E&c=",
		"signature=abc%2Bdef%0A%3D&certificateUrl=https%3A%2F%2Ffps.amazonaws.com%2Fcerts%2F1%2FPKICert.pem",
		"&&=&a&=b&%41=%42",
		"a=%zz", "a=1;b=2", "x=%FF%FE&X=1&x=0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		list, values, err := sigv2.ParseForm(raw)
		want, werr := url.ParseQuery(raw)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseForm error %v, url.ParseQuery error %v", err, werr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(map[string][]string(values), map[string][]string(want)) {
			t.Fatalf("ParseForm %v, url.ParseQuery %v", values, want)
		}
		fromValues := sigv2.Params(want)
		sigv2.Sort(list)
		sigv2.Sort(fromValues)
		if !slices.Equal(list, fromValues) {
			t.Fatalf("list %v, values %v", list, fromValues)
		}
	})
}
