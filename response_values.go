package fps

import (
	"bytes"
	"encoding"
	"encoding/xml"
	"reflect"
	"strings"
	"sync"
	"time"
)

// How the values of an answer are read. The schema's types say what
// surrounds a value and may be dropped: xs:dateTime, xs:int, xs:decimal
// and the enumerations collapse the whitespace around their value, and an
// xs:dateTime may leave out its time zone (Amazon's generated samples do:
// 2008-09-28T18:49:45), which this package reads as UTC. xs:string keeps
// its text as it is. Nothing else is forgiven: an element in another
// namespace, a missing required element or a malformed value stays an
// error.

// valueKind is how the text of one element of an answer is read before
// it is decoded.
type valueKind uint8

const (
	asText     valueKind = iota // as it is (xs:string)
	asToken                     // without the whitespace around it
	asDateTime                  // as asToken; without a zone, UTC
)

// read returns the text t of an element of kind k as it is to be decoded.
func (k valueKind) read(t xml.CharData) xml.CharData {
	v := bytes.Trim(t, " \t\r\n")
	if k == asDateTime && zoneless(v) {
		return append(append(make(xml.CharData, 0, len(v)+1), v...), 'Z')
	}
	return v
}

// zoneless reports whether v is an xs:dateTime without a time zone:
// YYYY-MM-DDThh:mm:ss, with or without a fraction of a second.
func zoneless(v []byte) bool {
	const form = "0000-00-00T00:00:00"
	if len(v) < len(form) {
		return false
	}
	for i := range len(form) {
		if form[i] == '0' && !isDigit(v[i]) || form[i] != '0' && v[i] != form[i] {
			return false
		}
	}
	frac := v[len(form):]
	if len(frac) == 0 {
		return true
	}
	if frac[0] != '.' || len(frac) == 1 {
		return false
	}
	for _, c := range frac[1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

var (
	timeType          = reflect.TypeFor[time.Time]()
	stringType        = reflect.TypeFor[string]()
	textUnmarshalType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// valueKinds caches kindsOf by answer type.
var valueKinds sync.Map // reflect.Type → map[string]valueKind

// kindsOf returns how the elements below the Result element of answer
// type t are read, by their path ("Transaction/DateReceived"); the
// elements read as text are left out.
func kindsOf(t reflect.Type) map[string]valueKind {
	if m, ok := valueKinds.Load(t); ok {
		return m.(map[string]valueKind)
	}
	m := map[string]valueKind{}
	collectKinds(t, "", m)
	valueKinds.Store(t, m)
	return m
}

// collectKinds adds the kinds of the elements of struct type t, under
// prefix, to m.
func collectKinds(t reflect.Type, prefix string, m map[string]valueKind) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("xml"), ",")
		if !f.IsExported() || name == "-" || opts != "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + strings.ReplaceAll(name, ">", "/")
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		switch {
		case ft == timeType:
			m[path] = asDateTime
		case hasFPSTag(f, "token"), reflect.PointerTo(ft).Implements(textUnmarshalType),
			ft.Kind() == reflect.String && ft != stringType,
			ft.Kind() >= reflect.Bool && ft.Kind() <= reflect.Float64:
			m[path] = asToken
		case ft.Kind() == reflect.Struct && ft.PkgPath() == packagePath:
			collectKinds(ft, path+"/", m)
		}
	}
}

// hasFPSTag reports whether the fps tag of f lists option.
func hasFPSTag(f reflect.StructField, option string) bool {
	for o := range strings.SplitSeq(f.Tag.Get("fps"), ",") {
		if o == option {
			return true
		}
	}
	return false
}

// lenientTokens is the token stream of an answer with the text of each
// element below the Result element read as its kind says.
type lenientTokens struct {
	dec   *xml.Decoder
	kinds map[string]valueKind
	// key is the path of the open element below Result; ends[i] is its
	// length before the element at depth i+1 was opened.
	key  []byte
	ends []int
}

func newLenientTokens(body []byte, answer reflect.Type) *lenientTokens {
	return &lenientTokens{dec: xml.NewDecoder(bytes.NewReader(body)), kinds: kindsOf(answer)}
}

// Token returns the next token of the answer.
func (r *lenientTokens) Token() (xml.Token, error) {
	tok, err := r.dec.Token()
	switch t := tok.(type) {
	case xml.StartElement:
		r.ends = append(r.ends, len(r.key))
		if depth := len(r.ends); depth > 2 { // below <Response><Result>
			if depth > 3 {
				r.key = append(r.key, '/')
			}
			r.key = append(r.key, t.Name.Local...)
		}
	case xml.EndElement:
		if n := len(r.ends); n > 0 {
			r.key, r.ends = r.key[:r.ends[n-1]], r.ends[:n-1]
		}
	case xml.CharData:
		if len(r.ends) > 2 {
			if k := r.kinds[string(r.key)]; k != asText {
				tok = k.read(t)
			}
		}
	}
	return tok, err
}
