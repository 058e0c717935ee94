package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

func TestCallAgainstSimulator(t *testing.T) {
	s := newSim(t)
	call := func(args ...string) result {
		return fpsCmd(t, append(append([]string{"call"}, s.flags()...), args...)...)
	}
	ret := s.approved(t, "order-call", "3.00", "ABT")

	r := call("Pay", "SenderTokenId="+ret.Query().Get("tokenID"), "TransactionAmount.Value=3.00",
		"TransactionAmount.CurrencyCode=USD", "CallerReference=order-call")
	require.Equal(t, 0, r.code, r.errOut)
	pay := fieldsOf(r.out)
	id := pay["TransactionId"]
	require.NotEmpty(t, id, r.out)
	require.NotEmpty(t, pay["RequestId"])
	tx, ok := s.Ledger().Transaction(id)
	require.True(t, ok, "the simulator has no transaction %s", id)
	require.Equal(t, string(tx.Status), pay["TransactionStatus"])
	require.Equal(t, "Success", pay["TransactionStatus"], "ABT payments succeed at once")

	r = call("GetTransactionStatus", "TransactionId="+id)
	require.Equal(t, 0, r.code, r.errOut)
	st := fieldsOf(r.out)
	require.Equal(t, id, st["TransactionId"])
	require.Equal(t, "Success", st["TransactionStatus"])
	require.Equal(t, "order-call", st["CallerReference"])

	r = call("GetAccountBalance")
	require.Equal(t, 0, r.code, r.errOut)
	require.Equal(t, "USD "+s.Ledger().Balance(fpstest.DefaultAccessKeyID).StringFixed(2),
		fieldsOf(r.out)["AccountBalance.TotalBalance"], r.out)

	// An error answer: its code, message and request id.
	r = call("Pay", "SenderTokenId=NOSUCHTOKEN", "TransactionAmount.Value=1.00", "CallerReference=order-bad")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.errOut, "error InvalidTokenId")
	require.Contains(t, r.errOut, "NOSUCHTOKEN")
	require.NotEmpty(t, fieldsOf(r.errOut)["RequestId"], r.errOut)

	// Bad input is refused before anything is sent, naming the parameter.
	n := len(s.Ledger().Transactions())
	r = call("Pay", "SenderTokenId=T", "TransactionAmount.Value=-1", "CallerReference=order-neg")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "invalid TransactionAmount.Value: must be greater than 0")
	r = call("Pay", "SenderTokenId=T", "TransactionAmount.Value=ten", "CallerReference=order-neg")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "TransactionAmount.Value: not a decimal number")
	r = call("Pay", "TransactionAmount.Value=-1", "CallerReference=")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "invalid SenderTokenId: is required\n  invalid TransactionAmount.Value: must be greater than 0", "every problem, one a line")
	r = call("Pay", "SenderTokenId=T", "Amount=1")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, "unknown parameter Amount; it takes SenderTokenId")
	require.Equal(t, n, len(s.Ledger().Transactions()))

	r = call("Pay2")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, `unknown action "Pay2"`)
}

// TestCallHasEveryAction: the command runs the action methods of the
// Client, and those are the actions the simulator serves.
func TestCallHasEveryAction(t *testing.T) {
	var names []string
	for _, a := range actions() {
		names = append(names, a.name)
	}
	require.Contains(t, names, "Pay")
	served := fpstest.Actions()
	slices.Sort(served)
	require.Equal(t, served, names)
}

// TestCallSendsEveryParameter runs every action with every parameter it
// takes against a server that records the request, and checks each one
// arrives under its FPS name.
func TestCallSendsEveryParameter(t *testing.T) {
	var mu sync.Mutex
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		got = r.PostForm
		mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<Response><Errors><Error><Code>Recorded</Code><Message>recorded</Message></Error></Errors><RequestID>req-1</RequestID></Response>`))
	}))
	t.Cleanup(srv.Close)

	const ipn = "OverrideIPNURL=https://shop.example/ipn"
	charge := []string{"SenderDescription=for you", "CallerDescription=for us",
		"DescriptorPolicy.SoftDescriptorType=Static", "DescriptorPolicy.CSOwner=Caller", "TransactionTimeoutInMins=5", ipn}
	pay := append([]string{"SenderTokenId=S1", "RecipientTokenId=R1", "TransactionAmount.Value=10.50",
		"TransactionAmount.CurrencyCode=USD", "ChargeFeeTo=Recipient", "CallerReference=ref-1",
		"MarketplaceFixedFee.Value=0.25", "MarketplaceFixedFee.CurrencyCode=USD", "MarketplaceVariableFee=5"}, charge...)
	cases := map[string][]string{
		"Cancel": {"TransactionId=T1", "Description=changed mind", ipn},
		"CancelSubscriptionAndRefund": {"SubscriptionId=SUB1", "RefundAmount.Value=1.50",
			"RefundAmount.CurrencyCode=USD", "CallerReference=ref-2", "CancelReason=moved"},
		"CancelToken": {"TokenId=K1", "ReasonText=lost card", ipn},
		"FundPrepaid": append([]string{"SenderTokenId=S1", "PrepaidInstrumentId=P1", "FundingAmount.Value=20.00",
			"FundingAmount.CurrencyCode=USD", "CallerReference=ref-3"}, charge...),
		"GetAccountActivity": {"StartDate=2009-01-01T00:00:00Z", "EndDate=2009-02-01T12:30:00Z", "MaxBatchSize=10",
			"SortOrderByDate=Descending", "FPSOperation=Pay", "PaymentMethod=CC", "Role.1=Sender",
			"Role.2=Recipient", "TransactionStatus=Success"},
		"GetAccountBalance":              {},
		"GetDebtBalance":                 {"CreditInstrumentId=C1"},
		"GetOutstandingDebtBalance":      {},
		"GetPaymentInstruction":          {"TokenId=K1"},
		"GetPrepaidBalance":              {"PrepaidInstrumentId=P1"},
		"GetRecipientVerificationStatus": {"RecipientTokenId=R1"},
		"GetSubscriptionDetails":         {"SubscriptionId=SUB1"},
		"GetTransactionsForSubscription": {"SubscriptionId=SUB1"},
		"GetTokenByCaller":               {"TokenId=K1"},
		"GetTokenUsage":                  {"TokenId=K1"},
		"GetTokens": {"TokenStatus=Active", "TokenType=MultiUse", "CallerReference=ref-5",
			"TokenFriendlyName=my token"},
		"GetTotalPrepaidLiability": {},
		"GetTransaction":           {"TransactionId=T1"},
		"GetTransactionStatus":     {"TransactionId=T1"},
		"InstallPaymentInstruction": {"PaymentInstruction=MyRole == 'Caller' orSay 'no';",
			"TokenFriendlyName=caller token", "CallerReference=ref-6", "TokenType=Unrestricted", "PaymentReason=fees"},
		"Pay": pay,
		"Refund": {"TransactionId=T1", "RefundAmount.Value=2.00", "RefundAmount.CurrencyCode=USD",
			"CallerReference=ref-7", "CallerDescription=partial", "MarketplaceRefundPolicy=MasterTxnOnly", ipn},
		"Reserve": pay,
		"Settle":  {"ReserveTransactionId=T1", "TransactionAmount.Value=4.00", "TransactionAmount.CurrencyCode=USD", ipn},
		"SettleDebt": append([]string{"SenderTokenId=S1", "CreditInstrumentId=C1", "SettlementAmount.Value=3.00",
			"SettlementAmount.CurrencyCode=USD", "CallerReference=ref-8"}, charge...),
		"VerifySignature": {"UrlEndPoint=https://shop.example/return", "HttpParameters=a=b&signature=x"},
		"WriteOffDebt": {"CreditInstrumentId=C1", "AdjustmentAmount.Value=1.00", "AdjustmentAmount.CurrencyCode=USD",
			"CallerReference=ref-9", "CallerDescription=forgiven"},
	}
	// Actions that take one of two parameters run a second time.
	second := map[string][]string{"GetTokenByCaller": {"CallerReference=ref-4"}}
	auth := []string{"AWSAccessKeyId", "Action", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "Version"}

	for _, a := range actions() {
		t.Run(a.name, func(t *testing.T) {
			params, ok := cases[a.name]
			require.True(t, ok, "no parameters for %s in the test", a.name)
			var names []string
			for _, params := range [][]string{params, second[a.name]} {
				if params == nil {
					continue
				}
				r := fpsCmd(t, append([]string{"call", "--access-key", "AKIDRECORDED00000000", "--secret-key", "s",
					"--api-endpoint", srv.URL + "/", "--api-version", fps.APIVersion20100828, a.name}, params...)...)
				require.Equal(t, 1, r.code, r.errOut)
				require.Contains(t, r.errOut, "error Recorded: recorded\nRequestId: req-1")

				mu.Lock()
				sent := got
				mu.Unlock()
				require.Equal(t, a.name, sent.Get("Action"))
				for _, name := range auth {
					sent.Del(name)
				}
				want := url.Values{}
				for _, p := range params {
					name, value, _ := strings.Cut(p, "=")
					want.Set(name, value)
				}
				if a.name == "Pay" || a.name == "Reserve" {
					want.Set("MarketplaceVariableFee", "5")
				}
				require.Equal(t, want, sent)

				for name := range want {
					if strings.HasPrefix(name, "Role.") {
						name = "Role.N"
					}
					if !slices.Contains(names, name) {
						names = append(names, name)
					}
				}
			}

			// Every parameter the action takes is in the test.
			taken := strings.Fields(paramNames(a.input))
			if len(names) == 0 {
				require.Equal(t, "no parameters", paramNames(a.input))
				taken = nil
			}
			require.ElementsMatch(t, taken, names)
		})
	}
}

func TestSubcommandHelp(t *testing.T) {
	for _, c := range []struct{ name, flag, example string }{
		{"link", "-pipeline", "fps link --pipeline SingleUse"},
		{"verify", "-allow-host", "fps verify --remote"},
		{"call", "-api-endpoint", "fps call Pay SenderTokenId="},
		{"buy", "-payment-method", "fps buy --ca-file"},
		{"sandbox", "-ipn-dir", "fps sandbox --detach"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Help is on stdout (fps link --help | less), exit status 0,
			// and fps help link says the same.
			r := fpsCmd(t, c.name, "--help")
			require.Equal(t, 0, r.code)
			require.Empty(t, r.errOut)
			require.Contains(t, r.out, "Usage: fps "+c.name)
			require.Contains(t, r.out, c.example)
			require.Contains(t, r.out, c.flag)
			require.Contains(t, r.out, "-ca-file")
			require.Equal(t, r, fpsCmd(t, "help", c.name))

			r = fpsCmd(t, c.name, "--no-such-flag")
			require.Equal(t, 2, r.code)
			require.Empty(t, r.out)
			require.Equal(t, "fps "+c.name+": flag provided but not defined: -no-such-flag\nRun 'fps "+c.name+" --help' for usage.\n", r.errOut)
		})
	}
	r := fpsCmd(t, "call", "--help")
	require.Contains(t, r.out, "GetRecipientVerificationStatus\n      RecipientTokenId\n")

	r = fpsCmd(t, "help")
	require.Equal(t, 0, r.code)
	for _, name := range []string{"sandbox", "link", "buy", "verify", "call", "soak"} {
		require.Contains(t, r.out, "  "+name+" ")
	}
	r = fpsCmd(t, "help", "nope")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.errOut, `unknown command "nope"`)
}

// TestCallActionHelp: fps call ACTION --help describes each parameter from
// the library's doc comments and marks the ones the library requires.
func TestCallActionHelp(t *testing.T) {
	r := fpsCmd(t, "call", "Settle", "--help")
	require.Equal(t, 0, r.code)
	require.Empty(t, r.errOut)
	require.Contains(t, r.out, "Usage: fps call [flags] Settle [Name=Value...]\n\nSettle charges a reserved amount.")
	require.Contains(t, r.out, "\nParameters:\n  ReserveTransactionId (required)\n      ReserveTransactionID is the TransactionID of the Reserve. Required.\n")
	require.Contains(t, r.out, "\n  TransactionAmount.Value\n      TransactionAmount is the amount to settle; zero settles the whole\n")

	// The required parameters of Pay are those of FPS (fps-api.md §Pay).
	r = fpsCmd(t, "call", "pay", "--help")
	require.Equal(t, 0, r.code)
	var required, optional []string
	for _, line := range strings.Split(r.out, "\n") {
		if name, ok := strings.CutPrefix(line, "  "); ok && !strings.HasPrefix(name, " ") {
			if n, ok := strings.CutSuffix(name, " (required)"); ok {
				required = append(required, n)
			} else {
				optional = append(optional, name)
			}
		}
	}
	require.Equal(t, []string{"SenderTokenId", "TransactionAmount.Value", "CallerReference"}, required)
	require.Contains(t, optional, "ChargeFeeTo")
	require.Contains(t, r.out, "\n  ChargeFeeTo\n      ChargeFeeTo names who pays the FPS fee.\n      One of: Caller, Recipient.\n")

	// A rule other than "required" is shown as the library states it.
	r = fpsCmd(t, "call", "GetTokenByCaller", "--help")
	require.Contains(t, r.out, "\n  TokenId (exactly one of TokenId and CallerReference is required)\n")
	// A list names the type of its elements.
	r = fpsCmd(t, "call", "GetAccountActivity", "--help")
	require.Contains(t, r.out, "\n  Role.N\n      TransactionalRole is a party of a transaction.\n      One of: Sender, Caller, Recipient.\n")
	r = fpsCmd(t, "call", "GetAccountBalance", "--help")
	require.Contains(t, r.out, "It takes no parameters.")
}

// TestEveryParameterIsDescribed: no parameter of any action is listed
// without a description.
func TestEveryParameterIsDescribed(t *testing.T) {
	for _, a := range actions() {
		for _, f := range inputFields(a.input, "", nil) {
			require.NotEmpty(t, paramDoc(a.input, f.index), "%s %s has no doc comment in package fps", a.name, f.name)
		}
	}
}

// TestCallUntrustedCertificate: a server whose certificate is of an
// authority not trusted gets one connection, not three, and the error
// names --ca-file; with it the call goes through.
func TestCallUntrustedCertificate(t *testing.T) {
	var conns atomic.Int32
	s := newSim(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go forward(c, s.host(t))
		}
	}()
	t.Cleanup(func() { ln.Close() })
	api := "https://" + ln.Addr().String() + "/"
	args := []string{"call", "--access-key", fpstest.DefaultAccessKeyID, "--secret-key", fpstest.DefaultSecretAccessKey,
		"--api-endpoint", api}

	r := fpsCmd(t, append(args, "GetAccountBalance")...)
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "certificate signed by unknown authority")
	require.Contains(t, r.errOut, "fps call: the server's certificate is not signed by a trusted authority; --ca-file names the CA certificate to trust")
	require.Equal(t, int32(1), conns.Load(), "a certificate error is not retried")

	r = fpsCmd(t, append(args, "--ca-file", s.caFile, "--field", "AccountBalance.TotalBalance", "GetAccountBalance")...)
	require.Equal(t, 0, r.code, r.errOut)
	require.Equal(t, "USD "+s.Ledger().Balance(fpstest.DefaultAccessKeyID).StringFixed(2)+"\n", r.out)

	// The same through fps verify --remote: not a verdict, a failed call.
	ret := s.approved(t, "order-remote-ca", "1.00", "ABT")
	r = verifyCmd(t, nil, "--remote", "--access-key", fpstest.DefaultAccessKeyID, "--secret-key", fpstest.DefaultSecretAccessKey,
		"--api-endpoint", api, ret.String())
	require.Equal(t, 1, r.code)
	require.Empty(t, r.out)
	require.Contains(t, r.errOut, "fps verify: could not verify: ")
	require.Contains(t, r.errOut, "--ca-file names the CA certificate to trust")
}

// forward copies a connection to addr and back: the simulator under
// another port, to count the connections made to it.
func forward(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c) }()
	_, _ = io.Copy(c, up)
}

func TestCallUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "fps call: no action given (fps call --help lists them)"},
		{[]string{"Pay2"}, `fps call: unknown action "Pay2"`},
		{[]string{"Pay", "SenderTokenId=A", "SenderTokenId=B"}, "fps call: Pay: SenderTokenId is given twice"},
		{[]string{"Pay", "SenderTokenId"}, `fps call: Pay: argument "SenderTokenId" is not name=value`},
		{[]string{"--api-endpoint", "fps.example", "GetAccountBalance"}, `fps call: --api-endpoint must be an absolute http or https URL, got "fps.example"`},
	} {
		r := fpsCmd(t, append([]string{"call"}, c.args...)...)
		require.Equal(t, 2, r.code, c.args)
		require.Empty(t, r.out)
		require.Contains(t, r.errOut, c.want)
	}
}
