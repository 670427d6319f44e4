package segment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Audit actions (target type "segment"). Details hold the match and the
// number of conditions, never the names or values.
const (
	ActionCreate = "segment.create"
	ActionUpdate = "segment.update"
	ActionDelete = "segment.delete"
	targetType   = "segment"
)

// ErrExists: the workspace already has a segment of that name, ignoring
// letter case. Wraps db.ErrConflict.
var ErrExists = fmt.Errorf("a segment with this name already exists: %w", db.ErrConflict)

// Segment is a saved filter of a workspace.
type Segment struct {
	ID          string
	WorkspaceID string
	Name        string
	Definition  Definition
	// CreatedBy and UpdatedBy are contact.By strings ("user:<id>", …).
	CreatedBy string
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store keeps segments and evaluates them.
type Store struct {
	d        *db.DB
	contacts *contact.Store
	now      func() time.Time
	maxScan  int // MaxScan; smaller in tests
}

// NewStore returns a Store on d; contacts opens sealed field values for
// conditions SQL cannot decide; now is the clock (within_days counts from
// it).
func NewStore(d *db.DB, contacts *contact.Store, now func() time.Time) *Store {
	return &Store{d: d, contacts: contacts, now: now, maxScan: MaxScan}
}

// query runs q on the reader pool through database/sql, so that every
// argument travels as a bound parameter (bun would format it into the
// text). The SQL of this package has no ? inside string literals, as
// db.DB.Rebind asks.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.d.R.DB.QueryContext(ctx, s.d.Rebind(q), args...)
}

func (s *Store) fieldByKey(ctx context.Context, ws, key string) (contact.Field, error) {
	return s.contacts.FieldByKey(ctx, ws, key)
}

func (s *Store) tagExists(ctx context.Context, ws, id string) (bool, error) {
	var n int
	err := s.d.R.DB.QueryRowContext(ctx, s.d.Rebind(`SELECT count(*) FROM tags WHERE workspace_id = ? AND id = ?`), ws, id).Scan(&n)
	return n > 0, err
}

// Check compiles def against the workspace without saving it: nil, or
// ErrInvalid (wrapped) naming the first offending condition.
func (s *Store) Check(ctx context.Context, workspaceID string, def Definition) error {
	if _, err := compile(ctx, s, workspaceID, def, s.now()); err != nil {
		return fmt.Errorf("segment: check: %w", err)
	}
	return nil
}

// compileSaved compiles def for saving: compile's checks, and no
// condition naming one person's e-mail or phone (plan.savable).
func (s *Store) compileSaved(ctx context.Context, workspaceID string, def Definition) error {
	p, err := compile(ctx, s, workspaceID, def, s.now())
	if err != nil {
		return err
	}
	return p.savable()
}

// checkName returns the name as stored and its uniqueness key.
func checkName(name string) (string, string, error) {
	n, err := validate.Name("name", name, MaxName, false)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return n, db.FoldKey(n), nil
}

// Create saves a new segment and records segment.create. A bad name or
// definition gets ErrInvalid, a name the workspace has ErrExists.
func (s *Store) Create(ctx context.Context, a audit.Actor, workspaceID, name string, def Definition) (Segment, error) {
	name, key, err := checkName(name)
	if err != nil {
		return Segment{}, fmt.Errorf("segment: create: %w", err)
	}
	if err := s.compileSaved(ctx, workspaceID, def); err != nil {
		return Segment{}, fmt.Errorf("segment: create: %w", err)
	}
	body, err := json.Marshal(def)
	if err != nil {
		return Segment{}, fmt.Errorf("segment: create: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	by := contact.ByActor(a).String()
	sg := Segment{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Name: name, Definition: def,
		CreatedBy: by, UpdatedBy: by, CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// DO NOTHING: a failing insert would abort the PostgreSQL
		// transaction before we could say why.
		err := db.OneRow(tx.NewRaw(`INSERT INTO segments (id, workspace_id, name, name_key, definition, created_by, updated_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, name_key) DO NOTHING`,
			sg.ID, workspaceID, name, key, string(body), by, by, now, now).Exec(ctx))
		if errors.Is(err, db.ErrNotFound) {
			return ErrExists
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionCreate, targetType, sg.ID,
			map[string]string{"conditions": strconv.Itoa(len(def.Conditions)), "match": string(def.Match)})
	})
	if err != nil {
		return Segment{}, fmt.Errorf("segment: create: %w", err)
	}
	return sg, nil
}

// Update replaces the name and definition of the workspace's segment and
// records segment.update (db.ErrNotFound for a segment not in the
// workspace).
func (s *Store) Update(ctx context.Context, a audit.Actor, workspaceID, id, name string, def Definition) (Segment, error) {
	name, key, err := checkName(name)
	if err != nil {
		return Segment{}, fmt.Errorf("segment: update: %w", err)
	}
	if err := s.compileSaved(ctx, workspaceID, def); err != nil {
		return Segment{}, fmt.Errorf("segment: update: %w", err)
	}
	body, err := json.Marshal(def)
	if err != nil {
		return Segment{}, fmt.Errorf("segment: update: %w", err)
	}
	var out Segment
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		var taken int
		if err := tx.NewRaw(`SELECT count(*) FROM segments WHERE workspace_id = ? AND name_key = ? AND id <> ?`,
			workspaceID, key, id).Scan(ctx, &taken); err != nil {
			return err
		}
		if taken > 0 {
			return ErrExists
		}
		by := contact.ByActor(a).String()
		if err := db.OneRow(tx.NewRaw(`UPDATE segments SET name = ?, name_key = ?, definition = ?, updated_by = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, name, key, string(body), by, now, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		if out, err = s.get(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionUpdate, targetType, id,
			map[string]string{"conditions": strconv.Itoa(len(def.Conditions)), "match": string(def.Match)})
	})
	if err != nil {
		return Segment{}, fmt.Errorf("segment: update: %w", err)
	}
	return out, nil
}

// Delete deletes the workspace's segment and records segment.delete
// (db.ErrNotFound if there is none).
func (s *Store) Delete(ctx context.Context, a audit.Actor, workspaceID, id string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := db.OneRow(tx.NewRaw(`DELETE FROM segments WHERE workspace_id = ? AND id = ?`, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.now().UTC().Truncate(time.Microsecond), workspaceID, a, ActionDelete, targetType, id, nil)
	})
	if err != nil {
		return fmt.Errorf("segment: delete: %w", err)
	}
	return nil
}

type segmentRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	Name        string    `bun:"name"`
	Definition  string    `bun:"definition"`
	CreatedBy   string    `bun:"created_by"`
	UpdatedBy   string    `bun:"updated_by"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

const segmentCols = `id, workspace_id, name, definition, created_by, updated_by, created_at, updated_at`

func (r *segmentRow) segment() (Segment, error) {
	sg := Segment{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Definition), &sg.Definition); err != nil {
		return Segment{}, fmt.Errorf("segment %s: definition: %w", r.ID, err)
	}
	return sg, nil
}

func (s *Store) get(ctx context.Context, idb bun.IDB, workspaceID, id string) (Segment, error) {
	var r segmentRow
	if err := idb.NewRaw(`SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Segment{}, db.NoRows(err)
	}
	return r.segment()
}

// Get returns the workspace's segment (db.ErrNotFound for another
// workspace's or an unknown one).
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Segment, error) {
	sg, err := s.get(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Segment{}, fmt.Errorf("segment: get: %w", err)
	}
	return sg, nil
}

// List returns the workspace's segments ordered by name.
func (s *Store) List(ctx context.Context, workspaceID string) ([]Segment, error) {
	var rows []segmentRow
	if err := s.d.R.NewRaw(`SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? ORDER BY name_key, id`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("segment: list: %w", err)
	}
	out := make([]Segment, 0, len(rows))
	for i := range rows {
		sg, err := rows[i].segment()
		if err != nil {
			return nil, fmt.Errorf("segment: list: %w", err)
		}
		out = append(out, sg)
	}
	return out, nil
}
