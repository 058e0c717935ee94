package fps_test

import (
	"context"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// TestReadmeSimulatorSnippet is the README's "simulator in your tests"
// example, kept here so the README cannot drift from the API.
func TestReadmeSimulatorSnippet(t *testing.T) {
	ctx := context.Background()
	sim := fpstest.NewServer(t) // https on 127.0.0.1, its own CA and signing certificate
	client := sim.Client(t)

	link, err := client.PipelineURL(ctx, &fps.SingleUsePipeline{
		PipelineCommon:    fps.PipelineCommon{ReturnURL: "https://shop.example/fps/return", CallerReference: "order-1"},
		TransactionAmount: decimal.RequireFromString("12.50"),
	})
	require.NoError(t, err)
	back, err := sim.Buy(ctx, link, fpstest.BuyerChoice{Action: fpstest.Approve, PaymentMethod: "CC"})
	require.NoError(t, err)

	local := fps.NewLocalVerifierForClient(client, func(o *fps.LocalVerifierOptions) { o.RootCAs = sim.CAPool() })
	ret, err := fps.VerifyReturn(ctx, local, "https://shop.example/fps/return", back.RawQuery)
	require.NoError(t, err)

	_, err = client.Purchase(ctx, decimal.RequireFromString("12.50"),
		fps.PurchaseOptions{TokenID: ret.TokenID, CallerReference: ret.CallerReference})
	require.NoError(t, err)
	require.NoError(t, sim.CompletePending(ctx))
	require.Equal(t, 1, sim.Ledger().ChargeCount("order-1"))
}
