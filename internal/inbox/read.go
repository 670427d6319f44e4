package inbox

import (
	"context"
	"fmt"
)

// Audit actions recorded by the Service.
const (
	ActionOwner  = "conversation.owner"
	ActionStatus = "conversation.status"
)

// Page sizes of the reads.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

func limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// Conversation returns one conversation of the workspace (db.ErrNotFound
// for another workspace's).
func (s *Service) Conversation(ctx context.Context, workspaceID, id string) (Conversation, error) {
	c, err := getConversation(ctx, s.d.R, workspaceID, id)
	if err != nil {
		return Conversation{}, fmt.Errorf("inbox: conversation: %w", err)
	}
	return c, nil
}

// Messages returns a page of the conversation's messages, newest first,
// bodies opened; before is the ID of the last message of the previous page
// ("" for the newest). db.ErrNotFound when the conversation is not the
// workspace's.
func (s *Service) Messages(ctx context.Context, workspaceID, conversationID string, n int, before string) ([]Message, error) {
	if _, err := getConversation(ctx, s.d.R, workspaceID, conversationID); err != nil {
		return nil, fmt.Errorf("inbox: messages: %w", err)
	}
	q := `SELECT ` + msgCols + ` FROM messages WHERE conversation_id = ? AND workspace_id = ?`
	args := []any{conversationID, workspaceID}
	if before != "" {
		q += ` AND (created_at, id) < (SELECT created_at, id FROM messages WHERE conversation_id = ? AND id = ?)`
		args = append(args, conversationID, before)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit(n))
	var rows []msgRow
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("inbox: messages: %w", err)
	}
	out := make([]Message, len(rows))
	for i := range rows {
		m, err := s.open(ctx, &rows[i])
		if err != nil {
			return nil, fmt.Errorf("inbox: messages: %w", err)
		}
		out[i] = m
	}
	return out, nil
}
