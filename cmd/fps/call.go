package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
or 2006-01-02.

Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the flags.

Examples:

  fps call Pay SenderTokenId=T1 TransactionAmount.Value=1.00 \
      TransactionAmount.CurrencyCode=USD CallerReference=order-1
  fps call GetTransactionStatus TransactionId=14GK...
  fps call --api-endpoint https://127.0.0.1:8080/ --ca-file /tmp/fps-sandbox-ca.pem GetAccountBalance
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
	fs := newFlagSet("call", callUsage, stderr)
	var cf clientFlags
	cf.register(fs)
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintln(stderr, "\nActions and their parameters:")
		for _, a := range actions() {
			fmt.Fprintf(stderr, "  %s\n      %s\n", a.name, paramNames(a.input))
		}
	}
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "fps call: no action given (fps call --help lists them)")
		return 2
	}
	name := fs.Arg(0)
	var act *action
	for _, a := range actions() {
		if strings.EqualFold(a.name, name) {
			act = &a
			break
		}
	}
	if act == nil {
		fmt.Fprintf(stderr, "fps call: unknown action %q (fps call --help lists them)\n", name)
		return 2
	}
	for _, a := range fs.Args()[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintf(stderr, "Usage: fps call [flags] %s [Name=Value...]\n\nParameters: %s\n", act.name, paramNames(act.input))
			return 0
		}
	}
	_, params, err := nameValues(fs.Args()[1:])
	if err == nil {
		// Refuse unknown names before credentials are looked at.
		err = fillInput(reflect.New(act.input).Interface(), params)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fps call %s: %v\n", act.name, err)
		return 2
	}
	c, err := cf.client(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fps call: %v\n", err)
		return 2
	}
	out, err := act.call(ctx, c, params)
	if err != nil {
		var ae *fps.APIError
		if errors.As(err, &ae) {
			fmt.Fprintf(stderr, "fps call %s: error %s: %s\nRequestId: %s\n", act.name, ae.Code, ae.Message, ae.RequestID)
			return 1
		}
		return validationExit(stderr, "call "+act.name, err)
	}
	printFields(stdout, out)
	return 0
}
