package fpstest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// memStore is a Store in memory, that can be made to fail: fail fails
// Save, failRead the others.
type memStore struct {
	mu       sync.Mutex
	records  map[recordRef]Record
	fail     error
	failRead error
}

func newMemStore() *memStore { return &memStore{records: map[recordRef]Record{}} }

func (m *memStore) Load(fn func(Record) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRead != nil {
		return m.failRead
	}
	for _, r := range m.records {
		if !r.Live {
			continue
		}
		r.Data = slices.Clone(r.Data)
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Save(records []Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for _, r := range records {
		if r.Data == nil {
			delete(m.records, recordRef{kind: r.Kind, key: r.Key})
		} else {
			r.Data = slices.Clone(r.Data)
			m.records[recordRef{kind: r.Kind, key: r.Key}] = r
		}
	}
	return nil
}

func (m *memStore) Get(kind, key string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failRead != nil {
		return Record{}, false, m.failRead
	}
	r, ok := m.records[recordRef{kind: kind, key: key}]
	r.Data = slices.Clone(r.Data)
	return r, ok, nil
}

func (m *memStore) Find(q Query, fn func(Record) error) error {
	m.mu.Lock()
	if m.failRead != nil {
		m.mu.Unlock()
		return m.failRead
	}
	var found []Record
	for _, r := range m.records {
		if q.Matches(r) {
			r.Data = slices.Clone(r.Data)
			found = append(found, r)
		}
	}
	m.mu.Unlock()
	sortRecords(found)
	for _, r := range found {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// kept returns how many records of kind m holds.
func (m *memStore) kept(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for ref := range m.records {
		if ref.kind == kind {
			n++
		}
	}
	return n
}

// snapshot encodes the whole state of the ledger as its methods read it:
// every transaction, token, subscription, instrument, account, kept
// answer and approval, the balances and the clock; and what it holds in
// memory (resident) and which transactions are Pending.
func (l *Ledger) snapshot() map[string]string {
	l.lock()
	defer l.unlock()
	now := l.cfg.clock()
	out := map[string]string{}
	add := func(ref recordRef) {
		r := l.record(ref, now)
		out[ref.kind+"/"+ref.key] = string(r.Data)
	}
	add(recordRef{kind: recordBuyer, key: "abt"})
	add(recordRef{kind: recordClock, key: "offset"})
	add(recordRef{kind: recordKeys, key: "simulator"})
	for k := range l.accounts {
		add(recordRef{kind: recordAccount, key: k})
	}
	for k := range l.instruments {
		add(recordRef{kind: recordInstrument, key: k})
	}
	var order, pending, resident []string
	for _, t := range l.findTxs(Query{}) {
		out["tx/"+t.id] = string(mustJSON(t.record()))
		order = append(order, t.id)
	}
	for t := range l.pending {
		pending = append(pending, t.id)
	}
	for _, t := range l.findTokens(Query{}) {
		out["token/"+t.id] = string(mustJSON(t.record()))
	}
	for id := range l.txs {
		resident = append(resident, "tx/"+id)
	}
	for id := range l.tokens {
		resident = append(resident, "token/"+id)
	}
	for id, s := range l.subscriptions {
		resident = append(resident, "subscription/"+id)
		out["subscription/"+id] = string(mustJSON(s.record()))
	}
	if l.store != nil {
		for _, kind := range []string{recordAnswer, recordSettle, recordApproval, recordSubscription} {
			l.find(Query{Kind: kind}, func(r Record) error {
				out[r.Kind+"/"+r.Key] = string(r.Data)
				return nil
			})
		}
	}
	slices.Sort(pending)
	slices.Sort(resident)
	out["order"], out["pending"], out["resident"] = strings.Join(order, " "), strings.Join(pending, " "), strings.Join(resident, " ")
	return out
}

// exercise changes every part of the ledger through the client: tokens
// of every pipeline, payments of every kind in every state, refunds,
// cancels, instruments, kept answers, the clock, the IPN URL.
func exercise(t *testing.T, s *Server, ipnURL string) {
	ctx := context.Background()
	c := s.Client(t)
	usd := func(v string) fps.Amount { return fps.USD(decimal.RequireFromString(v)) }
	buy := func(p fps.Pipeline, method string) *fps.PipelineReturn {
		link, err := c.PipelineURL(ctx, p)
		require.NoError(t, err)
		u, err := s.Buy(ctx, link, BuyerChoice{Action: Approve, PaymentMethod: method})
		require.NoError(t, err)
		ret, err := fps.ParsePipelineReturn(u.Query())
		require.NoError(t, err)
		return ret
	}
	common := func(ref string) fps.PipelineCommon {
		return fps.PipelineCommon{ReturnURL: "https://shop.example/return", CallerReference: ref}
	}
	require.NoError(t, s.SetIPNURL(DefaultAccessKeyID, ipnURL))
	multi := buy(&fps.MultiUsePipeline{PipelineCommon: common("st-multi"), GlobalAmountLimit: decimal.NewFromInt(500),
		UsageLimit1: fps.UsageLimit{Type: fps.UsageLimitCount, Value: decimal.NewFromInt(20), Period: "1 Week"}}, "ABT").TokenID
	cc := buy(&fps.MultiUsePipeline{PipelineCommon: common("st-cc"), GlobalAmountLimit: decimal.NewFromInt(500)}, "CC").TokenID
	single := buy(&fps.SingleUsePipeline{PipelineCommon: common("st-single"), TransactionAmount: decimal.NewFromInt(9)}, "ABT").TokenID

	pay := func(token, amount, ref string) string {
		out, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: token, TransactionAmount: usd(amount), CallerReference: ref, CallerDescription: "d " + ref})
		require.NoError(t, err)
		return out.TransactionID
	}
	paid := pay(multi, "20", "st-pay-1")
	pay(single, "9", "st-pay-single")
	_, err := c.Refund(ctx, &fps.RefundInput{TransactionID: paid, RefundAmount: usd("5"), CallerReference: "st-refund-1"})
	require.NoError(t, err)
	pendingPay := pay(cc, "7", "st-pay-cc") // stays Pending
	_ = pendingPay
	cancelled := pay(cc, "8", "st-pay-cc-cancel")
	_, err = c.Cancel(ctx, &fps.CancelInput{TransactionID: cancelled})
	require.NoError(t, err)
	res, err := c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("30"), CallerReference: "st-reserve"})
	require.NoError(t, err)
	_, err = c.Settle(ctx, &fps.SettleInput{ReserveTransactionID: res.TransactionID, TransactionAmount: usd("25")})
	require.NoError(t, err)
	_, err = c.Reserve(ctx, &fps.ReserveInput{SenderTokenID: multi, TransactionAmount: usd("3"), CallerReference: "st-reserve-open"})
	require.NoError(t, err)
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: "NOSUCHTOKEN", TransactionAmount: usd("1"), CallerReference: "st-error"})
	require.Error(t, err) // an error answer is kept too

	_, err = c.InstallPaymentInstruction(ctx, &fps.InstallPaymentInstructionInput{PaymentInstruction: "MyRole == 'Caller';",
		CallerReference: "st-ipi", TokenType: fps.TokenTypeUnrestricted, TokenFriendlyName: "friend"})
	require.NoError(t, err)
	_, err = c.CancelToken(ctx, &fps.CancelTokenInput{TokenID: cc})
	require.NoError(t, err)

	pre := buy(&fps.SetupPrepaidPipeline{PipelineCommon: common("st-pre"), CallerReferenceSender: "st-pre-s",
		CallerReferenceFunding: "st-pre-f", FundingAmount: decimal.NewFromInt(40)}, "ABT")
	_, err = c.FundPrepaid(ctx, &fps.FundPrepaidInput{SenderTokenID: pre.FundingTokenID, PrepaidInstrumentID: pre.PrepaidInstrumentID,
		FundingAmount: usd("40"), CallerReference: "st-fund"})
	require.NoError(t, err)
	pay(pre.PrepaidSenderTokenID, "10", "st-prepaid-pay")
	post := buy(&fps.SetupPostpaidPipeline{PipelineCommon: common("st-post"), CallerReferenceSender: "st-post-s",
		CallerReferenceSettlement: "st-post-st", CreditLimit: decimal.NewFromInt(100), GlobalAmountLimit: decimal.NewFromInt(100)}, "ABT")
	pay(post.CreditSenderTokenID, "30", "st-debt-pay")
	_, err = c.SettleDebt(ctx, &fps.SettleDebtInput{SenderTokenID: post.SettlementTokenID, CreditInstrumentID: post.CreditInstrumentID,
		SettlementAmount: usd("10"), CallerReference: "st-settle-debt"})
	require.NoError(t, err)
	_, err = c.WriteOffDebt(ctx, &fps.WriteOffDebtInput{CreditInstrumentID: post.CreditInstrumentID, AdjustmentAmount: usd("5"),
		CallerReference: "st-write-off"})
	require.NoError(t, err)

	monthly := Subscription{Description: "st-sub", Amount: decimal.NewFromInt(6), Frequency: fps.Duration{Value: 1, TimeUnit: fps.TimeUnitMonth}}
	_, err = s.Ledger().Subscribe(DefaultAccessKeyID, monthly)
	require.NoError(t, err)
	ended, err := s.Ledger().Subscribe(DefaultAccessKeyID, monthly)
	require.NoError(t, err)
	_, err = c.CancelSubscriptionAndRefund(ctx, &fps.CancelSubscriptionAndRefundInput{SubscriptionID: ended, CallerReference: "st-sub-cancel"})
	require.NoError(t, err)
	s.Clock().Advance(3 * time.Hour)
}

// TestStateSurvivesARestart: a simulator started on the Store of another
// has the same ledger, in every record, and continues it.
func TestStateSurvivesARestart(t *testing.T) {
	ipn := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ipn.Close()
	st := newMemStore()
	cfg := func(c *Config) { c.State, c.PendingDelay, c.PlainHTTP = st, -1, true }
	s1 := NewServer(t, cfg)
	exercise(t, s1, ipn.URL)
	before := s1.ledger.snapshot()
	balance := s1.Ledger().Balance(DefaultAccessKeyID)
	s1.Close()

	s2 := NewServer(t, cfg)
	require.Equal(t, before, s2.ledger.snapshot())
	require.WithinDuration(t, time.Now().Add(3*time.Hour), s2.Clock().Now(), time.Minute, "the clock's offset is kept")
	require.Contains(t, before["account/"+DefaultAccessKeyID], ipn.URL, "the IPN URL is kept")
	require.Contains(t, before["resident"], "subscription/", "the active subscription is in memory")
	require.Equal(t, s1.CAPEM(), s2.CAPEM(), "the same CA")
	require.True(t, s1.PublicKey().Equal(s2.PublicKey()), "the same signing key")
	require.Equal(t, strings.TrimPrefix(s1.CertificateURL(), s1.URL), strings.TrimPrefix(s2.CertificateURL(), s2.URL))

	// It continues: the same request answers as before, the token pays,
	// the Pending payment completes.
	ctx := context.Background()
	c := s2.Client(t)
	tok, err := c.GetTokenByCaller(ctx, &fps.GetTokenByCallerInput{CallerReference: "st-multi"})
	require.NoError(t, err)
	again, err := c.Pay(ctx, &fps.PayInput{SenderTokenID: tok.Token.TokenID, TransactionAmount: fps.USD(decimal.NewFromInt(20)),
		CallerReference: "st-pay-1", CallerDescription: "d st-pay-1"})
	require.NoError(t, err)
	require.Equal(t, 1, s2.Ledger().ChargeCount("st-pay-1"))
	tx, ok := s2.Ledger().Transaction(again.TransactionID)
	require.True(t, ok)
	require.Equal(t, "st-pay-1", tx.CallerReference)
	_, err = c.Pay(ctx, &fps.PayInput{SenderTokenID: tok.Token.TokenID, TransactionAmount: fps.USD(decimal.NewFromInt(2)), CallerReference: "st-after"})
	require.NoError(t, err)
	require.NoError(t, s2.CompletePending(ctx))
	require.True(t, s2.Ledger().Balance(DefaultAccessKeyID).GreaterThan(balance))
}

// A change the Store could not keep is answered InternalError; the same
// request, once the Store works again, is answered from the ledger.
func TestUnsavedChangeIsInternalError(t *testing.T) {
	st := newMemStore()
	s := NewServer(t, func(c *Config) { c.State, c.PlainHTTP = st, true })
	tok, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenMultiUse, "ABT", "unsaved", decimal.Zero)
	require.NoError(t, err)
	c := s.Client(t, func(o *fps.Options) { o.MaxAttempts = 1 })
	in := &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(3)), CallerReference: "unsaved-1"}

	st.mu.Lock()
	st.fail = errors.New("disk full")
	st.mu.Unlock()
	_, err = c.Pay(context.Background(), in)
	var apiErr *fps.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "InternalError", string(apiErr.Code))

	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	out, err := c.Pay(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, 1, s.Ledger().ChargeCount("unsaved-1"))
	st.mu.Lock()
	_, kept := st.records[recordRef{kind: recordTx, key: out.TransactionID}]
	st.mu.Unlock()
	require.True(t, kept)
}

func TestStateOfAnotherFormatIsRefused(t *testing.T) {
	st := newMemStore()
	st.records[recordRef{kind: recordMeta, key: "format"}] = Record{Kind: recordMeta, Key: "format", Data: []byte("999")}
	_, err := Start(Config{State: st, PlainHTTP: true})
	require.ErrorIs(t, err, errStateFormat)
}

// A call during which the Store cannot be read is answered InternalError,
// and changes nothing: a replayed Pay whose answer is in the Store alone
// does not pay again, a completed payment is not reported unknown.
func TestUnreadStateIsInternalError(t *testing.T) {
	st := newMemStore()
	s := NewServer(t, func(c *Config) { c.State, c.PlainHTTP = st, true })
	tok, err := s.Ledger().InstallToken(DefaultAccessKeyID, TokenMultiUse, "ABT", "unread", decimal.Zero)
	require.NoError(t, err)
	c := s.Client(t, func(o *fps.Options) { o.MaxAttempts = 1 })
	ctx := context.Background()
	in := &fps.PayInput{SenderTokenID: tok, TransactionAmount: fps.USD(decimal.NewFromInt(3)), CallerReference: "unread-1"}
	first, err := c.Pay(ctx, in)
	require.NoError(t, err)
	balance := s.Ledger().Balance(DefaultAccessKeyID)

	st.mu.Lock()
	st.failRead = errors.New("I/O error")
	st.mu.Unlock()
	requireInternal := func(err error) {
		t.Helper()
		var apiErr *fps.APIError
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, "InternalError", string(apiErr.Code))
	}
	_, err = c.Pay(ctx, in)
	requireInternal(err)
	_, err = c.GetTransaction(ctx, &fps.GetTransactionInput{TransactionID: first.TransactionID})
	requireInternal(err)

	st.mu.Lock()
	st.failRead = nil
	st.mu.Unlock()
	again, err := c.Pay(ctx, in)
	require.NoError(t, err)
	require.Equal(t, first.TransactionID, again.TransactionID)
	require.Equal(t, 1, s.Ledger().ChargeCount("unread-1"))
	require.True(t, balance.Equal(s.Ledger().Balance(DefaultAccessKeyID)))
}
