package csvio

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: a lead stage an import sets places the contact on the
// workspace's default pipeline, in the same transaction, as the flows and
// the dashboard do; a stage the pipeline does not have leaves it off.
func TestImportedStagePlacesTheCard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		pipes := pipeline.NewStore(d, e.contacts, activity.NewStore(d, e.kr, func() time.Time { return e.now }), func() time.Time { return e.now })
		e.im.Stages = pipes
		if _, err := pipes.CreatePipeline(ctx, admin, ws, "Sales", []pipeline.StageInput{{Name: "New"}, {Name: "Won"}}); err != nil {
			t.Fatal(err)
		}
		imp := e.start(t, ws, "First name,Stage\nDara,won\nSokha,someday\n", Options{Mapping: Mapping{"First name": TargetFirstName, "Stage": TargetStage}})
		if imp.Created != 2 || imp.Failed != 0 {
			t.Fatalf("import = %+v", imp)
		}
		people := e.people(t, ws)
		cards, err := pipes.CardsOf(ctx, ws, people["Dara"].ID)
		if err != nil || len(cards) != 1 || cards[0].StageName != "Won" {
			t.Errorf("Dara's cards = %+v, %v", cards, err)
		}
		if cards, err := pipes.CardsOf(ctx, ws, people["Sokha"].ID); err != nil || len(cards) != 0 {
			t.Errorf("Sokha (a stage the pipeline does not have) = %+v, %v", cards, err)
		}
	})
}
