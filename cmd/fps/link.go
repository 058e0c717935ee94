package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/fpskit/fps"
)

const linkUsage = `
Usage: fps link [flags] --pipeline NAME name=value...

Prints the signed Co-Branded UI URL that starts pipeline NAME (SingleUse,
MultiUse, Recurring, Recipient, EditToken, SetupPrepaid, SetupPostpaid)
with the given parameters, named as FPS names them (callerReference,
transactionAmount, returnURL, paymentReason, ...). The parameters are
checked by the rules of the library: a parameter the pipeline does not
take, or a bad value, is refused naming the parameter and the rule
(exit status 2). callerKey, version and the signature are added.

Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the flags.

Examples:

  fps link --pipeline SingleUse callerReference=order-1 transactionAmount=19.99 \
      returnURL=https://shop.example/return paymentReason=Widget

  # against fps sandbox (it prints its endpoints and test credentials)
  fps link --cbui-endpoint https://127.0.0.1:8080/cobranded-ui/actions/start \
      --pipeline MultiUse callerReference=sub-7 globalAmountLimit=100 \
      returnURL=https://shop.example/return
`

func runLink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("link", linkUsage)
	var cf clientFlags
	cf.register(fs.FlagSet)
	pipeline := fs.String("pipeline", "", "pipeline `name`: SingleUse, MultiUse, Recurring, Recipient, EditToken, SetupPrepaid, SetupPostpaid")
	if ok, code := fs.parse(args, stdout, stderr); !ok {
		return code
	}
	values, err := nameValues(fs.Args())
	if err == nil && *pipeline != "" {
		if _, both := values["pipelineName"]; both {
			err = errors.New("the pipeline is given twice: as --pipeline and as pipelineName=; give one")
		}
	}
	if err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	c, err := cf.client(stderr)
	if err != nil {
		return fs.usageError(stderr, "%v", err)
	}
	fields := fps.PipelineFields{}
	fields.AddFields(values)
	if *pipeline != "" {
		fields["pipelineName"] = *pipeline
	}
	link, err := c.LinkURL(ctx, fields)
	if err != nil {
		return validationExit(fs, stderr, err)
	}
	fmt.Fprintln(stdout, link)
	return exitOK
}
