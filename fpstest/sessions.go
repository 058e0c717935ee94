package fpstest

import (
	"net/url"
	"sync"
)

// pipeline is a pipeline request waiting for the buyer.
type pipeline struct {
	id        string
	owner     string     // the caller's access key id
	name      string     // pipelineName
	q         url.Values // the checked request
	returnURL *url.URL
	methods   []string // the payment methods the buyer may choose
	seq       uint64   // order of start, for forgetting the oldest
}

// maxOpenPipelines bounds the pipelines that wait for their buyer at once
// (every page view of a start URL opens one; a buyer who walks away never
// closes it).
const maxOpenPipelines = 10000

// sessions are the pipelines waiting for their buyer, at most max; past
// that the oldest is forgotten, and its page then answers
// ErrUnknownPipeline, as one already answered does. It is safe for
// concurrent use.
type sessions struct {
	mu   sync.Mutex
	open map[string]*pipeline
	max  int
	seq  uint64 // numbers the pipelines in the order they started
}

func newSessions(max int) *sessions {
	return &sessions{open: map[string]*pipeline{}, max: max}
}

// add keeps p until its buyer answers.
func (ss *sessions) add(p *pipeline) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.open) >= ss.max {
		var oldest *pipeline
		for _, q := range ss.open {
			if oldest == nil || q.seq < oldest.seq {
				oldest = q
			}
		}
		delete(ss.open, oldest.id)
	}
	ss.seq++
	p.seq = ss.seq
	ss.open[p.id] = p
}

// get returns the pipeline id, still waiting.
func (ss *sessions) get(id string) (*pipeline, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p, ok := ss.open[id]
	return p, ok
}

// take ends the pipeline id; it reports false when it was no longer
// waiting (answered meanwhile, or forgotten).
func (ss *sessions) take(id string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.open[id]
	delete(ss.open, id)
	return ok
}

// len returns how many pipelines wait.
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.open)
}
