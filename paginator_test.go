package fps_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fpskit/fps"
	"github.com/fpskit/fps/fpstest"
	"github.com/stretchr/testify/require"
)

// pages runs p to the end (at most 100 pages) and returns the transaction
// ids of each page.
func pages(t *testing.T, p *fps.GetAccountActivityPaginator) [][]string {
	t.Helper()
	var got [][]string
	for p.HasMorePages() {
		require.Less(t, len(got), 100, "the paginator does not stop")
		out, err := p.NextPage(context.Background())
		require.NoError(t, err)
		var ids []string
		for _, tx := range out.Transactions {
			ids = append(ids, tx.TransactionID)
		}
		got = append(got, ids)
	}
	_, err := p.NextPage(context.Background())
	require.ErrorIs(t, err, fps.ErrNoMorePages)
	return got
}

// The paginator follows StartTimeForNextTransaction in both orders and
// sees every transaction once, the input it was given untouched.
func TestGetAccountActivityPaginator(t *testing.T) {
	s, c, _ := simulator(t)
	start := s.Clock().Now().Add(-time.Minute)
	token := multiUse(t, s, c, "100", "ABT")
	var oldestFirst []string
	for range 7 {
		oldestFirst = append(oldestFirst, pay(t, c, token, "1").TransactionID)
		s.Clock().Advance(400 * time.Millisecond)
	}
	newestFirst := make([]string, len(oldestFirst))
	for i, id := range oldestFirst {
		newestFirst[len(oldestFirst)-1-i] = id
	}

	in := &fps.GetAccountActivityInput{StartDate: start, SortOrderByDate: fps.SortAscending, MaxBatchSize: 3}
	got := pages(t, fps.NewGetAccountActivityPaginator(c, in))
	require.Equal(t, [][]string{oldestFirst[:3], oldestFirst[3:6], oldestFirst[6:]}, got)
	require.Equal(t, &fps.GetAccountActivityInput{StartDate: start, SortOrderByDate: fps.SortAscending, MaxBatchSize: 3}, in)

	// FPS's default order is newest first: the pages go back in time.
	got = pages(t, fps.NewGetAccountActivityPaginator(c, &fps.GetAccountActivityInput{StartDate: start},
		func(o *fps.GetAccountActivityPaginatorOptions) { o.Limit = 4 }))
	require.Equal(t, [][]string{newestFirst[:4], newestFirst[4:]}, got)

	// One page when everything fits.
	got = pages(t, fps.NewGetAccountActivityPaginator(c, &fps.GetAccountActivityInput{StartDate: start}))
	require.Equal(t, [][]string{newestFirst}, got)
}

// When more transactions than a page holds share one instant, FPS names
// that instant again; the paginator stops instead of asking for the same
// page forever.
func TestGetAccountActivityPaginatorStopsOnARepeatedStart(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s, c, _ := simulator(t, func(cfg *fpstest.Config) { cfg.Clock = func() time.Time { return now } })
	token := multiUse(t, s, c, "100", "ABT")
	for range 5 {
		pay(t, c, token, "1")
	}
	got := pages(t, fps.NewGetAccountActivityPaginator(c, &fps.GetAccountActivityInput{
		StartDate: now.Add(-time.Minute), SortOrderByDate: fps.SortAscending, MaxBatchSize: 2,
	}))
	require.Len(t, got, 2, "the first page, then the page from the shared instant, which names it again")
	require.Equal(t, got[0], got[1])
}

// A page that fails is asked for again by the next NextPage; a refused
// input is refused before anything is sent.
func TestGetAccountActivityPaginatorErrors(t *testing.T) {
	_, c, ctx := simulator(t)
	p := fps.NewGetAccountActivityPaginator(c, nil)
	_, err := p.NextPage(ctx)
	var ve *fps.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "StartDate", ve.Field)
	require.True(t, p.HasMorePages())

	fake := &flakyActivity{}
	p = fps.NewGetAccountActivityPaginator(fake, &fps.GetAccountActivityInput{StartDate: time.Unix(1000, 0)})
	_, err = p.NextPage(ctx)
	require.Error(t, err)
	require.True(t, p.HasMorePages())
	out, err := p.NextPage(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, out.BatchSize)
	require.False(t, p.HasMorePages())
	require.Equal(t, []time.Time{{}, {}}, fake.endDates, "the same page asked twice")
}

// flakyActivity fails its first call, then answers a last page.
type flakyActivity struct{ endDates []time.Time }

func (f *flakyActivity) GetAccountActivity(_ context.Context, in *fps.GetAccountActivityInput, _ ...func(*fps.Options)) (*fps.GetAccountActivityOutput, error) {
	f.endDates = append(f.endDates, in.EndDate)
	if len(f.endDates) == 1 {
		return nil, errors.New("connection reset")
	}
	return &fps.GetAccountActivityOutput{BatchSize: 1}, nil
}
