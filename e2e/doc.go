// Package e2e holds the browser tests of the examples. It is a module of
// its own, so that the library's go.mod does not require a browser
// driver: run them with
//
//	cd e2e && go test ./...
//
// They need Chromium (Debian's chromium package); without it they are
// skipped, and under CI they fail. Screenshots of each page go to
// $FPS_ARTIFACTS (a relative path is taken from the repository root),
// else to a temporary folder.
package e2e
