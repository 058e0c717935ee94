package fpstest

import "github.com/shopspring/decimal"

// Fees. The spec gives the rules of the marketplace fee (MarketplaceFixedFee
// plus MarketplaceVariableFee percent of the amount, paid by the recipient
// to the caller), of ChargeFeeTo (who pays the FPS fee: Caller or
// Recipient, Recipient when not given) and of the refused Pay whose
// amount is not more than what the recipient owes in fees (InvalidParams
// "Transaction amount must be greater than Recipient Fee liability.").
// It gives no rate of the FPS fee: the schedule below is the simulator's
// choice, the one that gives the fees of Amazon's documentation samples
// (a 1.00 card payment 0.10, a 5.00 one 0.30, a prepaid payment 0).

var (
	feeThreshold    = decimal.NewFromInt(10)
	feeSmallPercent = decimal.RequireFromString("0.05")
	feeSmallFixed   = decimal.RequireFromString("0.05")
	feeLargePercent = decimal.RequireFromString("0.029")
	feeLargeFixed   = decimal.RequireFromString("0.30")
	hundred         = decimal.NewFromInt(100)
)

// fpsFee is the FPS fee of moving amount from a buyer paying with method:
// for ABT, ACH and CC, 5% + 0.05 below 10.00 and 2.9% + 0.30 from 10.00,
// rounded to the cent; nothing for money already held by FPS (Prepaid,
// Debt).
func fpsFee(method string, amount decimal.Decimal) decimal.Decimal {
	switch method {
	case "ABT", "ACH", "CC":
	default:
		return decimal.Zero
	}
	if amount.LessThan(feeThreshold) {
		return amount.Mul(feeSmallPercent).Add(feeSmallFixed).Round(2)
	}
	return amount.Mul(feeLargePercent).Add(feeLargeFixed).Round(2)
}

// marketplaceFee is fixed plus variable percent of amount, rounded to
// the cent.
func marketplaceFee(fixed, variable, amount decimal.Decimal) decimal.Decimal {
	return fixed.Add(amount.Mul(variable).Div(hundred)).Round(2)
}

// fees are what a transaction costs its parties.
type fees struct {
	payer    string          // ChargeFeeTo: Caller or Recipient
	fps      decimal.Decimal // the FPS fee; negative on a refund (given back)
	fixed    decimal.Decimal // MarketplaceFixedFee
	variable decimal.Decimal // MarketplaceVariableFee, a percentage
	market   decimal.Decimal // the marketplace fee charged
	refunded decimal.Decimal // the FPS fee given back by refunds so far
}

// charge sets the fees of moving amount from a buyer paying with method.
func (f *fees) charge(method string, amount decimal.Decimal) {
	f.fps = fpsFee(method, amount)
	f.market = decimal.Zero
	if !f.fixed.IsZero() || !f.variable.IsZero() {
		f.market = marketplaceFee(f.fixed, f.variable, amount)
	}
}

// recipientOwes is what the recipient pays in fees.
func (f *fees) recipientOwes() decimal.Decimal {
	if f.payer == "Caller" {
		return f.market
	}
	return f.fps.Add(f.market)
}

// callerPays is the FPS fee the caller pays.
func (f *fees) callerPays() decimal.Decimal {
	if f.payer == "Caller" {
		return f.fps
	}
	return decimal.Zero
}

// refundShare is the part of the FPS fee a refund of amount gives back:
// in proportion to the amount refunded of base, and all that is left
// when the refund leaves nothing more to refund (the simulator's
// choice; the docs' sample gives the whole fee back with a whole refund).
func (f *fees) refundShare(amount, base, refundedBefore decimal.Decimal) decimal.Decimal {
	if refundedBefore.Add(amount).GreaterThanOrEqual(base) {
		return f.fps.Sub(f.refunded)
	}
	return f.fps.Mul(amount).Div(base).Round(2)
}

// feePayer is who pays t's FPS fee: Caller or Recipient.
func (t *tx) feePayer() string {
	if t.fees.payer == "" {
		return "Recipient"
	}
	return t.fees.payer
}
