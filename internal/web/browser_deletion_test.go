package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33, security.md §3.O O-5 and O-6 in a real browser, with the
// strict CSP on: the owner finds "Delete workspace" in the settings'
// danger zone, reads what happens, is refused with a wrong password (the
// workspace stays open), deletes it with the name typed and the password;
// the workspace is closed to the agent at once; the owner cancels from the
// deletion page and is back in it. Then "Delete my account" refuses the
// last owner, naming the workspace, and the agent deletes theirs and is
// signed out everywhere.
func TestBrowserDeletion(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Chenda")
	ws := owner.createWorkspace("Sunny Spa")
	agent, agentAddr := s.signUp(t, "Vibol")
	s.join(t, owner, ws, agent, agentAddr, "agent")

	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/settings/general"),
		chromedp.Click(chromedp.CSS(`a[href$="/settings/delete"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#delete-confirm-name")),
	)
	if got := text(t, ctx, ".page-header .lead"); !strings.Contains(got, "after 7 days") {
		t.Errorf("the page says %q, want the grace period", got)
	}
	browser.Screenshot(t, ctx, "workspace-delete")

	form := `form[action$="/settings/delete"]`
	fill(t, ctx, form, map[string]string{"#delete-confirm-name": "Sunny Spa", "#delete-password": "not my password"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#delete-password-error")))
	agent.get("/w/"+ws).want(t, http.StatusOK)

	browser.Do(t, ctx, chromedp.Clear(chromedp.CSS("#delete-confirm-name")))
	fill(t, ctx, form, map[string]string{"#delete-confirm-name": "Sunny Spa", "#delete-password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action$="/deletion/cancel"]`)))
	if got := text(t, ctx, "h1"); got != "Sunny Spa is being deleted" {
		t.Errorf("after deleting the heading is %q", got)
	}
	browser.Screenshot(t, ctx, "workspace-deleting")
	agent.get("/w/"+ws).want(t, http.StatusNotFound)
	agent.get("/w/"+ws+"/deletion").want(t, http.StatusOK, "is being deleted", "Only an owner").lacks(t, "Cancel deletion")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/deletion/cancel"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".steps")),
	)
	agent.get("/w/"+ws).want(t, http.StatusOK)

	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/account/security"),
		chromedp.Click(chromedp.CSS(`a[href="/account/delete"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#account-delete-password")),
	)
	browser.Screenshot(t, ctx, "account-delete")
	fill(t, ctx, `form[action="/account/delete"]`, map[string]string{"#account-delete-password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".alert-error")))
	if got := text(t, ctx, ".alert-error"); !strings.Contains(got, "only owner of Sunny Spa") {
		t.Errorf("the last owner is told %q", got)
	}
	owner.get("/account/security").want(t, http.StatusOK)

	agentCtx := browser.New(t)
	browser.Do(t, agentCtx, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, agentCtx, `form[action="/login"]`, map[string]string{"#email": agentAddr, "#password": password})
	browser.Do(t, agentCtx,
		chromedp.WaitVisible(chromedp.CSS(".steps")),
		chromedp.Navigate(s.URL+"/account/delete"),
		chromedp.WaitVisible(chromedp.CSS("#account-delete-password")),
	)
	fill(t, agentCtx, `form[action="/account/delete"]`, map[string]string{"#account-delete-password": password})
	browser.Do(t, agentCtx, chromedp.WaitVisible(chromedp.CSS(`a[href="/signup"]`)))
	if got := text(t, agentCtx, "h1"); got != "Your account has been deleted" {
		t.Errorf("after deleting the account the heading is %q", got)
	}
	browser.Screenshot(t, agentCtx, "account-deleted")
	if p := agent.get("/account/security"); p.Status == http.StatusOK {
		t.Error("the agent's other session still works after the account was deleted")
	}
}
