package inbox

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// holdSends pauses outbound sending for the harness's workspace while the
// returned flag is set (Options.SendHold, the kill switch).
func (h *harness) holdSends() *atomic.Bool {
	var paused atomic.Bool
	ws := h.ws
	h.svc.opt.SendHold = func(workspaceID string) bool { return paused.Load() && workspaceID == ws }
	return &paused
}

// runHeld runs every queued send job once, by hand and in order, as the
// queue would while outbound is paused: each must be held back (snoozed)
// and stay queued.
func (h *harness) runHeld(t *testing.T) {
	t.Helper()
	for _, j := range h.queuedJobs(KindSend) {
		r := h.svc.deliver(context.Background(), j.Payload, false)
		if r.action != snooze || r.after < holdMin || r.after > holdMax {
			t.Fatalf("held send = %+v, want a snooze", r)
		}
		if m := h.message(j.Payload.ID); m.Status != StatusQueued {
			t.Fatalf("held message %s is %s, want queued", m.ID, m.Status)
		}
	}
}

// Security.md §3.P P-2 and P-5 (promise P-37), on the job path: while
// outbound is paused nothing reaches the Send API and the replies stay
// queued in order; on resume they go out in order; one whose window
// closed while it was held fails with the policy's reason, unsent.
func TestOutboundHoldOnTheJobPath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		paused := h.holdSends()
		paused.Store(true)
		h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"))
		h.ingest(h.text("psid-1", "m_3", "three"))
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 3 {
			t.Fatalf("%d send jobs, want 3", len(jobs))
		}
		for range 3 { // however often the queue looks
			h.runHeld(t)
		}
		if n := len(h.sender.sent()); n != 0 {
			t.Fatalf("%d Send API calls while paused, want none", n)
		}

		paused.Store(false)
		h.runSends()
		calls := h.sender.sent()
		if len(calls) != 3 {
			t.Fatalf("%d sends after resume, want 3", len(calls))
		}
		for i, c := range calls {
			if c.Metadata != jobs[i].Payload.ID {
				t.Errorf("send %d is message %s, want %s (queue order)", i, c.Metadata, jobs[i].Payload.ID)
			}
		}

		// Held past the window: not sent blindly.
		paused.Store(true)
		h.ingest(h.text("psid-1", "m_4", "four"))
		late := h.queuedJobs(KindSend)
		if len(late) != 1 {
			t.Fatalf("%d send jobs, want 1", len(late))
		}
		h.runHeld(t)
		h.clock.Advance(25 * time.Hour)
		paused.Store(false)
		if rs := h.runSends(); len(rs) != 1 || rs[0].action != done {
			t.Fatalf("results = %+v", rs)
		}
		if n := len(h.sender.sent()); n != 3 {
			t.Errorf("%d sends, want still 3", n)
		}
		if m := h.message(late[0].Payload.ID); m.Status != StatusFailed || m.ErrorCode != channel.ReasonWindowClosed {
			t.Errorf("late message = %+v, want failed %s", m, channel.ReasonWindowClosed)
		}
	})
}

// The hold also stops the direct path: replies it is handed go to the job
// path, in order, without a Send API call, and only this workspace's.
func TestOutboundHoldOnTheDirectPath(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		paused := h.holdSends()
		paused.Store(true)
		h.direct()
		eff := h.ingest(h.text("psid-1", "m_1", "one"), h.text("psid-1", "m_2", "two"))
		if len(eff.direct) != 2 {
			t.Fatalf("effects = %+v", eff)
		}
		h.svc.Notify(eff)
		h.settle()
		if n := len(h.sender.sent()); n != 0 {
			t.Fatalf("%d Send API calls while paused, want none", n)
		}
		jobs := h.queuedJobs(KindSend)
		if len(jobs) != 2 || jobs[0].Payload.ID != eff.direct[0].msg.ID || jobs[1].Payload.ID != eff.direct[1].msg.ID {
			t.Fatalf("jobs = %+v, want the two replies in order", jobs)
		}
		h.runHeld(t)
		paused.Store(false)
		h.runSends()
		calls := h.sender.sent()
		if len(calls) != 2 || calls[0].Metadata != jobs[0].Payload.ID || calls[1].Metadata != jobs[1].Payload.ID {
			t.Errorf("sends after resume = %+v", calls)
		}
	})
}

// Another workspace's hold does not touch this one.
func TestOutboundHoldIsPerWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.svc.opt.SendHold = func(workspaceID string) bool { return workspaceID == "another" }
		h.ingest(h.text("psid-1", "m_1", "one"))
		if rs := h.runSends(); len(rs) != 1 || rs[0].action != done || len(h.sender.sent()) != 1 {
			t.Errorf("results = %+v, sends %d", rs, len(h.sender.sent()))
		}
	})
}

// Sender actions (typing, mark seen) also reach the Send API: while
// outbound is paused they are dropped, not queued (security.md P-2).
func TestOutboundHoldDropsSenderActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		paused := h.holdSends()
		paused.Store(true)
		if err := h.svc.Typing(ctx, h.ws, conv.ID, true); err != nil {
			t.Fatal(err)
		}
		if got := h.sender.actions(); len(got) != 0 {
			t.Fatalf("sender actions while paused: %v", got)
		}
		paused.Store(false)
		h.clock.Advance(typingEvery)
		if err := h.svc.Typing(ctx, h.ws, conv.ID, true); err != nil {
			t.Fatal(err)
		}
		if got := h.sender.actions(); len(got) != 1 {
			t.Errorf("sender actions after resume: %v", got)
		}
	})
}
