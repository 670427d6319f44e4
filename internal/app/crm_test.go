package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: creating a workspace's first pipeline (its default)
// schedules the background pass that places the contacts whose lead stage
// names one of its stages, batch after batch; contacts with other labels
// stay off the board.
func TestFirstPipelinePlacesLabelledContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		owner := a.SignUp(t, "reconcile")
		ws := owner.CreateWorkspace(t, "Reconcile")
		ctx := context.Background()
		by := contact.By{Kind: contact.BySystem}
		labels := map[string]string{}
		for _, stage := range []string{"won", "Lead", "Someday", ""} {
			c, err := a.Contacts.Create(ctx, nil, ws, contact.NewContact{FirstName: "C", By: by})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Contacts.SetStage(ctx, nil, ws, c.ID, stage, by); err != nil {
				t.Fatal(err)
			}
			labels[c.ID] = stage
		}
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/pipelines", map[string]any{"name": "Sales",
			"stages": []map[string]string{{"name": "Lead"}, {"name": "Won"}}}).Must(t, 201)

		deadline := time.Now().Add(30 * time.Second)
		placed := map[string]string{}
		for len(placed) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("placed after 30 s: %v (labels %v)", placed, labels)
			}
			time.Sleep(20 * time.Millisecond) // polling the store, with a deadline
			for id := range labels {
				cards, err := a.Pipelines.CardsOf(ctx, ws, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cards {
					placed[id] = c.StageName
				}
			}
		}
		for id, stage := range labels {
			want := map[string]string{"won": "Won", "Lead": "Lead"}[stage]
			if placed[id] != want {
				t.Errorf("contact labelled %q is in %q, want %q", stage, placed[id], want)
			}
		}
	})
}
