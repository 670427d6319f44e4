package timeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/keyring"
)

// MoveContact is the contact.Mover of timelines: when m.GoneID is merged
// into m.KeepID, it re-points the gone contact's events to the kept one
// and re-seals their notes under the kept contact's key, inside the merge
// transaction tx, so that the notes survive the gone contact's key being
// destroyed. A note that no longer opens (erased earlier) is left as it
// is: nothing can bring it back. Pass s.MoveContact in
// contact.MergeOptions.Movers.
func (s *Store) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	var notes []struct {
		ID   string `bun:"id"`
		Note []byte `bun:"note"`
	}
	if err := tx.NewRaw(`SELECT id, note FROM conversation_events WHERE workspace_id = ? AND contact_id = ? AND note IS NOT NULL`,
		m.WorkspaceID, m.GoneID).Scan(ctx, &notes); err != nil {
		return fmt.Errorf("timeline: move contact: %w", err)
	}
	for _, n := range notes {
		aad := noteAAD(m.WorkspaceID, n.ID)
		pt, err := s.kr.OpenContactTx(ctx, tx, aad, m.GoneID, n.Note)
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			continue
		}
		if err != nil {
			return fmt.Errorf("timeline: move contact: open note %s: %w", n.ID, err)
		}
		sealed, err := s.kr.SealContactTx(ctx, tx, aad, m.KeepID, pt)
		clear(pt)
		if err != nil {
			return fmt.Errorf("timeline: move contact: %w", err)
		}
		if _, err := tx.NewRaw(`UPDATE conversation_events SET note = ? WHERE workspace_id = ? AND id = ?`,
			sealed, m.WorkspaceID, n.ID).Exec(ctx); err != nil {
			return fmt.Errorf("timeline: move contact: %w", err)
		}
	}
	if _, err := tx.NewRaw(`UPDATE conversation_events SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
		m.KeepID, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
		return fmt.Errorf("timeline: move contact: %w", err)
	}
	return nil
}
