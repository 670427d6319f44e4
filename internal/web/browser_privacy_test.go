package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-32: the public privacy, instructions and deletion status pages
// in a real browser with the strict CSP: a person types the confirmation
// code Meta showed them and sees the request's state; an unknown code gets
// the neutral answer.
func TestBrowserPrivacyPages(t *testing.T) {
	s := start(t, dbtest.SQLite(t), withOperator())
	code := deletionCode(t, s, "5551234000")
	ctx := browser.New(t)

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/privacy"), chromedp.WaitVisible(chromedp.CSS("article h1")))
	if got := text(t, ctx, "article"); !strings.Contains(got, "Sunrise Hosting Ltd") {
		t.Errorf("privacy page does not name the operator: %q", got)
	}
	browser.Screenshot(t, ctx, "privacy")

	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/data-deletion/instructions"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/data-deletion"]`)))
	if got := text(t, ctx, "h1"); got != "Deleting your data" {
		t.Errorf("instructions heading %q", got)
	}
	browser.Screenshot(t, ctx, "deletion-instructions")

	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/data-deletion"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/data-deletion"]`)))
	fill(t, ctx, `form[action="/data-deletion"]`, map[string]string{"#code": code})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#deletion-state")))
	if got := text(t, ctx, "#deletion-state"); !strings.Contains(got, "Received") {
		t.Errorf("state %q, want received (the jobs are not running)", got)
	}
	browser.Screenshot(t, ctx, "deletion-status")

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/data-deletion?code=nosuchcode"), chromedp.WaitVisible(chromedp.CSS("#deletion-unknown")))
	browser.Screenshot(t, ctx, "deletion-unknown")
}
