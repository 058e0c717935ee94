// Package actionmethods finds the action methods of a client type by
// their shape, so that the command line and the tests that keep the
// simulator in step with the client list the actions the client has
// rather than a copy of their names.
package actionmethods

import (
	"context"
	"reflect"
)

// Method is one action method of a client type.
type Method struct {
	// Name is the method's name, which is the action's.
	Name string
	// Func is the method; its first argument is the client.
	Func reflect.Value
	// Input is the input type, a pointer to the struct NameInput.
	Input reflect.Type
	// Output is the answer type, a pointer to a struct.
	Output reflect.Type
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// Of returns the action methods of the client type t (a pointer to a
// struct), sorted by name: the methods shaped
//
//	func (ctx context.Context, in *NameInput, optFns ...func(*Options)) (*NameOutput, error)
//
// where Name is the method's name and Input and Options are types of the
// client's package. The output may be named otherwise (an alias).
func Of(t reflect.Type) []Method {
	pkg := t.Elem().PkgPath()
	var out []Method
	for i := range t.NumMethod() {
		m := t.Method(i)
		f := m.Type // the receiver is the first argument
		if f.NumIn() != 4 || !f.IsVariadic() || f.NumOut() != 2 ||
			f.In(1) != contextType || !isStructPointer(f.In(2), pkg, m.Name+"Input") ||
			!isOptionFuncs(f.In(3), pkg) || !isStructPointer(f.Out(0), pkg, "") || f.Out(1) != errorType {
			continue
		}
		out = append(out, Method{Name: m.Name, Func: m.Func, Input: f.In(2), Output: f.Out(0)})
	}
	return out
}

// isStructPointer reports whether t is a pointer to a struct of package
// pkg, named name when name is not empty.
func isStructPointer(t reflect.Type, pkg, name string) bool {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().PkgPath() != pkg {
		return false
	}
	return name == "" || t.Elem().Name() == name
}

// isOptionFuncs reports whether t is []func(*Options) with Options of
// package pkg.
func isOptionFuncs(t reflect.Type, pkg string) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Func {
		return false
	}
	fn := t.Elem()
	return fn.NumIn() == 1 && fn.NumOut() == 0 && isStructPointer(fn.In(0), pkg, "Options")
}
