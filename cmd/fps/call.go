package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/fpskit/fps"
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

// action is one FPS action the call subcommand runs.
type action struct {
	name  string
	input reflect.Type
	call  func(ctx context.Context, c *fps.Client, params map[string]string) (any, error)
}

// op makes the action of the Client method m (a method expression such
// as (*fps.Client).Pay).
func op[In, Out any](name string, m func(*fps.Client, context.Context, *In, ...func(*fps.Options)) (*Out, error)) action {
	return action{name: name, input: reflect.TypeFor[In](), call: func(ctx context.Context, c *fps.Client, params map[string]string) (any, error) {
		in := new(In)
		if err := fillInput(in, params); err != nil {
			return nil, err
		}
		return m(c, ctx, in)
	}}
}

// actions lists every FPS action.
func actions() []action {
	return []action{
		op("Cancel", (*fps.Client).Cancel),
		op("CancelSubscriptionAndRefund", (*fps.Client).CancelSubscriptionAndRefund),
		op("CancelToken", (*fps.Client).CancelToken),
		op("FundPrepaid", (*fps.Client).FundPrepaid),
		op("GetAccountActivity", (*fps.Client).GetAccountActivity),
		op("GetAccountBalance", (*fps.Client).GetAccountBalance),
		op("GetDebtBalance", (*fps.Client).GetDebtBalance),
		op("GetOutstandingDebtBalance", (*fps.Client).GetOutstandingDebtBalance),
		op("GetPaymentInstruction", (*fps.Client).GetPaymentInstruction),
		op("GetPrepaidBalance", (*fps.Client).GetPrepaidBalance),
		op("GetRecipientVerificationStatus", (*fps.Client).GetRecipientVerificationStatus),
		op("GetTokenByCaller", (*fps.Client).GetTokenByCaller),
		op("GetTokenUsage", (*fps.Client).GetTokenUsage),
		op("GetTokens", (*fps.Client).GetTokens),
		op("GetTotalPrepaidLiability", (*fps.Client).GetTotalPrepaidLiability),
		op("GetTransaction", (*fps.Client).GetTransaction),
		op("GetTransactionStatus", (*fps.Client).GetTransactionStatus),
		op("InstallPaymentInstruction", (*fps.Client).InstallPaymentInstruction),
		op("Pay", (*fps.Client).Pay),
		op("Refund", (*fps.Client).Refund),
		op("Reserve", (*fps.Client).Reserve),
		op("Settle", (*fps.Client).Settle),
		op("SettleDebt", (*fps.Client).SettleDebt),
		op("VerifySignature", (*fps.Client).VerifySignature),
		op("WriteOffDebt", (*fps.Client).WriteOffDebt),
	}
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
