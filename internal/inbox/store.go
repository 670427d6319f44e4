package inbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// The statements of the hot paths, prepared by Prepare. They are written
// once here so that the round trips per event stay visible.
const (
	sqlConversationOf = `SELECT ` + convCols + ` FROM conversations WHERE channel_id = ? AND contact_id = ? AND workspace_id = ?`

	// The unique index makes a redelivered message a no-op: DO NOTHING, not
	// a failing insert, which would abort a PostgreSQL transaction.
	sqlInsertMessage = `INSERT INTO messages (id, workspace_id, channel_id, conversation_id, contact_id, direction, kind, body,
		sender_type, sender_id, external_id, reply_to, status, messaging_type, tag, platform_at, sent_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING`

	// Activity and the window only move forward; the row is locked and
	// re-read, so concurrent batches cannot lose an increment. A message
	// reopens a resolved conversation and wakes a snoozed one; a pending
	// one stays with automation.
	sqlTouch = `UPDATE conversations SET
		last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END,
		interaction_count = interaction_count + ?, ` + reopens + `, updated_at = ?
		WHERE id = ? RETURNING ` + convCols
	sqlTouchWindow = `UPDATE conversations SET
		last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END,
		interaction_count = interaction_count + ?, ` + reopens + `, updated_at = ?,
		last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < ? THEN ? ELSE last_inbound_at END
		WHERE id = ? RETURNING ` + convCols

	// reopens are the SET terms of a message from the person: SET reads
	// the row as it was, so snoozed_until is cleared only if it was snoozed.
	reopens = `status = CASE WHEN status IN ('resolved','snoozed') THEN 'open' ELSE status END,
		snoozed_until = CASE WHEN status = 'snoozed' THEN NULL ELSE snoozed_until END`

	// The key names its contact, so erasing the contact deletes it.
	sqlSeenKey = `INSERT INTO inbound_keys (channel_id, key, contact_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (channel_id, key) DO NOTHING`
)

// hotWrites and hotReads are what Prepare prepares.
var (
	hotWrites = []string{sqlConversationOf, sqlInsertMessage, sqlTouch, sqlTouchWindow, sqlSeenKey,
		sqlEchoByMetadata, sqlEchoByMID, sqlDelivered, sqlRead, sqlDeliveredUpto, sqlReadUpto,
		sqlMarkSending, sqlSent, sqlRequeue, sqlFail, sqlFailSilenced, sqlClaimDirect, sqlSilenceDirect}
	hotReads = []string{sqlLoadOutgoing}
)

// Prepare prepares the statements of the hot paths (ingesting, matching
// echoes and receipts, sending), including the contact store's. Call it
// once at start, outside any transaction; until it has run, the same
// statements go through bun, only slower.
func (s *Service) Prepare(ctx context.Context) error {
	if err := s.st.Prepare(ctx, hotWrites, hotReads); err != nil {
		return err
	}
	return s.opt.Contacts.Prepare(ctx)
}

// conversationOf finds the conversation of ct on ch, creating it (owned by
// the bot) if needed, and reports whether it created it: one SELECT when it
// exists. A contact created a moment ago (newContact) cannot have one yet,
// so it goes straight to the INSERT.
func (s *Service) conversationOf(ctx context.Context, idb bun.IDB, ch channel.Channel, ct contact.Contact, newContact bool, now time.Time) (Conversation, bool, error) {
	var r convRow
	if !newContact {
		err := s.st.Row(ctx, idb, r.dest(), sqlConversationOf, ch.ID, ct.ID, ch.WorkspaceID)
		if err == nil {
			return r.conversation(), false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Conversation{}, false, fmt.Errorf("find conversation: %w", err)
		}
	}
	c := Conversation{
		ID: newID(), WorkspaceID: ch.WorkspaceID, ChannelID: ch.ID, ContactID: ct.ID, Status: StatusOpen, Owner: OwnerBot,
		LastActivityAt: now, CreatedAt: now, UpdatedAt: now,
	}
	// Whoever inserts first wins and the others read their row.
	res, err := idb.NewRaw(`INSERT INTO conversations (id, workspace_id, channel_id, contact_id, status, owner, last_activity_at,
		interaction_count, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', 'bot', ?, 0, ?, ?)
		ON CONFLICT (channel_id, contact_id) DO NOTHING`,
		c.ID, c.WorkspaceID, c.ChannelID, c.ContactID, now, now, now).Exec(ctx)
	if err != nil {
		return Conversation{}, false, fmt.Errorf("create conversation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Conversation{}, false, fmt.Errorf("create conversation: %w", err)
	} else if n == 1 {
		return c, true, nil
	}
	if err := s.st.Row(ctx, idb, r.dest(), sqlConversationOf, ch.ID, ct.ID, ch.WorkspaceID); err != nil {
		return Conversation{}, false, fmt.Errorf("find conversation: %w", db.NoRows(err))
	}
	return r.conversation(), false, nil
}

// findConversation returns the conversation of a known person, without
// creating anything (db.ErrNotFound when there is none).
func (s *Service) findConversation(ctx context.Context, idb bun.IDB, ch channel.Channel, externalID string) (Conversation, error) {
	ct, err := s.opt.Contacts.Lookup(ctx, idb, ch, externalID)
	if err != nil {
		return Conversation{}, err
	}
	var r convRow
	if err := s.st.Row(ctx, idb, r.dest(), sqlConversationOf, ch.ID, ct.ID, ch.WorkspaceID); err != nil {
		return Conversation{}, db.NoRows(err)
	}
	return r.conversation(), nil
}

// seen records an event key and reports whether it had been recorded
// before: the idempotency of events without a platform message ID.
func (s *Service) seen(ctx context.Context, idb bun.IDB, channelID, contactID, key string, now time.Time) (bool, error) {
	n, err := affected(s.st.Exec(ctx, idb, sqlSeenKey, channelID, key, contactID, now))
	if err != nil {
		return false, fmt.Errorf("record event key: %w", err)
	}
	return n == 0, nil
}

// insertMessage seals and stores m and reports whether it was new: a
// message whose platform ID is already stored for the channel (a
// redelivered webhook, an echo seen twice) inserts nothing.
func (s *Service) insertMessage(ctx context.Context, idb bun.IDB, m *Message) (bool, error) {
	sealed, err := s.seal(ctx, idb, m.WorkspaceID, m.ContactID, m.ID, body{Content: m.Content, Deleted: m.Deleted})
	if err != nil {
		return false, fmt.Errorf("seal message: %w", err)
	}
	n, err := affected(s.st.Exec(ctx, idb, sqlInsertMessage,
		m.ID, m.WorkspaceID, m.ChannelID, m.ConversationID, m.ContactID, string(m.Direction), m.Kind, sealed,
		string(m.SenderType), nullable(m.SenderID), nullable(m.ExternalID), nullable(m.ReplyTo), string(m.Status),
		m.MessagingType, m.Tag, nullTime(m.PlatformAt), nullTime(m.SentAt), m.CreatedAt, m.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("store message: %w", err)
	}
	return n == 1, nil
}

// touchInbound moves the conversation for an event from the person at at:
// activity, the messaging window when the event opens it, the interaction
// count, and reopens it. It returns the conversation as it now is.
func (s *Service) touchInbound(ctx context.Context, idb bun.IDB, id string, at, now time.Time, opensWindow bool, interactions int) (Conversation, error) {
	var r convRow
	var err error
	if opensWindow {
		err = s.st.Row(ctx, idb, r.dest(), sqlTouchWindow, at, at, interactions, now, at, at, id)
	} else {
		err = s.st.Row(ctx, idb, r.dest(), sqlTouch, at, at, interactions, now, id)
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("update conversation: %w", db.NoRows(err))
	}
	return r.conversation(), nil
}

// setOwner gives the conversation to owner and moves its activity to at;
// it returns the conversation as it now is.
func setOwner(ctx context.Context, idb bun.IDB, c Conversation, owner Owner, at, now time.Time) (Conversation, error) {
	var r convRow
	err := idb.NewRaw(`UPDATE conversations SET owner = ?, updated_at = ?,
		last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END
		WHERE id = ? RETURNING `+convCols, string(owner), now, at, at, c.ID).Scan(ctx, r.dest()...)
	if err != nil {
		return Conversation{}, fmt.Errorf("set owner: %w", db.NoRows(err))
	}
	return r.conversation(), nil
}

// getConversation reads one conversation of the workspace through idb.
func getConversation(ctx context.Context, idb bun.IDB, workspaceID, id string) (Conversation, error) {
	var r convRow
	if err := idb.NewRaw(`SELECT `+convCols+` FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, r.dest()...); err != nil {
		return Conversation{}, db.NoRows(err)
	}
	return r.conversation(), nil
}

// affected returns the rows an exec touched.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
