package inbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Resolve, reopen, pending by hand; unknown statuses and snoozing without
// a time refused; another workspace's conversation not found; every change
// on the timeline and audited.
func TestStatusByHand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		for _, bad := range []Status{"closed", "archived", "", StatusSnoozed} {
			if err := h.svc.SetStatus(ctx, auditActor, h.ws, conv.ID, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("status %q = %v, want ErrInvalid", bad, err)
			}
		}
		other := fixture.Workspace(t, d, h.kr)
		if err := h.svc.Resolve(ctx, auditActor, other, conv.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("resolve from another workspace = %v", err)
		}
		if err := h.svc.Snooze(ctx, auditActor, other, conv.ID, h.clock.Now().Add(time.Hour)); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("snooze from another workspace = %v", err)
		}
		steps := []func() error{
			func() error { return h.svc.Resolve(ctx, auditActor, h.ws, conv.ID) },
			func() error { return h.svc.Resolve(ctx, auditActor, h.ws, conv.ID) }, // no change
			func() error { return h.svc.Reopen(ctx, auditActor, h.ws, conv.ID) },
			func() error { return h.svc.SetStatus(ctx, auditActor, h.ws, conv.ID, StatusPending) },
		}
		for i, f := range steps {
			if err := f(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusPending {
			t.Errorf("status %s", c.Status)
		}
		if diff := cmp.Diff([]string{
			"status system from=open,to=pending", // the bot answered
			"status user:user-1 from=pending,to=resolved",
			"status user:user-1 from=resolved,to=open",
			"status user:user-1 from=open,to=pending",
		}, h.events(conv.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = ?`, h.ws, ActionStatus); n != 3 {
			t.Errorf("%d status audits, want 3", n)
		}
		// Pending means automation handles it: a takeover makes it open.
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusOpen {
			t.Errorf("after takeover of a pending conversation: %s", c.Status)
		}
	})
}

// Snooze: a time in the past (or too far) is refused; the wake-up job
// opens the conversation when the time comes, and does nothing when stale
// (snoozed again for later, reopened by hand, woken by a message).
func TestSnoozeAndWake(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		now := h.clock.Now()
		for _, bad := range []time.Time{now.Add(-time.Minute), now, now.Add(MaxSnooze + time.Hour)} {
			if err := h.svc.Snooze(ctx, auditActor, h.ws, conv.ID, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("snooze until %v = %v, want ErrInvalid", bad, err)
			}
		}
		until := now.Add(time.Hour)
		if err := h.svc.Snooze(ctx, auditActor, h.ws, conv.ID, until); err != nil {
			t.Fatal(err)
		}
		c := h.conversationOf("psid-1")
		if c.Status != StatusSnoozed || !c.SnoozedUntil.Equal(until) {
			t.Fatalf("snoozed: %+v", c)
		}
		jobs := h.queuedJobs(KindWake)
		if len(jobs) != 1 || jobs[0].Payload != (idJob{WS: h.ws, ID: conv.ID}) {
			t.Fatalf("wake jobs %+v", jobs)
		}
		// Snoozed again for later: the first job is stale when it runs.
		later := now.Add(3 * time.Hour)
		if err := h.svc.Snooze(ctx, auditActor, h.ws, conv.ID, later); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Hour)
		if err := h.svc.wake(ctx, jobs[0].Payload); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusSnoozed {
			t.Fatalf("a stale wake-up woke it: %s", c.Status)
		}
		h.clock.Advance(2 * time.Hour)
		if err := h.svc.wake(ctx, jobs[0].Payload); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusOpen || !c.SnoozedUntil.IsZero() {
			t.Fatalf("after the snooze: %+v", c)
		}
		// Reopened by hand, then a wake-up of an old snooze: nothing.
		if err := h.svc.Snooze(ctx, auditActor, h.ws, conv.ID, h.clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Resolve(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Hour)
		if err := h.svc.wake(ctx, jobs[0].Payload); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusResolved {
			t.Errorf("a wake-up reopened a resolved conversation: %s", c.Status)
		}
		// Foreign IDs: nothing.
		if err := h.svc.wake(ctx, idJob{WS: "nope", ID: conv.ID}); err != nil {
			t.Errorf("foreign wake: %v", err)
		}
		evs := h.events(conv.ID)
		want := []string{
			"status system from=open,to=pending", // the bot answered
			"snooze user:user-1 until=" + until.Format(time.RFC3339),
			"snooze user:user-1 until=" + later.Format(time.RFC3339),
			"status system from=snoozed,to=open",
		}
		if diff := cmp.Diff(want, evs[:4]); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

// A message from the person reopens a resolved conversation and wakes a
// snoozed one (on the timeline as the contact's doing); a pending one stays
// with automation.
func TestInboundReopensAndWakes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		n := 0
		say := func() Effects {
			n++
			return h.ingest(h.text("psid-1", "m_more_"+string(rune('a'+n)), "again"))
		}
		if err := h.svc.Resolve(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		// No automation answers, so what the message did stays visible
		// (TestPendingFollowsAutomation covers the bot's answers).
		h.svc.opt.Responder = silentResponder{}
		eff := say()
		if c := h.conversationOf("psid-1"); c.Status != StatusOpen {
			t.Errorf("resolved + message = %s", c.Status)
		}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if !containsChange(eff.changes, cv) {
			t.Errorf("reopening not told: %+v", eff.changes)
		}
		if err := h.svc.Snooze(ctx, auditActor, h.ws, conv.ID, h.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		say()
		if c := h.conversationOf("psid-1"); c.Status != StatusOpen || !c.SnoozedUntil.IsZero() {
			t.Errorf("snoozed + message = %+v", c)
		}
		if err := h.svc.SetStatus(ctx, auditActor, h.ws, conv.ID, StatusPending); err != nil {
			t.Fatal(err)
		}
		h.svc.opt.Responder = AutoReply{}
		say()
		if c := h.conversationOf("psid-1"); c.Status != StatusPending {
			t.Errorf("pending + message = %s", c.Status)
		}
		evs := h.events(conv.ID)
		var byContact []string
		for _, e := range evs {
			if len(e) > 14 && e[:14] == "status contact" {
				byContact = append(byContact, e)
			}
		}
		if diff := cmp.Diff([]string{"status contact from=resolved,to=open", "status contact from=snoozed,to=open"}, byContact); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

func containsChange(cs []Change, c Change) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// Migration 00017 keeps a CHECK on the new status column: an unknown
// status cannot be stored, whatever writes it.
func TestStatusColumnIsChecked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		conv := h.newConv("psid-1")
		for _, st := range []string{"closed", "archived"} {
			if _, err := d.W.NewRaw(`UPDATE conversations SET status = ? WHERE id = ?`, st, conv.ID).Exec(context.Background()); err == nil {
				t.Errorf("status %q stored", st)
			}
		}
		for _, st := range []Status{StatusOpen, StatusPending, StatusSnoozed, StatusResolved} {
			if _, err := d.W.NewRaw(`UPDATE conversations SET status = ? WHERE id = ?`, string(st), conv.ID).Exec(context.Background()); err != nil {
				t.Errorf("status %q: %v", st, err)
			}
		}
	})
}

// silentResponder is automation with nothing to say (no flow matched).
type silentResponder struct{}

func (silentResponder) Respond(context.Context, bun.Tx, Incoming) (Response, error) {
	return Response{}, nil
}

// Pending means automation is handling the conversation (P-24: the inbox
// tells people what needs them): the bot answering makes it pending, the
// bot having nothing to say to a message opens it, a takeover opens it,
// handing it back makes it pending again, and a reaction changes nothing.
func TestPendingFollowsAutomation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		if conv.Status != StatusPending {
			t.Fatalf("answered by the bot: %s, want pending", conv.Status)
		}
		h.svc.opt.Responder = silentResponder{}
		react := h.text("psid-1", "m_r", "")
		react.Kind = channel.EventReaction
		react.Content = channel.Content{Reaction: &channel.Reaction{MID: "m_1", Emoji: "👍", Action: "react"}}
		h.ingest(react)
		if got := h.conversationOf("psid-1").Status; got != StatusPending {
			t.Errorf("a reaction the bot ignores: %s, want pending", got)
		}
		h.ingest(h.text("psid-1", "m_2", "something the bot does not know"))
		if got := h.conversationOf("psid-1").Status; got != StatusOpen {
			t.Errorf("a message the bot ignores: %s, want open", got)
		}
		h.svc.opt.Responder = AutoReply{}
		h.ingest(h.text("psid-1", "m_3", "again"))
		if got := h.conversationOf("psid-1").Status; got != StatusPending {
			t.Errorf("answered again: %s, want pending", got)
		}
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		if got := h.conversationOf("psid-1").Status; got != StatusOpen {
			t.Errorf("taken over: %s, want open", got)
		}
		if err := h.svc.ReturnToBot(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		if got := h.conversationOf("psid-1").Status; got != StatusPending {
			t.Errorf("returned to the bot: %s, want pending", got)
		}
		want := []string{
			"status system from=open,to=pending",
			"status system from=pending,to=open",
			"status system from=open,to=pending",
			"owner user:user-1 from=bot,reason=takeover,to=human",
			"status user:user-1 from=pending,to=open",
			"owner user:user-1 from=human,reason=return_to_bot,to=bot",
			"status user:user-1 from=open,to=pending",
		}
		if diff := cmp.Diff(want, h.events(conv.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

// countingResponder counts the messages it was asked to answer.
type countingResponder struct {
	n    int
	next Responder
}

func (c *countingResponder) Respond(ctx context.Context, tx bun.Tx, in Incoming) (Response, error) {
	c.n++
	return c.next.Respond(ctx, tx, in)
}

// Promise P-40 in the inbox: the privacy check (Options.Automation) is
// asked once per inbound message, before the Responder, and its answer
// covers the replies of that transaction; a refused contact's message is
// not handed to the Responder at all and opens the conversation for a
// person; a failing check fails the ingest, changing nothing.
func TestPrivacyCheckedOncePerMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		asked, blocked := 0, false
		var fail error
		h.svc.opt.Automation = func(context.Context, bun.IDB, string, string, SenderType) error {
			asked++
			if fail != nil {
				return fail
			}
			if blocked {
				return ErrRestricted
			}
			return nil
		}
		resp := &countingResponder{next: AutoReply{}}
		h.svc.opt.Responder = resp
		h.ingest(h.text("psid-1", "m_1", "hi"))
		conv := h.conversationOf("psid-1")
		if asked != 1 || resp.n != 1 || len(h.queuedJobs(KindSend)) != 1 {
			t.Fatalf("asked %d times, responder %d, %d replies queued; want 1, 1, 1", asked, resp.n, len(h.queuedJobs(KindSend)))
		}
		blocked = true
		h.ingest(h.text("psid-1", "m_2", "again"))
		if asked != 2 || resp.n != 1 || len(h.queuedJobs(KindSend)) != 1 {
			t.Errorf("refused contact: asked %d, responder %d, %d replies; want 2, 1, 1", asked, resp.n, len(h.queuedJobs(KindSend)))
		}
		if c := h.conversationOf("psid-1"); c.Status != StatusOpen {
			t.Errorf("a refused contact's message leaves the conversation %s, want open", c.Status)
		}
		fail = errors.New("database gone")
		err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, err := h.svc.Ingest(ctx, tx, h.ch, []channel.Inbound{h.text("psid-1", "m_3", "third")})
			return err
		})
		if err == nil {
			t.Error("a failing privacy check did not fail the ingest")
		}
		if n := len(h.messages(conv.ID)); n != 3 { // m_1, its reply, m_2
			t.Errorf("%d messages after the failed ingest, want 3", n)
		}
	})
}
