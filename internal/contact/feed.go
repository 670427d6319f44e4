package contact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// Searchable is what package search indexes of a contact, opened: the
// display name and the values of its phone and e-mail fields. It exists
// only in memory; search keeps keyed digests of it, never the text.
type Searchable struct {
	ID          string
	WorkspaceID string
	Name        string   // DisplayName: first and last name
	Phones      []string // E.164, as stored
	Emails      []string
	UpdatedAt   time.Time
}

// feedRow is a contacts row as the feed reads it.
type feedRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	FirstName   []byte    `bun:"first_name"`
	LastName    []byte    `bun:"last_name"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

// FeedSearchable returns up to n contacts of every workspace changed after
// (afterAt, afterID) and before until, in (updated_at, id) order, opened.
// It is the contact feed of package search's indexer, which keeps its own
// cursor; idb is its transaction (nil: the read pool). A contact whose key
// is gone comes back with nothing to index.
func (s *Store) FeedSearchable(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]Searchable, error) {
	var rows []feedRow
	if err := s.reader(idb).NewRaw(`SELECT id, workspace_id, first_name, last_name, updated_at FROM contacts
		WHERE (updated_at > ? OR (updated_at = ? AND id > ?)) AND updated_at < ?
		ORDER BY updated_at, id LIMIT ?`, afterAt.UTC(), afterAt.UTC(), afterID, until.UTC(), n).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: feed: %w", err)
	}
	out, err := s.openSearchable(ctx, idb, rows)
	if err != nil {
		return nil, fmt.Errorf("contact: feed: %w", err)
	}
	return out, nil
}

// SearchableByID opens the searchable text of the given contacts of one
// workspace (package search verifies its candidates with it and re-indexes
// touched contacts). Unknown IDs are left out of the map. idb nil reads
// through the read pool and the keyring's key cache (a query); otherwise
// through idb (the indexer's transaction).
func (s *Store) SearchableByID(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]Searchable, error) {
	out := make(map[string]Searchable, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []feedRow
	if err := s.reader(idb).NewRaw(`SELECT id, workspace_id, first_name, last_name, updated_at FROM contacts
		WHERE workspace_id = ? AND id IN (?)`, workspaceID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: searchable: %w", err)
	}
	list, err := s.openSearchable(ctx, idb, rows)
	if err != nil {
		return nil, fmt.Errorf("contact: searchable: %w", err)
	}
	for _, c := range list {
		out[c.ID] = c
	}
	return out, nil
}

// reader is idb, or the read pool when idb is nil.
func (s *Store) reader(idb bun.IDB) bun.IDB {
	if idb == nil {
		return s.d.R
	}
	return idb
}

// openSearchable opens the names of rows and reads their phone and e-mail
// values (one query per workspace for all of them). Keys are read through
// idb, or the keyring's pools and cache when idb is nil.
func (s *Store) openSearchable(ctx context.Context, idb bun.IDB, rows []feedRow) ([]Searchable, error) {
	out := make([]Searchable, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	byWS := map[string][]string{}
	index := make(map[string]int, len(rows))
	for _, r := range rows {
		c := Searchable{ID: r.ID, WorkspaceID: r.WorkspaceID, UpdatedAt: r.UpdatedAt.UTC()}
		first, err := s.openName(ctx, idb, r, colFirstName, r.FirstName)
		if err != nil {
			return nil, err
		}
		last, err := s.openName(ctx, idb, r, colLastName, r.LastName)
		if err != nil {
			return nil, err
		}
		c.Name = Contact{FirstName: first, LastName: last}.DisplayName()
		index[r.ID] = len(out)
		out = append(out, c)
		byWS[r.WorkspaceID] = append(byWS[r.WorkspaceID], r.ID)
	}
	for ws, ids := range byWS {
		var vals []struct {
			ContactID string `bun:"contact_id"`
			FieldID   string `bun:"field_id"`
			Type      string `bun:"type"`
			Value     []byte `bun:"value"`
		}
		if err := s.reader(idb).NewRaw(`SELECT v.contact_id, v.field_id, f.type, v.value
			FROM contact_field_values v JOIN contact_fields f ON f.workspace_id = v.workspace_id AND f.id = v.field_id
			WHERE v.workspace_id = ? AND v.contact_id IN (?) AND f.type IN ('phone', 'email') AND f.archived_at IS NULL`,
			ws, bun.In(ids)).Scan(ctx, &vals); err != nil {
			return nil, err
		}
		for _, v := range vals {
			pt, err := s.kr.OpenContactTx(ctx, idb, valueAAD(ws, v.ContactID, v.FieldID), v.ContactID, v.Value)
			if errors.Is(err, keyring.ErrKeyDestroyed) {
				continue
			}
			if err != nil {
				return nil, err
			}
			c := &out[index[v.ContactID]]
			if FieldType(v.Type) == FieldPhone {
				c.Phones = append(c.Phones, string(pt))
			} else {
				c.Emails = append(c.Emails, string(pt))
			}
		}
	}
	return out, nil
}

// openName opens one sealed name column ("" when NULL or the key is gone).
func (s *Store) openName(ctx context.Context, idb bun.IDB, r feedRow, column string, sealed []byte) (string, error) {
	if sealed == nil {
		return "", nil
	}
	pt, err := s.kr.OpenContactTx(ctx, idb, aad(r.WorkspaceID, r.ID, column), r.ID, sealed)
	if errors.Is(err, keyring.ErrKeyDestroyed) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(pt), nil
}
