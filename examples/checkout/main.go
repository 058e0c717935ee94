// Command checkout is the main job of the fps README: it builds a Sandbox
// client and prints the signed Co-Branded UI link, and the "Amazon
// Payments" button, for a sample order.
//
// The keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. When
// they are unset it uses demo keys, says so on stderr, and the link is
// signed with them: good for seeing what the library does, not for
// Amazon.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
)

// Demo keys: Amazon's documentation example keys, never valid anywhere.
const (
	demoAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	demoSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("checkout: ")

	keyID, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if keyID == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "checkout: AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is unset: signing with DEMO keys (AKIAIOSFODNN7EXAMPLE), which no service accepts")
		keyID, secret = demoAccessKeyID, demoSecretAccessKey
	}

	client, err := fps.New(fps.Options{
		Environment: fps.Sandbox,
		Credentials: fps.StaticCredentials(keyID, secret),
	})
	if err != nil {
		log.Fatal(err)
	}

	order := &fps.SingleUsePipeline{
		PipelineCommon: fps.PipelineCommon{
			ReturnURL:       "http://127.0.0.1:8000/fps/return",
			CallerReference: "order-1001",
		},
		TransactionAmount: decimal.RequireFromString("19.99"),
		PaymentReason:     "Order 1001: one copy of \"Go Payments\"",
		PaymentMethods:    []fps.PaymentMethod{fps.PaymentMethodCC, fps.PaymentMethodABT},
	}
	link, err := client.PipelineURL(context.Background(), order)
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("Environment:", client.Environment())
	fmt.Println("Pipeline URL (send the buyer here):")
	fmt.Println(link)
	fmt.Println()
	fmt.Println("Button HTML:")
	fmt.Println(fps.Button(link))
}
