package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// The operator console in a real browser with the strict CSP (promises
// P-06, P-37): the administrator pauses a workspace's sending from the
// form, sees it in the status and the workspace row, resumes it, acts as
// the workspace's owner (the banner shows on their pages) and stops.
func TestBrowserAdminConsole(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, ownerAddr := s.signUp(t, "olga")
	ws := owner.createWorkspace("Olga's Oven")
	_, adminAddr := s.signUp(t, "root")
	s.makeAdmin(t, adminAddr, false)
	// Sign in before 2FA is on (the sign-in form would ask for a code),
	// then turn it on: the console needs it.
	ctx := browser.New(t)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, ctx, `form[action="/login"]`, map[string]string{"#email": adminAddr, "#password": password})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/workspaces/new"]`)))
	s.makeAdmin(t, adminAddr, true)

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href="/admin"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/killswitch"]`)),
	)
	if got := text(t, ctx, `tr[data-workspace="`+ws+`"] th`); !strings.Contains(got, "Olga's Oven") {
		t.Errorf("workspace row says %q", got)
	}
	browser.Screenshot(t, ctx, "admin-console")

	browser.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#ks-workspace"), ws, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#ks-outbound"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#ks-reason"), "spam wave", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`button[value="pause"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`.alert[data-kill-switch-status]`)),
	)
	if got := text(t, ctx, `[data-kill-switch-status]`); !strings.Contains(got, "outbound sending paused") || !strings.Contains(got, "spam wave") {
		t.Errorf("status says %q", got)
	}
	if got := text(t, ctx, `tr[data-workspace="`+ws+`"] td:last-child`); !strings.Contains(got, "Outbound") {
		t.Errorf("workspace row's kill switch says %q", got)
	}
	if !s.KillSwitch.OutboundPaused(ws) {
		t.Error("not paused")
	}
	browser.Screenshot(t, ctx, "admin-paused")
	browser.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#ks-workspace"), ws, chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#ks-outbound"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#ks-reason"), "over", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`button[value="resume"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`p[data-kill-switch-status]`)),
	)
	if s.KillSwitch.OutboundPaused(ws) {
		t.Error("still paused")
	}

	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#imp-user"), ownerAddr, chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#imp-reason"), "ticket 12", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action="/admin/impersonate"] button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("[data-impersonation-banner]")),
	)
	if got := text(t, ctx, "[data-impersonation-banner]"); !strings.Contains(got, "acting as") {
		t.Errorf("banner says %q", got)
	}
	if got := text(t, ctx, ".switcher-current"); !strings.Contains(got, "Olga's Oven") {
		t.Errorf("acting as the owner, the switcher shows %q", got)
	}
	browser.Screenshot(t, ctx, "admin-impersonating")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action="/admin/impersonate/stop"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/impersonate"]`)),
	)
}
