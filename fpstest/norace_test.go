//go:build !race

package fpstest_test

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = false
