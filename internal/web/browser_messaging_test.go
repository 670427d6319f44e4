package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 3, "Done when": in a real browser, with the strict CSP on, a
// newcomer signs up, connects the test page, starts a test conversation
// as the customer, sees the message arrive, replies as an agent and sees
// the reply delivered; then, at phone width, keeps chatting as the
// customer. Screenshots land in testdata/output/.
func TestBrowserTestPageConversation(t *testing.T) {
	s := start(t, dbtest.SQLite(t), apptest.Started())
	ctx := browser.New(t)
	addr := email("sophea")

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/signup"), chromedp.WaitVisible(chromedp.CSS(`form[action="/signup"]`)))
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#age_confirmed"), chromedp.NodeVisible))
	fill(t, ctx, `form[action="/signup"]`, map[string]string{"#email": addr, "#password": password, "#name": "Sophea"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`form[action="/workspaces/new"]`)))
	fill(t, ctx, `form[action="/workspaces/new"]`, map[string]string{"#name": "Sophea's Silk"})
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".steps")))

	// Channels: empty, with the test page offered first.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`.sidebar a[href$="/channels"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/channels/test-page"] button`)),
	)
	browser.Screenshot(t, ctx, "channels-empty")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/channels/test-page"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/test-conversation"]`)),
	)
	browser.Screenshot(t, ctx, "channel-test-page")

	// Start a test conversation as the customer; it arrives through the
	// signed webhook and shows up in the list, which refreshes itself.
	browser.Do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("test-text").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#test-text"), "Do you ship scarves to Siem Reap?", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/test-conversation"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".conversation-row")),
	)
	if got := text(t, ctx, ".conversation-preview"); !strings.Contains(got, "Do you ship scarves") {
		t.Errorf("the list previews %q", got)
	}
	browser.Screenshot(t, ctx, "conversations")

	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".conversation-row"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".message-in .bubble-text")),
	)
	if got := text(t, ctx, ".message-in .bubble-text"); got != "Do you ship scarves to Siem Reap?" {
		t.Errorf("the thread shows %q", got)
	}

	// Reply as an agent, with the keyboard (Ctrl+Enter sends).
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#reply-text"), "Yes, in two days.", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".message-out .bubble-text")),
	)
	// The Send API call reaches the simulator; the customer's phone then
	// confirms delivery, as Messenger does, and the thread shows it.
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sent, err := s.Sim.Sim().WaitSent(wctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sent[0].Message), "Yes, in two days.") {
		t.Errorf("the simulator received %s", sent[0].Message)
	}
	if _, status, err := s.Sim.Sim().Delivered(wctx, sent[0].PageID, sent[0].PSID, []string{sent[0].MID}, sent[0].At); err != nil || status != 200 {
		t.Fatalf("delivery webhook: %d %v", status, err)
	}
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".message-out .tick-delivered")))
	browser.Screenshot(t, ctx, "conversation")
	conversation := browser.Run(t, ctx, chromedp.Location())
	conversations := strings.Split(conversation, "/conversations/")[0] + "/conversations"

	// At phone width: the same conversation, writing as the customer.
	phone := browser.New(t, browser.Phone())
	browser.Do(t, phone, chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
	fill(t, phone, `form[action="/login"]`, map[string]string{"#email": addr, "#password": password})
	browser.Do(t, phone,
		chromedp.WaitVisible(chromedp.CSS(".steps")),
		chromedp.Navigate(conversation),
		chromedp.WaitVisible(chromedp.CSS(".message-out .tick-delivered")),
	)
	// Issue 5 item 4: the open conversations list updates live. It is left
	// open, its event stream connected, while the customer writes from the
	// phone.
	browser.Do(t, ctx,
		chromedp.Navigate(conversations),
		chromedp.WaitVisible(chromedp.CSS(".conversation-row")),
		chromedp.WaitReady(chromedp.CSS("html[data-live-open]")),
	)
	listOpened := time.Now()
	browser.Do(t, phone,
		chromedp.SendKeys(chromedp.CSS("#customer-text"), "Great, I'll order two.", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/as-customer"] button`), chromedp.NodeVisible),
	)
	browser.Run(t, phone, chromedp.Poll[chromedp.Void](
		`Array.from(document.querySelectorAll(".message-in .bubble-text")).some(e => e.textContent === "Great, I'll order two.")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	browser.Screenshot(t, phone, "conversation-phone")
	// The list shows the new message through its event stream, long
	// before its fallback poll (every 30 s) could: the bound is half of
	// that, counted from when the list was loaded, so the poll cannot be
	// what passes it.
	browser.Run(t, ctx, chromedp.Poll[chromedp.Void](
		`Array.from(document.querySelectorAll(".conversation-preview")).some(e => e.textContent.includes("Great, I'll order two."))`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(max(time.Second, 15*time.Second-time.Since(listOpened)))))
	browser.Do(t, phone,
		chromedp.Navigate(s.URL+strings.Split(strings.TrimPrefix(conversation, s.URL), "/conversations/")[0]+"/channels"),
		chromedp.WaitVisible(chromedp.CSS(".list-row")),
	)
	browser.Screenshot(t, phone, "channels-phone")
}
