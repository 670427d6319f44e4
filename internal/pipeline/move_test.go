package pipeline_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: merging two contacts keeps the gone contact's cards on the
// boards where the kept contact has none; where both have one the kept
// card wins; and the default pipeline stays in line with the merged lead
// stage.
func TestMoveContact(t *testing.T) {
	for _, tc := range []struct {
		name string
		// keptStage puts the kept contact on the default pipeline first.
		keptStage bool
		wantLead  string
		wantIn    string // the default pipeline's stage the kept contact is in
	}{
		{"kept contact without a stage takes the gone one's card", false, "Won", "Won"},
		{"kept contact with a stage keeps its card", true, "New", "New"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				e := setup(t, d)
				ctx := context.Background()
				ws := e.workspace(t)
				sales := e.create(t, ws, "Sales", "New", "Won") // the first: the default
				wholesale := e.create(t, ws, "Wholesale", "Asked", "Ordered")
				events := e.create(t, ws, "Events", "Invited", "Came")
				keep, gone := e.contact(t, ws, "keep"), e.contact(t, ws, "gone")
				if tc.keptStage {
					e.move(t, ws, sales.ID, keep, sales.Stages[0].ID, "")
				}
				e.move(t, ws, sales.ID, gone, sales.Stages[1].ID, "")
				e.move(t, ws, wholesale.ID, gone, wholesale.Stages[1].ID, "")
				e.move(t, ws, events.ID, keep, events.Stages[0].ID, "")
				e.move(t, ws, events.ID, gone, events.Stages[1].ID, "")

				if _, err := e.contacts.Merge(ctx, admin, ws, keep, gone, e.store.MoveContact); err != nil {
					t.Fatal(err)
				}

				place := map[string]string{}
				ps, err := e.store.CardsOf(ctx, ws, keep)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ps {
					place[p.PipelineID] = p.StageID
				}
				want := map[string]string{wholesale.ID: wholesale.Stages[1].ID, events.ID: events.Stages[0].ID}
				for _, st := range sales.Stages {
					if st.Name == tc.wantIn {
						want[sales.ID] = st.ID
					}
				}
				for p, st := range want {
					if place[p] != st {
						t.Errorf("on pipeline %s the kept contact is in %q, want %q (all: %v)", p, place[p], st, place)
					}
				}
				if len(place) != len(want) {
					t.Errorf("the kept contact has %d cards, want %d: %v", len(place), len(want), place)
				}
				if got := e.leadStage(t, ws, keep); got != tc.wantLead {
					t.Errorf("lead stage %q, want %q", got, tc.wantLead)
				}
				var left int
				if err := d.R.NewRaw(`SELECT count(*) FROM pipeline_cards WHERE contact_id = ?`, gone).Scan(ctx, &left); err != nil || left != 0 {
					t.Errorf("%d cards of the gone contact, %v", left, err)
				}
			})
		})
	}
}
