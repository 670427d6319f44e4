package activity_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: merging two contacts keeps both activity logs on the kept
// contact, readable after the gone contact's key is destroyed (its entries
// are re-sealed under the kept contact's key), and touches no one else's.
func TestMoveContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		keep := e.contact(t, ws, "psid-keep")
		gone := e.contact(t, ws, "psid-gone")
		other := e.contact(t, ws, "psid-other")

		if _, err := e.store.AddNote(ctx, agent1, ws, keep, "kept note"); err != nil {
			t.Fatal(err)
		}
		goneNote, err := e.store.AddNote(ctx, agent1, ws, gone, "gone note")
		if err != nil {
			t.Fatal(err)
		}
		// More entries than one batch of the move, so its keyset walk is
		// exercised past the first page.
		const calls = 501
		err = e.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for i := range calls {
				if err := e.store.Record(ctx, tx, activity.Entry{WorkspaceID: ws, ContactID: gone, Kind: activity.KindCall,
					Actor: "api_key:k1", Data: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
					return err
				}
			}
			return e.store.Record(ctx, tx, activity.Entry{WorkspaceID: ws, ContactID: other, Kind: activity.KindTag, Actor: "system"})
		})
		if err != nil {
			t.Fatal(err)
		}
		var before []byte
		if err := d.R.NewRaw(`SELECT data FROM contact_activity WHERE id = ?`, goneNote.ID).Scan(ctx, &before); err != nil {
			t.Fatal(err)
		}

		if _, err := e.contacts.Merge(ctx, agent1, ws, keep, gone, e.store.MoveContact); err != nil {
			t.Fatal(err)
		}

		if n := count(t, d, `contact_id = ?`, gone); n != 0 {
			t.Errorf("%d entries still name the gone contact", n)
		}
		if n := count(t, d, `contact_id = ?`, other); n != 1 {
			t.Errorf("the other contact has %d entries, want 1", n)
		}
		var all []activity.Entry
		for before := ""; ; {
			page, err := e.store.List(ctx, ws, keep, before, activity.MaxPage)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < activity.MaxPage {
				break
			}
			before = page[len(page)-1].ID
		}
		// List skips entries that do not open, so every one counted here
		// was re-sealed under the kept contact's key.
		if len(all) != calls+2 {
			t.Fatalf("the kept contact's log has %d readable entries, want %d", len(all), calls+2)
		}
		seen := map[string]bool{}
		for _, en := range all {
			if en.ContactID != keep {
				t.Errorf("entry %s names contact %s", en.ID, en.ContactID)
			}
			switch en.Kind {
			case activity.KindNote:
				seen[en.Data["text"]] = true
			case activity.KindCall:
				seen["call "+en.Data["n"]] = true
			}
		}
		for _, want := range []string{"kept note", "gone note", "call 0", fmt.Sprint("call ", calls-1)} {
			if !seen[want] {
				t.Errorf("%q is missing from the merged log", want)
			}
		}
		moved, err := e.store.Get(ctx, ws, goneNote.ID)
		if err != nil || moved.Data["text"] != "gone note" || moved.Actor != goneNote.Actor || !moved.At.Equal(goneNote.At) {
			t.Errorf("the moved note = %+v, %v", moved, err)
		}
		var after []byte
		if err := d.R.NewRaw(`SELECT data FROM contact_activity WHERE id = ?`, goneNote.ID).Scan(ctx, &after); err != nil {
			t.Fatal(err)
		}
		if string(after) == string(before) {
			t.Error("the moved note was not sealed again")
		}
	})
}
