package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 item 5 in a real browser, with the strict CSP on: "/" focuses
// the search box at the top of the page; a customer's Khmer message is
// found by a Khmer word inside it (the match marked, a link to the
// conversation), and a contact named in Latin letters by part of the name
// (a link to the profile, which opens).
func TestBrowserSearch(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Chenda")
	ws := c.createWorkspace("Chenda's Clothes")
	conv, _ := s.seedPerson(t, ws, "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ", "Srey", "Pov")
	_, latin := s.seedPerson(t, ws, "Hello, do you deliver?", "Sokha", "Chan")
	s.indexAll(t)
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	browser.Do(t, ctx, key("/"))
	until(t, ctx, `document.activeElement && document.activeElement.id === "chrome-search-q"`)
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#chrome-search-q"), "អាវ"), key("\r"))
	until(t, ctx, `!!document.querySelector('.search-messages a[href="/w/`+ws+`/conversations/`+conv+`"]')`)
	if got := text(t, ctx, ".search-snippet mark"); got != "អាវ" {
		t.Errorf("the marked match is %q", got)
	}
	browser.Screenshot(t, ctx, "search-khmer")

	// htmx keeps the box focused across the swap: leave it, as a person
	// reading the results has, then "/" comes back to it.
	browser.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`), key("/"))
	until(t, ctx, `document.activeElement && document.activeElement.id === "chrome-search-q"`)
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#chrome-search-q"), "okha ch"), key("\r"))
	until(t, ctx, `!!document.querySelector('.search-contacts a[href="/w/`+ws+`/contacts/`+latin+`"]')`)
	if got := text(t, ctx, ".search-contacts a"); got != "Sokha Chan" {
		t.Errorf("the contact found reads %q", got)
	}
	browser.Screenshot(t, ctx, "search-latin")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(".search-contacts a"), chromedp.NodeVisible))
	until(t, ctx, `location.pathname === "/w/`+ws+`/contacts/`+latin+`"`)
}
