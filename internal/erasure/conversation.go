package erasure

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// DeleteConversation deletes the workspace's conversation and everything
// of it — its messages, timeline events, private notes and their
// mentions, its flow session, its messages' search documents, the jobs
// naming it or its messages — in one transaction with an audit entry as
// a's (target: the conversation's ID, which names no one once it is
// gone). The contact and the rest of its history stay. A conversation
// that is not the workspace's gets db.ErrNotFound and nothing changes.
//
// Its messages were sealed under the contact's key, which stays (the
// contact does): deleting the rows is what removes them here; erasing the
// contact is what also makes every copy unreadable.
func (s *Service) DeleteConversation(ctx context.Context, a audit.Actor, workspaceID, conversationID string) error {
	if workspaceID == "" || conversationID == "" {
		return fmt.Errorf("erasure: delete conversation: %w", db.ErrNotFound)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.deleteConversationTx(ctx, tx, workspaceID, conversationID); err != nil {
			return err
		}
		// A backup from before the deletion must not bring it back (Replay).
		t := Tombstone{Kind: KindConversation, WorkspaceID: workspaceID, Subject: s.Subject(conversationID), At: s.now().UTC()}
		if err := insertTombstone(ctx, tx, t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.now().UTC(), workspaceID, a, ActionDeleteConversation, "conversation", conversationID, nil)
	})
	if err != nil {
		return fmt.Errorf("erasure: delete conversation: %w", err)
	}
	return nil
}

// deleteConversationTx deletes the conversation's rows inside tx (for
// DeleteConversation and Replay); db.ErrNotFound when the workspace has no
// such conversation.
func (s *Service) deleteConversationTx(ctx context.Context, tx bun.Tx, workspaceID, conversationID string) error {
	if err := db.OneRow(tx.NewRaw(`UPDATE conversations SET updated_at = ? WHERE workspace_id = ? AND id = ?`,
		s.now().UTC(), workspaceID, conversationID).Exec(ctx)); err != nil {
		return err
	}
	var msgs []string
	if err := tx.NewRaw(`SELECT id FROM messages WHERE workspace_id = ? AND conversation_id = ?`, workspaceID, conversationID).Scan(ctx, &msgs); err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	ids := map[string]bool{conversationID: true}
	for _, m := range msgs {
		ids[m] = true
	}
	if err := deleteJobs(ctx, tx, s.d.Dialect, workspaceID, ids); err != nil {
		return err
	}
	if err := resetCursors(ctx, tx, ids); err != nil {
		return err
	}
	for _, st := range conversationStatements() {
		if _, err := tx.NewRaw(st.sql, workspaceID, conversationID).Exec(ctx); err != nil {
			return fmt.Errorf("delete from %s: %w", st.table, err)
		}
	}
	return nil
}

// conversationStatements delete one conversation's rows, children first;
// each takes the workspace and the conversation IDs.
func conversationStatements() []statement {
	return []statement{
		{"search_grams", `DELETE FROM search_grams WHERE doc IN (SELECT id FROM search_docs WHERE workspace_id = ? AND conversation_id = ?)`, nil},
		{"search_docs", `DELETE FROM search_docs WHERE workspace_id = ? AND conversation_id = ?`, nil},
		{"conversation_mentions", `DELETE FROM conversation_mentions WHERE workspace_id = ? AND conversation_id = ?`, nil},
		{"conversation_events", `DELETE FROM conversation_events WHERE workspace_id = ? AND conversation_id = ?`, nil},
		{"flow_sessions", `DELETE FROM flow_sessions WHERE workspace_id = ? AND conversation_id = ?`, nil},
		{"messages", `DELETE FROM messages WHERE workspace_id = ? AND conversation_id = ?`, nil},
		{"conversations", `DELETE FROM conversations WHERE workspace_id = ? AND id = ?`, nil},
	}
}
