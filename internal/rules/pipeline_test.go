package rules

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTable checks what the checker relies on: every pipeline of
// PipelineNames is in the table and no other, fits the 64 bits of a
// Check, names each parameter once, and gives every kind a check.
func TestTable(t *testing.T) {
	var names []string
	for name := range pipelines {
		names = append(names, name)
	}
	require.ElementsMatch(t, PipelineNames, names)
	for _, name := range PipelineNames {
		p, e := LookupPipeline(name)
		require.Nil(t, e)
		require.Equal(t, name, p.Name)
		require.LessOrEqual(t, len(p.params), 64, name)
		require.Len(t, p.index, len(p.params), "%s names a parameter twice", name)
		for _, r := range p.params {
			require.NotEqual(t, "unknown kind", r.Kind.String(), r.Name)
			require.False(t, IsEnvelope(r.Name), r.Name)
			if _, paired := pairOf[r.Name]; paired {
				require.NotEqual(t, noPair, r.pair, r.Name)
			}
		}
	}
	_, e := LookupPipeline("")
	require.Equal(t, &Error{Field: "pipelineName", Rule: "is required"}, e)
	_, e = LookupPipeline("singleUse")
	require.Equal(t, "pipelineName", e.Field)
	require.True(t, slices.Contains(Envelope, "signature"))
}
