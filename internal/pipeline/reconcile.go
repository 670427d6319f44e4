package pipeline

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// MaxReconcile is the largest batch Reconcile takes.
const MaxReconcile = 1000

// Reconcile brings up to n of the workspace's contacts with IDs after
// after ("" from the start) in line with the default pipeline, as SyncStage
// would have had they changed stage since it became the default: a lead
// stage naming one of its stages places or moves the card there, any
// other removes it. Changes are by the system and each writes its activity
// entry. It returns the ID to continue after ("" when done) and how many
// cards it changed; a job (or a request per batch) runs it after SetDefault
// or after creating a workspace's first pipeline, so the board starts
// with the leads already labelled. Without a default pipeline it does
// nothing.
func (s *Store) Reconcile(ctx context.Context, workspaceID, after string, n int) (next string, changed int, err error) {
	if n <= 0 || n > MaxReconcile {
		n = MaxReconcile
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		p, ok, err := s.defaultPipeline(ctx, tx, workspaceID)
		if err != nil || !ok {
			return err
		}
		byKey := make(map[string]Stage, len(p.Stages))
		for _, st := range p.Stages {
			byKey[db.FoldKey(st.Name)] = st
		}
		var rows []struct {
			ID      string  `bun:"id"`
			Stage   *string `bun:"stage"`
			StageID *string `bun:"stage_id"`
		}
		if err := tx.NewRaw(`SELECT c.id, c.stage, pc.stage_id FROM contacts c
			LEFT JOIN pipeline_cards pc ON pc.workspace_id = c.workspace_id AND pc.pipeline_id = ? AND pc.contact_id = c.id
			WHERE c.workspace_id = ? AND c.id > ? ORDER BY c.id LIMIT ?`, p.ID, workspaceID, after, n).Scan(ctx, &rows); err != nil {
			return err
		}
		by := contact.By{Kind: contact.BySystem}
		for _, r := range rows {
			var want Stage
			found := false
			if r.Stage != nil && *r.Stage != "" {
				want, found = byKey[db.FoldKey(*r.Stage)]
			}
			switch {
			case found && (r.StageID == nil || *r.StageID != want.ID):
				if _, err := s.moveIn(ctx, tx, by, p, r.ID, Target{StageID: want.ID}, false); err != nil {
					return err
				}
				changed++
			case !found && r.StageID != nil:
				if _, err := s.remove(ctx, tx, by, p, r.ID, false); err != nil {
					return err
				}
				changed++
			}
		}
		if len(rows) == n {
			next = rows[n-1].ID
		}
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("pipeline: reconcile: %w", err)
	}
	return next, changed, nil
}
