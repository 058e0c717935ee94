package main

import (
	"context"
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
	fs := newFlagSet("link", linkUsage, stderr)
	var cf clientFlags
	cf.register(fs)
	pipeline := fs.String("pipeline", "", "pipeline `name`: SingleUse, MultiUse, Recurring, Recipient, EditToken, SetupPrepaid, SetupPostpaid")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	_, values, err := nameValues(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "fps link: %v\n", err)
		return 2
	}
	c, err := cf.client(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "fps link: %v\n", err)
		return 2
	}
	fields := fps.PipelineFields{}
	fields.AddFields(values)
	if *pipeline != "" {
		fields["pipelineName"] = *pipeline
	}
	link, err := c.LinkURL(ctx, fields)
	if err != nil {
		return validationExit(stderr, "link", err)
	}
	fmt.Fprintln(stdout, link)
	return 0
}
