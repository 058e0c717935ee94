package fps

// PaymentMethod is a way a buyer may pay: the paymentMethod parameter of a
// pipeline is a comma-separated list of them.
type PaymentMethod string

// The payment methods of FPS.
const (
	PaymentMethodABT PaymentMethod = "ABT" // Amazon Payments balance
	PaymentMethodACH PaymentMethod = "ACH" // bank account
	PaymentMethodCC  PaymentMethod = "CC"  // credit card
)
