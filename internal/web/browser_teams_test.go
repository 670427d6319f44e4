package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 item 3 in a real browser, with the strict CSP on: an owner
// opens Settings → Teams (empty: it says what to do), creates a team with
// automatic assignment, adds an agent from the picker, sees who is online
// with their open conversations, and switches their own status from the
// menu with the mouse and then the arrow keys; each change is saved
// without leaving the page and is still there after a reload.
func TestBrowserTeamsAndAvailability(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Vanna")
	ws := owner.createWorkspace("Vanna's Vases")
	agent, agentAddr := s.signUp(t, "Sokha")
	s.join(t, owner, ws, agent, agentAddr, "agent")
	me, agentID := s.userID(t, addr), s.userID(t, agentAddr)

	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/settings/teams"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#team-name")),
	)
	if got := text(t, ctx, ".empty-state"); !strings.Contains(got, "Create a team below") {
		t.Errorf("empty state says %q", got)
	}
	browser.Screenshot(t, ctx, "teams-empty")

	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/settings/teams"] input[name="auto_assign"]`), chromedp.NodeVisible))
	fill(t, ctx, `form[action$="/settings/teams"]`, map[string]string{"#team-name": "Sales", "#team-description": "Prices and orders"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".team-row")))
	if got := text(t, ctx, ".team-row .list-main"); !strings.Contains(got, "Sales") || !strings.Contains(got, "automatically") {
		t.Errorf("the new team reads %q", got)
	}

	// Add the agent from the picker.
	browser.Do(t, ctx, choose(".team-row form.add-member select", agentID))
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(".team-row form.add-member button"), chromedp.NodeVisible))
	until(t, ctx, `(() => { const c = document.querySelector(".team-row .chip"); return !!c && c.textContent.includes("Sokha"); })()`)
	teams, err := s.Teams.Teams(t.Context(), ws)
	if err != nil || len(teams) != 1 || len(teams[0].Members) != 1 || teams[0].Members[0].UserID != agentID || !teams[0].AutoAssign {
		t.Fatalf("teams after the page's changes: %+v, %v", teams, err)
	}
	// The "who is online" table lists both, with their open conversations.
	if got := text(t, ctx, "#agent-"+agentID); !strings.Contains(got, "Sokha") || !strings.Contains(got, "0") {
		t.Errorf("the agent's row reads %q", got)
	}

	// Every page an agent has open keeps the live stream open, which is
	// what makes them online: once it is, the table says so.
	until(t, ctx, `document.documentElement.hasAttribute("data-live-open")`)
	deadline := time.Now().Add(60 * time.Second)
	for !online(t, s, ws, me) {
		if time.Now().After(deadline) {
			t.Fatal("the owner is not online with the dashboard open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	browser.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#team-name")))
	if got := text(t, ctx, "#agent-"+me); !strings.Contains(got, "Online") {
		t.Errorf("the owner's row reads %q, want Online", got)
	}
	browser.Screenshot(t, ctx, "teams")

	status := func() team.Status {
		agents, err := s.Teams.Load(t.Context(), ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			if a.UserID == me {
				return a.Status
			}
		}
		t.Fatal("the owner is not among the agents")
		return ""
	}
	// The mouse: Busy. Saved in the background (the form marks it).
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(".segment-busy"), chromedp.NodeVisible))
	until(t, ctx, `document.querySelector("form[data-availability]").getAttribute("data-saved") === "busy"`)
	if got := status(); got != team.StatusBusy {
		t.Errorf("status after choosing Busy: %s", got)
	}
	// The keyboard: from Busy, the right arrow chooses Offline.
	browser.Do(t, ctx,
		chromedp.Focus(chromedp.CSS(".segment-busy input")),
		chromedp.KeyEvent(kb.ArrowRight),
	)
	until(t, ctx, `document.querySelector("form[data-availability]").getAttribute("data-saved") === "offline"`)
	if got := status(); got != team.StatusOffline {
		t.Errorf("status after the arrow key: %s", got)
	}
	until(t, ctx, `document.querySelector("[data-availability-said]").textContent.includes("Offline")`)
	browser.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#team-name")))
	until(t, ctx, `document.querySelector(".segment-offline input").checked`)
	browser.Screenshot(t, ctx, "teams-offline")
}

// online reports whether userID counts as online in ws for assignment.
func online(t *testing.T, s *site, ws, userID string) bool {
	t.Helper()
	agents, err := s.Teams.Load(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if a.UserID == userID {
			return a.Online
		}
	}
	return false
}
