package inbox

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// merge merges gone into keep with the inbox as the mover, as the app
// wires it.
func (h *harness) merge(keep, gone string) contact.Contact {
	h.t.Helper()
	c, err := h.contacts.Merge(context.Background(), auditActor, h.ws, keep, gone, func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
		return h.svc.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// After two people on two Pages are merged into one contact, each Page's
// conversation stays (now the kept contact's, its history readable, re-sealed
// under the kept contact's key), a new message from the merged-in PSID lands
// in it, and replies on each conversation go to the PSID of that Page.
func TestMoveContactAfterMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		other := fixture.Messenger(t, h.channels, h.ws, "page2-"+h.ws, "page-token-2")
		other, err := h.channels.Configure(ctx, auditActor, h.ws, other.ID, "Thanks from page 2", channel.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		onOther := func(psid, mid, text string) channel.Inbound {
			ev := h.text(psid, mid, text)
			ev.AccountID = other.ExternalID
			return ev
		}

		h.ingest(h.text("psid-keep", "m-1", "hello from page 1"))
		if _, err := h.ingestOn(other, onOther("psid-gone", "m-2", "hello from page 2")); err != nil {
			t.Fatal(err)
		}
		h.runSends()
		keepConv := h.conversationOf("psid-keep")
		var goneRow convRow
		if err := d.R.NewRaw(`SELECT `+convCols+` FROM conversations WHERE channel_id = ?`, other.ID).Scan(ctx, &goneRow); err != nil {
			t.Fatal(err)
		}
		goneConv := goneRow.conversation()
		goneID := goneConv.ContactID

		h.merge(keepConv.ContactID, goneID)

		if n := h.count(`SELECT count(*) FROM contacts WHERE id = ?`, goneID); n != 0 {
			t.Errorf("the gone contact is still there (%d)", n)
		}
		if n := h.count(`SELECT count(*) FROM contact_keys WHERE contact_id = ?`, goneID); n != 0 {
			t.Errorf("the gone contact's key survived the merge (%d)", n)
		}
		if n := h.count(`SELECT count(*) FROM messages WHERE contact_id = ?`, goneID); n != 0 {
			t.Errorf("%d messages still name the gone contact", n)
		}
		// The history of the merged-in conversation opens under the kept
		// contact's key (the gone key is destroyed).
		ms := h.messages(goneConv.ID)
		if len(ms) == 0 || ms[0].Content.Text != "hello from page 2" || ms[0].ContactID != keepConv.ContactID {
			t.Fatalf("messages of the moved conversation = %+v", ms)
		}

		// The merged-in PSID writes again: same conversation, kept contact,
		// and the automatic reply goes to that PSID on that Page.
		before := len(h.sender.sent())
		if _, err := h.ingestOn(other, onOther("psid-gone", "m-3", "again")); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM conversations WHERE channel_id = ?`, other.ID).Scan(ctx, &n); err != nil || n != 1 {
			t.Fatalf("conversations on page 2: %d, %v", n, err)
		}
		found := false
		for _, m := range h.messages(goneConv.ID) {
			if m.Direction == In && m.Content.Text == "again" {
				found = m.ContactID == keepConv.ContactID
			}
		}
		if !found {
			t.Error("the new message did not land in the moved conversation as the kept contact's")
		}
		h.runSends()
		for _, m := range h.sender.sent()[before:] {
			if m.To != "psid-gone" {
				t.Errorf("an automatic reply on page 2 went to %q", m.To)
			}
		}

		// An agent's reply on each conversation goes to that Page's PSID.
		for _, tc := range []struct {
			conv Conversation
			want string
		}{{goneConv, "psid-gone"}, {keepConv, "psid-keep"}} {
			before := len(h.sender.sent())
			if _, err := h.svc.Reply(ctx, Author{Type: SenderAgent, Actor: auditActor}, h.ws, tc.conv.ID, channel.Content{Text: "reply"}); err != nil {
				t.Fatal(err)
			}
			h.runSends()
			sent := h.sender.sent()[before:]
			if len(sent) != 1 || sent[0].To != tc.want {
				t.Errorf("reply on %s sent %+v, want one to %s", tc.conv.ID, sent, tc.want)
			}
		}
	})
}

// MoveContact of a contact with no conversations changes nothing.
func TestMoveContactWithoutConversations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.ingest(h.text("psid-1", "m-1", "hi"))
		conv := h.conversationOf("psid-1")
		err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			return h.svc.MoveContact(ctx, tx, h.ws, "no-such-contact", conv.ContactID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.conversationOf("psid-1"); got.ContactID != conv.ContactID {
			t.Errorf("conversation moved to %s", got.ContactID)
		}
	})
}
