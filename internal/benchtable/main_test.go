package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTakesTheMedian(t *testing.T) {
	out := `goos: linux
BenchmarkPipelineURL-2   	  401871	      5304 ns/op	    1157 B/op	       5 allocs/op
BenchmarkPipelineURL-2   	  401871	      3000 ns/op	    1157 B/op	       5 allocs/op
BenchmarkPipelineURL-2   	  401871	      4000 ns/op	    1157 B/op	       5 allocs/op
BenchmarkSimulatorPay/callers-8-2         	    6571	    553332 ns/op	       331.0 answer-bytes	      1807 calls/s	   26264 B/op	     246 allocs/op
PASS`
	got := parse(strings.NewReader(out), true)
	require.Equal(t, result{ns: 4000, bytes: 1157, allocs: 5}, got["PipelineURL"])
	require.Equal(t, result{ns: 553332, bytes: 26264, allocs: 246}, got["SimulatorPay/callers-8"])
	require.Len(t, got, 2)
}

// Under -cpu 1 go test adds no suffix: "-8" is part of the name.
func TestParseWithoutSuffix(t *testing.T) {
	out := `BenchmarkPipelineURL    	  401871	      5304 ns/op	    1157 B/op	       5 allocs/op
BenchmarkSimulatorPay/callers-8         	    6571	    553332 ns/op	   26264 B/op	     246 allocs/op`
	got := parse(strings.NewReader(out), false)
	require.Equal(t, result{ns: 5304, bytes: 1157, allocs: 5}, got["PipelineURL"])
	require.Equal(t, result{ns: 553332, bytes: 26264, allocs: 246}, got["SimulatorPay/callers-8"])
	require.Len(t, got, 2)
}

func TestTop(t *testing.T) {
	require.Equal(t, "BenchmarkSimulatorPay", top("SimulatorPay/callers-8"))
	require.Equal(t, "BenchmarkPipelineURL", top("PipelineURL"))
}
