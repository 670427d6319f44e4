package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promises P-34 and P-40 in a real browser, with the strict CSP on: from a
// contact's profile an admin opens the contact's privacy page, sees what is
// held, logs a restriction request, restricts the contact (automation is
// then shown as stopped) and records a withdrawal of consent; on Privacy
// requests (from the sidebar) an overdue request is highlighted, and the
// new one is acknowledged and completed, moving to Closed. Screenshots
// land in testdata/output/.
func TestBrowserPrivacyRequests(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Bopha")
	ws := c.createWorkspace("Bopha's Books")
	_, contactID := s.seedConversation(t, ws, "Please stop the bot")
	_, other := s.seedConversation(t, ws, "An old request")
	old := s.Clock.Now().Add(-40 * 24 * time.Hour)
	if _, err := s.DSR.Create(t.Context(), audit.Actor{UserID: s.userID(t, addr)}, ws, dsr.NewRequest{ContactID: other, Kind: dsr.KindAccess, ReceivedAt: old}); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/contacts/"+contactID),
		chromedp.Click(chromedp.CSS("#privacy-link"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#privacy-flags")),
	)
	if got := text(t, ctx, "#access-summary"); !strings.Contains(got, "Messages") || !strings.Contains(got, "messenger") {
		t.Errorf("the summary says %q", got)
	}
	browser.Do(t, ctx, choose("#request-kind", "restriction"),
		chromedp.Click(chromedp.CSS(`#log-request-form button[type="submit"]`), chromedp.NodeVisible))
	settled(t, ctx, "Request logged.")
	until(t, ctx, `document.querySelectorAll("#contact-requests .dsr-request").length === 1`)
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#flag-restricted"), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`#flags-form button[type="submit"]`), chromedp.NodeVisible),
	)
	settled(t, ctx, "Privacy settings saved.")
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#automation-blocked")))
	browser.Do(t, ctx, choose("#consent-state", "withdrawn"), choose("#consent-source", "message"),
		chromedp.Click(chromedp.CSS(`#consent-form button[type="submit"]`), chromedp.NodeVisible))
	settled(t, ctx, "Consent recorded.")
	until(t, ctx, `document.querySelectorAll("#consent-list li").length === 1`)
	if got := text(t, ctx, "#consent-list"); !strings.Contains(got, "withdrawn") || !strings.Contains(got, "all channels") {
		t.Errorf("consent shows %q", got)
	}
	browser.Screenshot(t, ctx, "dsr-contact")
	if why, err := dsr.Blocked(t.Context(), s.DB.R, ws, contactID); err != nil || why != dsr.BlockRestricted {
		t.Fatalf("blocked %q, %v", why, err)
	}

	// Privacy requests: the overdue one stands out; answer the new one.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/privacy-requests"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#dsr-requests")),
	)
	until(t, ctx, `document.querySelectorAll("#dsr-requests .dsr-request").length === 2 && document.querySelectorAll("#dsr-requests .overdue").length === 1`)
	if got := text(t, ctx, "#dsr-requests .overdue"); !strings.Contains(got, "Overdue") || !strings.Contains(got, "access") {
		t.Errorf("the overdue row says %q", got)
	}
	browser.Screenshot(t, ctx, "dsr-requests")
	row := `#dsr-requests .dsr-request:not(.overdue)`
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(row+` form[action$="/acknowledge"] button`), chromedp.NodeVisible))
	settled(t, ctx, "Request acknowledged.")
	until(t, ctx, `(() => { const r = document.querySelector(`+"`"+row+"`"+`); return !!r && r.dataset.state === "acknowledged"; })()`)
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(row+` form[action$="/complete"] button`), chromedp.NodeVisible))
	settled(t, ctx, "Request completed.")
	until(t, ctx, `document.querySelectorAll("#dsr-requests .dsr-request").length === 1`)
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#dsr-filters a[href$="state=closed"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `document.querySelectorAll("#dsr-requests .dsr-request[data-state=completed]").length === 1`)
}

// settled waits until the page after a form post shows its notice and
// htmx (the body is boosted) has finished swapping and settling it, so
// that the next click lands on the new page's wired-up form.
func settled(t *testing.T, ctx context.Context, notice string) {
	t.Helper()
	until(t, ctx, `(() => { const n = document.querySelector(".alert-success");
		return !!n && n.textContent.includes(`+strconv.Quote(notice)+`) && document.readyState === "complete" &&
			!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added"); })()`)
}
