package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 in a real browser, with the strict CSP on: an admin opens
// Settings → Canned responses from the sidebar, sees the empty state, adds
// a response (a taken shortcut first, explained on the field with what was
// typed kept), sees it listed as "/shortcut" and finds it with the search
// box. Screenshots land in testdata/output/.
func TestBrowserCannedResponses(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Sophea")
	ws := c.createWorkspace("Sophea's Silk")
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/canned-responses"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#canned-shortcut")),
	)
	if got := text(t, ctx, ".empty-state h3"); got != "No canned responses yet" {
		t.Errorf("the empty state says %q", got)
	}
	browser.Screenshot(t, ctx, "canned-empty")

	form := `form[action$="/settings/canned-responses"][method="post"]`
	fill(t, ctx, form, map[string]string{
		"#canned-shortcut": "/thanks", "#canned-title": "Thank you",
		"#canned-body": "Thank you {{contact.first_name|there}}! Your order is on its way.",
	})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#canned-list .canned-shortcut")))
	if got := text(t, ctx, "#canned-list .list-row"); !strings.Contains(got, "/thanks") || !strings.Contains(got, "Thank you") {
		t.Errorf("the list shows %q", got)
	}
	if got := text(t, ctx, ".alert-success"); !strings.Contains(got, "/thanks") {
		t.Errorf("the notice says %q", got)
	}

	// The same shortcut again: refused on the field, the rest kept.
	fill(t, ctx, form, map[string]string{"#canned-shortcut": "THANKS", "#canned-title": "Again", "#canned-body": "Once more"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#canned-shortcut-error")))
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS("#canned-body"))); got != "Once more" {
		t.Errorf("after the refusal the reply box holds %q", got)
	}
	browser.Screenshot(t, ctx, "canned-error")
	browser.Do(t, ctx,
		chromedp.Clear(chromedp.CSS("#canned-shortcut")),
		chromedp.SendKeys(chromedp.CSS("#canned-shortcut"), "hours", chromedp.NodeVisible),
		chromedp.Clear(chromedp.CSS("#canned-title")),
		chromedp.SendKeys(chromedp.CSS("#canned-title"), "Opening hours", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `document.querySelectorAll("#canned-list .list-row").length === 2`)
	browser.Screenshot(t, ctx, "canned")

	// Search.
	fill(t, ctx, `form[role="search"]`, map[string]string{"#canned-q": "open"})
	until(t, ctx, `document.querySelectorAll("#canned-list .list-row").length === 1`)
	if got := text(t, ctx, "#canned-list .canned-shortcut"); got != "/hours" {
		t.Errorf("searching for open finds %q", got)
	}
	if list, err := s.Canned.List(t.Context(), ws, "", 0); err != nil || len(list) != 2 {
		t.Errorf("stored: %+v, %v", list, err)
	}
}
