package run

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Promise P-25: merging a contact in the middle of a flow keeps the flow
// going on the merged person, with the answers given so far (re-sealed
// under the kept contact's key, readable after the gone one's key is
// destroyed).
func TestMoveContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.publish(`{"format":1,"name":"Ask","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["hi"]}],"start":"q1","nodes":[
			{"id":"q1","type":"question","text":"Name?","answer":"text","var":"who","next":"q2"},
			{"id":"q2","type":"question","text":"Number?","answer":"number","var":"n","next":"done"},
			{"id":"done","type":"message","text":"Thanks {{flow.var.who}}, {{flow.var.n}}"}]}`)
		h.say("psid-1", "hi")
		h.say("psid-1", "Dara")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Name?", "Number?"}, texts) != "" {
			t.Fatalf("before the merge: %v", texts)
		}
		conv := h.conversation("psid-1")
		gone := conv.ContactID

		// The same person wrote on a second page: another contact, kept.
		ch2 := fixture.Messenger(t, h.channels, h.ws, "page-2-"+h.ws, "token-2")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := h.inbox.Ingest(ctx, tx, ch2, []channel.Inbound{{Type: channel.Messenger, Kind: channel.EventMessage,
				AccountID: ch2.ExternalID, UserID: "psid-2", At: h.clock.Now(), MID: "m_other", Content: channel.Content{Text: "hello"}}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var keep string
		if err := d.R.NewRaw(`SELECT id FROM contacts WHERE channel_id = ?`, ch2.ID).Scan(ctx, &keep); err != nil {
			t.Fatal(err)
		}

		moveInbox := func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
			return h.inbox.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID)
		}
		if _, err := h.contacts.Merge(ctx, author, h.ws, keep, gone, moveInbox, h.runner.MoveContact); err != nil {
			t.Fatal(err)
		}

		var owner string
		if err := d.R.NewRaw(`SELECT contact_id FROM flow_sessions WHERE conversation_id = ?`, conv.ID).Scan(ctx, &owner); err != nil || owner != keep {
			t.Fatalf("the session names contact %q (%v), want the kept %q", owner, err, keep)
		}
		s, _, err := h.runner.loadSession(ctx, d.R, h.ws, conv.ID, keep)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != StatusAwaiting || s.Node != "q2" || s.Vars["who"] != "Dara" {
			t.Fatalf("the session after the merge = %+v", s)
		}

		// The person answers on the first page: the flow goes on with the
		// answer given before the merge.
		h.say("psid-1", "42")
		ms, err := h.inbox.Messages(ctx, h.ws, conv.ID, inbox.MaxLimit, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatal("the conversation has no messages")
		}
		if ms[0].Direction != inbox.Out || ms[0].Content.Text != "Thanks Dara, 42" {
			t.Errorf("the last message of the conversation = %+v", ms[0])
		}
	})
}
