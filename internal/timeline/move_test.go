package timeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/timeline"
)

// Merging two contacts keeps the gone contact's notes readable, re-sealed
// under the kept contact's key (the gone key is destroyed by the merge).
func TestMoveContactOnMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		keep, gone := e.conversation(t, ws), e.conversation(t, ws)
		author := e.member(t, ws, "agent")
		if _, err := e.store.AddNote(ctx, user(author), ws, gone.id, "CANARY moved note"); err != nil {
			t.Fatal(err)
		}
		if err := e.record(t, timeline.Event{WorkspaceID: ws, ConversationID: gone.id, Kind: timeline.KindStatus, Actor: "system"}); err != nil {
			t.Fatal(err)
		}
		// What package inbox's mover does to conversations.
		moveConversations := func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
			_, err := tx.NewRaw(`UPDATE conversations SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
				m.KeepID, m.WorkspaceID, m.GoneID).Exec(ctx)
			return err
		}
		_, err := e.contacts.Merge(ctx, user(author), ws, keep.contactID, gone.contactID, moveConversations, e.store.MoveContact)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.store.List(ctx, ws, gone.id, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("timeline after the merge = %+v", got)
		}
		for _, en := range got {
			if en.ContactID != keep.contactID {
				t.Errorf("event %s still names contact %s", en.ID, en.ContactID)
			}
			if en.Kind == timeline.KindNote && (en.Note.Erased || en.Note.Text != "CANARY moved note") {
				t.Errorf("note after the merge = %+v", en.Note)
			}
		}
		// The conversation now belongs to the kept contact: events recorded
		// from here on name it.
		if err := e.record(t, timeline.Event{WorkspaceID: ws, ConversationID: gone.id, Kind: timeline.KindSeen, Actor: "system"}); err != nil {
			t.Errorf("Record after the merge: %v", err)
		}
	})
}
