package contact

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// SetName corrects the workspace's contact's names by hand (a data-subject
// correction, package dsr) through idb (nil: a transaction of its own):
// each non-nil name replaces the stored one ("" clears it), sealed under
// the contact's key. updated_at moves, so the search indexer picks the new
// names up. Bad names get ErrInvalid wrapping a *validate.Error naming
// "first_name" or "last_name"; db.ErrNotFound for an unknown contact.
func (s *Store) SetName(ctx context.Context, idb bun.IDB, workspaceID, contactID string, first, last *string) error {
	type col struct {
		name  string
		value *string
	}
	cols := []col{{colFirstName, first}, {colLastName, last}}
	for i, c := range cols {
		if c.value == nil {
			continue
		}
		v, err := checkName(c.name, *c.value)
		if err != nil {
			return fmt.Errorf("contact: set name: %w", err)
		}
		cols[i].value = &v
	}
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		// The row first: its lock keeps an erasure from racing the seal,
		// which would create a key for a contact that is gone.
		if err := db.OneRow(idb.NewRaw(`UPDATE contacts SET updated_at = ? WHERE workspace_id = ? AND id = ?`, now, workspaceID, contactID).Exec(ctx)); err != nil {
			return err
		}
		for _, c := range cols {
			if c.value == nil {
				continue
			}
			var sealed []byte
			if *c.value != "" {
				env, err := s.kr.SealContactTx(ctx, idb, aad(workspaceID, contactID, c.name), contactID, []byte(*c.value))
				if err != nil {
					return err
				}
				sealed = env
			}
			// c.name is one of the two constants above, never input.
			if _, err := idb.NewRaw(`UPDATE contacts SET `+c.name+` = ? WHERE workspace_id = ? AND id = ?`, sealed, workspaceID, contactID).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("contact: set name: %w", err)
	}
	return nil
}
