package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: MergeContacts runs every package's Mover, so nothing of
// the gone contact is lost or left unreadable: its conversation and
// messages, its conversation's private note, its activity note and its
// card on a board are the kept contact's, readable after its key is
// destroyed; the kept contact's log tells of the merge by the merged
// contact's ID only; no row names the gone contact any more.
func TestMergeContactsMovesEverything(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		owner := a.SignUp(t, "merge-owner")
		ws := owner.CreateWorkspace(t, "Merge")
		actor := audit.Actor{UserID: owner.ID}
		_, keep := a.Conversation(t, ws, "first page")
		goneConv, gone := a.Conversation(t, ws, "second page")
		if _, err := a.Timeline.AddNote(ctx, actor, ws, goneConv, "private note on the gone conversation"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Activity.AddNote(ctx, actor, ws, gone, "activity note on the gone contact"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Pipelines.CreatePipeline(ctx, actor, ws, "Sales", []pipeline.StageInput{{Name: "New"}}); err != nil {
			t.Fatal(err)
		}
		board, err := a.Pipelines.CreatePipeline(ctx, actor, ws, "Events", []pipeline.StageInput{{Name: "Invited"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Pipelines.AddCard(ctx, actor, ws, board.ID, gone, board.Stages[0].ID); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(time.Minute)

		kept, err := a.MergeContacts(ctx, actor, ws, keep, gone)
		if err != nil {
			t.Fatal(err)
		}
		if kept.ID != keep {
			t.Fatalf("kept %s, want %s", kept.ID, keep)
		}

		ms, err := a.Inbox.Messages(ctx, ws, goneConv, inbox.MaxLimit, "")
		if err != nil || len(ms) != 1 || ms[0].Content.Text != "second page" {
			t.Errorf("the moved conversation's messages: %+v, %v", ms, err)
		}
		es, err := a.Timeline.List(ctx, ws, goneConv, time.Time{}, time.Time{}, 50)
		if err != nil {
			t.Fatal(err)
		}
		var note string
		for _, e := range es {
			if e.Note != nil {
				note = e.Note.Text
			}
		}
		if note != "private note on the gone conversation" {
			t.Errorf("the conversation's private note reads %q", note)
		}
		log, err := a.Activity.List(ctx, ws, keep, "", activity.MaxPage)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]activity.Entry{}
		for _, e := range log {
			kinds[e.Kind] = e
		}
		if n := kinds[activity.KindNote]; n.Data["text"] != "activity note on the gone contact" {
			t.Errorf("the activity note reads %+v", n)
		}
		if m := kinds[activity.KindMerge]; len(m.Data) != 1 || m.Data["contact_id"] != gone || m.Actor != "user:"+owner.ID {
			t.Errorf("the merge entry is %+v", m)
		}
		if _, ok := kinds[activity.KindPipeline]; !ok {
			t.Error("the gone contact's board history is missing")
		}
		cards, err := a.Pipelines.CardsOf(ctx, ws, keep)
		if err != nil || len(cards) != 1 || cards[0].PipelineID != board.ID {
			t.Errorf("the kept contact's cards: %+v, %v", cards, err)
		}
		// No row names the gone contact any more.
		var tables []string
		if d.Dialect == db.SQLite {
			err = d.R.NewRaw(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'contact_id'`).Scan(ctx, &tables)
		} else {
			err = d.R.NewRaw(`SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'contact_id'`).Scan(ctx, &tables)
		}
		if err != nil || len(tables) < 10 {
			t.Fatalf("tables with contact_id: %v, %v", tables, err)
		}
		for _, tb := range tables {
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM `+tb+` WHERE contact_id = ?`, gone).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s still has %d rows of the gone contact", tb, n)
			}
		}
	})
}

// Security.md M-6 for merges: the merged-away contact is deleted and its
// key destroyed like an erased one, so the merge writes its tombstone in
// the merge's transaction; a restored copy from before the merge that
// still holds it (row and key) gets it erased again by Replay.
func TestMergeContactsTombstonesGone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		owner := a.SignUp(t, "merge-tomb")
		ws := owner.CreateWorkspace(t, "Merge tombstone")
		actor := audit.Actor{UserID: owner.ID}
		_, keep := a.Conversation(t, ws, "hi")
		_, gone := a.Conversation(t, ws, "hi")
		backup := map[string][]map[string]any{}
		for _, table := range []string{"contacts", "contact_keys"} {
			backup[table] = rowsOf(t, d, `SELECT * FROM `+table+` WHERE workspace_id = ? AND `+idColumn(table)+` = ?`, ws, gone)
		}
		if _, err := a.MergeContacts(ctx, actor, ws, keep, gone); err != nil {
			t.Fatal(err)
		}
		ts, err := a.Erasure.Tombstones(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := erasure.Tombstone{Kind: erasure.KindContact, WorkspaceID: ws, Subject: a.Erasure.Subject(gone)}
		var found bool
		for _, tb := range ts {
			if tb.Subject == a.Erasure.Subject(keep) {
				t.Error("the kept contact has a tombstone")
			}
			found = found || (tb.Kind == want.Kind && tb.WorkspaceID == want.WorkspaceID && tb.Subject == want.Subject)
		}
		if !found {
			t.Fatalf("tombstones %+v: none for the merged contact", ts)
		}
		// What a restore from before the merge brings back.
		for _, table := range []string{"contacts", "contact_keys"} {
			for _, row := range backup[table] {
				insertRow(t, d, table, row)
			}
		}
		n, err := a.Erasure.Replay(ctx, ts)
		if err != nil || n != 1 {
			t.Fatalf("replay erased %d, %v; want 1", n, err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM contacts WHERE id = ?`, gone); n != 0 {
			t.Error("the merged contact is back after the replay")
		}
		if n := countRows(t, d, `SELECT count(*) FROM contact_keys WHERE contact_id = ?`, gone); n != 0 {
			t.Error("the merged contact's key is back after the replay")
		}
		if n := countRows(t, d, `SELECT count(*) FROM contacts WHERE id = ?`, keep); n != 1 {
			t.Error("the replay took the kept contact")
		}
	})
}
