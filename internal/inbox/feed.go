package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// MessageText is the searchable text of one message, opened: what package
// search indexes and shows a snippet of. It exists only in memory.
type MessageText struct {
	ID             string
	WorkspaceID    string
	ConversationID string
	ContactID      string
	// Text is the message's text ("" for media, postbacks and the like, for
	// a message the person unsent, and when the contact's key is gone).
	Text      string
	CreatedAt time.Time
}

type feedRow struct {
	ID             string    `bun:"id"`
	WorkspaceID    string    `bun:"workspace_id"`
	ConversationID string    `bun:"conversation_id"`
	ContactID      string    `bun:"contact_id"`
	Body           []byte    `bun:"body"`
	CreatedAt      time.Time `bun:"created_at"`
}

// FeedMessageTexts returns up to n messages of every workspace created
// after (afterAt, afterID) and before until, in (created_at, id) order,
// opened. It is the message feed of package search's indexer, which keeps
// its own cursor; idb is its transaction (nil: the read pool).
func (s *Service) FeedMessageTexts(ctx context.Context, idb bun.IDB, afterAt time.Time, afterID string, until time.Time, n int) ([]MessageText, error) {
	var rows []feedRow
	if err := s.feedReader(idb).NewRaw(`SELECT id, workspace_id, conversation_id, contact_id, body, created_at FROM messages
		WHERE (created_at > ? OR (created_at = ? AND id > ?)) AND created_at < ?
		ORDER BY created_at, id LIMIT ?`, afterAt.UTC(), afterAt.UTC(), afterID, until.UTC(), n).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("inbox: message feed: %w", err)
	}
	out, err := s.openTexts(ctx, idb, rows)
	if err != nil {
		return nil, fmt.Errorf("inbox: message feed: %w", err)
	}
	return out, nil
}

// MessageTextsByID opens the text of the given messages of one workspace
// (package search verifies candidates and cuts snippets with it). Unknown
// IDs are left out of the map. idb nil reads through the read pool and the
// keyring's key cache (a query); otherwise through idb.
func (s *Service) MessageTextsByID(ctx context.Context, idb bun.IDB, workspaceID string, ids []string) (map[string]MessageText, error) {
	out := make(map[string]MessageText, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []feedRow
	if err := s.feedReader(idb).NewRaw(`SELECT id, workspace_id, conversation_id, contact_id, body, created_at FROM messages
		WHERE workspace_id = ? AND id IN (?)`, workspaceID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("inbox: message texts: %w", err)
	}
	list, err := s.openTexts(ctx, idb, rows)
	if err != nil {
		return nil, fmt.Errorf("inbox: message texts: %w", err)
	}
	for _, m := range list {
		out[m.ID] = m
	}
	return out, nil
}

// feedReader is idb, or the read pool when idb is nil.
func (s *Service) feedReader(idb bun.IDB) bun.IDB {
	if idb == nil {
		return s.d.R
	}
	return idb
}

// openTexts opens the bodies of rows, keeping only the text; keys are read
// through idb, or the keyring's pools and cache when idb is nil.
func (s *Service) openTexts(ctx context.Context, idb bun.IDB, rows []feedRow) ([]MessageText, error) {
	out := make([]MessageText, 0, len(rows))
	for _, r := range rows {
		m := MessageText{ID: r.ID, WorkspaceID: r.WorkspaceID, ConversationID: r.ConversationID, ContactID: r.ContactID, CreatedAt: r.CreatedAt.UTC()}
		pt, err := s.kr.OpenContactTx(ctx, idb, bodyAAD(r.WorkspaceID, r.ID), r.ContactID, r.Body)
		switch {
		case errors.Is(err, keyring.ErrKeyDestroyed):
		case err != nil:
			return nil, err
		default:
			var b body
			if err := json.Unmarshal(pt, &b); err != nil {
				return nil, fmt.Errorf("decode body of message %s: %w", r.ID, err)
			}
			if !b.Deleted {
				m.Text = b.Content.Text
			}
		}
		out = append(out, m)
	}
	return out, nil
}
