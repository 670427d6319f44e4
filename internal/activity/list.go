package activity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Page sizes of List: n ≤ 0 gives DefaultPage, more than MaxPage gives
// MaxPage.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// row is a contact_activity row as stored, data still sealed.
type row struct {
	ID          string     `bun:"id"`
	WorkspaceID string     `bun:"workspace_id"`
	ContactID   string     `bun:"contact_id"`
	Kind        string     `bun:"kind"`
	Actor       string     `bun:"actor"`
	Data        []byte     `bun:"data"`
	CreatedAt   time.Time  `bun:"created_at"`
	EditedAt    *time.Time `bun:"edited_at"`
}

const cols = `id, workspace_id, contact_id, kind, actor, data, created_at, edited_at`

// List returns up to n entries of the workspace's contact, newest first,
// older than the entry ID before ("" for the newest): pass the last ID of a
// page to get the next one. Another workspace's contact, an unknown one, or
// one whose key was destroyed a moment ago (erased) has none.
func (s *Store) List(ctx context.Context, workspaceID, contactID string, before string, n int) ([]Entry, error) {
	if n <= 0 {
		n = DefaultPage
	}
	n = min(n, MaxPage)
	q := `SELECT ` + cols + ` FROM contact_activity WHERE workspace_id = ? AND contact_id = ?`
	args := []any{workspaceID, contactID}
	if before != "" {
		q += ` AND id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, n)
	var rows []row
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("activity: list: %w", err)
	}
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e, err := s.open(ctx, nil, r)
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			return []Entry{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("activity: list: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Get returns the workspace's entry id, opened, or db.ErrNotFound.
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Entry, error) {
	e, err := s.get(ctx, nil, workspaceID, id)
	if err != nil {
		return Entry{}, fmt.Errorf("activity: get: %w", err)
	}
	return e, nil
}

// get reads and opens the workspace's entry id through tx (nil: the
// reader pool).
func (s *Store) get(ctx context.Context, tx bun.IDB, workspaceID, id string) (Entry, error) {
	q := tx
	if q == nil {
		q = s.d.R
	}
	var r row
	if err := q.NewRaw(`SELECT `+cols+` FROM contact_activity WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Entry{}, db.NoRows(err)
	}
	e, err := s.open(ctx, tx, r)
	if errors.Is(err, keyring.ErrKeyDestroyed) {
		return Entry{}, db.ErrNotFound
	}
	return e, err
}

// open opens r's details (through idb when not nil, the caller's
// transaction) and returns the entry.
func (s *Store) open(ctx context.Context, idb bun.IDB, r row) (Entry, error) {
	aad := dataAAD(r.WorkspaceID, r.ID)
	var pt []byte
	var err error
	if idb == nil {
		pt, err = s.kr.OpenContact(ctx, aad, r.ContactID, r.Data)
	} else {
		pt, err = s.kr.OpenContactTx(ctx, idb, aad, r.ContactID, r.Data)
	}
	if err != nil {
		return Entry{}, err
	}
	data := map[string]string{}
	if err := json.Unmarshal(pt, &data); err != nil {
		return Entry{}, fmt.Errorf("entry %s: %w", r.ID, err)
	}
	e := Entry{ID: r.ID, WorkspaceID: r.WorkspaceID, ContactID: r.ContactID, Kind: r.Kind, Actor: r.Actor,
		Data: data, At: r.CreatedAt.UTC()}
	if r.EditedAt != nil {
		e.EditedAt = r.EditedAt.UTC()
	}
	return e, nil
}
