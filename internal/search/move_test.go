package search

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Merging two contacts with MoveContact among the movers: the gone
// contact's indexed messages are found under the kept contact at once
// (their bodies re-sealed by the inbox's mover still verify), the gone
// contact's profile is found no more, a message indexed after the merge is
// the kept contact's, and nothing of the index refers to the gone contact.
// Without MoveContact the cascade would drop the moved messages' documents.
func TestMoveContactOnMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, 0)
		ws, ch1 := e.workspace("p1")
		ch2 := fixture.Messenger(t, e.channels, ws, "p2-"+ws, "token-p2")
		keep := e.person(ch1, "a", "Dara", "Sok")
		gone := e.person(ch2, "b", "Vannak", "Chea")
		other := e.person(ch2, "c", "Sophea", "Lim") // untouched by the merge
		mKeep := e.message(keep, "the red bag please")
		mGone := e.message(gone, "ខ្ញុំចង់ទិញកាបូប")
		mOther := e.message(other, "is the red bag in stock")
		e.catchUp(e.ix)
		mLate := e.message(gone, "delivery to Siem Reap") // not indexed before the merge

		ib := inbox.New(e.d, e.kr, inbox.Options{Now: e.clock})
		_, err := e.contacts.Merge(context.Background(), audit.Actor{UserID: uuid.Must(uuid.NewV7()).String()}, ws, keep.ID, gone.ID,
			func(ctx context.Context, tx bun.Tx, m contact.Merging) error {
				return ib.MoveContact(ctx, tx, m.WorkspaceID, m.GoneID, m.KeepID)
			},
			e.ix.MoveContact)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.count(`SELECT count(*) FROM search_docs WHERE contact_id = ?`, gone.ID); n != 0 {
			t.Errorf("%d documents still name the gone contact", n)
		}
		if n := e.count(`SELECT count(*) FROM search_pending WHERE contact_id = ?`, keep.ID); n != 1 {
			t.Errorf("the kept contact is not queued for re-indexing (%d)", n)
		}
		// At once, before the indexer runs again.
		r := e.search(ws, "កាបូប", QueryOptions{Messages: true})
		if len(r.Messages) != 1 || r.Messages[0].ID != mGone || r.Messages[0].ContactID != keep.ID {
			t.Errorf("the gone contact's message after the merge = %+v, want %s under %s", r.Messages, mGone, keep.ID)
		}
		if r := e.search(ws, "vannak", QueryOptions{Contacts: true}); len(r.Contacts) != 0 {
			t.Errorf("the gone contact is still found: %+v", r.Contacts)
		}

		e.catchUp(e.ix)
		r = e.search(ws, "siem reap", QueryOptions{Messages: true})
		if len(r.Messages) != 1 || r.Messages[0].ID != mLate || r.Messages[0].ContactID != keep.ID {
			t.Errorf("a message indexed after the merge = %+v, want %s under %s", r.Messages, mLate, keep.ID)
		}
		r = e.search(ws, "red bag", QueryOptions{})
		if diff := cmp.Diff(sorted(mKeep, mOther), messageIDs(r)); diff != "" {
			t.Errorf("other messages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(sorted(keep.ID), contactIDs(e.search(ws, "dara sok", QueryOptions{}))); diff != "" {
			t.Errorf("the kept contact (-want +got):\n%s", diff)
		}
		if n := e.count(`SELECT count(*) FROM search_grams g LEFT JOIN search_docs d ON d.id = g.doc WHERE d.id IS NULL`); n != 0 {
			t.Errorf("%d orphan postings", n)
		}
		// A merge refused after MoveContact ran changes nothing of the index.
		before := e.count(`SELECT count(*) FROM search_docs WHERE contact_id = ?`, other.ID)
		_, err = e.contacts.Merge(context.Background(), audit.Actor{UserID: uuid.Must(uuid.NewV7()).String()}, ws, keep.ID, other.ID,
			e.ix.MoveContact, func(context.Context, bun.Tx, contact.Merging) error { return errors.New("refused") })
		if err == nil {
			t.Fatal("a failing mover did not fail the merge")
		}
		if after := e.count(`SELECT count(*) FROM search_docs WHERE contact_id = ?`, other.ID); after != before || before == 0 {
			t.Errorf("documents of the contact not merged: %d before, %d after", before, after)
		}
	})
}
