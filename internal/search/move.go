package search

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
)

// MoveContact is the index's part of merging two contacts (a
// contact.Mover: contact.Store.Merge runs it in the merge transaction,
// before the gone contact is deleted). The gone contact's message
// documents are re-pointed to the kept contact, so they are found under it
// and not deleted with the gone contact by the cascade; the message text
// is not re-read (package inbox re-seals the bodies under the kept
// contact's key, and verification opens them through it). The gone
// contact's profile document is dropped, and the kept contact is queued
// (Touch) so its profile is indexed again with whatever it gained.
func (x *Index) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	if _, err := tx.NewRaw(`DELETE FROM search_docs WHERE workspace_id = ? AND contact_id = ? AND message_id IS NULL`,
		m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("search: move contact: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE search_docs SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
		m.KeepID, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("search: move contact: %w", err)
	}
	if err := x.Touch(ctx, tx, m.WorkspaceID, m.KeepID); err != nil {
		return fmt.Errorf("search: move contact: %w", err)
	}
	return nil
}
