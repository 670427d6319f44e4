package inbox

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
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

// ListOptions select and page conversations.
type ListOptions struct {
	// Status and ChannelID filter ("" for any).
	Status    Status
	ChannelID string
	// Limit caps the page (default DefaultLimit, at most MaxLimit).
	Limit int
	// Before is the ID of the last conversation of the previous page.
	Before string
}

// Conversations lists the workspace's conversations, most recently active
// first, each with its contact's name and its newest message opened.
func (s *Service) Conversations(ctx context.Context, workspaceID string, opt ListOptions) ([]Summary, error) {
	q := `SELECT ` + convCols + ` FROM conversations WHERE workspace_id = ?`
	args := []any{workspaceID}
	if opt.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(opt.Status))
	}
	if opt.ChannelID != "" {
		q += ` AND channel_id = ?`
		args = append(args, opt.ChannelID)
	}
	if opt.Before != "" {
		q += ` AND (last_activity_at, id) < (SELECT last_activity_at, id FROM conversations WHERE workspace_id = ? AND id = ?)`
		args = append(args, workspaceID, opt.Before)
	}
	q += ` ORDER BY last_activity_at DESC, id DESC LIMIT ?`
	args = append(args, limit(opt.Limit))
	var rows []convRow
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("inbox: conversations: %w", err)
	}
	if len(rows) == 0 {
		return []Summary{}, nil
	}
	ids := make([]string, len(rows))
	contactIDs := make([]string, len(rows))
	for i := range rows {
		ids[i], contactIDs[i] = rows[i].ID, rows[i].ContactID
	}
	// The newest message of each: one query, through messages_conversation.
	var last []msgRow
	if err := s.d.R.NewRaw(`SELECT `+msgCols+` FROM messages WHERE id IN (
		SELECT (SELECT m.id FROM messages m WHERE m.conversation_id = v.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
		FROM conversations v WHERE v.workspace_id = ? AND v.id IN (?))`, workspaceID, bun.In(ids)).Scan(ctx, &last); err != nil {
		return nil, fmt.Errorf("inbox: conversations: last messages: %w", err)
	}
	byConv := make(map[string]*Message, len(last))
	for i := range last {
		m, err := s.open(ctx, &last[i])
		if err != nil {
			return nil, fmt.Errorf("inbox: conversations: %w", err)
		}
		byConv[m.ConversationID] = &m
	}
	contacts, err := s.opt.Contacts.GetMany(ctx, workspaceID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("inbox: conversations: %w", err)
	}
	out := make([]Summary, len(rows))
	for i := range rows {
		c := rows[i].conversation()
		m := byConv[c.ID]
		out[i] = Summary{
			Conversation: c, ContactName: contacts[c.ContactID].DisplayName(), LastMessage: m,
			Unanswered: m != nil && m.Direction == In,
		}
	}
	return out, nil
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

// SetOwner hands the conversation to owner (the bot, the AI agent, a human
// or nobody) and records conversation.owner. Handing it to a human stops
// automatic replies; handing it back resumes them.
func (s *Service) SetOwner(ctx context.Context, a audit.Actor, workspaceID, conversationID string, owner Owner) error {
	if !owner.valid() {
		return fmt.Errorf("inbox: set owner: %w: unknown owner %q", ErrInvalid, owner)
	}
	return s.change(ctx, a, workspaceID, conversationID, "owner", string(owner), ActionOwner)
}

// SetStatus opens or closes the conversation and records
// conversation.status.
func (s *Service) SetStatus(ctx context.Context, a audit.Actor, workspaceID, conversationID string, status Status) error {
	if status != StatusOpen && status != StatusClosed {
		return fmt.Errorf("inbox: set status: %w: unknown status %q", ErrInvalid, status)
	}
	return s.change(ctx, a, workspaceID, conversationID, "status", string(status), ActionStatus)
}

// change sets one column of a conversation (column is a constant of this
// package, never input) and audits it.
func (s *Service) change(ctx context.Context, a audit.Actor, workspaceID, id, column, value, action string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		if err := db.OneRow(tx.NewRaw(`UPDATE conversations SET `+column+` = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			value, now, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, action, "conversation", id, map[string]string{column: value})
	})
	if err != nil {
		return fmt.Errorf("inbox: set %s: %w", column, err)
	}
	s.changed(ctx, Change{Kind: ChangeConversation, WorkspaceID: workspaceID, ConversationID: id})
	return nil
}
