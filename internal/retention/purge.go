package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// platformPurge deletes a batch of one class's rows that belong to no
// workspace.
type platformPurge struct {
	class Class
	table string
	purge func(ctx context.Context, before time.Time, limit int) (int, error)
}

// workspacePurge deletes a batch of one class's rows of a workspace.
type workspacePurge struct {
	table string
	purge func(ctx context.Context, workspaceID string, before time.Time, limit int) (int, error)
}

// platformPurges are the rows no workspace owns, at the platform's periods.
func (s *Service) platformPurges() []platformPurge {
	return []platformPurge{
		// Raw bodies as received: processed ones are already gone, so
		// these are the quarantined ones. Pending ones are events Meta was
		// told are safe (acknowledged) and still to be applied, however
		// long a pause (the kill switch) holds them: never deleted here.
		{ClassRawPayloads, "webhook_deliveries", s.deleter(`DELETE FROM webhook_deliveries WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE state = 'quarantined' AND received_at < ? ORDER BY received_at, id LIMIT ?)`)},
		{ClassOperational, "unknown_accounts", s.deleter(`DELETE FROM unknown_accounts WHERE (object, external_id) IN (
			SELECT object, external_id FROM unknown_accounts WHERE last_seen_at < ? ORDER BY last_seen_at LIMIT ?)`)},
		// Dead jobs: their payloads may name people; updated_at is when
		// they died.
		{ClassOperational, "jobs", s.deleter(`DELETE FROM jobs WHERE id IN (
			SELECT id FROM jobs WHERE state = 'dead' AND updated_at < ? ORDER BY id LIMIT ?)`)},
		// Sign-in sessions that ended (revoked, or expired) long ago.
		{ClassOperational, "sessions", s.deleter(`DELETE FROM sessions WHERE id IN (
			SELECT id FROM sessions WHERE COALESCE(revoked_at, expires_at) < ? ORDER BY id LIMIT ?)`)},
		// Platform entries, and those of workspaces deleted and purged:
		// the run visits only live workspaces, so without this theirs
		// would be kept for ever. The database's trigger still refuses
		// any entry younger than a year.
		{ClassAuditLog, "audit_log", s.deleter(`DELETE FROM audit_log WHERE id IN (
			SELECT a.id FROM audit_log a
			WHERE (a.workspace_id IS NULL OR NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = a.workspace_id))
			AND a.created_at < ? ORDER BY a.created_at, a.id LIMIT ?)`)},
	}
}

// workspacePurges are this package's own purges of a workspace's rows, by
// class.
func (s *Service) workspacePurges() map[Class][]workspacePurge {
	return map[Class][]workspacePurge{
		ClassMessages: {{"messages", s.purgeMessages}},
		ClassOperational: {
			{"flow_errors", s.wsDeleter(`DELETE FROM flow_errors WHERE id IN (
				SELECT id FROM flow_errors WHERE workspace_id = ? AND at < ? ORDER BY at, id LIMIT ?)`)},
			// Finished imports with their reports of refused rows (which
			// cascade); running ones are left to finish.
			{"contact_imports", s.wsDeleter(`DELETE FROM contact_imports WHERE id IN (
				SELECT id FROM contact_imports WHERE workspace_id = ? AND state IN ('done','failed') AND finished_at < ? ORDER BY finished_at, id LIMIT ?)`)},
			// Invitations accepted, revoked or expired: they hold the
			// invitee's e-mail address.
			{"invitations", s.wsDeleter(`DELETE FROM invitations WHERE id IN (
				SELECT id FROM invitations WHERE workspace_id = ? AND COALESCE(accepted_at, revoked_at, expires_at) < ? ORDER BY id LIMIT ?)`)},
			{"channel_logins", s.wsDeleter(`DELETE FROM channel_logins WHERE id IN (
				SELECT id FROM channel_logins WHERE workspace_id = ? AND created_at < ? ORDER BY created_at, id LIMIT ?)`)},
			{"inbound_keys", s.wsDeleter(`DELETE FROM inbound_keys WHERE (channel_id, key) IN (
				SELECT k.channel_id, k.key FROM inbound_keys k JOIN channels c ON c.id = k.channel_id
				WHERE c.workspace_id = ? AND k.created_at < ? ORDER BY k.created_at LIMIT ?)`)},
		},
		ClassAuditLog: {{"audit_log", s.wsDeleter(`DELETE FROM audit_log WHERE id IN (
			SELECT id FROM audit_log WHERE workspace_id = ? AND created_at < ? ORDER BY created_at, id LIMIT ?)`)}},
	}
}

// deleter runs a platform delete taking (before, limit) in a transaction
// of its own.
func (s *Service) deleter(q string) func(ctx context.Context, before time.Time, limit int) (int, error) {
	return func(ctx context.Context, before time.Time, limit int) (int, error) {
		return s.exec(ctx, q, before, limit)
	}
}

// wsDeleter runs a workspace delete taking (workspace, before, limit).
func (s *Service) wsDeleter(q string) func(ctx context.Context, ws string, before time.Time, limit int) (int, error) {
	return func(ctx context.Context, ws string, before time.Time, limit int) (int, error) {
		return s.exec(ctx, q, ws, before, limit)
	}
}

func (s *Service) exec(ctx context.Context, q string, args ...any) (int, error) {
	res, err := s.d.W.NewRaw(q, args...).Exec(ctx)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// purgeMessages deletes a batch of the workspace's expired messages,
// oldest first, with their derived copies: search documents and postings
// go by cascade, and the registered hooks (search, media) run first in the
// same transaction. Messages still queued or being sent stay (they are
// work in progress), and so do those of contacts under a legal hold.
func (s *Service) purgeMessages(ctx context.Context, ws string, before time.Time, limit int) (int, error) {
	hooks := s.messageHooks()
	var n int
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ids []string
		if err := tx.NewRaw(`SELECT m.id FROM messages m WHERE m.workspace_id = ? AND m.created_at < ?
			AND m.status NOT IN ('queued','sending') AND `+NotHeld("m.workspace_id", "m.contact_id")+`
			ORDER BY m.created_at, m.id LIMIT ?`, ws, before, limit).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("expired messages: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		for _, h := range hooks {
			if err := h.h(ctx, tx, ws, ids); err != nil {
				return fmt.Errorf("message hook %s: %w", h.name, err)
			}
		}
		args := []any{ws}
		for _, id := range ids {
			args = append(args, id)
		}
		res, err := tx.NewRaw(`DELETE FROM messages WHERE workspace_id = ? AND id IN (`+db.Placeholders(len(ids))+`)`, args...).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete messages: %w", err)
		}
		m, err := res.RowsAffected()
		n = int(m)
		return err
	})
	return n, err
}
