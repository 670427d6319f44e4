package media

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// MoveContact makes every object of the workspace's contact goneID an
// object of keepID, inside the merge's transaction tx (a contact.Mover
// step wired in internal/app): each file and name is opened under the gone
// contact's key and sealed again under the kept one's, the file is written
// under the kept contact's storage key and the row re-pointed. The gone
// contact's key is destroyed when the merge commits, so the old files are
// unreadable from then on; Purge's sweep removes them (they have no row).
// If the merge rolls back, the new files are the ones left without a row.
func (s *Store) MoveContact(ctx context.Context, tx bun.Tx, workspaceID, goneID, keepID string) error {
	var rows []row
	if err := tx.NewRaw(`SELECT `+cols+` FROM media_objects WHERE workspace_id = ? AND contact_id = ? ORDER BY id`,
		workspaceID, goneID).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("media: move contact: %w", err)
	}
	for _, r := range rows {
		if err := s.moveOne(ctx, tx, r.object(), keepID); err != nil {
			return fmt.Errorf("media: move contact: %w", err)
		}
	}
	return nil
}

func (s *Store) moveOne(ctx context.Context, tx bun.Tx, o Object, keepID string) error {
	sealed, err := s.b.Get(ctx, o.storageKey)
	if err != nil {
		return err
	}
	data, err := s.kr.OpenContactTx(ctx, tx, dataAAD(o.WorkspaceID, o.ContactID, o.ID), o.ContactID, sealed)
	if err != nil {
		return err
	}
	defer clear(data)
	name, err := s.kr.OpenContactTx(ctx, tx, nameAAD(o.WorkspaceID, o.ContactID, o.ID), o.ContactID, o.sealedName)
	if err != nil {
		return err
	}
	if sealed, err = s.kr.SealContactTx(ctx, tx, dataAAD(o.WorkspaceID, keepID, o.ID), keepID, data); err != nil {
		return err
	}
	sealedName, err := s.kr.SealContactTx(ctx, tx, nameAAD(o.WorkspaceID, keepID, o.ID), keepID, name)
	if err != nil {
		return err
	}
	key := storageKey(o.WorkspaceID, keepID, o.ID)
	if err := s.b.Put(ctx, key, sealed); err != nil {
		return err
	}
	_, err = tx.NewRaw(`UPDATE media_objects SET contact_id = ?, name = ?, storage_key = ? WHERE workspace_id = ? AND id = ?`,
		keepID, sealedName, key, o.WorkspaceID, o.ID).Exec(ctx)
	return err
}
