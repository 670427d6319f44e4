package erasure

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// EraseContact deletes every row of the workspace's contact everywhere
// (see the package comment for the list; registered Hooks run first, in
// the same transaction), destroys its key, and writes a tombstone and an
// audit entry as a's whose target is the contact's pseudonymous subject,
// all in one transaction: it happens whole or not at all. AfterErase
// functions run once it has committed.
//
// A contact that is not the workspace's (another workspace's, unknown,
// erased already) gets db.ErrNotFound and nothing changes.
func (s *Service) EraseContact(ctx context.Context, a audit.Actor, workspaceID, contactID string) error {
	if workspaceID == "" || contactID == "" {
		return fmt.Errorf("erasure: erase contact: %w", db.ErrNotFound)
	}
	hooks, after := s.registered()
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.eraseContactTx(ctx, tx, hooks, workspaceID, contactID); err != nil {
			return err
		}
		subject := s.Subject(contactID)
		return audit.Record(ctx, tx, s.now().UTC(), workspaceID, a, ActionEraseContact, "contact", subject, nil)
	})
	if err != nil {
		return fmt.Errorf("erasure: erase contact: %w", err)
	}
	s.runAfter(ctx, after, workspaceID, contactID)
	return nil
}

// eraseContactTx is the erasure itself, in tx (without the audit entry,
// which Replay does not write).
func (s *Service) eraseContactTx(ctx context.Context, tx bun.Tx, hooks []namedHook, workspaceID, contactID string) error {
	now := s.now().UTC()
	// Locks the row (PostgreSQL), so that a merge or a second erasure of
	// the same contact waits for this one; on SQLite the transaction
	// holds the one writer already.
	if err := db.OneRow(tx.NewRaw(`UPDATE contacts SET updated_at = ? WHERE workspace_id = ? AND id = ?`,
		now, workspaceID, contactID).Exec(ctx)); err != nil {
		return err
	}
	named, err := namedBy(ctx, tx, workspaceID, contactID)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if err := h.h(ctx, tx, workspaceID, contactID); err != nil {
			return fmt.Errorf("hook %s: %w", h.name, err)
		}
	}
	if err := deleteJobs(ctx, tx, s.d.Dialect, workspaceID, named.ids); err != nil {
		return err
	}
	if err := s.scrubDeliveries(ctx, tx, named.platformIDs); err != nil {
		return err
	}
	if err := resetCursors(ctx, tx, named.ids); err != nil {
		return err
	}
	for _, st := range contactStatements() {
		args := make([]any, 0, 3)
		for _, p := range st.args {
			if p == argContact {
				args = append(args, contactID)
			} else {
				args = append(args, workspaceID)
			}
		}
		if _, err := tx.NewRaw(st.sql, args...).Exec(ctx); err != nil {
			return fmt.Errorf("delete from %s: %w", st.table, err)
		}
	}
	if err := s.kr.DestroyContactKey(ctx, tx, workspaceID, contactID); err != nil {
		return err
	}
	return insertTombstone(ctx, tx, Tombstone{Kind: KindContact, WorkspaceID: workspaceID, Subject: s.Subject(contactID), At: now})
}

// naming is what names a contact outside the tables keyed by its ID: the
// IDs a job payload may carry (the contact's, its conversations', its
// messages') and its platform IDs (PSIDs), which raw webhook deliveries
// carry.
type naming struct {
	ids         map[string]bool
	platformIDs []string
}

// namedBy reads what names the contact.
func namedBy(ctx context.Context, tx bun.Tx, workspaceID, contactID string) (naming, error) {
	n := naming{ids: map[string]bool{contactID: true}}
	var convs, msgs, psids []string
	if err := tx.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Scan(ctx, &convs); err != nil {
		return n, fmt.Errorf("conversations: %w", err)
	}
	// Through the contact's conversations (messages_conversation): a
	// message is always its conversation's contact's, and messages has no
	// index on contact_id, so asking by it would scan the largest table
	// while erasure holds the writer.
	if err := tx.NewRaw(sqlContactMessages, workspaceID, contactID, workspaceID).Scan(ctx, &msgs); err != nil {
		return n, fmt.Errorf("messages: %w", err)
	}
	if err := tx.NewRaw(`SELECT external_id FROM contacts WHERE workspace_id = ? AND id = ? AND external_id IS NOT NULL
		UNION SELECT external_id FROM contact_identities WHERE workspace_id = ? AND contact_id = ?`,
		workspaceID, contactID, workspaceID, contactID).Scan(ctx, &psids); err != nil {
		return n, fmt.Errorf("identities: %w", err)
	}
	for _, id := range append(convs, msgs...) {
		n.ids[id] = true
	}
	for _, p := range psids {
		if p != "" {
			n.platformIDs = append(n.platformIDs, p)
		}
	}
	return n, nil
}

// sqlContactMessages lists the contact's messages through its
// conversations.
const sqlContactMessages = `SELECT id FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?)
	AND workspace_id = ?`

// Argument kinds of a contact statement.
const (
	argWorkspace = iota
	argContact
)

// statement deletes one table's rows of a contact.
type statement struct {
	table string
	sql   string
	args  []int
}

// contactStatements delete a contact's rows, children before parents, so
// that the erasure does not depend on ON DELETE CASCADE (nor on SQLite's
// foreign_keys pragma). Every table listed here is RowsWithContact in the
// Inventory, and the inventory test checks both agree.
func contactStatements() []statement {
	wc := []int{argWorkspace, argContact}
	conv := `(SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ?)`
	wcwc := []int{argWorkspace, argWorkspace, argContact}
	return []statement{
		{"search_grams", `DELETE FROM search_grams WHERE doc IN (SELECT id FROM search_docs WHERE workspace_id = ? AND contact_id = ?)`, wc},
		{"search_docs", `DELETE FROM search_docs WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"search_pending", `DELETE FROM search_pending WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"conversation_mentions", `DELETE FROM conversation_mentions WHERE workspace_id = ? AND conversation_id IN ` + conv, wcwc},
		// Events and messages go by conversation (their indexes); neither
		// table is indexed by contact, and every row of theirs belongs to
		// one of the contact's conversations.
		{"conversation_events", `DELETE FROM conversation_events WHERE workspace_id = ? AND conversation_id IN ` + conv, wcwc},
		{"flow_sessions", `DELETE FROM flow_sessions WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"flow_sessions", `DELETE FROM flow_sessions WHERE workspace_id = ? AND conversation_id IN ` + conv, wcwc},
		{"messages", `DELETE FROM messages WHERE workspace_id = ? AND conversation_id IN ` + conv, wcwc},
		{"conversations", `DELETE FROM conversations WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"contact_activity", `DELETE FROM contact_activity WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"pipeline_cards", `DELETE FROM pipeline_cards WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"contact_tags", `DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"contact_field_values", `DELETE FROM contact_field_values WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"contact_phones", `DELETE FROM contact_phones WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"call_log_seen", `DELETE FROM call_log_seen WHERE workspace_id = ? AND contact_id = ?`, wc},
		{"contact_identities", `DELETE FROM contact_identities WHERE workspace_id = ? AND contact_id = ?`, wc},
		// Redelivery keys carry no workspace: scoped through the channel.
		{"inbound_keys", `DELETE FROM inbound_keys WHERE contact_id = ? AND channel_id IN (SELECT id FROM channels WHERE workspace_id = ?)`,
			[]int{argContact, argWorkspace}},
		{"contacts", `DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, wc},
	}
}

// ContactTables lists the tables EraseContact deletes a contact's rows
// from itself (not through hooks), for the inventory test.
func ContactTables() []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range contactStatements() {
		if !seen[st.table] {
			seen[st.table] = true
			out = append(out, st.table)
		}
	}
	return append(out, "contact_keys", "jobs", "webhook_deliveries", "search_cursors")
}

// resetCursors makes the search indexer's cursors forget an erased ID: a
// cursor is the (time, ID) of the last row a feed indexed, and may be the
// contact's or one of its messages'. Its ID is cleared, keeping its time:
// the indexer then indexes again the few rows of that very instant, which
// it does idempotently (delete, then insert), as after a restart.
func resetCursors(ctx context.Context, tx bun.Tx, ids map[string]bool) error {
	var refs []string
	if err := tx.NewRaw(`SELECT ref FROM search_cursors`).Scan(ctx, &refs); err != nil {
		return fmt.Errorf("search cursors: %w", err)
	}
	for _, ref := range refs {
		if ref != "" && ids[ref] {
			if _, err := tx.NewRaw(`UPDATE search_cursors SET ref = '' WHERE ref = ?`, ref).Exec(ctx); err != nil {
				return fmt.Errorf("search cursors: %w", err)
			}
		}
	}
	return nil
}
