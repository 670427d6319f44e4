package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/retention"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-35 in a real browser, with the strict CSP on: an admin opens
// Settings → Data retention from the sidebar, reads each class in plain
// words with its default and range, tries a period beyond the limit (the
// field explains the range and nothing is saved), shortens message
// content to 30 days, then places the workspace on legal hold and lifts
// it. Screenshots land in testdata/output/.
func TestBrowserRetention(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Chenda")
	ws := c.createWorkspace("Chenda's Coffee")
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/retention"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#days_message_content")),
	)
	if got := text(t, ctx, "#retention-audit_log"); !strings.Contains(got, "Audit log") || !strings.Contains(got, "From 1 year (365 days) to 2 years (730 days).") {
		t.Errorf("the audit log row reads %q", got)
	}
	if got := text(t, ctx, "#retention-message_content .retention-now"); got != "for the workspace's lifetime" {
		t.Errorf("message content is kept %q", got)
	}
	browser.Screenshot(t, ctx, "retention")

	// Beyond the limit: the browser's own max check is bypassed the way a
	// script could, and the server refuses it on the field.
	browser.Do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { document.getElementById("days_raw_payloads").removeAttribute("max"); document.getElementById("retention-form").noValidate = true; })()`),
		chromedp.SetValue(chromedp.CSS("#days_raw_payloads"), "120", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`#retention-form button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#days_raw_payloads-error")),
	)
	if got := text(t, ctx, "#days_raw_payloads-error"); !strings.Contains(got, "From 1 day to 90 days.") {
		t.Errorf("the refusal says %q", got)
	}
	browser.Screenshot(t, ctx, "retention-error")

	browser.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#days_raw_payloads"), "90", chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS("#days_message_content"), "30", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`#retention-form button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".alert-success")),
	)
	if got := text(t, ctx, "#retention-message_content .retention-now"); got != "30 days" {
		t.Errorf("after saving message content is kept %q", got)
	}

	fill(t, ctx, "#hold-form", map[string]string{"#hold-reason": "Case 2026-114"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#hold-banner")))
	if got := text(t, ctx, "#hold-banner"); !strings.Contains(got, "Case 2026-114") {
		t.Errorf("the banner reads %q", got)
	}
	browser.Screenshot(t, ctx, "retention-hold")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#release-form button[type="submit"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".alert-success")),
	)
	until(t, ctx, `document.getElementById("hold-banner") === null`)

	set, err := s.Retention.Settings(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if set.Days(retention.ClassMessages) != 30 || set.Days(retention.ClassRawPayloads) != 90 || set.Hold != nil {
		t.Errorf("stored %+v, hold %+v", set.Classes, set.Hold)
	}
}
