package fpstest

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"slices"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// Namespace is the XML namespace of the success answers to requests of
// API version 2008-09-17, the default; fps.Namespace gives that of each
// version. Handlers write their answers in it, and the API puts each
// answer in the namespace of its request's version (inVersion).
const Namespace = "http://fps.amazonaws.com/doc/2008-09-17/"

// inVersion returns body, a success answer in Namespace, in the
// namespace of API version: the root element's xmlns is the only place
// the namespace is written.
func inVersion(body []byte, version string) []byte {
	ns := fps.Namespace(version)
	if ns == Namespace {
		return body
	}
	old := []byte(`xmlns="` + Namespace + `"`)
	i := bytes.Index(body, old)
	if i < 0 {
		return body
	}
	return slices.Concat(body[:i], []byte(`xmlns="`+ns+`"`), body[i+len(old):])
}

// xmlw writes a response body element by element, in the order the
// schema gives.
type xmlw struct{ b bytes.Buffer }

func (x *xmlw) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *xmlw) close(name string) { x.b.WriteString("</" + name + ">") }

// elem writes <name>value</name>, the value escaped.
func (x *xmlw) elem(name, value string) {
	x.open(name)
	_ = xml.EscapeText(&x.b, []byte(value))
	x.close(name)
}

// opt writes elem only when value is not empty.
func (x *xmlw) opt(name, value string) {
	if value != "" {
		x.elem(name, value)
	}
}

// amount writes an Amount: CurrencyCode, then Value with six decimals.
func (x *xmlw) amount(name string, d decimal.Decimal) {
	x.open(name)
	x.elem("CurrencyCode", "USD")
	x.elem("Value", amount6(d))
	x.close(name)
}

func (x *xmlw) date(name string, t time.Time) {
	if !t.IsZero() {
		x.elem(name, xmlDate(t))
	}
}

// success wraps the body that fill writes in <{op}Response
// xmlns=...><{op}Result>...</{op}Result><ResponseMetadata>; a nil fill
// leaves the Result element out (CancelToken).
func success(op string, fill func(x *xmlw)) []byte {
	var x xmlw
	x.b.WriteString(`<?xml version="1.0"?>` + "\n")
	x.b.WriteString("<" + op + `Response xmlns="` + Namespace + `">`)
	if fill != nil {
		x.open(op + "Result")
		fill(&x)
		x.close(op + "Result")
	}
	x.open("ResponseMetadata")
	x.elem("RequestId", newUUID()+":0")
	x.close("ResponseMetadata")
	x.close(op + "Response")
	return x.b.Bytes()
}

// errorBody is the error document FPS returned: no namespace, RequestID
// with a capital D and a bare UUID.
func errorBody(code, message string) []byte {
	var x xmlw
	x.b.WriteString(`<?xml version="1.0"?>` + "\n")
	x.open("Response")
	x.open("Errors")
	x.open("Error")
	x.elem("Code", code)
	x.elem("Message", message)
	x.close("Error")
	x.close("Errors")
	x.elem("RequestID", newUUID())
	x.close("Response")
	return x.b.Bytes()
}

func amount6(d decimal.Decimal) string { return d.StringFixed(6) }

// pacific is the zone FPS wrote its dateTime values in.
var pacific = func() *time.Location {
	if l, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return l
	}
	return time.FixedZone("PST", -8*3600)
}()

func xmlDate(t time.Time) string { return t.In(pacific).Format("2006-01-02T15:04:05.000-07:00") }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns n random upper-case alphanumerics: 35 for transactions,
// 64 for tokens.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func isID(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
