package inbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// MarkSeen clears unread and tells the platform mark_seen through a job:
// once per new inbound message, only inside the messaging window; seeing
// nothing new records nothing.
func TestMarkSeen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if !h.conversationOf("psid-1").Unread() {
			t.Fatal("a new message is not unread")
		}
		other := fixture.Workspace(t, d, h.kr)
		if err := h.svc.MarkSeen(ctx, auditActor, other, conv.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("from another workspace = %v", err)
		}
		runSeen := func() {
			t.Helper()
			for _, j := range h.queuedJobs(KindMarkSeen) {
				if err := h.svc.markSeen(ctx, j.Payload); err != nil {
					t.Fatal(err)
				}
				h.deleteJob(j.ID)
			}
		}
		h.clock.Advance(time.Second)
		for range 2 { // the second time, nothing is new
			if err := h.svc.MarkSeen(ctx, auditActor, h.ws, conv.ID); err != nil {
				t.Fatal(err)
			}
		}
		if h.conversationOf("psid-1").Unread() {
			t.Error("still unread after MarkSeen")
		}
		if n := len(h.queuedJobs(KindMarkSeen)); n != 1 {
			t.Fatalf("%d mark_seen jobs, want 1", n)
		}
		runSeen()
		// A new message, seen: one more; seen again: none.
		h.clock.Advance(time.Second)
		h.ingest(h.text("psid-1", "m_2", "more"))
		h.clock.Advance(time.Second)
		for range 2 {
			if err := h.svc.MarkSeen(ctx, auditActor, h.ws, conv.ID); err != nil {
				t.Fatal(err)
			}
		}
		runSeen()
		if diff := cmp.Diff([]string{"psid-1:mark_seen", "psid-1:mark_seen"}, h.sender.actions()); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		// Outside the window: unread clears, the platform is not told.
		h.clock.Advance(time.Second)
		h.ingest(h.text("psid-1", "m_3", "late"))
		h.clock.Advance(channel.StandardWindow + time.Minute)
		if err := h.svc.MarkSeen(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(h.queuedJobs(KindMarkSeen)); n != 0 {
			t.Errorf("%d mark_seen jobs outside the window", n)
		}
		seen := 0
		for _, e := range h.events(conv.ID) {
			if e == "seen user:user-1" {
				seen++
			}
		}
		if seen != 3 {
			t.Errorf("%d seen events, want 3 (one per new message seen)", seen)
		}
	})
}

// Typing shows only in a human-owned conversation inside its window, at
// most once per few seconds, and typing_off only after typing_on.
func TestTyping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if err := h.svc.Typing(ctx, h.ws, conv.ID, true); !errors.Is(err, ErrInvalid) {
			t.Errorf("typing in a bot-owned conversation = %v", err)
		}
		other := fixture.Workspace(t, d, h.kr)
		if err := h.svc.Typing(ctx, other, conv.ID, true); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("from another workspace = %v", err)
		}
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			wait time.Duration
			on   bool
		}{
			{0, false},                     // off before on: nothing
			{0, true},                      // on
			{time.Second, true},            // throttled
			{typingEvery, true},            // on again
			{time.Second, false},           // off
			{time.Second, false},           // already off: nothing
			{channel.StandardWindow, true}, // outside the window: nothing
		}
		for i, s := range steps {
			h.clock.Advance(s.wait)
			if err := h.svc.Typing(ctx, h.ws, conv.ID, s.on); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		want := []string{"psid-1:typing_on", "psid-1:typing_on", "psid-1:typing_off"}
		if diff := cmp.Diff(want, h.sender.actions()); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
	})
}
