package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Page sizes of a column: n ≤ 0 gives DefaultColumn, more than MaxColumn
// gives MaxColumn.
const (
	DefaultColumn = 20
	MaxColumn     = 100
)

// Board is a pipeline with the first cards of each column.
type Board struct {
	Pipeline Pipeline
	Columns  []Column
}

// Column is one stage of a board: its cards in order (contact IDs; the
// caller fetches names), how many it has in all, and the cursor of the
// next page ("" when there is none).
type Column struct {
	Stage Stage
	Count int
	Cards []Card
	Next  string
}

// Board returns the workspace's pipeline with up to n cards of each column;
// cursors maps a stage ID to the Next of that column's previous page (a
// column without one starts at the top). Each column is one keyset range
// over the index pipeline_cards_column and the counts one grouped scan of
// it, so the board costs the same at a million cards as at ten.
func (s *Store) Board(ctx context.Context, workspaceID, pipelineID string, n int, cursors map[string]string) (Board, error) {
	p, err := s.get(ctx, s.d.R, workspaceID, pipelineID)
	if err != nil {
		return Board{}, fmt.Errorf("pipeline: board: %w", err)
	}
	counts, err := s.counts(ctx, workspaceID, pipelineID)
	if err != nil {
		return Board{}, fmt.Errorf("pipeline: board: %w", err)
	}
	b := Board{Pipeline: p, Columns: make([]Column, len(p.Stages))}
	for i, st := range p.Stages {
		cards, next, err := s.column(ctx, workspaceID, pipelineID, st.ID, cursors[st.ID], n)
		if err != nil {
			return Board{}, fmt.Errorf("pipeline: board: %w", err)
		}
		b.Columns[i] = Column{Stage: st, Count: counts[st.ID], Cards: cards, Next: next}
	}
	return b, nil
}

// Column returns one column of the workspace's pipeline from cursor (""
// for the top): the "more" of a board column.
func (s *Store) Column(ctx context.Context, workspaceID, pipelineID, stageID, cursor string, n int) (Column, error) {
	p, err := s.get(ctx, s.d.R, workspaceID, pipelineID)
	if err != nil {
		return Column{}, fmt.Errorf("pipeline: column: %w", err)
	}
	st, ok := findStage(p, stageID)
	if !ok || stageID == "" {
		return Column{}, fmt.Errorf("pipeline: column: stage %w", db.ErrNotFound)
	}
	counts, err := s.counts(ctx, workspaceID, pipelineID)
	if err != nil {
		return Column{}, fmt.Errorf("pipeline: column: %w", err)
	}
	cards, next, err := s.column(ctx, workspaceID, pipelineID, stageID, cursor, n)
	if err != nil {
		return Column{}, fmt.Errorf("pipeline: column: %w", err)
	}
	return Column{Stage: st, Count: counts[stageID], Cards: cards, Next: next}, nil
}

// counts returns the number of cards of each stage of the pipeline.
func (s *Store) counts(ctx context.Context, workspaceID, pipelineID string) (map[string]int, error) {
	var rows []struct {
		StageID string `bun:"stage_id"`
		N       int    `bun:"n"`
	}
	if err := s.d.R.NewRaw(`SELECT stage_id, count(*) AS n FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? GROUP BY stage_id`,
		workspaceID, pipelineID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.StageID] = r.N
	}
	return out, nil
}

// column reads up to n cards of the stage after cursor, and the cursor of
// the page after them.
func (s *Store) column(ctx context.Context, workspaceID, pipelineID, stageID, cursor string, n int) ([]Card, string, error) {
	if n <= 0 {
		n = DefaultColumn
	}
	n = min(n, MaxColumn)
	q := `SELECT ` + cardCols + ` FROM pipeline_cards WHERE workspace_id = ? AND pipeline_id = ? AND stage_id = ?`
	args := []any{workspaceID, pipelineID, stageID}
	if cursor != "" {
		pos, id, err := parseCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		// A row value, so that both engines seek the index to the cursor
		// instead of filtering the column from its top.
		q += ` AND (position, contact_id) > (?, ?)`
		args = append(args, pos, id)
	}
	q += ` ORDER BY position, contact_id LIMIT ?`
	args = append(args, n+1)
	var rows []cardRow
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > n {
		rows = rows[:n]
		last := rows[n-1]
		next = strconv.FormatInt(last.Position, 10) + ":" + last.ContactID
	}
	cards := make([]Card, len(rows))
	for i, r := range rows {
		cards[i] = r.card()
	}
	return cards, next, nil
}

// parseCursor reads what column wrote: "position:contact_id".
func parseCursor(c string) (int64, string, error) {
	p, id, ok := strings.Cut(c, ":")
	pos, err := strconv.ParseInt(p, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", invalid("cursor", "The cursor is not valid.")
	}
	return pos, id, nil
}

// Placement is a contact's card with the names of its pipeline and stage,
// for the contact's profile.
type Placement struct {
	Card
	PipelineName, StageName string
}

// CardsOf returns the workspace's contact's cards, in pipeline order.
func (s *Store) CardsOf(ctx context.Context, workspaceID, contactID string) ([]Placement, error) {
	return s.cardsOf(ctx, s.d.R, workspaceID, contactID)
}

func (s *Store) cardsOf(ctx context.Context, idb bun.IDB, workspaceID, contactID string) ([]Placement, error) {
	var rows []struct {
		cardRow
		PipelineName string `bun:"pipeline_name"`
		StageName    string `bun:"stage_name"`
	}
	if err := idb.NewRaw(`SELECT c.workspace_id, c.pipeline_id, c.contact_id, c.stage_id, c.position, c.moved_at, c.moved_by,
		p.name AS pipeline_name, st.name AS stage_name
		FROM pipeline_cards c
		JOIN pipelines p ON p.workspace_id = c.workspace_id AND p.id = c.pipeline_id
		JOIN pipeline_stages st ON st.workspace_id = c.workspace_id AND st.id = c.stage_id
		WHERE c.workspace_id = ? AND c.contact_id = ? ORDER BY p.position, p.id`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("pipeline: cards of: %w", err)
	}
	out := make([]Placement, len(rows))
	for i, r := range rows {
		out[i] = Placement{Card: r.cardRow.card(), PipelineName: r.PipelineName, StageName: r.StageName}
	}
	return out, nil
}
