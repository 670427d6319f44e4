package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-24 (found by the issue-5 review): an automatic reply already
// waiting in the send queue when a person takes the conversation over is
// not sent; it ends failed "human_owned" and the page says why.
func TestTakeoverSilencesQueuedAutomaticReplies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m_1", "hi")) // the automatic reply is queued (job path)
		if len(h.queuedJobs(KindSend)) == 0 {
			t.Fatal("no automatic reply queued")
		}
		conv := h.conversationOf("psid-1")
		h.clock.Advance(time.Second) // the takeover comes after the reply was queued
		if err := h.svc.SetOwner(context.Background(), auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		if n := len(h.sender.sent()); n != 0 {
			t.Errorf("%d automatic message(s) sent while a person owns the conversation", n)
		}
		for _, m := range h.messages(conv.ID) {
			if m.Direction == Out && (m.Status != StatusFailed || m.ErrorCode != CodeHumanOwned) {
				t.Errorf("the silenced reply is %s %q, want failed %q", m.Status, m.ErrorCode, CodeHumanOwned)
			}
		}
		// A member's own reply still goes.
		if _, err := h.svc.Reply(context.Background(), Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "on it"}); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		if n := len(h.sender.sent()); n != 1 {
			t.Errorf("the member's reply: %d sent, want 1", n)
		}
	})
}

// Found by the issue-5 review: taking a conversation over restarts the
// silence, so a return-to-bot job scheduled before an earlier hand-back
// cannot undo a fresh takeover a minute later.
func TestTakeoverRestartsTheSilence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if err := h.svc.SetSettings(ctx, auditActor, h.ws, Settings{ReturnToBotAfter: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "on it"}); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(2 * time.Minute)
		if err := h.svc.ReturnToBot(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(7 * time.Minute)
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil { // taken over at +9 min
			t.Fatal(err)
		}
		runReturns := func() {
			for _, j := range h.queuedJobs(KindReturnToBot) {
				if err := h.svc.returnAfterSilence(ctx, j.Payload); err != nil {
					t.Fatal(err)
				}
			}
		}
		h.clock.Advance(time.Minute + time.Second) // +10 min: the first reply's job is due
		runReturns()
		if c := h.conversationOf("psid-1"); c.Owner != OwnerHuman {
			t.Fatalf("taken over a minute ago with a 10-minute silence, and now owned by %s", c.Owner)
		}
		h.clock.Advance(9 * time.Minute) // ten minutes after the takeover
		runReturns()
		if c := h.conversationOf("psid-1"); c.Owner != OwnerBot {
			t.Errorf("ten silent minutes after the takeover, owner = %s, want bot", c.Owner)
		}
	})
}
