package integration_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/fpskit/fps/integration"
	"github.com/fpskit/fps/internal/msgtest"
	"github.com/stretchr/testify/require"
)

// The stories of the attacks and failures a shop must survive, each
// against the simulator with two merchant accounts, through AmazonFPS
// with its defaults and with each verifier. An attack is refused with
// nothing stored and no hook or callback run, and leaves the real buyer
// free to pay.

// attackSim is a simulator that gives up on a refused IPN quickly.
func attackSim(t *testing.T) *fpstest.Server {
	return newSim(t, func(c *fpstest.Config) {
		c.IPNRetryWindow, c.IPNFirstDelay = 400*time.Millisecond, 100*time.Millisecond
	})
}

// attackerPays makes the attacker pay himself amount under
// callerReference ref, approving his own pipeline by ABT (at once), with
// his IPNs going to ipnURL ("" for none). It returns the token and the
// transaction.
func attackerPays(t *testing.T, sim *fpstest.Server, ref, amount, ipnURL string) (token, txID string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, sim.SetIPNURL(attackerAccount.AccessKeyID, ipnURL))
	c := clientOf(t, sim, attackerAccount)
	link, err := c.LinkURL(ctx, fps.PipelineFields{"pipelineName": "SingleUse", "transactionAmount": amount,
		"callerReference": ref, "returnURL": "https://attacker.example/return"})
	require.NoError(t, err)
	token = buy(t, sim, link, "ABT").Query().Get("tokenID")
	res, err := c.Purchase(ctx, usd(amount), fps.PurchaseOptions{TokenID: token, CallerReference: ref})
	require.NoError(t, err)
	require.Equal(t, fps.TransactionStatusSuccess, res.TransactionStatus)
	return token, res.TransactionID
}

// realBuyerPays checks that the order ref can still be paid by its
// buyer: the shop's own pipeline, approved, returned, charged, notified.
func realBuyerPays(t *testing.T, sh *shop, link, ref string) {
	t.Helper()
	status, body := get(t, buy(t, sh.sim, link, "ABT").String())
	require.Equal(t, http.StatusOK, status, body)
	require.True(t, strings.HasPrefix(body, "thank you: "), "the real buyer's Pay went through: %s", body)
	sh.await(ref, integration.OrderPaid)
}

// TestStory1ReturnSignaturePostedAsIPN: the attacker makes a pipeline of
// his own whose returnURL is the shop's IPN URL with IPN fields in its
// query, naming his own payment of the order's amount under the order's
// callerReference; he approves it and posts the signed query to the
// shop's IPN URL. The local verifiers refuse a GET signature as an IPN;
// VerifySignature cannot tell, and FPS, asked with the shop's keys, does
// not know the transaction.
func TestStory1ReturnSignaturePostedAsIPN(t *testing.T) {
	sim := attackSim(t)
	for _, verifier := range verifiers {
		t.Run(verifier, func(t *testing.T) {
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			link, ref := sh.link("100.00")
			_, txID := attackerPays(t, sim, ref, "100.00", "")

			fields := url.Values{
				"notificationType": {"TransactionStatus"}, "transactionId": {txID}, "operation": {"PAY"},
				"transactionStatus": {"SUCCESS"}, "transactionAmount": {"USD 100.00"}, "statusCode": {"Success"},
			}
			forged, err := clientOf(t, sim, attackerAccount).LinkURL(context.Background(), fps.PipelineFields{
				"pipelineName": "SingleUse", "transactionAmount": "100", "callerReference": ref,
				"returnURL": sh.notifyURL() + "?" + fields.Encode(),
			})
			require.NoError(t, err)
			signed := buy(t, sim, forged, "ABT")
			require.Equal(t, ref, signed.Query().Get("callerReference"))

			status, body := post(t, sh.notifyURL(), signed.RawQuery)
			require.Equal(t, http.StatusForbidden, status, body)
			want := map[string]string{"default": "signature does not match", "local": "signature does not match",
				"remote": "GetTransaction answered InvalidTransactionId"}[verifier]
			require.Contains(t, sh.logged(), want)
			sh.requireUntouched(ref)
			realBuyerPays(t, sh, link, ref)
		})
	}
}

// TestStory2AnotherMerchantsNotifications: the attacker pays himself the
// order's amount under the order's callerReference, refunds it under
// another order's, and cancels his token, with his account's IPN URL set
// to the shop's: each genuinely signed notification is refused, as FPS,
// asked with the shop's keys, knows neither the transactions nor the
// token.
func TestStory2AnotherMerchantsNotifications(t *testing.T) {
	sim := attackSim(t)
	for _, verifier := range verifiers {
		t.Run(verifier, func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			link, ref := sh.link("100.00")
			_, other := sh.link("5.00") // another order of the shop, named by the attacker's refund
			token, txID := attackerPays(t, sim, ref, "100.00", sh.notifyURL())
			c := clientOf(t, sim, attackerAccount)
			_, err := c.Credit(ctx, usd("100.00"), fps.CreditOptions{TransactionID: txID, CallerReference: other})
			require.NoError(t, err)
			_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: token})
			require.NoError(t, err)

			for kind, match := range map[string]func(url.Values) bool{
				"PAY":    func(p url.Values) bool { return p.Get("operation") == "PAY" && p.Get("callerReference") == ref },
				"REFUND": func(p url.Values) bool { return p.Get("operation") == "REFUND" && p.Get("callerReference") == other },
				"TokenCancellation": func(p url.Values) bool {
					return p.Get("notificationType") == "TokenCancellation" && p.Get("callerReference") == ref
				},
			} {
				codes := answers(t, sim, sh.notifyURL(), match, 1)
				require.NotEmpty(t, codes, kind)
				for _, code := range codes {
					require.Equal(t, http.StatusForbidden, code, "%s: %v", kind, codes)
				}
			}
			require.Contains(t, sh.logged(), "GetTransaction answered InvalidTransactionId")
			require.Contains(t, sh.logged(), "GetTokenByCaller answered InvalidTokenId")
			require.NoError(t, sim.SetIPNURL(attackerAccount.AccessKeyID, ""))
			sh.requireUntouched(ref)
			o := sh.order(other)
			require.Equal(t, integration.OrderCreated, o.Status, "the order the refund named is untouched")
			realBuyerPays(t, sh, link, ref)
		})
	}
}

// TestStory3AnotherMerchantsReturn: the attacker's own pipeline with the
// order's callerReference and the shop's return URL brings a genuinely
// signed return to the shop. FPS holds no token (or another one) for the
// shop under that callerReference: the hook does not run, no Pay is
// sent, and the real buyer's payment goes through afterwards.
func TestStory3AnotherMerchantsReturn(t *testing.T) {
	sim := attackSim(t)
	attackersReturn := func(t *testing.T, sh *shop, ref string) *url.URL {
		link, err := clientOf(t, sim, attackerAccount).LinkURL(context.Background(), fps.PipelineFields{
			"pipelineName": "SingleUse", "transactionAmount": "100", "callerReference": ref, "returnURL": sh.URL + integration.ReturnPath,
		})
		require.NoError(t, err)
		return buy(t, sim, link, "ABT")
	}
	for _, verifier := range verifiers {
		t.Run(verifier+"/before the buyer", func(t *testing.T) {
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			link, ref := sh.link("100.00")
			for range 2 {
				status, body := get(t, attackersReturn(t, sh, ref).String())
				require.Equal(t, http.StatusForbidden, status, body)
			}
			require.Contains(t, sh.logged(), "GetTokenByCaller answered InvalidCallerReference")
			sh.requireUntouched(ref)
			require.Zero(t, sim.Ledger().ChargeCount(ref), "the attacker's return sent no Pay")
			realBuyerPays(t, sh, link, ref)
		})
		t.Run(verifier+"/after the buyer approved", func(t *testing.T) {
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			link, ref := sh.link("100.00")
			back := buy(t, sim, link, "ABT") // the buyer approved, and is on his way back
			status, body := get(t, attackersReturn(t, sh, ref).String())
			require.Equal(t, http.StatusForbidden, status, body)
			require.Contains(t, sh.logged(), "is not the return's")
			sh.requireUntouched(ref)

			status, body = get(t, back.String())
			require.Equal(t, http.StatusOK, status, body)
			sh.await(ref, integration.OrderPaid)
		})
	}
}

// TestStory4ReplaysAndReordering: the return loaded three times runs the
// hook once and then shows the order as it stands; a PENDING delivered
// after the SUCCESS, and the SUCCESS again, are kept (or recognised) and
// move nothing back, and the callback ran once.
func TestStory4ReplaysAndReordering(t *testing.T) {
	sim := newSim(t)
	for _, verifier := range verifiers {
		t.Run(verifier, func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			sh.hold.Store(true) // the IPNs are kept, to be delivered in another order
			link, ref := sh.link("19.99")
			back := buy(t, sim, link, "CC").String()
			var pages []string
			for range 3 {
				status, body := get(t, back)
				require.Equal(t, http.StatusOK, status, body)
				pages = append(pages, body)
			}
			require.True(t, strings.HasPrefix(pages[0], "thank you: "), pages[0])
			require.Equal(t, []string{"order " + ref + " is approved\n", "order " + ref + " is approved\n"}, pages[1:])
			require.Equal(t, 1, sim.Ledger().ChargeCount(ref))
			require.NoError(t, sim.CompletePending(ctx))
			require.Eventually(t, func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return len(sh.held) == 2 }, 10*time.Second, 10*time.Millisecond)
			sh.hold.Store(false)

			sh.mu.Lock()
			pending, success := sh.held[0], sh.held[1] // delivered in either order
			sh.mu.Unlock()
			if strings.Contains(pending, "transactionStatus=SUCCESS") {
				pending, success = success, pending
			}
			require.Contains(t, pending, "transactionStatus=PENDING")
			require.Contains(t, success, "transactionStatus=SUCCESS")
			for _, body := range []string{success, pending, success, pending} {
				status, answer := post(t, sh.notifyURL(), body)
				require.Equal(t, http.StatusOK, status, answer)
			}
			o := sh.order(ref)
			require.Equal(t, integration.OrderPaid, o.Status)
			h, err := sh.app().orders.History(ctx, ref)
			require.NoError(t, err)
			require.Len(t, h, 3)
			require.Equal(t, []integration.OrderStatus{integration.OrderApproved, integration.OrderPaid, integration.OrderPaid},
				[]integration.OrderStatus{h[0].To, h[1].To, h[2].To})
			require.False(t, h[2].Moved, "the late PENDING is kept and moves nothing")
			hooks, changes := sh.counts()
			require.Equal(t, 1, hooks)
			require.Len(t, changes, 1, "one change, one callback")
			require.Equal(t, integration.OrderPaid, changes[0].Entry.To)

			status, body := get(t, back)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "order "+ref+" is paid\n", body)
		})
	}
}

// TestStory5RestartBetweenCheckoutAndReturn: the shop restarts (a new
// AmazonFPS on the same database) while the buyer is at Amazon; his
// return and the IPNs find the order.
func TestStory5RestartBetweenCheckoutAndReturn(t *testing.T) {
	sim := newSim(t)
	for _, db := range databases {
		for _, verifier := range verifiers {
			t.Run(db+"/"+verifier, func(t *testing.T) {
				sh := newShop(t, sim, verifier, database(t, db))
				link, ref := sh.link("19.99")
				back := buy(t, sim, link, "CC")
				sh.restart()
				status, body := get(t, back.String())
				require.Equal(t, http.StatusOK, status, body)
				sh.await(ref, integration.OrderPending)
				sh.restart()
				require.NoError(t, sim.CompletePending(context.Background()))
				o := sh.await(ref, integration.OrderPaid)
				require.Equal(t, "19.99", o.Paid.String())
				hooks, _ := sh.counts()
				require.Equal(t, 1, hooks)
			})
		}
	}
}

// TestStory6CallbackFailureIsDeliveredAgain: the callback fails twice;
// the IPN is answered 500 each time, the error is logged on
// slog.Default() (the shop set no logger), Amazon delivers it again, and
// the callback runs until it succeeds, once.
func TestStory6CallbackFailureIsDeliveredAgain(t *testing.T) {
	var logged lockedBuffer
	defaultLogger := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(defaultLogger) })

	sim := newSim(t)
	for _, verifier := range verifiers {
		t.Run(verifier, func(t *testing.T) {
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			sh.noLogger = true
			sh.restart()
			sh.failNext = 2
			ref, res := sh.checkout("12.50", "ABT")
			sh.await(ref, integration.OrderPaid)
			codes := answers(t, sim, sh.notifyURL(), func(p url.Values) bool { return p.Get("transactionId") == res.TransactionID }, 1)
			require.Eventually(t, func() bool {
				codes = answers(t, sim, sh.notifyURL(), func(p url.Values) bool { return p.Get("transactionId") == res.TransactionID }, 1)
				return slices.Contains(codes, http.StatusOK)
			}, 10*time.Second, 20*time.Millisecond)
			require.Equal(t, []int{http.StatusInternalServerError, http.StatusInternalServerError, http.StatusOK}, codes)
			_, changes := sh.counts()
			require.Len(t, changes, 1)
			require.Contains(t, logged.String(), "IPN callback failed")
			require.Contains(t, logged.String(), "the warehouse is offline")

			// Delivered once more: the callback does not run again.
			body := ""
			for _, d := range sim.Deliveries() {
				if strings.Contains(d.Body, res.TransactionID) {
					body = d.Body
				}
			}
			status, _ := post(t, sh.notifyURL(), body)
			require.Equal(t, http.StatusOK, status)
			_, changes = sh.counts()
			require.Len(t, changes, 1)
		})
	}
}

// TestStory7TheStoreAnswers: the store finds an order by its
// callerReference and each refund's, by the id of each of its
// transactions, lists its transactions and gives its status, as it goes
// from paid to partly refunded to refunded.
func TestStory7TheStoreAnswers(t *testing.T) {
	sim := newSim(t)
	for _, verifier := range verifiers {
		t.Run(verifier, func(t *testing.T) {
			ctx := context.Background()
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			ref, pay := sh.checkout("30.00", "CC")
			require.NoError(t, sim.CompletePending(ctx))
			sh.await(ref, integration.OrderPaid)
			a := sh.app().a
			var refunds []*fps.Result
			for i, amount := range []string{"10.00", "20.00"} {
				r, err := a.Credit(ctx, usd(amount), fps.CreditOptions{TransactionID: pay.TransactionID, CallerReference: ref + "-refund-" + string(rune('1'+i))})
				require.NoError(t, err)
				require.NoError(t, sim.CompletePending(ctx))
				refunds = append(refunds, r)
				sh.await(ref, []integration.OrderStatus{integration.OrderPartlyRefunded, integration.OrderRefunded}[i])
			}
			st := a.Store()
			for _, r := range []string{ref, ref + "-refund-1", ref + "-refund-2"} {
				o, err := st.Order(ctx, r)
				require.NoError(t, err)
				require.Equal(t, ref, o.CallerReference, "the order of %s", r)
				require.Equal(t, integration.OrderRefunded, o.Status)
				require.Equal(t, "30", o.Paid.String())
				require.Equal(t, "30", o.Refunded.String())
				require.Equal(t, shopAccount.Email, o.RecipientEmail)
			}
			for _, id := range []string{pay.TransactionID, refunds[0].TransactionID, refunds[1].TransactionID} {
				o, err := st.OrderByTransaction(ctx, id)
				require.NoError(t, err)
				require.Equal(t, ref, o.CallerReference, "the order of transaction %s", id)
			}
			txs, err := st.Transactions(ctx, ref)
			require.NoError(t, err)
			require.Len(t, txs, 3)
			require.Equal(t, integration.Transaction{CallerReference: ref, ID: pay.TransactionID, Operation: fps.FPSOperationPay,
				Amount: fps.USD(usd("30")), Step: "PAY", Status: fps.TransactionStatusSuccess}, txs[0])
			for i, amount := range []string{"10", "20"} {
				require.Equal(t, integration.Transaction{CallerReference: ref + "-refund-" + string(rune('1'+i)), ID: refunds[i].TransactionID,
					Operation: fps.FPSOperationRefund, Amount: fps.USD(usd(amount)), ParentID: pay.TransactionID,
					Step: "REFUND", Status: fps.TransactionStatusSuccess}, txs[i+1])
			}
			_, err = st.Order(ctx, "never-issued")
			require.ErrorIs(t, err, integration.ErrUnknownOrder)
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// attackerServer is the attacker's https server: its TLS certificate is
// one the shop trusts (as a real attacker's would be, from a public CA),
// and it serves, as PKICert.pem, a self-signed certificate of the
// attacker's signing key.
type attackerServer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	fetches atomic.Int64
}

func newAttackerServer(t *testing.T, sim *fpstest.Server) *attackerServer {
	a := &attackerServer{key: msgtest.Key(t, 1)}
	self, _ := msgtest.NewCA(t, "fps.amazonaws.com", a.key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: self.Raw})
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fetches.Add(1)
		w.Write(certPEM)
	}))
	a.srv.TLS = sim.ServerTLSConfig()
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attackerServer) certURL() string { return a.srv.URL + "/certs/attacker/PKICert.pem" }

// TestForgedCertificatesRefused: messages signed with the attacker's key,
// their certificateUrl on the attacker's https server, are refused
// without the server being asked for its certificate; a verifier
// misconfigured to allow the attacker's host still refuses the
// certificate, whose chain leads to no trusted CA, and answers 503 (a
// certificate it cannot use now). Nothing is stored, no hook or callback
// runs.
func TestForgedCertificatesRefused(t *testing.T) {
	sim := attackSim(t)
	evil := newAttackerServer(t, sim)
	forged := func(method, endpoint string, params url.Values) string {
		return msgtest.Sign(t, evil.key, method, endpoint, evil.certURL(), params)
	}
	for _, verifier := range append(verifiers, "allowing the attacker's host") {
		t.Run(verifier, func(t *testing.T) {
			sh := newShop(t, sim, verifier, database(t, "sqlite"))
			if verifier == "allowing the attacker's host" {
				sh.custom = fps.NewLocalVerifierForClient(clientOf(t, sim, shopAccount), func(o *fps.LocalVerifierOptions) {
					o.RootCAs = sim.CAPool()
					o.AllowedHosts = append(o.AllowedHosts, evil.srv.Listener.Addr().String())
				})
				sh.restart()
			}
			_, ref := sh.link("12.50")
			before := evil.fetches.Load()
			ipn, _ := post(t, sh.notifyURL(), forged("POST", sh.notifyURL(), msgtest.PayParams(ref, "USD 12.50")))
			ret := url.Values{"status": {"SC"}, "tokenID": {"ATTACKERS-OWN-TOKEN"}, "callerReference": {ref}, "expiry": {"10/2030"}}
			back, _ := get(t, sh.URL+integration.ReturnPath+"?"+forged("GET", sh.URL+integration.ReturnPath, ret))
			if verifier == "allowing the attacker's host" {
				require.Equal(t, http.StatusServiceUnavailable, ipn)
				require.Equal(t, http.StatusServiceUnavailable, back)
				require.Positive(t, evil.fetches.Load()-before, "fetched, and refused")
				require.Contains(t, sh.logged(), "certificate unusable")
			} else {
				require.Equal(t, http.StatusForbidden, ipn)
				require.Equal(t, http.StatusForbidden, back)
				require.Equal(t, before, evil.fetches.Load(), "the attacker's server was never asked for its certificate")
			}
			sh.requireUntouched(ref)
		})
	}
}
