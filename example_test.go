package fps_test

import (
	"context"
	"fmt"
	"log"
	"maps"
	"net/url"
	"slices"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

func ExampleNew() {
	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Environment())
	fmt.Println(client.ServiceURL())
	fmt.Println(client.CBUIEndpoint())
	// Output:
	// sandbox
	// https://fps.sandbox.amazonaws.com/
	// https://authorize.payments-sandbox.amazon.com/cobranded-ui/actions/start
}

func ExampleClient_PipelineURL() {
	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	link, err := client.PipelineURL(context.Background(), &fps.SingleUsePipeline{
		PipelineCommon: fps.PipelineCommon{
			ReturnURL:       "https://shop.example.com/fps/return",
			CallerReference: "order-1001",
		},
		TransactionAmount: decimal.RequireFromString("19.99"),
		PaymentReason:     "Order 1001",
	})
	if err != nil {
		log.Fatal(err)
	}

	// Send the buyer's browser to link. Here, the parameters it carries:
	u, _ := url.Parse(link)
	q := u.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name != "signature" {
			fmt.Printf("%s=%s\n", name, q.Get(name))
		}
	}
	// Output:
	// callerKey=AKIAIOSFODNN7EXAMPLE
	// callerReference=order-1001
	// paymentReason=Order 1001
	// pipelineName=SingleUse
	// returnURL=https://shop.example.com/fps/return
	// signatureMethod=HmacSHA256
	// signatureVersion=2
	// transactionAmount=19.99
	// version=2009-01-09
}

// The seed's way: fields added to a map, then the link.
func ExampleClient_LinkURL() {
	client, err := fps.New(fps.Options{
		Environment: fps.EnvironmentForTestMode(true),
		Credentials: fps.StaticCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fields := fps.PipelineFields{}
	fields.AddFields(map[string]string{
		"pipelineName":      "SingleUse",
		"callerReference":   "100",
		"paymentReason":     "Digital Download",
		"transactionAmount": "30",
		"returnURL":         "http://localhost/fps/fps-return-url/",
	})
	link, err := client.LinkURL(context.Background(), fields)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(link)
	fmt.Println(u.Host, u.Path)
	fmt.Println(u.Query().Get("callerKey"), u.Query().Get("transactionAmount"))

	// A field the pipeline does not take is refused before signing.
	fields.AddFields(map[string]string{"CallerReference": "100"})
	_, err = client.LinkURL(context.Background(), fields)
	fmt.Println(err)
	// Output:
	// authorize.payments-sandbox.amazon.com /cobranded-ui/actions/start
	// AKIAIOSFODNN7EXAMPLE 30
	// fps: invalid CallerReference: is not a parameter of the SingleUse pipeline
}

func ExampleParsePipelineReturn() {
	// The query Amazon appended to the return URL.
	q, _ := url.ParseQuery("tokenID=I39FL7SSHU3S6DPH4ZYGL2SZDUAPP1B5&status=SC&callerReference=order-1001&expiry=10%2F2013")
	r, err := fps.ParsePipelineReturn(q)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Status, r.Status.Success(), r.Status.Meaning())
	fmt.Println(r.TokenID, r.CallerReference, r.Expiry)
	// Output:
	// SC true success: the buyer chose a credit card
	// I39FL7SSHU3S6DPH4ZYGL2SZDUAPP1B5 order-1001 10/2013
}
