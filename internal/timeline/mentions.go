package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Mention is a note that mentions a member, as their "mentions of me"
// list shows it.
type Mention struct {
	// EventID is the note's ID; it is also the cursor of the next page.
	EventID        string    `json:"event_id"`
	ConversationID string    `json:"conversation_id"`
	UserID         string    `json:"user_id"`
	At             time.Time `json:"at"`
	// ReadAt is when the member marked it read; zero while unread.
	ReadAt time.Time `json:"read_at,omitzero"`
	// Note is the note itself, opened.
	Note Entry `json:"note"`
}

// Mentions returns the workspace's notes that mention userID, newest
// first, at most n (DefaultPage when n ≤ 0, MaxPage at most), only unread
// ones when unreadOnly; cursor is the EventID of the last mention of the
// previous page ("" for the first page).
func (s *Store) Mentions(ctx context.Context, workspaceID, userID string, unreadOnly bool, cursor string, n int) ([]Mention, error) {
	n = pageSize(n)
	q := `SELECT m.read_at AS m_read_at, m.created_at AS m_created_at, m.user_id AS m_user_id, ` + eventCols + `
		FROM conversation_mentions m JOIN conversation_events e ON e.workspace_id = m.workspace_id AND e.id = m.event_id
		WHERE m.workspace_id = ? AND m.user_id = ?`
	args := []any{workspaceID, userID}
	if unreadOnly {
		q += ` AND m.read_at IS NULL`
	}
	if cursor != "" {
		q += ` AND m.event_id < ?`
		args = append(args, cursor)
	}
	var rows []struct {
		MReadAt    *time.Time `bun:"m_read_at"`
		MCreatedAt time.Time  `bun:"m_created_at"`
		MUserID    string     `bun:"m_user_id"`
		eventRow
	}
	if err := s.d.R.NewRaw(q+` ORDER BY m.event_id DESC LIMIT ?`, append(args, n)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("timeline: mentions: %w", err)
	}
	ms := make([]Mention, 0, len(rows))
	evs := make([]eventRow, 0, len(rows))
	for _, r := range rows {
		m := Mention{EventID: r.ID, ConversationID: r.ConversationID, UserID: r.MUserID, At: r.MCreatedAt.UTC()}
		if r.MReadAt != nil {
			m.ReadAt = r.MReadAt.UTC()
		}
		ms = append(ms, m)
		evs = append(evs, r.eventRow)
	}
	entries, err := s.open(ctx, evs)
	if err != nil {
		return nil, fmt.Errorf("timeline: mentions: %w", err)
	}
	for i := range ms {
		ms[i].Note = entries[i]
	}
	return ms, nil
}

// UnreadMentions counts userID's unread mentions in the workspace, for the
// badge beside "Mentions".
func (s *Store) UnreadMentions(ctx context.Context, workspaceID, userID string) (int, error) {
	var n int
	if err := s.d.R.NewRaw(`SELECT count(*) FROM conversation_mentions WHERE workspace_id = ? AND user_id = ? AND read_at IS NULL`,
		workspaceID, userID).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("timeline: unread mentions: %w", err)
	}
	return n, nil
}

// MarkMentionRead marks userID's mention in the workspace's note eventID
// read (again is a no-op). db.ErrNotFound when there is no such mention.
func (s *Store) MarkMentionRead(ctx context.Context, workspaceID, userID, eventID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return db.OneRow(tx.NewRaw(`UPDATE conversation_mentions SET read_at = COALESCE(read_at, ?)
			WHERE workspace_id = ? AND user_id = ? AND event_id = ?`,
			s.now().UTC().Truncate(time.Microsecond), workspaceID, userID, eventID).Exec(ctx))
	})
	if err != nil {
		return fmt.Errorf("timeline: mark mention read: %w", err)
	}
	return nil
}

// MarkConversationMentionsRead marks read every unread mention of userID
// in the workspace's conversation (the member opened it) and returns how
// many it marked.
func (s *Store) MarkConversationMentionsRead(ctx context.Context, workspaceID, userID, conversationID string) (int, error) {
	var n int64
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE conversation_mentions SET read_at = ?
			WHERE workspace_id = ? AND user_id = ? AND conversation_id = ? AND read_at IS NULL`,
			s.now().UTC().Truncate(time.Microsecond), workspaceID, userID, conversationID).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("timeline: mark conversation mentions read: %w", err)
	}
	return int(n), nil
}
