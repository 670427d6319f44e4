package inbox

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// The full timeline merges messages (both ways, with their state) and
// timeline events (owner changes, notes, …) newest first, and pages by
// cursor without skipping or repeating, even when items share an instant.
func TestTimelineMergesAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1") // message in, automatic reply out
		h.runSends()                // sent before the takeover (after it, it would be silenced)
		h.clock.Advance(time.Second)
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.opt.Timeline.AddNote(ctx, auditActor, h.ws, conv.ID, "call her back"); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Second)
		if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, conv.ID, channel.Content{Text: "hello"}); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		// Same instant as the reply: a resolve.
		if err := h.svc.Resolve(ctx, auditActor, h.ws, conv.ID); err != nil {
			t.Fatal(err)
		}
		full, err := h.svc.Timeline(ctx, h.ws, conv.ID, "", MaxLimit)
		if err != nil || full.NextCursor != "" {
			t.Fatalf("full: %v, next %q", err, full.NextCursor)
		}
		describe := func(items []Item) []string {
			var out []string
			for _, it := range items {
				if it.Message != nil {
					out = append(out, "msg "+string(it.Message.Direction)+" "+it.Message.Content.Text+" "+string(it.Message.Status))
				} else if it.Event.Note != nil {
					out = append(out, "note "+it.Event.Note.Text)
				} else {
					out = append(out, string(it.Event.Kind)+" "+it.Event.Data["to"])
				}
			}
			return out
		}
		got := describe(full.Items)
		// Newest first; at one instant, by ID (UUIDv7: creation order).
		want := []string{
			"status resolved",
			"assignment user-1",
			"msg out hello sent",
			"note call her back",
			"status open", // people took it over from the bot
			"owner human",
			"status pending", // the automatic reply: the bot handles it
			"msg out " + h.ch.AutoReply + " sent",
			"msg in hello received",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		for _, n := range []int{1, 2, 3} {
			var paged []string
			cur := ""
			for range 20 {
				p, err := h.svc.Timeline(ctx, h.ws, conv.ID, cur, n)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) == 0 || len(p.Items) > n {
					t.Fatalf("page of %d: %d items", n, len(p.Items))
				}
				paged = append(paged, describe(p.Items)...)
				if cur = p.NextCursor; cur == "" {
					break
				}
			}
			if diff := cmp.Diff(got, paged); diff != "" {
				t.Errorf("pages of %d (-want +got):\n%s", n, diff)
			}
		}
		other := fixture.Workspace(t, d, h.kr)
		if _, err := h.svc.Timeline(ctx, other, conv.ID, "", 10); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace = %v", err)
		}
		if _, err := h.svc.Timeline(ctx, h.ws, conv.ID, base64.RawURLEncoding.EncodeToString([]byte("x")), 10); !errors.Is(err, ErrInvalid) {
			t.Errorf("malformed cursor = %v", err)
		}
	})
}

// Policy notices (block, unblock) and unsends are told as changes.
func TestPolicyAndUnsendCarryChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		conv := h.newConv("psid-1")
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		msg := Change{Kind: ChangeMessage, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		for _, action := range []string{"block", "unblock"} {
			eff := h.ingest(channel.Inbound{Kind: channel.EventPolicy, UserID: "psid-1", Policy: &channel.PolicyNotice{Action: action}})
			if diff := cmp.Diff([]Change{cv}, eff.changes); diff != "" {
				t.Errorf("%s (-want +got):\n%s", action, diff)
			}
		}
		eff := h.ingest(channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_first_psid-1"})
		if diff := cmp.Diff([]Change{msg}, eff.changes); diff != "" {
			t.Errorf("unsend (-want +got):\n%s", diff)
		}
		if eff := h.ingest(channel.Inbound{Kind: eventDeleted, UserID: "psid-1", MID: "m_unknown"}); len(eff.changes) != 0 {
			t.Errorf("unsend of an unknown message told %+v", eff.changes)
		}
	})
}

// A fetched profile (the person's name arrives) is told as a change of
// their conversation; an unavailable one changes nothing shown.
func TestFetchedProfileIsToldAsAChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		conv := h.newConv("psid-1")
		l := h.listen()
		if errs := h.runProfiles(false); len(errs) != 1 || errs[0] != nil {
			t.Fatalf("profile jobs: %v", errs)
		}
		cv := Change{Kind: ChangeConversation, WorkspaceID: h.ws, ConversationID: conv.ID, ContactID: conv.ContactID}
		if got := changesOf(l.take()); !cmp.Equal([]Change{cv}, got) {
			t.Errorf("told %+v, want %+v", got, cv)
		}
	})
}
