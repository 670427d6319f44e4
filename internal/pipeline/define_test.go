package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/pipeline"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

// wantInvalid fails unless err wraps ErrInvalid with a message for field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	v, ok := validate.As(err)
	if !errors.Is(err, pipeline.ErrInvalid) || !ok || v.Field != field {
		t.Errorf("err = %v, want ErrInvalid on %q", err, field)
	}
}

// Promise P-25: pipelines with configurable stages, checked, ordered,
// audited by IDs, each workspace's own.
func TestDefinitions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)

		for _, tc := range []struct {
			name, pname string
			stages      []pipeline.StageInput
			field       string
		}{
			{"no name", " ", stages("A"), "name"},
			{"long name", strings.Repeat("n", pipeline.MaxName+1), stages("A"), "name"},
			{"no stages", "Sales", nil, "stages"},
			{"too many stages", "Sales", stages(strings.Split(strings.Repeat("s,", pipeline.MaxStages+1), ",")[:pipeline.MaxStages+1]...), "stages"},
			{"same stage twice", "Sales", stages("Hot", "HOT"), "stages"},
			{"empty stage", "Sales", stages("Hot", " "), "name"},
			{"long stage", "Sales", stages(strings.Repeat("s", contact.MaxStage+1)), "name"},
			{"stage on two lines", "Sales", stages("a\nb"), "name"},
			{"bad colour", "Sales", []pipeline.StageInput{{Name: "A", Color: "red"}}, "color"},
			{"bad outcome", "Sales", []pipeline.StageInput{{Name: "A", Outcome: "maybe"}}, "outcome"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.CreatePipeline(ctx, admin, ws, tc.pname, tc.stages)
				wantInvalid(t, err, tc.field)
			})
		}
		if ps, _ := e.store.Pipelines(ctx, ws); len(ps) != 0 {
			t.Fatalf("refused pipelines were created: %+v", ps)
		}

		sales, err := e.store.CreatePipeline(ctx, admin, ws, " Sales ", []pipeline.StageInput{
			{Name: "New"}, {Name: "Won", Color: "#1A7F5A", Outcome: pipeline.OutcomeWon}, {Name: "Lost", Outcome: pipeline.OutcomeLost}})
		if err != nil {
			t.Fatal(err)
		}
		if sales.Name != "Sales" || !sales.Default || len(sales.Stages) != 3 || sales.Stages[1].Color != "#1a7f5a" || sales.Stages[2].Outcome != pipeline.OutcomeLost {
			t.Errorf("created %+v", sales)
		}
		if _, err := e.store.CreatePipeline(ctx, admin, ws, "SALES", stages("A")); !errors.Is(err, db.ErrConflict) {
			t.Errorf("a second pipeline named SALES: %v", err)
		}
		repairs := e.create(t, ws, "Repairs", "Booked", "Done")
		if repairs.Default || repairs.Position <= sales.Position {
			t.Errorf("second pipeline %+v", repairs)
		}
		// The same name in another workspace is fine; it is that one's default.
		other := e.create(t, ws2, "Sales", "New")
		if !other.Default {
			t.Error("another workspace's first pipeline is not its default")
		}

		got, err := e.store.Get(ctx, ws, sales.ID)
		if err != nil || got.ID != sales.ID || len(got.Stages) != 3 || got.Stages[0].Name != "New" {
			t.Errorf("Get = %+v, %v", got, err)
		}
		if err := e.store.ReorderPipelines(ctx, admin, ws, []string{repairs.ID, sales.ID}); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, e.store.ReorderPipelines(ctx, admin, ws, []string{repairs.ID}), "ids")
		wantInvalid(t, e.store.ReorderPipelines(ctx, admin, ws, []string{repairs.ID, other.ID}), "ids")
		ps, err := e.store.Pipelines(ctx, ws)
		if err != nil || len(ps) != 2 || ps[0].ID != repairs.ID || ps[1].ID != sales.ID || len(ps[0].Stages) != 2 {
			t.Errorf("Pipelines = %+v, %v", ps, err)
		}
		if _, err := e.store.RenamePipeline(ctx, admin, ws, repairs.ID, "Sales"); !errors.Is(err, db.ErrConflict) {
			t.Errorf("rename onto a taken name: %v", err)
		}
		if p, err := e.store.RenamePipeline(ctx, admin, ws, repairs.ID, "Service"); err != nil || p.Name != "Service" {
			t.Errorf("rename = %+v, %v", p, err)
		}

		// Stages: add, update, reorder.
		st, err := e.store.AddStage(ctx, admin, ws, sales.ID, pipeline.StageInput{Name: "Qualified", Color: "#abcdef"})
		if err != nil || st.Position != 3 || st.PipelineID != sales.ID {
			t.Fatalf("AddStage = %+v, %v", st, err)
		}
		if _, err := e.store.AddStage(ctx, admin, ws, sales.ID, pipeline.StageInput{Name: "qualified"}); !errors.Is(err, db.ErrConflict) {
			t.Errorf("a stage named like another: %v", err)
		}
		if _, err := e.store.UpdateStage(ctx, admin, ws, st.ID, pipeline.StageInput{Name: "won"}); !errors.Is(err, db.ErrConflict) {
			t.Errorf("renaming a stage onto another: %v", err)
		}
		up, err := e.store.UpdateStage(ctx, admin, ws, st.ID, pipeline.StageInput{Name: "Interested", Outcome: pipeline.OutcomeNone})
		if err != nil || up.Name != "Interested" || up.Color != "" {
			t.Errorf("UpdateStage = %+v, %v", up, err)
		}
		_, err = e.store.UpdateStage(ctx, admin, ws, st.ID, pipeline.StageInput{Name: "x", Color: "#12"})
		wantInvalid(t, err, "color")
		order := []string{sales.Stages[0].ID, st.ID, sales.Stages[1].ID, sales.Stages[2].ID}
		if err := e.store.ReorderStages(ctx, admin, ws, sales.ID, order); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, e.store.ReorderStages(ctx, admin, ws, sales.ID, order[:3]), "ids")
		wantInvalid(t, e.store.ReorderStages(ctx, admin, ws, sales.ID, append(order[:3:3], repairs.Stages[0].ID)), "ids")
		got, _ = e.store.Get(ctx, ws, sales.ID)
		var names []string
		for _, s := range got.Stages {
			names = append(names, s.Name)
		}
		if strings.Join(names, ",") != "New,Interested,Won,Lost" {
			t.Errorf("stages after reorder: %v", names)
		}

		// Default moves to another pipeline; only one at a time.
		if err := e.store.SetDefault(ctx, admin, ws, repairs.ID); err != nil {
			t.Fatal(err)
		}
		ps, _ = e.store.Pipelines(ctx, ws)
		if !ps[0].Default || ps[1].Default {
			t.Errorf("defaults after SetDefault: %+v", ps)
		}

		// Another workspace reaches none of it.
		if _, err := e.store.Get(ctx, ws2, sales.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get from ws2: %v", err)
		}
		for name, err := range map[string]error{
			"rename":      func() error { _, err := e.store.RenamePipeline(ctx, admin, ws2, sales.ID, "Mine"); return err }(),
			"set default": e.store.SetDefault(ctx, admin, ws2, sales.ID),
			"reorder":     e.store.ReorderStages(ctx, admin, ws2, sales.ID, order),
			"add stage": func() error {
				_, err := e.store.AddStage(ctx, admin, ws2, sales.ID, pipeline.StageInput{Name: "x"})
				return err
			}(),
			"update stage": func() error {
				_, err := e.store.UpdateStage(ctx, admin, ws2, st.ID, pipeline.StageInput{Name: "x"})
				return err
			}(),
			"delete stage": e.store.DeleteStage(ctx, admin, ws2, st.ID, ""),
			"delete":       e.store.DeletePipeline(ctx, admin, ws2, sales.ID),
			"add stage ws2": func() error {
				_, err := e.store.AddStage(ctx, admin, ws, other.ID, pipeline.StageInput{Name: "x"})
				return err
			}(),
		} {
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s across workspaces: %v", name, err)
			}
		}
		if got, _ := e.store.Get(ctx, ws, sales.ID); got.Name != "Sales" || len(got.Stages) != 4 {
			t.Errorf("refused changes changed %+v", got)
		}

		// Every definition change is audited, by IDs only.
		entries, err := audit.List(ctx, d, audit.Filter{WorkspaceID: ws, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, a := range entries {
			if !strings.HasPrefix(a.Action, "pipeline.") {
				continue
			}
			actions[a.Action]++
			for _, name := range []string{"Sales", "Service", "Interested", "Qualified", "Repairs"} {
				if strings.Contains(string(a.Details), name) {
					t.Errorf("audit %s details hold the name %q: %s", a.Action, name, a.Details)
				}
			}
		}
		for action, n := range map[string]int{pipeline.ActionCreate: 2, pipeline.ActionReorder: 1, pipeline.ActionRename: 1,
			pipeline.ActionStageAdd: 1, pipeline.ActionStageUpdate: 1, pipeline.ActionStageReorder: 1, pipeline.ActionDefault: 1} {
			if actions[action] != n {
				t.Errorf("%d audit entries %s, want %d (all: %v)", actions[action], action, n, actions)
			}
		}

		if err := e.store.DeletePipeline(ctx, admin, ws, sales.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Get(ctx, ws, sales.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a deleted pipeline: %v", err)
		}
		if err := e.store.DeletePipeline(ctx, admin, ws, sales.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("deleting it again: %v", err)
		}
	})
}
