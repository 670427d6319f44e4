package pipeline

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
)

// MoveContact is the contact.Mover of boards: when m.GoneID is merged into
// m.KeepID, the gone contact's cards become the kept contact's, inside the
// merge transaction tx, where the kept contact has no card on that
// pipeline (otherwise the kept card stays, as the kept contact's values
// win, and the gone one goes with its contact). Cards keep their stage and
// position; their history is the activity log, moved by package
// activity's Mover, so no entry is written here.
//
// The default pipeline follows the lead stage ("a contact has a card in
// the default pipeline's stage S exactly when its lead stage is S"), and
// contact.Store.Merge keeps the kept contact's stage unless it has none,
// then takes the gone one's. So the gone contact's card on the default
// pipeline moves only when the kept contact has no lead stage: exactly
// when the merged contact takes the gone one's stage, which that card is
// in.
func (s *Store) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	kept, err := s.contacts.GetTx(ctx, tx, m.WorkspaceID, m.KeepID)
	if err != nil {
		return fmt.Errorf("pipeline: move contact: %w", err)
	}
	if _, err := tx.NewRaw(`UPDATE pipeline_cards SET contact_id = ?
		WHERE workspace_id = ? AND contact_id = ?
		AND NOT EXISTS (SELECT 1 FROM pipeline_cards k WHERE k.pipeline_id = pipeline_cards.pipeline_id AND k.contact_id = ?)
		AND (? OR pipeline_id NOT IN (SELECT id FROM pipelines WHERE workspace_id = ? AND is_default))`,
		m.KeepID, m.WorkspaceID, m.GoneID, m.KeepID, kept.Stage == "", m.WorkspaceID).Exec(ctx); err != nil {
		return fmt.Errorf("pipeline: move contact: %w", err)
	}
	return nil
}
