package fps

import (
	"context"
	"errors"
)

// GetAccountActivityAPIClient is a client that implements the
// GetAccountActivity action: *Client, or a fake in tests.
type GetAccountActivityAPIClient interface {
	GetAccountActivity(context.Context, *GetAccountActivityInput, ...func(*Options)) (*GetAccountActivityOutput, error)
}

// GetAccountActivityPaginatorOptions configures a
// GetAccountActivityPaginator.
type GetAccountActivityPaginatorOptions struct {
	// Limit is the MaxBatchSize of each page; 0 keeps the input's.
	Limit int
}

// GetAccountActivityPaginator pages through GetAccountActivity. FPS ends
// a page at MaxBatchSize transactions and answers the date of the next
// one, StartTimeForNextTransaction; the paginator asks for the next page
// from there: as StartDate when SortOrderByDate is Ascending, as EndDate
// otherwise (Descending, FPS's default, pages back in time). It stops
// when FPS gives no next date, or gives the very date the page was asked
// from: more transactions than MaxBatchSize share that instant, and
// asking again would answer the same page forever (a larger MaxBatchSize
// reaches them).
type GetAccountActivityPaginator struct {
	client GetAccountActivityAPIClient
	params GetAccountActivityInput // the next page's
	done   bool
}

// NewGetAccountActivityPaginator returns a paginator over the activity
// params asks for, which it copies (nil is the zero input, refused for
// its missing StartDate by the first NextPage).
func NewGetAccountActivityPaginator(client GetAccountActivityAPIClient, params *GetAccountActivityInput, optFns ...func(*GetAccountActivityPaginatorOptions)) *GetAccountActivityPaginator {
	var o GetAccountActivityPaginatorOptions
	for _, fn := range optFns {
		fn(&o)
	}
	p := &GetAccountActivityPaginator{client: client}
	if params != nil {
		p.params = *params
	}
	if o.Limit > 0 {
		p.params.MaxBatchSize = o.Limit
	}
	return p
}

// HasMorePages reports whether NextPage has a page to fetch: true before
// the first page, then as long as FPS named where the next one starts.
func (p *GetAccountActivityPaginator) HasMorePages() bool { return !p.done }

// ErrNoMorePages is returned by a paginator's NextPage called when
// HasMorePages is false.
var ErrNoMorePages = errors.New("fps: no more pages")

// NextPage fetches the next page, calling GetAccountActivity with optFns.
// After an error the paginator stays where it was, so NextPage may be
// called again for the same page.
func (p *GetAccountActivityPaginator) NextPage(ctx context.Context, optFns ...func(*Options)) (*GetAccountActivityOutput, error) {
	if !p.HasMorePages() {
		return nil, ErrNoMorePages
	}
	in := p.params
	out, err := p.client.GetAccountActivity(ctx, &in, optFns...)
	if err != nil {
		return nil, err
	}
	next := out.StartTimeForNextTransaction
	from := &p.params.EndDate
	if p.params.SortOrderByDate == SortAscending {
		from = &p.params.StartDate
	}
	if next.IsZero() || next.Equal(*from) {
		p.done = true
		return out, nil
	}
	*from = next
	return out, nil
}
