package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/keyring"
)

// MoveContact is the contact.Mover of flow sessions: when m.GoneID is
// merged into m.KeepID, the gone contact's sessions become the kept
// contact's, inside the merge transaction tx, and their variables are
// opened with the gone contact's key and sealed again under the kept
// one's, still bound to the conversation (varsAAD).
//
// Sessions are re-pointed, not ended: a session belongs to a
// conversation, and the conversations move with the person (package
// inbox's MoveContact, which must run in the same merge). Two contacts
// with an identity on the same channel are never merged, so the kept
// contact has no session on those conversations already. A flow waiting
// for an answer, a delay or a request therefore goes on after the merge:
// its jobs carry the conversation and the session's token, never the
// contact, and read the contact from the conversation when they run.
// Variables that no longer open (erased earlier) are dropped: the session
// would read them as empty anyway.
func (r *Runner) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	var rows []struct {
		ConversationID string `bun:"conversation_id"`
		Vars           []byte `bun:"vars"`
	}
	if err := tx.NewRaw(`SELECT conversation_id, vars FROM flow_sessions WHERE workspace_id = ? AND contact_id = ? AND vars IS NOT NULL`,
		m.WorkspaceID, m.GoneID).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("flow: move contact: %w", err)
	}
	for _, row := range rows {
		aad := varsAAD(m.WorkspaceID, row.ConversationID)
		var sealed []byte
		pt, err := r.opt.Keyring.OpenContactTx(ctx, tx, aad, m.GoneID, row.Vars)
		switch {
		case errors.Is(err, keyring.ErrKeyDestroyed):
		case err != nil:
			return fmt.Errorf("flow: move contact: open variables of %s: %w", row.ConversationID, err)
		default:
			sealed, err = r.opt.Keyring.SealContactTx(ctx, tx, aad, m.KeepID, pt)
			clear(pt)
			if err != nil {
				return fmt.Errorf("flow: move contact: seal variables of %s: %w", row.ConversationID, err)
			}
		}
		if _, err := tx.NewRaw(`UPDATE flow_sessions SET vars = ? WHERE workspace_id = ? AND conversation_id = ?`,
			sealed, m.WorkspaceID, row.ConversationID).Exec(ctx); err != nil {
			return fmt.Errorf("flow: move contact: %w", err)
		}
	}
	if _, err := tx.NewRaw(`UPDATE flow_sessions SET contact_id = ?, updated_at = ? WHERE workspace_id = ? AND contact_id = ?`,
		m.KeepID, m.At, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("flow: move contact: %w", err)
	}
	return nil
}
