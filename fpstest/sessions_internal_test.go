package fpstest

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenPipelinesBounded: past the bound of pipelines waiting for their
// buyer, the oldest is forgotten; the others are still answered.
func TestOpenPipelinesBounded(t *testing.T) {
	s := NewServer(t, func(c *Config) { c.PlainHTTP = true })
	ret, err := url.Parse("http://127.0.0.1:9/r")
	require.NoError(t, err)
	s.sessions = newSessions(2)
	ps := make([]*pipeline, 3)
	for i := range ps {
		ps[i] = &pipeline{id: newID(32), owner: DefaultAccessKeyID, name: "SingleUse", q: url.Values{}, returnURL: ret, methods: []string{"ABT"}}
		s.sessions.add(ps[i])
	}
	require.Equal(t, 2, s.sessions.len())

	_, err = s.decide(ps[0].id, BuyerChoice{Action: Abandon})
	require.ErrorIs(t, err, ErrUnknownPipeline, "the oldest pipeline is forgotten")
	for _, p := range ps[1:] {
		u, err := s.decide(p.id, BuyerChoice{Action: Abandon})
		require.NoError(t, err)
		require.Equal(t, "A", u.Query().Get("status"))
	}
}
