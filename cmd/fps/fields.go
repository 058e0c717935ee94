package main

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	timeType    = reflect.TypeFor[time.Time]()
	amountType  = reflect.TypeFor[fps.Amount]()
)

// wireName is the FPS name of an input field: the Go name with "ID"
// spelt "Id", and the two names FPS spells with lower-case initialisms.
func wireName(goName string) string {
	switch goName {
	case "URLEndPoint":
		return "UrlEndPoint"
	case "HTTPParameters":
		return "HttpParameters"
	}
	if s, ok := strings.CutSuffix(goName, "ID"); ok {
		return s + "Id"
	}
	return goName
}

// inputField is one parameter an action input takes.
type inputField struct {
	name  string // FPS name; "Role.N" for a list
	index []int  // reflect field index path
	list  bool   // a slice: the parameter is name.1, name.2, ...
}

// inputFields lists the parameters of input struct t under prefix.
func inputFields(t reflect.Type, prefix string, index []int) []inputField {
	var out []inputField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := prefix + wireName(f.Name)
		idx := append(slices.Clip(index), i)
		switch {
		case f.Type == decimalType || f.Type == timeType:
			out = append(out, inputField{name: name, index: idx})
		case f.Type.Kind() == reflect.Struct:
			out = append(out, inputFields(f.Type, name+".", idx)...)
		case f.Type.Kind() == reflect.Slice:
			out = append(out, inputField{name: name, index: idx, list: true})
		default:
			out = append(out, inputField{name: name, index: idx})
		}
	}
	return out
}

// fillInput sets the fields of the struct *in from FPS-named parameters.
// Lists take name.1, name.2, ... An unknown name or a value that does
// not parse is an error naming the parameter.
func fillInput(in any, params map[string]string) error {
	v := reflect.ValueOf(in).Elem()
	fields := inputFields(v.Type(), "", nil)
	var unknown []string
	for _, name := range sortedKeys(params) {
		value := params[name]
		f, n, ok := findField(fields, name)
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		dst := v.FieldByIndex(f.index)
		if f.list {
			if n > len(params) {
				return fmt.Errorf("%s: list index must be from 1 to %d", name, len(params))
			}
			if dst.Len() < n {
				dst.Set(reflect.AppendSlice(dst, reflect.MakeSlice(dst.Type(), n-dst.Len(), n-dst.Len())))
			}
			dst = dst.Index(n - 1)
		}
		if err := setValue(dst, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown parameter %s; it takes %s", strings.Join(unknown, ", "), paramNames(v.Type()))
	}
	return nil
}

// paramNames lists the FPS parameter names of input type t.
func paramNames(t reflect.Type) string {
	var names []string
	for _, f := range inputFields(t, "", nil) {
		if f.list {
			names = append(names, f.name+".N")
		} else {
			names = append(names, f.name)
		}
	}
	return orNone(names)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, " ")
}

// findField finds the field of parameter name, and for a list the
// 1-based index in "name.N".
func findField(fields []inputField, name string) (inputField, int, bool) {
	for _, f := range fields {
		if !f.list && f.name == name {
			return f, 0, true
		}
		if rest, ok := strings.CutPrefix(name, f.name+"."); ok && f.list {
			n, err := strconv.Atoi(rest)
			if err == nil && n >= 1 {
				return f, n, true
			}
		}
	}
	return inputField{}, 0, false
}

func setValue(dst reflect.Value, s string) error {
	switch {
	case dst.Type() == decimalType:
		d, err := decimal.NewFromString(s)
		if err != nil {
			return fmt.Errorf("not a decimal number: %q", s)
		}
		dst.Set(reflect.ValueOf(d))
	case dst.Type() == timeType:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, s); err != nil {
				return fmt.Errorf("not a time (2006-01-02T15:04:05Z or 2006-01-02): %q", s)
			}
		}
		dst.Set(reflect.ValueOf(t))
	case dst.Kind() == reflect.String:
		dst.SetString(s)
	case dst.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("not a whole number: %q", s)
		}
		dst.SetInt(int64(n))
	default:
		return fmt.Errorf("cannot be set from the command line (%s)", dst.Type())
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// printFields writes the fields of the struct v as "Name: value" lines,
// named as FPS names them (the xml tag, or the Go name with "ID" spelt
// "Id"), nested names joined with "." and list entries numbered from 1.
// Empty strings, zero times and maps are left out; an Amount prints as
// "USD 1.00" and a time in UTC.
func printFields(w io.Writer, v any) {
	printValue(w, "", reflect.Indirect(reflect.ValueOf(v)))
}

func printValue(w io.Writer, name string, v reflect.Value) {
	switch {
	case v.Type() == amountType:
		if !v.IsZero() {
			fmt.Fprintf(w, "%s: %s\n", name, v.Interface().(fps.Amount))
		}
	case v.Type() == decimalType:
		fmt.Fprintf(w, "%s: %s\n", name, v.Interface().(decimal.Decimal))
	case v.Type() == timeType:
		if t := v.Interface().(time.Time); !t.IsZero() {
			fmt.Fprintf(w, "%s: %s\n", name, t.UTC().Format(time.RFC3339))
		}
	case v.Kind() == reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fname := wireName(f.Name)
			if tag, _, _ := strings.Cut(f.Tag.Get("xml"), ","); tag != "" && tag != "-" {
				fname = tag
			}
			if name != "" {
				fname = name + "." + fname
			}
			printValue(w, fname, v.Field(i))
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			printValue(w, name+"."+strconv.Itoa(i+1), v.Index(i))
		}
	case v.Kind() == reflect.Map, v.Kind() == reflect.String && v.Len() == 0:
	default:
		fmt.Fprintf(w, "%s: %v\n", name, v.Interface())
	}
}

// printOutput writes out, the "Name: value" lines of command cmd, to
// stdout; with field set, only the value of that field, and a failure
// naming the fields there are when it is missing.
func printOutput(stdout, stderr io.Writer, cmd, out, field string) int {
	if field == "" {
		fmt.Fprint(stdout, out)
		return exitOK
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if name == field {
			fmt.Fprintln(stdout, value)
			return exitOK
		}
		names = append(names, name)
	}
	fmt.Fprintf(stderr, "fps %s: no field %s in the answer; it has %s\n", cmd, field, orNone(names))
	return exitFail
}
