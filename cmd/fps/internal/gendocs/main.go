// Command gendocs writes the doc comments that "fps call ACTION --help"
// shows, read from the source of package fps, into a Go table of the fps
// command (docs_gen.go): the doc comments of the Client's action methods,
// of their input types and of every type these use, of the fields of
// those types, and the constants of their string types.
//
//	go generate ./cmd/fps
//
// The test of this command fails when the table and the source differ.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	src := flag.String("src", "../..", "`folder` of package fps")
	out := flag.String("o", "docs_gen.go", "output `file`")
	flag.Parse()
	b, err := generate(*src)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// pkg is what generate reads from package fps.
type pkg struct {
	types   map[string]*ast.TypeSpec
	typeDoc map[string]string
	methods map[string]*ast.FuncDecl // the methods of *Client
	enums   map[string][]string
}

// generate returns the Go source of the table, read from the package in
// folder dir.
func generate(dir string) ([]byte, error) {
	files, err := parseDir(dir)
	if err != nil {
		return nil, err
	}
	p := read(files)
	docs := map[string]string{}
	seen := map[string]bool{}
	for name, m := range p.methods {
		in := inputType(m)
		if in == "" {
			continue
		}
		docs["Client."+name] = text(m.Doc)
		p.addType(in, docs, seen)
	}
	return render(docs, p.enums, seen)
}

// parseDir parses the files of package fps in dir, tests left out, in
// the order of their names.
func parseDir(dir string) ([]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Name.Name != "fps" {
			return nil, fmt.Errorf("%s is package %s, not fps", name, f.Name.Name)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no package fps in %s", dir)
	}
	return files, nil
}

// read collects the types, their docs, the Client's methods and the
// string constants of typed string types.
func read(files []*ast.File) *pkg {
	p := &pkg{types: map[string]*ast.TypeSpec{}, typeDoc: map[string]string{},
		methods: map[string]*ast.FuncDecl{}, enums: map[string][]string{}}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil && d.Name.IsExported() && recvName(d) == "Client" {
					p.methods[d.Name.Name] = d
				}
			case *ast.GenDecl:
				p.readGen(d)
			}
		}
	}
	return p
}

func (p *pkg) readGen(d *ast.GenDecl) {
	for _, s := range d.Specs {
		switch s := s.(type) {
		case *ast.TypeSpec:
			p.types[s.Name.Name] = s
			doc := s.Doc
			if doc == nil && len(d.Specs) == 1 {
				doc = d.Doc
			}
			p.typeDoc[s.Name.Name] = text(doc)
		case *ast.ValueSpec:
			typ, ok := s.Type.(*ast.Ident)
			if d.Tok != token.CONST || !ok {
				continue
			}
			for _, v := range s.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if value, err := strconv.Unquote(lit.Value); err == nil {
						p.enums[typ.Name] = append(p.enums[typ.Name], value)
					}
				}
			}
		}
	}
}

// addType records the docs of type name, of its fields and of the types
// they use, once.
func (p *pkg) addType(name string, docs map[string]string, seen map[string]bool) {
	s, ok := p.types[name]
	if !ok || seen[name] {
		return
	}
	seen[name] = true
	if doc := p.typeDoc[name]; doc != "" {
		docs[name] = doc
	}
	st := p.structOf(s)
	if st == nil {
		return
	}
	for _, f := range st.Fields.List {
		doc := text(f.Doc)
		if doc == "" {
			doc = text(f.Comment)
		}
		for _, n := range f.Names {
			if n.IsExported() && doc != "" {
				docs[name+"."+n.Name] = doc
			}
		}
		if t := typeName(f.Type); t != "" {
			p.addType(t, docs, seen)
		}
	}
}

// structOf returns the struct of s, following a definition by another
// type of the package (type ReserveInput PayInput).
func (p *pkg) structOf(s *ast.TypeSpec) *ast.StructType {
	for range len(p.types) {
		switch t := s.Type.(type) {
		case *ast.StructType:
			return t
		case *ast.Ident:
			next, ok := p.types[t.Name]
			if !ok {
				return nil
			}
			s = next
		default:
			return nil
		}
	}
	return nil
}

// typeName is the package-local type name of a field type (T, *T, []T),
// or "".
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.ArrayType:
		return typeName(t.Elt)
	}
	return ""
}

// recvName is the type name of a method's receiver.
func recvName(d *ast.FuncDecl) string {
	return typeName(d.Recv.List[0].Type)
}

// inputType is the input type of an action method,
// func (c *Client) X(ctx context.Context, in *XInput, optFns ...func(*Options)),
// or "" for another method.
func inputType(m *ast.FuncDecl) string {
	params := m.Type.Params.List
	if len(params) != 3 {
		return ""
	}
	star, ok := params[1].Type.(*ast.StarExpr)
	if !ok {
		return ""
	}
	id, ok := star.X.(*ast.Ident)
	if !ok || !strings.HasSuffix(id.Name, "Input") {
		return ""
	}
	return id.Name
}

// text is a doc comment as text, without its last newline.
func text(g *ast.CommentGroup) string {
	return strings.TrimSpace(g.Text())
}

// render writes the table as Go source.
func render(docs map[string]string, enums map[string][]string, types map[string]bool) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`// Code generated by "go run ./internal/gendocs" from the source of package fps; DO NOT EDIT.

package main

// goDocs are the doc comments of package fps that "fps call ACTION
// --help" shows: of the Client's action methods ("Client.Pay"), of their
// input types and the types these use ("Amount"), and of the fields of
// those ("PayInput.SenderTokenID").
var goDocs = map[string]string{
`)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: %q,\n", k, docs[k])
	}
	b.WriteString(`}

// goEnums are the values of the string types of those fields, as
// package fps declares them in constants.
var goEnums = map[string][]string{
`)
	keys = keys[:0]
	for k := range enums {
		if types[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\t%q: {", k)
		for i, v := range enums[k] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", v)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
