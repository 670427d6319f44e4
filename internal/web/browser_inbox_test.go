package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// key presses one key where the focus is, the way a person types it.
func key(k string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(k) }

// ctrlEnter presses Ctrl+Enter in the focused box.
func ctrlEnter() chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl))
}

// countOf is a JavaScript expression counting the elements of sel whose
// text includes s.
func countOf(sel, s string) string {
	return `Array.from(document.querySelectorAll(` + strconv.Quote(sel) + `)).filter(e => e.textContent.includes(` + strconv.Quote(s) + `)).length`
}

// Promise P-24 and issue 5 items 1, 2 and 8 in a real browser, with the
// strict CSP on: a
// customer writes to the test page and the bot answers; the agent takes
// over, replies with a canned response found by typing "/", and the bot
// stays silent when the customer writes again; a private note mentions a
// teammate picked from the @ list; the agent returns the conversation to
// the bot, which answers the next message; keyboard shortcuts resolve it
// and open the help. Screenshots land in testdata/output/.
func TestBrowserInboxTakeover(t *testing.T) {
	s := start(t, dbtest.SQLite(t), apptest.Started())
	owner, addr := s.signUp(t, "Sokha")
	ws := owner.createWorkspace("Sokha's Shoes")
	teammate, taddr := s.signUp(t, "Dara")
	s.join(t, owner, ws, teammate, taddr, "agent")
	if _, err := s.Canned.Create(context.Background(), audit.Actor{UserID: s.userID(t, addr)}, ws,
		canned.Input{Shortcut: "thanks", Title: "Thank you", Body: "Thank you {{contact.first_name|there}}! We ship today."}); err != nil {
		t.Fatal(err)
	}
	channels := "/w/" + ws + "/channels"
	chID := channelID(t, owner.post(channels+"/test-page", nil).redirectsTo(t, channels+"/"))
	owner.post(channels+"/"+chID+"/settings", url.Values{"auto_reply": {"We will write back soon."}}).want(t, http.StatusOK, "Saved.")
	owner.post(channels+"/"+chID+"/test-conversation", url.Values{"text": {"Do you have size 40?"}}).redirectsTo(t, "/w/"+ws+"/conversations")
	// The bot answered, so the conversation is in the Bot tab (pending),
	// and the Open tab says nothing needs the team.
	convID := conversationLink.FindStringSubmatch(owner.eventually("/w/"+ws+"/conversations?status=pending", "We will write back soon.").Body)[1]
	owner.get("/w/"+ws+"/conversations").want(t, http.StatusOK, "Nothing needs your team right now")
	owner.eventually("/w/"+ws+"/conversations/"+convID, "Sok Dara") // the profile arrives by a job

	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations?status=pending"),
		chromedp.WaitVisible(chromedp.CSS(".conversation-row .owner-bot")),
		chromedp.Click(chromedp.CSS(".conversation-row"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".message-in .bubble-text")),
	)
	until(t, ctx, countOf(".message-out .bubble-text", "We will write back soon.")+` === 1`)
	browser.Screenshot(t, ctx, "inbox-conversation-bot")
	// On screen, the page marks the conversation seen (a POST; the GET did not).
	until(t, ctx, `!document.getElementById("thread").hasAttribute("data-unread")`)
	for deadline := time.Now().Add(30 * time.Second); s.conv(t, ws, convID).Unread(); {
		if time.Now().After(deadline) {
			t.Fatal("the open conversation was never marked seen")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Take over: the bot stays quiet from now on.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-action="takeover"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`[data-action="return"]`)),
	)
	until(t, ctx, countOf(".timeline-event", "You took over")+` === 1`)

	// A canned response: "/" opens the list, Enter inserts it filled in.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#reply-text"), chromedp.NodeVisible),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), "/tha", chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`.suggest [role="option"][aria-selected="true"]`)),
	)
	browser.Screenshot(t, ctx, "inbox-canned")
	browser.Do(t, ctx, key("\r"))
	if got := browser.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("reply-text").value`)); got != "Thank you Sok! We ship today." {
		t.Fatalf("after Enter the reply box holds %q", got)
	}
	browser.Do(t, ctx, ctrlEnter())
	until(t, ctx, countOf(".message-out .bubble-text", "Thank you Sok! We ship today.")+` === 1`)

	// The customer writes again: the bot stays silent. Its automatic reply
	// would be stored with the message, in the same transaction, so once
	// the message shows any reply would show too.
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#customer-text"), "Great, and size 41?", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/as-customer"] button`), chromedp.NodeVisible),
	)
	until(t, ctx, countOf(".message-in .bubble-text", "Great, and size 41?")+` === 1`)
	if n := browser.Run(t, ctx, chromedp.Evaluate[int](countOf(".message-out .bubble-text", "We will write back soon."))); n != 1 {
		t.Errorf("the bot answered %d times, want once (before the takeover)", n)
	}

	// A private note mentioning Dara, picked from the @ list; "n" opens
	// the note box (the focus is out of any box first).
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#thread"), chromedp.NodeVisible),
		key("n"),
		chromedp.WaitVisible(chromedp.CSS("#note-text")),
	)
	if got := browser.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); got != "note-text" {
		t.Fatalf("after n the focus is on %q", got)
	}
	browser.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#note-text"), "@Da", chromedp.NodeVisible))
	browser.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`.suggest [role="option"]`)),
		key("\r"),
		chromedp.SendKeys(chromedp.CSS("#note-text"), "please check the stock", chromedp.NodeVisible),
	)
	browser.Screenshot(t, ctx, "inbox-note")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/notes"] button`), chromedp.NodeVisible))
	until(t, ctx, `(() => { const m = document.querySelector(".note mark.mention"); return !!m && m.textContent === "@Dara"; })()`)
	if got := text(t, ctx, ".note .note-text"); got != "@Dara please check the stock" {
		t.Errorf("the note reads %q", got)
	}

	// Return to the bot: it answers the next message.
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-action="return"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`[data-action="takeover"]`)),
		chromedp.SendKeys(chromedp.CSS("#customer-text"), "Hello again", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/as-customer"] button`), chromedp.NodeVisible),
	)
	until(t, ctx, countOf(".message-out .bubble-text", "We will write back soon.")+` === 2`)
	until(t, ctx, countOf(".timeline-event", "You returned it to the bot")+` === 1`)
	browser.Screenshot(t, ctx, "inbox-conversation")

	// Dara takes it over from elsewhere: the open page's header follows,
	// and the draft in the reply box stays.
	browser.Do(t, ctx, chromedp.WaitReady(chromedp.CSS("html[data-live-open]")),
		chromedp.SendKeys(chromedp.CSS("#reply-text"), "A draft", chromedp.NodeVisible))
	if err := s.Inbox.SetOwner(context.Background(), audit.Actor{UserID: s.userID(t, taddr)}, ws, convID, inbox.OwnerHuman); err != nil {
		t.Fatal(err)
	}
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-action="return"]`)))
	until(t, ctx, countOf(".timeline-event", "Dara took over")+` === 1 && document.getElementById("reply-text").value === "A draft"`)

	// Shortcuts: "e" resolves; "?" shows the help, Esc closes it.
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#thread"), chromedp.NodeVisible), key("e"))
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-status="resolved"]`)))
	browser.Do(t, ctx, key("?"), chromedp.WaitVisible(chromedp.CSS("#shortcuts-help")))
	browser.Screenshot(t, ctx, "inbox-shortcuts")
	browser.Do(t, ctx, key("\x1b"), chromedp.WaitNotVisible(chromedp.CSS("#shortcuts-help")))

	c, err := s.Inbox.Conversation(context.Background(), ws, convID)
	if err != nil || c.Status != inbox.StatusResolved || c.Owner != inbox.OwnerHuman {
		t.Errorf("stored: %+v, %v", c, err)
	}
	ms, err := s.Inbox.Messages(context.Background(), ws, convID, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	var flow int
	for _, m := range ms {
		if m.SenderType == inbox.SenderFlow {
			flow++
		}
	}
	if flow != 2 {
		t.Errorf("%d automatic replies stored, want 2 (none while a person had it)", flow)
	}
}

// Issue 5 items 1, 3 and 8 in a real browser: the list's tabs and filters
// narrow it, "Load more" brings the next page, j/k move through the list
// and, on a conversation, to the next one; at phone width the list and a
// conversation are separate views and the actions fold into a menu.
func TestBrowserInboxList(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Vanna")
	ws := owner.createWorkspace("Vanna's Vases")
	var ids []string
	for i := range 52 {
		id, _ := s.seedConversation(t, ws, "Question number "+strconv.Itoa(i))
		ids = append(ids, id)
	}
	if err := s.Inbox.Resolve(context.Background(), audit.Actor{UserID: s.userID(t, addr)}, ws, ids[0]); err != nil {
		t.Fatal(err)
	}
	rows := `document.querySelectorAll("#conversation-rows a[data-conversation]").length`

	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations"),
		chromedp.WaitVisible(chromedp.CSS("[data-load-more]")),
	)
	until(t, ctx, rows+` === 50`)
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("[data-load-more]"), chromedp.NodeVisible))
	until(t, ctx, rows+` === 51 && !document.querySelector("[data-load-more]")`)
	browser.Screenshot(t, ctx, "inbox-list")

	// Tabs and filters narrow the list, and the address keeps them.
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-tab="resolved"]`), chromedp.NodeVisible))
	until(t, ctx, rows+` === 1 && location.search.includes("status=resolved")`)
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-who="mine"]`), chromedp.NodeVisible))
	until(t, ctx, `location.search.includes("who=mine") && !!document.querySelector(".empty-state")`)
	if got := text(t, ctx, ".empty-state h2"); got != "Nothing here is assigned to you" {
		t.Errorf("the empty state says %q", got)
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-tab="open"]`), chromedp.NodeVisible))
	until(t, ctx, `!location.search.includes("status=") && !!document.querySelector('[data-tab="open"][aria-current="page"]')`)
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-who="all"]`), chromedp.NodeVisible))
	until(t, ctx, rows+` === 50`)
	chID := s.conv(t, ws, ids[5]).ChannelID
	browser.Do(t, ctx, choose(`select[name="channel"]`, chID))
	until(t, ctx, rows+` === 1 && location.search.includes("channel=`+chID+`")`)
	if got := text(t, ctx, ".conversation-preview"); got != "Question number 5" {
		t.Errorf("filtered by channel, the list shows %q", got)
	}
	browser.Screenshot(t, ctx, "inbox-filtered")

	// j/k: through the list, then from a conversation to the next one.
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/w/"+ws+"/conversations"), chromedp.WaitVisible(chromedp.CSS("[data-load-more]")),
		key("j"), key("j"), key("k"), key("j"))
	second := browser.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if second != "conv-"+ids[50] {
		t.Fatalf("after j j k j the focus is on %q, want the second conversation (%s)", second, ids[50])
	}
	// Each step waits for the page it leads to by a node query, which
	// outlives a navigation (a script evaluation would not).
	browser.Do(t, ctx, key("\r"))
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-conversation-page$="/`+ids[50]+`"]`)))
	browser.Do(t, ctx, key("j"))
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-conversation-page$="/`+ids[49]+`"]`)))
	browser.Do(t, ctx, key("u"))
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-inbox-list]`)))

	// A long timeline: "Show earlier" brings the items before the newest
	// hundred into their place.
	for i := range 100 {
		if _, err := s.Timeline.AddNote(context.Background(), audit.Actor{UserID: s.userID(t, addr)}, ws, ids[10], "Note "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations/"+ids[10]),
		chromedp.Click(chromedp.CSS(".thread-earlier button"), chromedp.NodeVisible),
	)
	until(t, ctx, `document.querySelectorAll("#thread .note").length === 100 && !document.querySelector(".thread-earlier") && `+
		countOf(".message-in .bubble-text", "Question number 10")+` === 1`)

	// A phone: the list, then the conversation on its own, its actions
	// behind a menu.
	phone := browser.New(t, browser.Phone())
	login(t, phone, s.URL, addr)
	browser.Do(t, phone,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations"),
		chromedp.WaitVisible(chromedp.CSS(".conversation-row")),
	)
	browser.Screenshot(t, phone, "inbox-list-phone")
	browser.Do(t, phone,
		chromedp.Click(chromedp.CSS(".conversation-row"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".actions-toggle")),
		chromedp.WaitNotVisible(chromedp.CSS(`[data-action="resolve"]`)),
	)
	if n := browser.Run(t, phone, chromedp.Evaluate[int](`document.querySelectorAll(".conversation-row").length`)); n != 0 {
		t.Errorf("the conversation's page on a phone also shows %d list rows", n)
	}
	browser.Do(t, phone,
		chromedp.Click(chromedp.CSS(".actions-toggle"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`[data-action="resolve"]`)),
	)
	browser.Screenshot(t, phone, "inbox-conversation-phone")
	browser.Do(t, phone,
		chromedp.Click(chromedp.CSS(`[data-action="resolve"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`[data-status="resolved"]`)),
	)
	if !strings.Contains(browser.Run(t, phone, chromedp.Location()), "/conversations/") {
		t.Error("resolving left the conversation's page")
	}
}
