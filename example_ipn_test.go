package fps_test

import (
	"fmt"
	"net/url"

	"github.com/fpskit/fps"
)

func ExampleParseNotification() {
	body := "notificationType=TransactionStatus&transactionId=14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM" +
		"&callerReference=order-1&operation=PAY&transactionAmount=USD+12.50&transactionDate=1254096159" +
		"&transactionStatus=SUCCESS&statusCode=Success&paymentMethod=CC"
	params, _ := url.ParseQuery(body)
	n, err := fps.ParseNotification(params)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.CallerReference, n.TransactionAmount, n.TransactionStatus, n.TransactionDate.Format("2006-01-02"))
	fmt.Println(n.Key())
	// Output:
	// order-1 USD 12.50 Success 2009-09-28
	// TransactionStatus/14GKE3B85HCMF1BTSH5C4PD2IHZL95RJ2LM/PAY/SUCCESS
}
