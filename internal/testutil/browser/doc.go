// Package browser drives a headless Debian Chromium from `go test`, for the
// dashboard's end-to-end tests: New starts a fresh browser per test (its own
// profile in t.TempDir(), no network chatter), Do and Run fail the test with
// the page's address and a screenshot when a step breaks, Screenshot saves
// full-page PNGs under the calling package's testdata/output/, and every
// console error, uncaught exception or Content-Security-Policy violation the
// page reports fails the test.
//
// Without Chromium the tests skip, except under CI=true, where they fail:
// CI must prove the dashboard in a real browser (scripts/test.sh installs
// it).
//
// browser is a test helper: it imports chromedp and the standard library
// only, and no production package may import it.
package browser
