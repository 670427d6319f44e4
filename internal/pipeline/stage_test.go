package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// A stage with cards is deleted only by moving them to another stage of
// the same pipeline, each move on the contact's log; the last stage stays.
func TestDeleteStage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		e.create(t, ws, "Leads", "Lead")
		p := e.create(t, ws, "Sales", "New", "Offer", "Empty")
		q := e.create(t, ws, "Service", "Booked")
		newS, offer, empty := p.Stages[0], p.Stages[1], p.Stages[2]
		a, b, c := e.contact(t, ws, "psid-a"), e.contact(t, ws, "psid-b"), e.contact(t, ws, "psid-c")
		e.move(t, ws, p.ID, a, newS.ID, "")
		e.move(t, ws, p.ID, b, newS.ID, "")
		e.move(t, ws, p.ID, c, offer.ID, "")
		before := e.snapshot(t)

		if err := e.store.DeleteStage(ctx, admin, ws, newS.ID, ""); !errors.Is(err, pipeline.ErrStageNotEmpty) || !errors.Is(err, db.ErrConflict) {
			t.Errorf("deleting a stage with cards: %v", err)
		}
		if err := e.store.DeleteStage(ctx, admin, ws, newS.ID, q.Stages[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("moving the cards to another pipeline: %v", err)
		}
		wantInvalid(t, e.store.DeleteStage(ctx, admin, ws, newS.ID, newS.ID), "move_to")
		if err := e.store.DeleteStage(ctx, admin, ws, newS.ID, "no-such-stage"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("moving the cards to an unknown stage: %v", err)
		}
		// The foreign key refuses it too, whatever the code above it does.
		_, err := d.W.NewRaw(`DELETE FROM pipeline_stages WHERE id = ?`, newS.ID).Exec(ctx)
		if err == nil {
			t.Error("the database deleted a stage with cards")
		}
		if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
			t.Fatalf("refused deletions changed something:\n%s", diff)
		}

		if err := e.store.DeleteStage(ctx, admin, ws, empty.ID, ""); err != nil {
			t.Errorf("deleting an empty stage: %v", err)
		}
		if err := e.store.DeleteStage(ctx, admin, ws, newS.ID, offer.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.column(t, ws, p.ID, offer.ID); !cmp.Equal(got, []string{c, a, b}) {
			t.Errorf("offer column = %v, want c, a, b", got)
		}
		for _, id := range []string{a, b} {
			m := e.moves(t, ws, id)
			if len(m) != 2 || m[1].Data[pipeline.DataFromStageID] != newS.ID || m[1].Data[pipeline.DataToStageID] != offer.ID {
				t.Errorf("moves of %s: %+v", id, m)
			}
		}
		if m := e.moves(t, ws, c); len(m) != 1 {
			t.Errorf("c, which did not move, has %d entries", len(m))
		}
		got, _ := e.store.Get(ctx, ws, p.ID)
		if len(got.Stages) != 1 || got.Stages[0].ID != offer.ID {
			t.Errorf("stages left: %+v", got.Stages)
		}
		wantInvalid(t, e.store.DeleteStage(ctx, admin, ws, offer.ID, ""), "stage")
		if err := e.store.DeleteStage(ctx, admin, ws, newS.ID, ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("deleting it again: %v", err)
		}
	})
}

// The default pipeline's stage names are the lead stage, both ways, and
// the card follows the contact into erasure.
func TestLeadStageIsTheDefaultPipeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c := e.contact(t, ws, "psid-1")
		byFlow := contact.By{Kind: contact.ByFlow, ID: "f1"}
		// setStage is what a flow's set_stage action does once the lead
		// wires SyncStage: both in one transaction.
		setStage := func(stage string) {
			t.Helper()
			err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if _, err := e.contacts.SetStage(ctx, tx, ws, c, stage, byFlow); err != nil {
					return err
				}
				return e.store.SyncStage(ctx, tx, ws, c, stage, byFlow)
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		// Without a default pipeline a stage is a free label.
		setStage("Curious")
		if e.leadStage(t, ws, c) != "Curious" {
			t.Fatal("free label not kept")
		}
		leads := e.create(t, ws, "Leads", "New", "Hot lead", "Customer")
		other := e.create(t, ws, "Service", "Booked")
		newS, hot, customer := leads.Stages[0], leads.Stages[1], leads.Stages[2]
		if !leads.Default {
			t.Fatal("the first pipeline is not the default")
		}

		// Flow → board: a matching name (any case) places the card, once.
		setStage("hot LEAD")
		if got := e.column(t, ws, leads.ID, hot.ID); !cmp.Equal(got, []string{c}) {
			t.Fatalf("hot column = %v", got)
		}
		m := e.moves(t, ws, c)
		if len(m) != 1 || m[0].Actor != "flow:f1" || m[0].Data[pipeline.DataToStageID] != hot.ID {
			t.Errorf("entries after SyncStage: %+v", m)
		}
		setStage("Hot lead") // same stage: nothing new
		if n := len(e.moves(t, ws, c)); n != 1 {
			t.Errorf("re-setting the same stage wrote entries (%d)", n)
		}

		// Board → contact: a move on the default pipeline sets the stage.
		e.move(t, ws, leads.ID, c, customer.ID, "")
		got, _ := e.contacts.Get(ctx, ws, c)
		if got.Stage != "Customer" || got.StageBy != contact.ByActor(agent) {
			t.Errorf("after a board move the contact is %q by %v", got.Stage, got.StageBy)
		}
		if n := len(e.moves(t, ws, c)); n != 2 {
			t.Errorf("a board move wrote %d entries in all, want 2", n)
		}
		// Other pipelines leave it alone.
		e.move(t, ws, other.ID, c, "", "")
		if s := e.leadStage(t, ws, c); s != "Customer" {
			t.Errorf("a move on another board set the stage to %q", s)
		}

		// Renaming a default stage relabels its contacts.
		if _, err := e.store.UpdateStage(ctx, admin, ws, customer.ID, pipeline.StageInput{Name: "Client"}); err != nil {
			t.Fatal(err)
		}
		if s := e.leadStage(t, ws, c); s != "Client" {
			t.Errorf("after the rename the stage is %q", s)
		}
		// Deleting its stage moves the card and the label.
		if err := e.store.DeleteStage(ctx, admin, ws, customer.ID, newS.ID); err != nil {
			t.Fatal(err)
		}
		if s := e.leadStage(t, ws, c); s != "New" {
			t.Errorf("after the stage's deletion the stage is %q", s)
		}

		// A label that is no stage, or none, takes the card off.
		setStage("Just looking")
		if pl, _ := e.store.CardsOf(ctx, ws, c); len(pl) != 1 || pl[0].PipelineID != other.ID {
			t.Errorf("cards after a free label: %+v", pl)
		}
		setStage("New")
		setStage("")
		if pl, _ := e.store.CardsOf(ctx, ws, c); len(pl) != 1 {
			t.Errorf("cards after clearing: %+v", pl)
		}
		// Removing a card from the board clears the stage.
		e.move(t, ws, leads.ID, c, hot.ID, "")
		if err := e.store.RemoveCard(ctx, agent, ws, leads.ID, c); err != nil {
			t.Fatal(err)
		}
		if s := e.leadStage(t, ws, c); s != "" {
			t.Errorf("after RemoveCard the stage is %q", s)
		}
		if err := e.store.SyncStage(ctx, d.W, ws, c, "bad\nstage", byFlow); !errors.Is(err, pipeline.ErrInvalid) {
			t.Errorf("SyncStage with a bad stage: %v", err)
		}

		// Deleting the default pipeline keeps the labels, as free labels.
		e.move(t, ws, leads.ID, c, hot.ID, "")
		if err := e.store.DeletePipeline(ctx, admin, ws, leads.ID); err != nil {
			t.Fatal(err)
		}
		if s := e.leadStage(t, ws, c); s != "Hot lead" {
			t.Errorf("after deleting the pipeline the stage is %q", s)
		}
		setStage("Customer") // no default any more: nothing to sync, no error
		if pl, _ := e.store.CardsOf(ctx, ws, c); len(pl) != 1 {
			t.Errorf("cards: %+v", pl)
		}

		// Erasure: the contact's cards and activity go with it.
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := e.kr.DestroyContactKey(ctx, tx, ws, c); err != nil {
				return err
			}
			_, err := tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, c).Exec(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT (SELECT count(*) FROM pipeline_cards WHERE contact_id = ?) + (SELECT count(*) FROM contact_activity WHERE contact_id = ?)`,
			c, c).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("%d cards and entries outlived the contact (%v)", n, err)
		}
	})
}

// Reconcile places the contacts already labelled with a default stage,
// batch by batch, and takes off those whose label is no stage.
func TestReconcile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)
		byAPI := contact.By{Kind: contact.ByAPIKey, ID: "k"}
		label := func(c, stage string) {
			t.Helper()
			if _, err := e.contacts.SetStage(ctx, nil, ws, c, stage, byAPI); err != nil {
				t.Fatal(err)
			}
		}
		if next, n, err := e.store.Reconcile(ctx, ws, "", 10); err != nil || next != "" || n != 0 {
			t.Errorf("without a default pipeline: %q, %d, %v", next, n, err)
		}
		hot, cold, free, none := e.contact(t, ws, "h"), e.contact(t, ws, "c"), e.contact(t, ws, "f"), e.contact(t, ws, "n")
		foreign := e.contact(t, ws2, "x")
		label(hot, "hot")
		label(cold, "Cold")
		label(free, "Curious")
		if _, err := e.contacts.SetStage(ctx, nil, ws2, foreign, "Hot", byAPI); err != nil {
			t.Fatal(err)
		}
		p := e.create(t, ws, "Leads", "Hot", "Cold")
		e.move(t, ws, p.ID, free, p.Stages[1].ID, "") // labels it Cold …
		label(free, "Curious")                        // … then a label SyncStage was not told about

		total, after := 0, ""
		for i := 0; ; i++ {
			next, n, err := e.store.Reconcile(ctx, ws, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			if next == "" {
				break
			}
			if i > 3 {
				t.Fatal("Reconcile does not end")
			}
			after = next
		}
		if total != 3 {
			t.Errorf("%d cards changed, want 3", total)
		}
		if got := e.column(t, ws, p.ID, p.Stages[0].ID); !cmp.Equal(got, []string{hot}) {
			t.Errorf("Hot = %v", got)
		}
		if got := e.column(t, ws, p.ID, p.Stages[1].ID); !cmp.Equal(got, []string{cold}) {
			t.Errorf("Cold = %v", got)
		}
		if m := e.moves(t, ws, hot); len(m) != 1 || m[0].Actor != "system" {
			t.Errorf("hot's entries: %+v", m)
		}
		if e.leadStage(t, ws, free) != "Curious" || e.leadStage(t, ws, none) != "" {
			t.Error("Reconcile changed a lead stage")
		}
		if pl, _ := e.store.CardsOf(ctx, ws2, foreign); len(pl) != 0 {
			t.Errorf("another workspace's contact was placed: %+v", pl)
		}
		if _, n, _ := e.store.Reconcile(ctx, ws, "", 10); n != 0 {
			t.Errorf("a second pass changed %d cards", n)
		}
	})
}
