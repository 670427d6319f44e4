package calllog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
)

// MoveContact is the contact.Mover of call-log deduplication: when
// m.GoneID is merged into m.KeepID, the gone contact's call keys become
// the kept contact's, inside the merge transaction tx, so that uploading
// again a call already recorded on either adds nothing to the merged
// person. A key both had (a call matched both, their phones being the
// same) is kept once. The call entries themselves are activity entries,
// moved by activity.Store.MoveContact; keys are blind digests, sealed
// under no contact's key, so nothing needs re-sealing here.
func (s *Syncer) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	// DO NOTHING rather than a failing insert: on PostgreSQL a failed
	// statement would abort the whole merge.
	if _, err := tx.NewRaw(`INSERT INTO call_log_seen (workspace_id, contact_id, call_key, created_at)
		SELECT workspace_id, ?, call_key, created_at FROM call_log_seen WHERE workspace_id = ? AND contact_id = ?
		ON CONFLICT (workspace_id, contact_id, call_key) DO NOTHING`, m.KeepID, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("calllog: move contact: %w", err)
	}
	// The gone contact's deletion would take these with it; deleting them
	// here keeps the mover complete on its own.
	if _, err := tx.NewRaw(`DELETE FROM call_log_seen WHERE workspace_id = ? AND contact_id = ?`,
		m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("calllog: move contact: %w", err)
	}
	return nil
}
