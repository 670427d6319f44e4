package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25 in a real browser: from a contact's profile an admin opens
// the merge page, finds the other contact by name, reads the side-by-side
// preview, confirms, and lands on the kept contact's profile, which now
// lists both channel identities.
func TestBrowserMergeContacts(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Rithy")
	ws := c.createWorkspace("Rithy's Rice")
	keep := s.mergeContact(t, ws, "Hello from the first page", "Dara", "Sok", "VIP")
	gone := s.mergeContact(t, ws, "Hello from the second page", "Dara", "Sam", "Lead")
	s.mergeContact(t, ws, "Someone else", "Bopha", "Chan")
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	profile := "/w/" + ws + "/contacts/" + keep.id
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+profile),
		chromedp.Click(chromedp.CSS("a.merge-link"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#merge-q")),
		chromedp.SendKeys(chromedp.CSS("#merge-q"), "sam", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `document.querySelectorAll(".merge-candidates li").length === 1 && !!document.querySelector('.merge-candidates a[href$="with=`+gone.id+`"]')`)
	browser.Screenshot(t, ctx, "merge-pick")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".merge-candidates a"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".merge-preview")),
	)
	merged := text(t, ctx, "#merged-channels")
	if !strings.Contains(merged, keep.channel.Name) || !strings.Contains(merged, gone.channel.Name) {
		t.Errorf("the preview's merged channels are %q", merged)
	}
	browser.Screenshot(t, ctx, "merge-preview")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#merge-confirm"), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.merge-confirm button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `location.pathname === "`+profile+`" && document.querySelectorAll(".identities li").length === 2`)
	ids := text(t, ctx, ".identities")
	if !strings.Contains(ids, keep.channel.Name) || !strings.Contains(ids, gone.channel.Name) {
		t.Errorf("the kept contact's identities read %q", ids)
	}
	browser.Screenshot(t, ctx, "merge-done")
}
