package web_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/browser"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33 in a real browser: from a contact's profile an admin opens
// "Delete this contact everywhere", reads what will be gone, is refused
// until the word is typed, types it, and lands on the contact list, where
// the contact is no more; then, from another conversation's actions,
// deletes that conversation with the box ticked and lands on the inbox.
func TestBrowserEraseContact(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, addr := s.signUp(t, "Vanna")
	ws := c.createWorkspace("Vanna's Veg")
	gone := s.mergeContact(t, ws, "Please forget me", "Dara", "Forgotten")
	s.mergeContact(t, ws, "I stay", "Bopha", "Stays")
	convID, _ := s.seedConversation(t, ws, "Delete this thread")
	ctx := browser.New(t)
	login(t, ctx, s.URL, addr)

	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/contacts/"+gone.id),
		chromedp.Click(chromedp.CSS("a.erase-link"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".erase-gone")),
	)
	if g := text(t, ctx, ".erase-gone"); !strings.Contains(g, "1 conversation with 1 message") || !strings.Contains(g, "encryption key") {
		t.Errorf("what will be gone reads %q", g)
	}
	browser.Screenshot(t, ctx, "erase-contact-confirm")
	// A wrong word is refused, with the reason next to the box.
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#erase-confirm"), "yes", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.erase-confirm button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `!!document.querySelector("#erase-confirm-error")`)
	if e := text(t, ctx, "#erase-confirm-error"); !strings.Contains(e, "Type delete to confirm") {
		t.Errorf("refusal reads %q", e)
	}
	browser.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#erase-confirm"), "delete", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.erase-confirm button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `location.pathname === "/w/`+ws+`/contacts" && document.body.innerText.includes("Bopha Stays") && !document.body.innerText.includes("Dara Forgotten")`)
	browser.Screenshot(t, ctx, "erase-contact-done")

	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/w/"+ws+"/conversations/"+convID),
		chromedp.Click(chromedp.CSS(`a[data-action="delete"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".erase-gone")),
	)
	browser.Screenshot(t, ctx, "delete-conversation-confirm")
	browser.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#erase-confirm"), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`.erase-confirm button[type="submit"]`), chromedp.NodeVisible),
	)
	until(t, ctx, `location.pathname === "/w/`+ws+`/conversations"`)
	if _, err := s.Inbox.Conversation(context.Background(), ws, convID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the deleted conversation: %v, want db.ErrNotFound", err)
	}
	if _, err := s.Contacts.Get(context.Background(), ws, gone.id); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the erased contact: %v, want db.ErrNotFound", err)
	}
}
