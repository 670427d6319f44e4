package run

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: a flow's set_stage action moves the contact's card on the
// workspace's main (default) pipeline in the action's transaction, with
// the flow as author and one activity entry.
func TestSetStageMovesTheCard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("email", contact.FieldEmail)
		h.field("source", contact.FieldText)
		ctx := context.Background()
		acts := activity.NewStore(d, h.kr, h.clock.Now)
		pipes := pipeline.NewStore(d, h.contacts, acts, h.clock.Now)
		p, err := pipes.CreatePipeline(ctx, audit.Actor{UserID: "u-1"}, h.ws, "Sales",
			[]pipeline.StageInput{{Name: "New"}, {Name: "qualified"}, {Name: "Won"}})
		if err != nil {
			t.Fatal(err)
		}
		h.runner.opt.Stages = pipes
		id := h.publish(lead)

		h.say("psid-1", "I want a quote")
		h.say("psid-1", "dara@example.com") // the action node sets the stage "Qualified"
		conv := h.conversation("psid-1")
		cards, err := pipes.CardsOf(ctx, h.ws, conv.ContactID)
		if err != nil || len(cards) != 1 || cards[0].PipelineID != p.ID || cards[0].StageName != "qualified" || cards[0].MovedBy != "flow:"+id {
			t.Fatalf("cards %+v, %v", cards, err)
		}
		es, err := acts.List(ctx, h.ws, conv.ContactID, "", 10)
		if err != nil || len(es) != 1 || es[0].Kind != activity.KindPipeline || es[0].Actor != "flow:"+id || es[0].Data[pipeline.DataToStage] != "qualified" {
			t.Fatalf("activity %+v, %v", es, err)
		}
	})
}
