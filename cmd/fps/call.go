//go:generate go run ./internal/gendocs

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/internal/actionmethods"
)

const callUsage = `
Usage: fps call [flags] ACTION [Name=Value...]
       fps call ACTION --help

Runs one FPS action with its parameters, named as FPS names them
(TransactionAmount.Value, SenderTokenId, ...), and prints the decoded
answer as "Name: value" lines. The input is checked by the library before
anything is sent: a bad parameter is refused naming it (exit status 2).
An error answer prints its code, message and request id (exit status 1).
Lists are numbered from 1 (Role.1=Sender). Times are 2006-01-02T15:04:05Z
or 2006-01-02. "fps call ACTION --help" describes the parameters of
ACTION and marks the required ones.

Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the flags.

Examples:

  fps call Pay SenderTokenId=T1 TransactionAmount.Value=1.00 \
      TransactionAmount.CurrencyCode=USD CallerReference=order-1
  fps call GetTransactionStatus TransactionId=14GK...
  fps call --api-endpoint https://127.0.0.1:8080/ --ca-file /tmp/fps-sandbox-ca.pem GetAccountBalance
  fps call --field TransactionStatus GetTransactionStatus TransactionId=14GK...
`

// action is one FPS action the call subcommand runs: an action method of
// the Client.
type action struct {
	name   string
	input  reflect.Type // the input struct
	method reflect.Value
}

// actions lists the FPS actions: the action methods of *fps.Client, by
// name.
func actions() []action {
	var out []action
	for _, m := range actionmethods.Of(reflect.TypeFor[*fps.Client]()) {
		out = append(out, action{name: m.Name, input: m.Input.Elem(), method: m.Func})
	}
	return out
}

// findAction returns the action called name, in any case.
func findAction(name string) (action, bool) {
	for _, a := range actions() {
		if strings.EqualFold(a.name, name) {
			return a, true
		}
	}
	return action{}, false
}

// call fills the action's input from params and runs it.
func (a action) call(ctx context.Context, c *fps.Client, params map[string]string) (any, error) {
	in := reflect.New(a.input)
	if err := fillInput(in.Interface(), params); err != nil {
		return nil, err
	}
	res := a.method.Call([]reflect.Value{reflect.ValueOf(c), reflect.ValueOf(ctx), in})
	if err, _ := res[1].Interface().(error); err != nil {
		return nil, err
	}
	return res[0].Interface(), nil
}

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("call", callUsage)
	var cf clientFlags
	cf.register(fs.FlagSet)
	field := fs.String("field", "", "print only the value of field `NAME` of the answer (TransactionId, ...)")
	fs.footer = func(w io.Writer) {
		fmt.Fprintln(w, "\nActions and their parameters (fps call ACTION --help describes them):")
		for _, a := range actions() {
			fmt.Fprintf(w, "  %s\n      %s\n", a.name, paramNames(a.input))
		}
	}
	if ok, code := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return fs.usageError(stderr, "no action given (fps call --help lists them)")
	}
	act, ok := findAction(fs.Arg(0))
	if !ok {
		return fs.usageError(stderr, "unknown action %q (fps call --help lists them)", fs.Arg(0))
	}
	for _, a := range fs.Args()[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			act.printHelp(stdout)
			return exitOK
		}
	}
	params, err := nameValues(fs.Args()[1:])
	if err == nil {
		// Refuse unknown names before credentials are looked at.
		err = fillInput(reflect.New(act.input).Interface(), params)
	}
	if err != nil {
		return fs.usageError(stderr, "%s: %v", act.name, err)
	}
	c, err := cf.client(stderr)
	if err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	out, err := act.call(ctx, c, params)
	if err != nil {
		var ae *fps.APIError
		if errors.As(err, &ae) {
			fmt.Fprintf(stderr, "fps call %s: error %s: %s\nRequestId: %s\n", act.name, ae.Code, ae.Message, ae.RequestID)
			return exitFail
		}
		return validationExit(fs, stderr, err)
	}
	var b strings.Builder
	printFields(&b, out)
	return printOutput(stdout, stderr, "call", b.String(), *field)
}

// printHelp describes the action and each of its parameters, from the
// doc comments of package fps, and marks the parameters the library
// requires.
func (a action) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: fps call [flags] %s [Name=Value...]\n\n", a.name)
	if doc := goDocs["Client."+a.name]; doc != "" {
		fmt.Fprintln(w, doc)
		fmt.Fprintln(w)
	}
	fields := inputFields(a.input, "", nil)
	if len(fields) == 0 {
		fmt.Fprintln(w, "It takes no parameters.")
		return
	}
	notes := a.requirements()
	fmt.Fprintln(w, "Parameters:")
	for _, f := range fields {
		name := f.name
		if f.list {
			name += ".N"
		}
		if note := notes[f.name]; note != "" {
			name += " (" + note + ")"
		}
		fmt.Fprintf(w, "  %s\n", name)
		for _, line := range strings.Split(paramDoc(a.input, f.index), "\n") {
			if line != "" {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
}

// paramDoc describes the parameter at index in input type t: the doc
// comment of each field on the way (else that of its type, or of the
// type of its elements), and the values of an enumerated type.
func paramDoc(t reflect.Type, index []int) string {
	var parts []string
	for _, i := range index {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		doc := goDocs[t.Name()+"."+f.Name]
		if doc == "" {
			doc = goDocs[ft.Name()]
		}
		if doc != "" {
			parts = append(parts, doc)
		}
		t = ft
	}
	if values := goEnums[t.Name()]; len(values) > 0 {
		parts = append(parts, "One of: "+strings.Join(values, ", ")+".")
	}
	return strings.Join(parts, "\n")
}

// errNotSent is the answer of the HTTP client of requirements: nothing
// is sent.
var errNotSent = errors.New("not sent")

type notSent struct{}

func (notSent) Do(*http.Request) (*http.Response, error) { return nil, errNotSent }

// requirements returns, by parameter, what the library requires of it,
// as the library itself decides: the zero input is run through a client
// that sends nothing, and each parameter refused as missing is marked
// "required" and filled in with a sample value, until the input passes or
// is refused by another rule, which is kept as the parameter's note
// ("exactly one of TokenId and CallerReference is required").
func (a action) requirements() map[string]string {
	c, err := fps.New(fps.Options{
		Environment: fps.Sandbox, Credentials: fps.StaticCredentials("AKIDREQUIREMENTS0000", "s"),
		HTTPClient: notSent{}, MaxAttempts: 1,
	})
	if err != nil {
		panic(err) // the options are constant
	}
	fields := inputFields(a.input, "", nil)
	notes := map[string]string{}
	params := map[string]string{}
	for range fields {
		_, err := a.call(context.Background(), c, params)
		var ve *fps.ValidationError
		if !errors.As(err, &ve) {
			break
		}
		f, _, ok := findField(fields, ve.Field)
		if !ok || notes[f.name] != "" {
			break
		}
		if ve.Rule != ruleRequired {
			notes[f.name] = ve.Rule
			break
		}
		notes[f.name] = "required"
		params[ve.Field] = sampleValue(a.input, f.index)
	}
	return notes
}

// ruleRequired is the rule of a *fps.ValidationError for a missing
// parameter.
const ruleRequired = "is required"

// sampleValue is a value that the parameter at index of input type t
// takes: the first value of an enumerated type, else one of its kind.
func sampleValue(t reflect.Type, index []int) string {
	ft := t.FieldByIndex(index).Type
	if values := goEnums[ft.Name()]; len(values) > 0 {
		return values[0]
	}
	switch {
	case ft == decimalType:
		return "1"
	case ft == timeType:
		return "2009-01-01"
	case ft.Kind() == reflect.Int:
		return "1"
	}
	return "x"
}
