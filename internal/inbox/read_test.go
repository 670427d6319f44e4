package inbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

func TestConversationListAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		for _, psid := range []string{"psid-a", "psid-b", "psid-c"} {
			h.clock.Advance(time.Minute)
			h.ingest(h.text(psid, "m_"+psid, "hello from "+psid))
		}
		h.runProfiles(false)
		h.runSends()
		// psid-a writes again: it becomes the most recent.
		h.clock.Advance(time.Minute)
		h.ingest(h.text("psid-a", "m_again", "me again"))

		all, err := h.svc.Conversations(ctx, h.ws, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, s := range all {
			order = append(order, s.ContactName+"|"+s.LastMessage.Content.Text)
		}
		want := []string{
			"Dara Sok|" + h.ch.AutoReply, // a: its reply to "me again" is the newest message
			"Dara Sok|" + h.ch.AutoReply,
			"Dara Sok|" + h.ch.AutoReply,
		}
		if diff := cmp.Diff(want, order); diff != "" {
			t.Errorf("summaries (-want +got):\n%s", diff)
		}
		if all[0].ID != h.conversationOf("psid-a").ID || all[1].ID != h.conversationOf("psid-c").ID {
			t.Errorf("not most recently active first: %v %v", all[0].ID, all[1].ID)
		}
		if all[0].Unanswered || all[0].LastMessage.Direction != Out {
			t.Errorf("summary = %+v", all[0])
		}

		// Pages of one.
		var paged []string
		cur := ""
		for {
			page, err := h.svc.List(ctx, h.ws, ListOptions{Limit: 1, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page.Conversations[0].ID)
			if cur = page.NextCursor; cur == "" {
				break
			}
		}
		if len(paged) != 3 || paged[0] != all[0].ID || paged[2] != all[2].ID {
			t.Errorf("paged = %v", paged)
		}

		// Status filter and message pages.
		if err := h.svc.SetStatus(ctx, auditActor, h.ws, all[2].ID, StatusResolved); err != nil {
			t.Fatal(err)
		}
		open, err := h.svc.Conversations(ctx, h.ws, ListOptions{Status: []Status{StatusPending}, ChannelID: h.ch.ID})
		if err != nil || len(open) != 2 {
			t.Errorf("open conversations = %d, %v", len(open), err)
		}
		convA := all[0].ID
		first, err := h.svc.Messages(ctx, h.ws, convA, 3, "")
		if err != nil || len(first) != 3 || first[0].Content.Text != h.ch.AutoReply || first[1].Content.Text != "me again" {
			t.Fatalf("first page = %+v, %v", first, err)
		}
		rest, err := h.svc.Messages(ctx, h.ws, convA, 3, first[2].ID)
		if err != nil || len(rest) != 1 || rest[0].Content.Text != "hello from psid-a" {
			t.Errorf("second page = %+v, %v", rest, err)
		}
	})
}

func TestOwnerAndStatusAreAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		// A human-owned conversation gets no automatic reply.
		before := len(h.queuedJobs(KindSend))
		h.ingest(h.text("psid-1", "m_2", "hello?"))
		if after := len(h.queuedJobs(KindSend)); after != before {
			t.Error("the bot answered a human-owned conversation")
		}
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerAI); err != nil {
			t.Fatal(err)
		}
		// The AI agent's replies are labelled as the AI's.
		h.ingest(h.text("psid-1", "m_3", "and now?"))
		ms := h.messages(conv.ID)
		if last := ms[len(ms)-1]; last.SenderType != SenderAI {
			t.Errorf("reply of an AI-owned conversation = %+v", last)
		}
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, "robot"); !errors.Is(err, ErrInvalid) {
			t.Errorf("unknown owner: %v", err)
		}
		if err := h.svc.SetStatus(ctx, auditActor, h.ws, conv.ID, "archived"); !errors.Is(err, ErrInvalid) {
			t.Errorf("unknown status: %v", err)
		}
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: h.ws})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			if e.TargetType == "conversation" {
				actions = append(actions, e.Action+" "+string(e.Details))
			}
		}
		want := []string{ActionOwner + ` {"owner":"ai","reason":"to_ai"}`, ActionOwner + ` {"owner":"human","reason":"takeover"}`}
		if diff := cmp.Diff(want, actions); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Promise P-03: another workspace's conversation does not exist for this
// one, and nothing of it changes.
func TestTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		other := fixture.Workspace(t, d, h.kr)
		if _, err := h.svc.Conversation(ctx, other, conv.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Conversation: %v", err)
		}
		if _, err := h.svc.Messages(ctx, other, conv.ID, 10, ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Messages: %v", err)
		}
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "u"}, other, conv.ID, channel.Content{Text: "x"}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Reply: %v", err)
		}
		if err := h.svc.SetOwner(ctx, auditActor, other, conv.ID, OwnerNobody); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("SetOwner: %v", err)
		}
		if err := h.svc.SetStatus(ctx, auditActor, other, conv.ID, StatusResolved); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("SetStatus: %v", err)
		}
		if l, err := h.svc.Conversations(ctx, other, ListOptions{}); err != nil || len(l) != 0 {
			t.Errorf("Conversations of the other workspace = %+v, %v", l, err)
		}
		// A send job naming another workspace finds nothing.
		out := h.queuedJobs(KindSend)[0].Payload
		if r := h.svc.deliver(ctx, idJob{WS: other, ID: out.ID}, false); r.action != done || len(h.sender.sent()) != 0 {
			t.Errorf("a send job of another workspace ran: %+v", r)
		}
		if got := h.conversationOf("psid-1"); got.Owner != OwnerBot || got.Status != StatusPending {
			t.Errorf("conversation changed: %+v", got)
		}
	})
}

// The wiring through real queues: Register, Notify after commit, the send
// job delivering, a transient failure retried with the job's backoff and a
// permanent one dead-lettered.
func TestThroughTheQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.svc.Register()
		ctx := context.Background()
		for _, q := range []interface{ Start(context.Context) error }{h.jobs, h.sends} {
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			h.sends.Stop(stop)
			h.jobs.Stop(stop)
		})
		h.sender.fail(&channel.SendError{Kind: channel.ErrTransient, Code: 2, Message: "An unexpected error has occurred"})
		h.svc.Notify(h.ingest(h.text("psid-1", "m_1", "hi")))
		conv := h.conversationOf("psid-1")
		// The first run fails; the retry is due after the backoff on the
		// queue's clock, which the test moves.
		waitFor(t, "the first attempt", func() bool { return len(h.sender.sent()) >= 1 })
		waitFor(t, "the profile", func() bool { return h.profiles.count() == 1 })
		waitFor(t, "the retry", func() bool {
			h.clock.Advance(time.Minute)
			h.sends.Notify()
			return h.messages(conv.ID)[1].Status == StatusSent
		})
		if n := len(h.sender.sent()); n != 2 {
			t.Errorf("%d calls, want 2", n)
		}
		h.sender.fail(&channel.SendError{Kind: channel.ErrInvalid, Code: 100, Message: "(#100) Invalid parameter"})
		ms, err := h.svc.Reply(ctx, Author{Type: SenderAgent, ID: "u"}, h.ws, conv.ID, channel.Content{Text: "one more"})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the refusal", func() bool { return h.message(ms[0].ID).Status == StatusFailed })
		waitFor(t, "the dead letter", func() bool {
			return h.count(`SELECT count(*) FROM jobs WHERE kind = ? AND state = 'dead'`, KindSend) == 1
		})
	})
}

// waitFor polls cond until it holds, failing after a generous deadline (a
// loaded 2-core machine is slow; a healthy run waits milliseconds).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
