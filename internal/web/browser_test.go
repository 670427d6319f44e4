package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// fill types into the inputs of a form, by CSS selector, and submits it
// with its submit button.
func fill(t *testing.T, ctx context.Context, form string, values map[string]string) {
	t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range values {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(form+" "+sel), v, chromedp.NodeVisible))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`), chromedp.NodeVisible))
	browser.Do(t, ctx, steps...)
}

// text returns the visible text of the first element matching sel, once
// it is visible.
//
// The text is read in the page in one step, not by node ID: a list that
// refreshes itself can replace the node between finding it and reading it
// ("No node with given id found" in CI).
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
	quoted, err := json.Marshal(sel)
	if err != nil {
		t.Fatal(err)
	}
	return browser.Run(t, ctx, chromedp.Evaluate[string](`document.querySelector(`+string(quoted)+`)?.innerText ?? ""`))
}

// The whole first visit in a real browser, with the strict CSP on (a
// blocked inline script or style fails the test through the harness):
// sign up, create a workspace, see its home, sign out, sign in, see it
// again. Screenshots land in testdata/output/ for people to look at.
func TestBrowserFirstVisit(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	ctx := browser.New(t)
	addr := email("rita")

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/signup"]`)))
	browser.Screenshot(t, ctx, "signup")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#age_confirmed"), chromedp.NodeVisible))
	fill(t, ctx, `form[action="/signup"]`, map[string]string{"#email": addr, "#password": password, "#name": "Rita"})

	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/workspaces/new"]`)))
	if h := text(t, ctx, "h1"); h != "Welcome to Parley, Rita!" {
		t.Errorf("after sign-up the heading is %q", h)
	}
	fill(t, ctx, `form[action="/workspaces/new"]`, map[string]string{"#name": "Sunrise Bakery"})

	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))
	if got := text(t, ctx, ".switcher-current"); got != "Sunrise Bakery" {
		t.Errorf("switcher shows %q, want the new workspace", got)
	}
	if got := text(t, ctx, ".banner"); !strings.Contains(got, "14 days left") {
		t.Errorf("trial banner says %q", got)
	}
	browser.Screenshot(t, ctx, "home")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/team"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
	)
	if got := text(t, ctx, ".list-main strong"); !strings.Contains(got, "Rita") {
		t.Errorf("team lists %q, want Rita", got)
	}
	browser.Screenshot(t, ctx, "team")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
	)
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))
	if got := text(t, ctx, ".switcher-current"); got != "Sunrise Bakery" {
		t.Errorf("after signing in again the switcher shows %q", got)
	}
}

// On a phone the sidebar folds behind the Menu button.
func TestBrowserPhone(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Sam")
	c.createWorkspace("Sam's Salon")

	ctx := browser.New(t, browser.Phone())
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(".steps")),
		chromedp.WaitNotVisible(chromedp.CSS("#sidebar")),
	)
	browser.Screenshot(t, ctx, "home-phone")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".menu-button"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`#sidebar a[href$="/settings/team"]`)),
	)
	browser.Screenshot(t, ctx, "home-phone-menu")
	if got := browser.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS(".menu-button"), "aria-expanded")); got.Value != "true" {
		t.Errorf("menu button aria-expanded = %q after opening", got.Value)
	}
}

// The settings pages with their one-time secrets, the two-factor setup,
// a form with errors and an error page, in a real browser.
func TestBrowserSettingsPages(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Tia")
	ws := c.createWorkspace("Tia's Tea House")

	ctx := browser.New(t)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/signup"]`)))
	// A bad address and a short password, past the browser's own checks:
	// the page that comes back says what to fix, next to the field.
	browser.Do(t, ctx, chromedp.SetAttributeValue(chromedp.CSS(`form[action="/signup"]`), "novalidate", ""))
	fill(t, ctx, `form[action="/signup"]`, map[string]string{"#email": "not-an-address", "#password": "short"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#email-error")))
	browser.Screenshot(t, ctx, "signup-errors")

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/api-keys"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#key-name")),
	)
	fill(t, ctx, `form[action$="/settings/api-keys"]`, map[string]string{"#key-name": "Online shop"})
	// Copying is asynchronous; app.js marks the button (data-label) once
	// the text is on the clipboard, so wait for that mark.
	browser.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#new-key")),
		chromedp.Click(chromedp.CSS(`[data-copy="new-key"]`), chromedp.NodeVisible),
		chromedp.WaitReady(chromedp.CSS(`[data-copy="new-key"][data-label]`)),
	)
	if loc := browser.Run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/w/"+ws+"/settings/api-keys") {
		t.Errorf("after creating a key the address is %s, want the list's (so a reload hides the secret)", loc)
	}
	browser.Screenshot(t, ctx, "api-keys-new")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href="/account/security"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/2fa/setup"]`)),
		chromedp.SendKeys(chromedp.CSS("#setup-password"), password, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action="/account/2fa/setup"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("img.qr")),
	)
	browser.Screenshot(t, ctx, "security-2fa-setup")

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/w/"+ws+"/nothing-here"), chromedp.WaitVisible(chromedp.CSS(".card-error")))
	browser.Screenshot(t, ctx, "not-found")
}
