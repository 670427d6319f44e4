package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// Card is a contact on a pipeline's board.
type Card struct {
	WorkspaceID, PipelineID, ContactID, StageID string
	// Position orders the cards of a column (then ContactID); only the
	// order means anything.
	Position int64
	// MovedAt and MovedBy say when and by whom (a contact.By string) the
	// card entered its stage; reordering inside a column keeps them.
	MovedAt time.Time
	MovedBy string
}

// Target says where a card goes.
type Target struct {
	// StageID is a stage of the card's pipeline; "" is the pipeline's
	// first stage.
	StageID string
	// Before is the contact ID of the card, in that column, to place the
	// card just before; "" puts it at the end of the column.
	Before string
}

// Keys of the Data of the activity entry every move writes (kind
// activity.KindPipeline); "" stands for no stage (placed, removed).
const (
	DataPipelineID  = "pipeline_id"
	DataPipeline    = "pipeline"
	DataFromStageID = "from_stage_id"
	DataFromStage   = "from_stage"
	DataToStageID   = "to_stage_id"
	DataToStage     = "to_stage"
)

type cardRow struct {
	WorkspaceID string    `bun:"workspace_id"`
	PipelineID  string    `bun:"pipeline_id"`
	ContactID   string    `bun:"contact_id"`
	StageID     string    `bun:"stage_id"`
	Position    int64     `bun:"position"`
	MovedAt     time.Time `bun:"moved_at"`
	MovedBy     string    `bun:"moved_by"`
}

func (r cardRow) card() Card {
	return Card{WorkspaceID: r.WorkspaceID, PipelineID: r.PipelineID, ContactID: r.ContactID, StageID: r.StageID,
		Position: r.Position, MovedAt: r.MovedAt.UTC(), MovedBy: r.MovedBy}
}

const cardCols = `workspace_id, pipeline_id, contact_id, stage_id, position, moved_at, moved_by`

// Move places the workspace's contact on the pipeline at to, as actor
// (through the dashboard or the API), creating its card if it has none,
// and returns the card. A change of stage writes one activity entry in the
// same transaction and, on the default pipeline, sets the contact's lead
// stage; a reorder inside the column writes none. A pipeline, stage (of
// another pipeline included), contact or Before card that is not the
// workspace's, or not where it should be, gets db.ErrNotFound and changes
// nothing.
func (s *Store) Move(ctx context.Context, actor audit.Actor, workspaceID, pipelineID, contactID string, to Target) (Card, error) {
	var c Card
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, err = s.move(ctx, tx, contact.ByActor(actor), workspaceID, pipelineID, contactID, to)
		return err
	})
	if err != nil {
		return Card{}, fmt.Errorf("pipeline: move: %w", err)
	}
	return c, nil
}

// AddCard puts the workspace's contact at the end of the pipeline's stage
// ("" for its first stage): Move with Target{StageID: stageID}. A contact
// already on the pipeline moves there.
func (s *Store) AddCard(ctx context.Context, actor audit.Actor, workspaceID, pipelineID, contactID, stageID string) (Card, error) {
	return s.Move(ctx, actor, workspaceID, pipelineID, contactID, Target{StageID: stageID})
}

// MoveTx is Move inside the caller's transaction, by an author of any
// kind (a flow's action passes its own).
func (s *Store) MoveTx(ctx context.Context, tx bun.IDB, by contact.By, workspaceID, pipelineID, contactID string, to Target) (Card, error) {
	c, err := s.move(ctx, tx, by, workspaceID, pipelineID, contactID, to)
	if err != nil {
		return Card{}, fmt.Errorf("pipeline: move: %w", err)
	}
	return c, nil
}

// move is Move through tx; it sets the lead stage on the default pipeline.
func (s *Store) move(ctx context.Context, tx bun.IDB, by contact.By, workspaceID, pipelineID, contactID string, to Target) (Card, error) {
	p, err := s.get(ctx, tx, workspaceID, pipelineID)
	if err != nil {
		return Card{}, err
	}
	return s.moveIn(ctx, tx, by, p, contactID, to, p.Default)
}

// moveIn moves the contact's card on p to to; setStage says whether to set
// the contact's lead stage to the new stage's name when it changes.
func (s *Store) moveIn(ctx context.Context, tx bun.IDB, by contact.By, p Pipeline, contactID string, to Target, setStage bool) (Card, error) {
	ws := p.WorkspaceID
	dest, ok := findStage(p, to.StageID)
	if !ok {
		return Card{}, db.ErrNotFound
	}
	if to.Before == contactID {
		return Card{}, invalid("before", "A card cannot go before itself.")
	}
	if err := contact.Check(ctx, tx, ws, contactID); err != nil {
		return Card{}, err
	}
	cur, had, err := s.lockCard(ctx, tx, ws, p.ID, contactID)
	if err != nil {
		return Card{}, err
	}
	pos, err := position(ctx, tx, ws, p.ID, dest.ID, contactID, to.Before)
	if err != nil {
		return Card{}, err
	}
	now := s.clock()
	c := Card{WorkspaceID: ws, PipelineID: p.ID, ContactID: contactID, StageID: dest.ID, Position: pos, MovedAt: now, MovedBy: by.String()}
	switch {
	case !had:
		_, err = tx.NewRaw(`INSERT INTO pipeline_cards (`+cardCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			ws, p.ID, contactID, dest.ID, pos, now, c.MovedBy).Exec(ctx)
		if db.IsUniqueViolation(err) {
			// Placed by a concurrent transaction a moment ago: the
			// caller may retry and move it.
			err = db.ErrConflict
		}
	case cur.StageID == dest.ID:
		// A reorder: the card is still in its stage since it entered it.
		c.MovedAt, c.MovedBy = cur.MovedAt, cur.MovedBy
		_, err = tx.NewRaw(`UPDATE pipeline_cards SET position = ? WHERE workspace_id = ? AND pipeline_id = ? AND contact_id = ?`,
			pos, ws, p.ID, contactID).Exec(ctx)
	default:
		_, err = tx.NewRaw(`UPDATE pipeline_cards SET stage_id = ?, position = ?, moved_at = ?, moved_by = ?
			WHERE workspace_id = ? AND pipeline_id = ? AND contact_id = ?`,
			dest.ID, pos, now, c.MovedBy, ws, p.ID, contactID).Exec(ctx)
	}
	if err != nil {
		return Card{}, err
	}
	if had && cur.StageID == dest.ID {
		return c, nil
	}
	var from Stage
	if had {
		from, _ = findStage(p, cur.StageID)
	}
	if err := s.recordMove(ctx, tx, by, p, contactID, from, dest, now); err != nil {
		return Card{}, err
	}
	if setStage {
		if _, err := s.contacts.SetStage(ctx, tx, ws, contactID, dest.Name, by); err != nil {
			return Card{}, err
		}
	}
	return c, nil
}

// RemoveCard takes the workspace's contact off the pipeline, writing its
// activity entry and, on the default pipeline, clearing the contact's lead
// stage. A contact without a card there gets db.ErrNotFound.
func (s *Store) RemoveCard(ctx context.Context, actor audit.Actor, workspaceID, pipelineID, contactID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.get(ctx, tx, workspaceID, pipelineID)
		if err != nil {
			return err
		}
		removed, err := s.remove(ctx, tx, contact.ByActor(actor), p, contactID, p.Default)
		if err == nil && !removed {
			err = db.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pipeline: remove card: %w", err)
	}
	return nil
}

// remove deletes the contact's card on p, if any, and reports whether
// there was one.
func (s *Store) remove(ctx context.Context, tx bun.IDB, by contact.By, p Pipeline, contactID string, setStage bool) (bool, error) {
	cur, had, err := s.lockCard(ctx, tx, p.WorkspaceID, p.ID, contactID)
	if err != nil || !had {
		return false, err
	}
	if err := db.OneRow(tx.NewRaw(`DELETE FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND contact_id = ?`,
		p.WorkspaceID, p.ID, contactID).Exec(ctx)); err != nil {
		return false, err
	}
	from, _ := findStage(p, cur.StageID)
	if err := s.recordMove(ctx, tx, by, p, contactID, from, Stage{}, s.clock()); err != nil {
		return false, err
	}
	if setStage {
		if _, err := s.contacts.SetStage(ctx, tx, p.WorkspaceID, contactID, "", by); err != nil {
			return false, err
		}
	}
	return true, nil
}

// SyncStage keeps the default pipeline in step with a lead stage just set
// through contact.Store.SetStage (by a flow, the API, an import): call it
// in the same transaction, with the same stage and author. A stage naming
// one of the default pipeline's stages (letter case ignored) puts the
// contact's card at the end of that column (one activity entry); any other
// label, or "", takes the card off the default pipeline. Nothing happens
// when the card is already right, or when the workspace has no default
// pipeline. It never calls SetStage back.
func (s *Store) SyncStage(ctx context.Context, tx bun.IDB, workspaceID, contactID, stage string, by contact.By) error {
	if err := s.syncStage(ctx, tx, workspaceID, contactID, stage, by); err != nil {
		return fmt.Errorf("pipeline: sync stage: %w", err)
	}
	return nil
}

func (s *Store) syncStage(ctx context.Context, tx bun.IDB, workspaceID, contactID, stage string, by contact.By) error {
	stage, err := contact.CheckStage(stage)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p, ok, err := s.defaultPipeline(ctx, tx, workspaceID)
	if err != nil || !ok {
		return err
	}
	var dest Stage
	found := false
	if stage != "" {
		key := db.FoldKey(stage)
		for _, st := range p.Stages {
			if db.FoldKey(st.Name) == key {
				dest, found = st, true
				break
			}
		}
	}
	if !found {
		_, err := s.remove(ctx, tx, by, p, contactID, false)
		return err
	}
	cur, had, err := cardOf(ctx, tx, workspaceID, p.ID, contactID)
	if err != nil || (had && cur.StageID == dest.ID) {
		return err
	}
	_, err = s.moveIn(ctx, tx, by, p, contactID, Target{StageID: dest.ID}, false)
	return err
}

// recordMove writes the activity entry of a change of stage from → to
// (either zero for none).
func (s *Store) recordMove(ctx context.Context, tx bun.IDB, by contact.By, p Pipeline, contactID string, from, to Stage, at time.Time) error {
	return s.acts.Record(ctx, tx, activity.Entry{
		WorkspaceID: p.WorkspaceID, ContactID: contactID, Kind: activity.KindPipeline, Actor: by.String(), At: at,
		Data: map[string]string{
			DataPipelineID: p.ID, DataPipeline: p.Name,
			DataFromStageID: from.ID, DataFromStage: from.Name,
			DataToStageID: to.ID, DataToStage: to.Name,
		},
	})
}

// findStage returns p's stage id ("" for the first).
func findStage(p Pipeline, id string) (Stage, bool) {
	if id == "" {
		if len(p.Stages) == 0 {
			return Stage{}, false
		}
		return p.Stages[0], true
	}
	for _, st := range p.Stages {
		if st.ID == id {
			return st, true
		}
	}
	return Stage{}, false
}

// cardOf reads the contact's card on the pipeline through idb.
func cardOf(ctx context.Context, idb bun.IDB, workspaceID, pipelineID, contactID string) (Card, bool, error) {
	return readCard(ctx, idb, "", workspaceID, pipelineID, contactID)
}

// lockCard is cardOf for a change: on PostgreSQL it locks the row until
// the transaction ends, so two concurrent moves of one card cannot both
// record leaving the same stage. (SQLite has one writer at a time.)
func (s *Store) lockCard(ctx context.Context, tx bun.IDB, workspaceID, pipelineID, contactID string) (Card, bool, error) {
	lock := ""
	if s.d.Dialect == db.Postgres {
		lock = " FOR UPDATE"
	}
	return readCard(ctx, tx, lock, workspaceID, pipelineID, contactID)
}

func readCard(ctx context.Context, idb bun.IDB, lock, workspaceID, pipelineID, contactID string) (Card, bool, error) {
	var rows []cardRow
	if err := idb.NewRaw(`SELECT `+cardCols+` FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND contact_id = ?`+lock,
		workspaceID, pipelineID, contactID).Scan(ctx, &rows); err != nil {
		return Card{}, false, err
	}
	if len(rows) == 0 {
		return Card{}, false, nil
	}
	return rows[0].card(), true, nil
}

// position returns where contactID's card goes in the column stageID:
// just before the card of before, or after the last card when before is
// "". It renumbers the column when the two neighbours leave no gap.
func position(ctx context.Context, tx bun.IDB, ws, pipelineID, stageID, contactID, before string) (int64, error) {
	const col = `workspace_id = ? AND pipeline_id = ? AND stage_id = ? AND contact_id <> ?`
	if before == "" {
		var last []int64
		if err := tx.NewRaw(`SELECT position FROM pipeline_cards WHERE `+col+` ORDER BY position DESC, contact_id DESC LIMIT 1`,
			ws, pipelineID, stageID, contactID).Scan(ctx, &last); err != nil {
			return 0, err
		}
		if len(last) == 0 {
			return 0, nil
		}
		return last[0] + PositionStep, nil
	}
	for attempt := 0; ; attempt++ {
		var next []int64
		if err := tx.NewRaw(`SELECT position FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND stage_id = ? AND contact_id = ?`,
			ws, pipelineID, stageID, before).Scan(ctx, &next); err != nil {
			return 0, err
		}
		if len(next) == 0 {
			return 0, db.ErrNotFound // before is not a card of that column
		}
		var prev []int64
		if err := tx.NewRaw(`SELECT position FROM pipeline_cards WHERE `+col+`
			AND (position, contact_id) < (?, ?) ORDER BY position DESC, contact_id DESC LIMIT 1`,
			ws, pipelineID, stageID, contactID, next[0], before).Scan(ctx, &prev); err != nil {
			return 0, err
		}
		if len(prev) == 0 {
			return next[0] - PositionStep, nil
		}
		if next[0]-prev[0] > 1 {
			return prev[0] + (next[0]-prev[0])/2, nil
		}
		if attempt > 0 {
			return 0, fmt.Errorf("no room in the column after renumbering")
		}
		if err := renumber(ctx, tx, ws, pipelineID, stageID, contactID); err != nil {
			return 0, err
		}
	}
}

// renumber spreads the column's cards (but contactID's, about to move)
// PositionStep apart, in their order.
func renumber(ctx context.Context, tx bun.IDB, ws, pipelineID, stageID, contactID string) error {
	var ids []string
	if err := tx.NewRaw(`SELECT contact_id FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND stage_id = ? AND contact_id <> ?
		ORDER BY position, contact_id`, ws, pipelineID, stageID, contactID).Scan(ctx, &ids); err != nil {
		return err
	}
	for i, id := range ids {
		if _, err := tx.NewRaw(`UPDATE pipeline_cards SET position = ? WHERE workspace_id = ? AND pipeline_id = ? AND contact_id = ?`,
			int64(i+1)*PositionStep, ws, pipelineID, id).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
