package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: every move on the board is one activity entry on the
// contact, with the stages it left and entered.
func TestMoveWritesOneActivityEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		e.create(t, ws, "Leads", "Lead") // the default; this test is about another board
		p := e.create(t, ws, "Sales", "New", "Offer", "Won")
		newS, offer := p.Stages[0], p.Stages[1]
		c := e.contact(t, ws, "psid-1")

		card, err := e.store.AddCard(ctx, agent, ws, p.ID, c, "")
		if err != nil || card.StageID != newS.ID || card.MovedBy != "user:u-agent" || !card.MovedAt.Equal(e.now) {
			t.Fatalf("AddCard = %+v, %v", card, err)
		}
		e.now = e.now.Add(3600e9)
		card = e.move(t, ws, p.ID, c, offer.ID, "")
		if card.StageID != offer.ID || !card.MovedAt.Equal(e.now) {
			t.Errorf("moved card %+v", card)
		}
		moves := e.moves(t, ws, c)
		if len(moves) != 2 {
			t.Fatalf("%d activity entries, want 2: %+v", len(moves), moves)
		}
		want := map[string]string{
			pipeline.DataPipelineID: p.ID, pipeline.DataPipeline: "Sales",
			pipeline.DataFromStageID: newS.ID, pipeline.DataFromStage: "New",
			pipeline.DataToStageID: offer.ID, pipeline.DataToStage: "Offer",
		}
		if diff := cmp.Diff(want, moves[1].Data); diff != "" {
			t.Errorf("move entry (-want +got):\n%s", diff)
		}
		if moves[1].Actor != "user:u-agent" || moves[1].Kind != activity.KindPipeline || !moves[1].At.Equal(e.now) {
			t.Errorf("move entry %+v", moves[1])
		}
		if moves[0].Data[pipeline.DataFromStageID] != "" || moves[0].Data[pipeline.DataToStageID] != newS.ID {
			t.Errorf("placing entry %+v", moves[0].Data)
		}
		// Moving to the stage it is in (a reorder) is not a move.
		e.move(t, ws, p.ID, c, offer.ID, "")
		if n := len(e.moves(t, ws, c)); n != 2 {
			t.Errorf("a move within the column wrote an entry (%d)", n)
		}
		// Not the default pipeline: the lead stage is untouched.
		if got := e.leadStage(t, ws, c); got != "" {
			t.Errorf("a move on another pipeline set the lead stage to %q", got)
		}

		// Removing writes an entry to nowhere.
		if err := e.store.RemoveCard(ctx, agent, ws, p.ID, c); err != nil {
			t.Fatal(err)
		}
		moves = e.moves(t, ws, c)
		if len(moves) != 3 || moves[2].Data[pipeline.DataFromStageID] != offer.ID || moves[2].Data[pipeline.DataToStageID] != "" {
			t.Errorf("remove entry %+v", moves)
		}
		if err := e.store.RemoveCard(ctx, agent, ws, p.ID, c); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("removing a card that is not there: %v", err)
		}
	})
}

// Promise P-03: a card cannot reach another pipeline's stage or anything of
// another workspace; a refused move changes nothing.
func TestMoveRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)
		p := e.create(t, ws, "Sales", "New", "Offer")
		q := e.create(t, ws, "Service", "Booked")
		foreign := e.create(t, ws2, "Sales", "New")
		c := e.contact(t, ws, "psid-1")
		c2 := e.contact(t, ws, "psid-2")
		cForeign := e.contact(t, ws2, "psid-3")
		e.move(t, ws, p.ID, c, p.Stages[0].ID, "")
		e.move(t, ws, p.ID, c2, p.Stages[1].ID, "")
		before := e.snapshot(t)

		for _, tc := range []struct {
			name                      string
			ws, pipeline, contact, to string
			beforeID                  string
			want                      error
		}{
			{"another pipeline's stage", ws, p.ID, c, q.Stages[0].ID, "", db.ErrNotFound},
			{"another workspace's stage", ws, p.ID, c, foreign.Stages[0].ID, "", db.ErrNotFound},
			{"another workspace's contact", ws, p.ID, cForeign, p.Stages[0].ID, "", db.ErrNotFound},
			{"another workspace's pipeline", ws, foreign.ID, c, foreign.Stages[0].ID, "", db.ErrNotFound},
			{"as another workspace", ws2, p.ID, c, p.Stages[1].ID, "", db.ErrNotFound},
			{"unknown stage", ws, p.ID, c, "no-such-stage", "", db.ErrNotFound},
			{"unknown contact", ws, p.ID, "no-such-contact", p.Stages[0].ID, "", db.ErrNotFound},
			{"before a card of another column", ws, p.ID, c, p.Stages[0].ID, c2, db.ErrNotFound},
			{"before a card that is not there", ws, p.ID, c, p.Stages[1].ID, "no-such-contact", db.ErrNotFound},
			{"before itself", ws, p.ID, c, p.Stages[0].ID, c, pipeline.ErrInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.Move(ctx, agent, tc.ws, tc.pipeline, tc.contact, pipeline.Target{StageID: tc.to, Before: tc.beforeID})
				if !errors.Is(err, tc.want) {
					t.Errorf("Move = %v, want %v", err, tc.want)
				}
			})
		}
		if diff := cmp.Diff(before, e.snapshot(t)); diff != "" {
			t.Fatalf("refused moves changed something (-before +after):\n%s", diff)
		}
		// The control: the same call with good IDs works, so the refusals
		// were about the IDs.
		if _, err := e.store.Move(ctx, agent, ws, p.ID, c, pipeline.Target{StageID: p.Stages[1].ID}); err != nil {
			t.Fatal(err)
		}
		if e.snapshot(t) == before {
			t.Fatal("the control move changed nothing")
		}
	})
}

// Concurrent moves of one card serialize: the contact's log stays a chain
// where every move leaves the stage the previous one entered.
func TestConcurrentMovesChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		p := e.create(t, ws, "Sales", "A", "B", "C")
		c := e.contact(t, ws, "psid-1")
		e.move(t, ws, p.ID, c, p.Stages[0].ID, "")
		const n = 8
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := e.store.Move(ctx, agent, ws, p.ID, c, pipeline.Target{StageID: p.Stages[1+i%2].ID})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		m := e.moves(t, ws, c)
		if len(m) < 2 {
			t.Fatalf("%d entries", len(m))
		}
		for i := 1; i < len(m); i++ {
			if m[i].Data[pipeline.DataFromStageID] != m[i-1].Data[pipeline.DataToStageID] {
				t.Fatalf("entry %d leaves %s, but the card was in %s", i, m[i].Data[pipeline.DataFromStage], m[i-1].Data[pipeline.DataToStage])
			}
		}
		card, _ := e.store.CardsOf(ctx, ws, c)
		if len(card) != 1 || card[0].StageID != m[len(m)-1].Data[pipeline.DataToStageID] {
			t.Errorf("the card is in %+v, the log ends in %s", card, m[len(m)-1].Data[pipeline.DataToStage])
		}
	})
}
