package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

type pipelineRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	Name        string    `bun:"name"`
	Position    int       `bun:"position"`
	IsDefault   bool      `bun:"is_default"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r pipelineRow) pipeline() Pipeline {
	return Pipeline{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Position: r.Position, Default: r.IsDefault,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type stageRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	PipelineID  string    `bun:"pipeline_id"`
	Name        string    `bun:"name"`
	Position    int       `bun:"position"`
	Color       string    `bun:"color"`
	Outcome     string    `bun:"outcome"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r stageRow) stage() Stage {
	return Stage{ID: r.ID, WorkspaceID: r.WorkspaceID, PipelineID: r.PipelineID, Name: r.Name, Position: r.Position,
		Color: r.Color, Outcome: Outcome(r.Outcome), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

const (
	pipelineCols = `id, workspace_id, name, position, is_default, created_at, updated_at`
	stageCols    = `id, workspace_id, pipeline_id, name, position, color, outcome, created_at, updated_at`
)

// newID is a fresh UUIDv7.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// CreatePipeline adds a pipeline named name with stages in that order (at
// least one, at most MaxStages, names unique ignoring letter case) at the
// end of the workspace's list. The workspace's first pipeline (or the
// first while none is default) becomes its default: its stage names are
// the lead stages. A name already taken gets db.ErrConflict.
func (s *Store) CreatePipeline(ctx context.Context, actor audit.Actor, workspaceID, name string, stages []StageInput) (Pipeline, error) {
	name, err := checkPipelineName(name)
	if err != nil {
		return Pipeline{}, fmt.Errorf("pipeline: create: %w", err)
	}
	if len(stages) == 0 || len(stages) > MaxStages {
		return Pipeline{}, fmt.Errorf("pipeline: create: %w", invalid("stages", fmt.Sprintf("Give between 1 and %d stages.", MaxStages)))
	}
	seen := map[string]bool{}
	for i, in := range stages {
		in, err := checkStage(in)
		if err != nil {
			return Pipeline{}, fmt.Errorf("pipeline: create: stage %d: %w", i+1, err)
		}
		if seen[db.FoldKey(in.Name)] {
			return Pipeline{}, fmt.Errorf("pipeline: create: %w", invalid("stages", "Two stages have the same name."))
		}
		seen[db.FoldKey(in.Name)] = true
		stages[i] = in
	}
	now := s.clock()
	p := Pipeline{ID: newID(), WorkspaceID: workspaceID, Name: name, CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var st struct {
			N        int  `bun:"n"`
			Max      *int `bun:"max"`
			Defaults int  `bun:"defaults"`
		}
		if err := tx.NewRaw(`SELECT count(*) AS n, max(position) AS max,
			coalesce(sum(CASE WHEN is_default THEN 1 ELSE 0 END), 0) AS defaults
			FROM pipelines WHERE workspace_id = ?`, workspaceID).Scan(ctx, &st); err != nil {
			return err
		}
		if st.N >= MaxPipelines {
			return invalid("name", fmt.Sprintf("A workspace has at most %d pipelines.", MaxPipelines))
		}
		if st.Max != nil {
			p.Position = *st.Max + 1
		}
		p.Default = st.Defaults == 0
		if _, err := tx.NewRaw(`INSERT INTO pipelines (`+pipelineCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, workspaceID, name, p.Position, p.Default, now, now, db.FoldKey(name)).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return db.ErrConflict
			}
			return err
		}
		for i, in := range stages {
			st := Stage{ID: newID(), WorkspaceID: workspaceID, PipelineID: p.ID, Name: in.Name, Position: i,
				Color: in.Color, Outcome: in.Outcome, CreatedAt: now, UpdatedAt: now}
			if err := insertStage(ctx, tx, st); err != nil {
				return err
			}
			p.Stages = append(p.Stages, st)
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionCreate, "pipeline", p.ID, nil)
	})
	if err != nil {
		return Pipeline{}, fmt.Errorf("pipeline: create: %w", err)
	}
	return p, nil
}

// insertStage inserts st through tx.
func insertStage(ctx context.Context, tx bun.IDB, st Stage) error {
	_, err := tx.NewRaw(`INSERT INTO pipeline_stages (`+stageCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		st.ID, st.WorkspaceID, st.PipelineID, st.Name, st.Position, st.Color, string(st.Outcome), st.CreatedAt, st.UpdatedAt,
		db.FoldKey(st.Name)).Exec(ctx)
	if db.IsUniqueViolation(err) {
		return db.ErrConflict
	}
	return err
}

// Pipelines returns the workspace's pipelines in order, with their stages.
func (s *Store) Pipelines(ctx context.Context, workspaceID string) ([]Pipeline, error) {
	var rows []pipelineRow
	if err := s.d.R.NewRaw(`SELECT `+pipelineCols+` FROM pipelines WHERE workspace_id = ? ORDER BY position, id`,
		workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("pipeline: list: %w", err)
	}
	var stages []stageRow
	if err := s.d.R.NewRaw(`SELECT `+stageCols+` FROM pipeline_stages WHERE workspace_id = ? ORDER BY position, id`,
		workspaceID).Scan(ctx, &stages); err != nil {
		return nil, fmt.Errorf("pipeline: list: %w", err)
	}
	out := make([]Pipeline, len(rows))
	at := map[string]int{}
	for i, r := range rows {
		out[i] = r.pipeline()
		at[r.ID] = i
	}
	for _, st := range stages {
		if i, ok := at[st.PipelineID]; ok {
			out[i].Stages = append(out[i].Stages, st.stage())
		}
	}
	return out, nil
}

// Get returns the workspace's pipeline id with its stages, or
// db.ErrNotFound.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Pipeline, error) {
	p, err := s.get(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Pipeline{}, fmt.Errorf("pipeline: get: %w", err)
	}
	return p, nil
}

func (s *Store) get(ctx context.Context, idb bun.IDB, workspaceID, id string) (Pipeline, error) {
	var r pipelineRow
	if err := idb.NewRaw(`SELECT `+pipelineCols+` FROM pipelines WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Pipeline{}, db.NoRows(err)
	}
	p := r.pipeline()
	var stages []stageRow
	if err := idb.NewRaw(`SELECT `+stageCols+` FROM pipeline_stages WHERE workspace_id = ? AND pipeline_id = ? ORDER BY position, id`,
		workspaceID, id).Scan(ctx, &stages); err != nil {
		return Pipeline{}, err
	}
	for _, st := range stages {
		p.Stages = append(p.Stages, st.stage())
	}
	return p, nil
}

// stage reads the workspace's stage id through idb, or db.ErrNotFound.
func stageByID(ctx context.Context, idb bun.IDB, workspaceID, id string) (Stage, error) {
	var r stageRow
	if err := idb.NewRaw(`SELECT `+stageCols+` FROM pipeline_stages WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Stage{}, db.NoRows(err)
	}
	return r.stage(), nil
}

// RenamePipeline renames the workspace's pipeline id.
func (s *Store) RenamePipeline(ctx context.Context, actor audit.Actor, workspaceID, id, name string) (Pipeline, error) {
	name, err := checkPipelineName(name)
	if err != nil {
		return Pipeline{}, fmt.Errorf("pipeline: rename: %w", err)
	}
	var p Pipeline
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.clock()
		res, err := tx.NewRaw(`UPDATE pipelines SET name = ?, name_key = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			name, db.FoldKey(name), now, workspaceID, id).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return db.ErrConflict
		}
		if err := db.OneRow(res, err); err != nil {
			return err
		}
		if p, err = s.get(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionRename, "pipeline", id, nil)
	})
	if err != nil {
		return Pipeline{}, fmt.Errorf("pipeline: rename: %w", err)
	}
	return p, nil
}

// SetDefault makes the workspace's pipeline id its default, whose stage
// names are the lead stages from now on. Contacts are not moved: cards
// already on it stay, and contacts whose lead stage names one of its
// stages get a card at their next stage change (or through Reconcile).
func (s *Store) SetDefault(ctx context.Context, actor audit.Actor, workspaceID, id string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.get(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		now := s.clock()
		// Two statements, the old default cleared first: the partial
		// unique index allows one default per workspace at every moment.
		if _, err := tx.NewRaw(`UPDATE pipelines SET is_default = ?, updated_at = ? WHERE workspace_id = ? AND is_default AND id <> ?`,
			false, now, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE pipelines SET is_default = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			true, now, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionDefault, "pipeline", id, nil)
	})
	if err != nil {
		return fmt.Errorf("pipeline: set default: %w", err)
	}
	return nil
}

// ReorderPipelines puts the workspace's pipelines in the order of ids,
// which must name each of them exactly once.
func (s *Store) ReorderPipelines(ctx context.Context, actor audit.Actor, workspaceID string, ids []string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var have []string
		if err := tx.NewRaw(`SELECT id FROM pipelines WHERE workspace_id = ?`, workspaceID).Scan(ctx, &have); err != nil {
			return err
		}
		if !sameSet(have, ids) {
			return invalid("ids", "List every pipeline exactly once.")
		}
		now := s.clock()
		for i, id := range ids {
			if _, err := tx.NewRaw(`UPDATE pipelines SET position = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				i, now, workspaceID, id).Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionReorder, "workspace", workspaceID, map[string]any{"ids": ids})
	})
	if err != nil {
		return fmt.Errorf("pipeline: reorder: %w", err)
	}
	return nil
}

// sameSet reports whether want lists exactly the IDs of have, once each.
func sameSet(have, want []string) bool {
	if len(have) != len(want) {
		return false
	}
	in := make(map[string]bool, len(have))
	for _, id := range have {
		in[id] = true
	}
	for _, id := range want {
		if !in[id] {
			return false
		}
		delete(in, id)
	}
	return true
}

// DeletePipeline deletes the workspace's pipeline id with its stages and
// cards. Deleting the board writes no activity entry per card (it is a
// definition change, audited); when it was the default pipeline the
// contacts keep their lead stages, as free labels again.
func (s *Store) DeletePipeline(ctx context.Context, actor audit.Actor, workspaceID, id string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Cards first: their stage foreign key has no cascade of its own.
		if _, err := tx.NewRaw(`DELETE FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ?`, workspaceID, id).Exec(ctx); err != nil {
			return err
		}
		if err := db.OneRow(tx.NewRaw(`DELETE FROM pipelines WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock(), workspaceID, actor, ActionDelete, "pipeline", id, nil)
	})
	if err != nil {
		return fmt.Errorf("pipeline: delete: %w", err)
	}
	return nil
}

// AddStage appends a stage to the workspace's pipeline.
func (s *Store) AddStage(ctx context.Context, actor audit.Actor, workspaceID, pipelineID string, in StageInput) (Stage, error) {
	in, err := checkStage(in)
	if err != nil {
		return Stage{}, fmt.Errorf("pipeline: add stage: %w", err)
	}
	var st Stage
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.get(ctx, tx, workspaceID, pipelineID)
		if err != nil {
			return err
		}
		if len(p.Stages) >= MaxStages {
			return invalid("name", fmt.Sprintf("A pipeline has at most %d stages.", MaxStages))
		}
		pos := 0
		if n := len(p.Stages); n > 0 {
			pos = p.Stages[n-1].Position + 1
		}
		now := s.clock()
		st = Stage{ID: newID(), WorkspaceID: workspaceID, PipelineID: pipelineID, Name: in.Name, Position: pos,
			Color: in.Color, Outcome: in.Outcome, CreatedAt: now, UpdatedAt: now}
		if err := insertStage(ctx, tx, st); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionStageAdd, "pipeline_stage", st.ID,
			map[string]string{"pipeline_id": pipelineID})
	})
	if err != nil {
		return Stage{}, fmt.Errorf("pipeline: add stage: %w", err)
	}
	return st, nil
}

// UpdateStage renames, recolours or changes the outcome of the workspace's
// stage id. Renaming a stage of the default pipeline relabels the lead
// stage of every contact with a card in it, in the same transaction (a
// rename is not a move: no activity entries).
func (s *Store) UpdateStage(ctx context.Context, actor audit.Actor, workspaceID, id string, in StageInput) (Stage, error) {
	in, err := checkStage(in)
	if err != nil {
		return Stage{}, fmt.Errorf("pipeline: update stage: %w", err)
	}
	var st Stage
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old, err := stageByID(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		now := s.clock()
		if _, err := tx.NewRaw(`UPDATE pipeline_stages SET name = ?, name_key = ?, color = ?, outcome = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, in.Name, db.FoldKey(in.Name), in.Color, string(in.Outcome), now, workspaceID, id).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return db.ErrConflict
			}
			return err
		}
		st = old
		st.Name, st.Color, st.Outcome, st.UpdatedAt = in.Name, in.Color, in.Outcome, now
		if old.Name != in.Name {
			if err := s.relabel(ctx, tx, st, contact.ByActor(actor)); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionStageUpdate, "pipeline_stage", id,
			map[string]string{"pipeline_id": st.PipelineID})
	})
	if err != nil {
		return Stage{}, fmt.Errorf("pipeline: update stage: %w", err)
	}
	return st, nil
}

// relabel sets the lead stage of every contact with a card in st to st's
// name, when st is a stage of the default pipeline.
func (s *Store) relabel(ctx context.Context, tx bun.IDB, st Stage, by contact.By) error {
	isDefault, err := s.isDefault(ctx, tx, st.WorkspaceID, st.PipelineID)
	if err != nil || !isDefault {
		return err
	}
	var ids []string
	if err := tx.NewRaw(`SELECT contact_id FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND stage_id = ?`,
		st.WorkspaceID, st.PipelineID, st.ID).Scan(ctx, &ids); err != nil {
		return err
	}
	for _, c := range ids {
		if _, err := s.contacts.SetStage(ctx, tx, st.WorkspaceID, c, st.Name, by); err != nil {
			return err
		}
	}
	return nil
}

// isDefault reports whether the workspace's pipeline id is its default.
func (s *Store) isDefault(ctx context.Context, idb bun.IDB, workspaceID, id string) (bool, error) {
	var n int
	err := idb.NewRaw(`SELECT count(*) FROM pipelines WHERE workspace_id = ? AND id = ? AND is_default`, workspaceID, id).Scan(ctx, &n)
	return n > 0, err
}

// defaultPipeline returns the workspace's default pipeline with its
// stages, and false when it has none (no pipeline yet).
func (s *Store) defaultPipeline(ctx context.Context, idb bun.IDB, workspaceID string) (Pipeline, bool, error) {
	var ids []string
	if err := idb.NewRaw(`SELECT id FROM pipelines WHERE workspace_id = ? AND is_default`, workspaceID).Scan(ctx, &ids); err != nil {
		return Pipeline{}, false, err
	}
	if len(ids) == 0 {
		return Pipeline{}, false, nil
	}
	p, err := s.get(ctx, idb, workspaceID, ids[0])
	return p, err == nil, err
}

// ReorderStages puts the stages of the workspace's pipeline in the order
// of ids, which must name each of them exactly once.
func (s *Store) ReorderStages(ctx context.Context, actor audit.Actor, workspaceID, pipelineID string, ids []string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.get(ctx, tx, workspaceID, pipelineID)
		if err != nil {
			return err
		}
		have := make([]string, len(p.Stages))
		for i, st := range p.Stages {
			have[i] = st.ID
		}
		if !sameSet(have, ids) {
			return invalid("ids", "List every stage of the pipeline exactly once.")
		}
		now := s.clock()
		for i, id := range ids {
			if _, err := tx.NewRaw(`UPDATE pipeline_stages SET position = ?, updated_at = ? WHERE workspace_id = ? AND pipeline_id = ? AND id = ?`,
				i, now, workspaceID, pipelineID, id).Exec(ctx); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, workspaceID, actor, ActionStageReorder, "pipeline", pipelineID, map[string]any{"ids": ids})
	})
	if err != nil {
		return fmt.Errorf("pipeline: reorder stages: %w", err)
	}
	return nil
}

// DeleteStage deletes the workspace's stage id. A stage with cards is
// deleted only when moveTo names another stage of the same pipeline: its
// cards go to the end of that column first, each with its activity entry
// (and, on the default pipeline, its contact's new lead stage); otherwise
// it gets ErrStageNotEmpty. A pipeline's last stage cannot be deleted
// (ErrInvalid): delete the pipeline instead.
func (s *Store) DeleteStage(ctx context.Context, actor audit.Actor, workspaceID, id, moveTo string) error {
	by := contact.ByActor(actor)
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		st, err := stageByID(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.NewRaw(`SELECT count(*) FROM pipeline_stages WHERE workspace_id = ? AND pipeline_id = ?`,
			workspaceID, st.PipelineID).Scan(ctx, &n); err != nil {
			return err
		}
		if n <= 1 {
			return invalid("stage", "A pipeline needs at least one stage.")
		}
		var cards []string
		if err := tx.NewRaw(`SELECT contact_id FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND stage_id = ?
			ORDER BY position, contact_id`, workspaceID, st.PipelineID, id).Scan(ctx, &cards); err != nil {
			return err
		}
		if len(cards) > 0 {
			if moveTo == "" {
				return ErrStageNotEmpty
			}
			if moveTo == id {
				return invalid("move_to", "Move the cards to another stage.")
			}
			p, err := s.get(ctx, tx, workspaceID, st.PipelineID)
			if err != nil {
				return err
			}
			for _, c := range cards {
				if _, err := s.moveIn(ctx, tx, by, p, c, Target{StageID: moveTo}, p.Default); err != nil {
					return err
				}
			}
		}
		if err := db.OneRow(tx.NewRaw(`DELETE FROM pipeline_stages WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock(), workspaceID, actor, ActionStageDelete, "pipeline_stage", id,
			map[string]string{"pipeline_id": st.PipelineID, "move_to": moveTo})
	})
	if err != nil {
		return fmt.Errorf("pipeline: delete stage: %w", err)
	}
	return nil
}
