package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// moveBatch is how many messages MoveContact re-seals per query.
const moveBatch = 500

// MoveContact gives the workspace's contact toContactID the conversations
// and messages of fromContactID, inside tx: the inbox's part of merging two
// contacts (contact.Store.Merge runs it as a contact.Mover, before it
// deletes fromContactID and destroys its key). Each message body is opened
// with the old contact's key and sealed again under the new one's, still
// bound to the message's ID, so the bodies stay readable once the old key
// is gone. The conversations keep their channel: replies on them go to the
// identity the person has on that channel (contact.Store.ExternalIDOn), which
// the merge gives the kept contact. contact.Store.Merge refuses two contacts
// with an identity on the same channel, so no conversation collides with one
// the kept contact already has there.
func (s *Service) MoveContact(ctx context.Context, tx bun.Tx, workspaceID, fromContactID, toContactID string) error {
	now := s.now()
	var convIDs []string
	if err := tx.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ? ORDER BY id`,
		workspaceID, fromContactID).Scan(ctx, &convIDs); err != nil {
		return fmt.Errorf("inbox: move contact: %w", err)
	}
	for _, id := range convIDs {
		if err := s.moveMessages(ctx, tx, workspaceID, id, fromContactID, toContactID); err != nil {
			return fmt.Errorf("inbox: move contact: %w", err)
		}
	}
	if _, err := tx.NewRaw(`UPDATE conversations SET contact_id = ?, updated_at = ? WHERE workspace_id = ? AND contact_id = ?`,
		toContactID, now, workspaceID, fromContactID).Exec(ctx); err != nil {
		return fmt.Errorf("inbox: move contact: %w", err)
	}
	// Redelivery keys follow the person, so erasing the kept contact
	// deletes them too.
	if _, err := tx.NewRaw(`UPDATE inbound_keys SET contact_id = ? WHERE contact_id = ?
		AND channel_id IN (SELECT id FROM channels WHERE workspace_id = ?)`, toContactID, fromContactID, workspaceID).Exec(ctx); err != nil {
		return fmt.Errorf("inbox: move contact: %w", err)
	}
	return nil
}

// moveMessages re-seals the messages of one conversation under the new
// contact's key, a batch at a time in (created_at, id) order (the
// messages_conversation index).
func (s *Service) moveMessages(ctx context.Context, tx bun.Tx, workspaceID, conversationID, from, to string) error {
	var afterAt time.Time
	afterID := ""
	for {
		var rows []struct {
			ID        string    `bun:"id"`
			Body      []byte    `bun:"body"`
			CreatedAt time.Time `bun:"created_at"`
		}
		if err := tx.NewRaw(`SELECT id, body, created_at FROM messages
			WHERE conversation_id = ? AND workspace_id = ? AND contact_id = ? AND (created_at > ? OR (created_at = ? AND id > ?))
			ORDER BY created_at, id LIMIT ?`,
			conversationID, workspaceID, from, afterAt, afterAt, afterID, moveBatch).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			aad := bodyAAD(workspaceID, r.ID)
			body := r.Body
			pt, err := s.kr.OpenContactTx(ctx, tx, aad, from, r.Body)
			switch {
			case errors.Is(err, keyring.ErrKeyDestroyed):
				// Erased already: the body stays unreadable.
			case err != nil:
				return fmt.Errorf("open message %s: %w", r.ID, err)
			default:
				if body, err = s.kr.SealContactTx(ctx, tx, aad, to, pt); err != nil {
					return fmt.Errorf("seal message %s: %w", r.ID, err)
				}
			}
			if _, err := tx.NewRaw(`UPDATE messages SET contact_id = ?, body = ? WHERE id = ? AND workspace_id = ?`,
				to, body, r.ID, workspaceID).Exec(ctx); err != nil {
				return err
			}
		}
		if len(rows) < moveBatch {
			return nil
		}
		afterAt, afterID = rows[len(rows)-1].CreatedAt, rows[len(rows)-1].ID
	}
}
