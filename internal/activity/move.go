package activity

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/keyring"
)

// moveBatch is how many entries MoveContact re-seals per query: a
// contact with years of synced calls must not be read into memory at once.
const moveBatch = 500

// MoveContact is the contact.Mover of activity logs: when m.GoneID is
// merged into m.KeepID, the gone contact's entries become the kept
// contact's, inside the merge transaction tx. Each entry's details are
// opened with the gone contact's key and sealed again under the kept
// one's, still bound to the entry's ID (dataAAD), so they stay readable
// once contact.Store.Merge destroys the gone key. Entries keep their IDs,
// and so their place in the kept contact's log (newest first by UUIDv7).
// Details that no longer open (the key was destroyed earlier) are left
// sealed as they are: nothing can bring them back, and List skips them.
func (s *Store) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	after := ""
	for {
		var rows []struct {
			ID   string `bun:"id"`
			Data []byte `bun:"data"`
		}
		// The contact_activity_contact index serves this keyset walk.
		if err := tx.NewRaw(`SELECT id, data FROM contact_activity WHERE workspace_id = ? AND contact_id = ? AND id > ?
			ORDER BY id LIMIT ?`, m.WorkspaceID, m.GoneID, after, moveBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("activity: move contact: %w", err)
		}
		for _, r := range rows {
			aad := dataAAD(m.WorkspaceID, r.ID)
			sealed := r.Data
			pt, err := s.kr.OpenContactTx(ctx, tx, aad, m.GoneID, r.Data)
			switch {
			case errors.Is(err, keyring.ErrKeyDestroyed):
				// Erased already: the details stay unreadable.
			case err != nil:
				return fmt.Errorf("activity: move contact: open entry %s: %w", r.ID, err)
			default:
				sealed, err = s.kr.SealContactTx(ctx, tx, aad, m.KeepID, pt)
				clear(pt)
				if err != nil {
					return fmt.Errorf("activity: move contact: seal entry %s: %w", r.ID, err)
				}
			}
			if _, err := tx.NewRaw(`UPDATE contact_activity SET contact_id = ?, data = ? WHERE workspace_id = ? AND id = ?`,
				m.KeepID, sealed, m.WorkspaceID, r.ID).Exec(ctx); err != nil {
				return fmt.Errorf("activity: move contact: %w", err)
			}
		}
		if len(rows) < moveBatch {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}
