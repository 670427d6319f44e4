package team

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Pick chooses the member to assign a conversation of teamID ("" = the
// whole workspace's owners, admins and agents) inside the caller's
// transaction: round-robin among members who are online (status online
// and seen within OnlineWindow) and whose open load is below their
// capacity, the one picked longest ago first (never-picked members
// first, then by user ID so the order is deterministic). The chosen
// member's last pick is recorded in tx, so the caller must commit or roll
// back with its assignment. It answers "" and nil when nobody can take the
// conversation now, and db.ErrNotFound when teamID is not the workspace's.
//
// Two transactions picking in one workspace take turns: Pick locks the
// workspace's team_settings row (FOR UPDATE on PostgreSQL; SQLite has a
// single writer) until tx ends, and then counts loads with a fresh
// snapshot, so it sees the assignment the other transaction committed and
// neither can push a member past capacity. That holds for callers that
// assign in the same transaction as they pick, at READ COMMITTED (db.Tx's
// level). Assigning by hand takes no lock and may exceed capacity on
// purpose.
func (s *Store) Pick(ctx context.Context, tx bun.Tx, workspaceID, teamID string) (string, error) {
	id, err := s.pick(ctx, tx, workspaceID, teamID)
	if err != nil {
		return "", fmt.Errorf("team: pick: %w", err)
	}
	return id, nil
}

func (s *Store) pick(ctx context.Context, tx bun.Tx, workspaceID, teamID string) (string, error) {
	if teamID != "" {
		// The settings lock below is what serialises picks; this only
		// stops a concurrent delete. A key-share lock, the same one Has
		// takes, so an inbox transaction that called Has and then Pick
		// never has to upgrade its lock on the team row (two such
		// transactions upgrading would deadlock). See the package doc.
		if err := lockTeam(ctx, tx, s.keyShare(), workspaceID, teamID); err != nil {
			return "", err
		}
	}
	defaultCap, seq, err := s.lockSettings(ctx, tx, workspaceID)
	if err != nil {
		return "", err
	}
	now := s.clock()
	q := `SELECT m.user_id FROM members m
		JOIN agent_availability a ON a.workspace_id = m.workspace_id AND a.user_id = m.user_id`
	args := []any{}
	if teamID != "" {
		q += ` JOIN team_members tm ON tm.workspace_id = m.workspace_id AND tm.user_id = m.user_id AND tm.team_id = ?`
		args = append(args, teamID)
	}
	q += ` WHERE m.workspace_id = ? AND m.role IN (?) AND a.status = ? AND a.last_seen_at >= ?
			AND ` + loadSQL + ` < COALESCE(a.capacity, ?)
		ORDER BY a.assign_seq, m.user_id
		LIMIT 1`
	args = append(args, workspaceID, bun.List(assignable()), StatusOnline, now.Add(-OnlineWindow), defaultCap)
	var userID string
	if err := tx.NewRaw(q, args...).Scan(ctx, &userID); err != nil {
		if isNoRows(err) {
			return "", nil
		}
		return "", fmt.Errorf("candidates: %w", err)
	}
	seq++
	if _, err := tx.NewRaw(`UPDATE team_settings SET assign_seq = ? WHERE workspace_id = ?`, seq, workspaceID).Exec(ctx); err != nil {
		return "", fmt.Errorf("count pick: %w", err)
	}
	if err := db.OneRow(tx.NewRaw(`UPDATE agent_availability SET last_assigned_at = ?, assign_seq = ? WHERE workspace_id = ? AND user_id = ?`,
		now, seq, workspaceID, userID).Exec(ctx)); err != nil {
		return "", fmt.Errorf("record pick: %w", err)
	}
	return userID, nil
}

// lockSettings returns the workspace's default capacity and pick counter,
// creating its settings row on first use, and holds the row until tx ends
// (the lock that serialises picks; see Pick).
func (s *Store) lockSettings(ctx context.Context, tx bun.Tx, workspaceID string) (defaultCap int, seq int64, err error) {
	sel := `SELECT default_capacity, assign_seq FROM team_settings WHERE workspace_id = ?` + s.forUpdate()
	err = tx.NewRaw(sel, workspaceID).Scan(ctx, &defaultCap, &seq)
	if err == nil {
		return defaultCap, seq, nil
	}
	if !isNoRows(err) {
		return 0, 0, fmt.Errorf("settings: %w", err)
	}
	// First pick in this workspace: create the row. DO NOTHING lets a
	// concurrent first pick win the insert; both then lock the same row.
	if _, err := tx.NewRaw(`INSERT INTO team_settings (workspace_id, updated_at) VALUES (?, ?) ON CONFLICT (workspace_id) DO NOTHING`,
		workspaceID, s.clock()).Exec(ctx); err != nil {
		return 0, 0, fmt.Errorf("settings: %w", err)
	}
	if err := tx.NewRaw(sel, workspaceID).Scan(ctx, &defaultCap, &seq); err != nil {
		return 0, 0, fmt.Errorf("settings: %w", err)
	}
	return defaultCap, seq, nil
}

// Has reports whether teamID is one of the workspace's teams, through idb
// (the inbox checks a team it routes a conversation to inside its
// transaction). Another workspace's team is false.
//
// Given a transaction (a bun.Tx) on PostgreSQL, Has also holds a
// key-share lock on the team's row until that transaction ends, so a
// concurrent DeleteTeam waits for it: without the lock, a conversation
// routed to the team could commit after DeleteTeam's Options.TeamDeleted
// cleared the team's conversations, and point at a deleted team. (SQLite
// has one writer, which is lock enough.) The lock is the one Pick takes on
// the team, taken before Pick's lock on the workspace's settings; see the
// package doc for the order.
func (s *Store) Has(ctx context.Context, idb bun.IDB, workspaceID, teamID string) (bool, error) {
	lock := ""
	if _, ok := idb.(bun.Tx); ok {
		lock = s.keyShare()
	}
	err := lockTeam(ctx, idb, lock, workspaceID, teamID)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("team: has: %w", err)
	}
	return true, nil
}

// AutoAssign reports whether a conversation routed to teamID ("" = no
// team, the workspace's setting) should be assigned automatically with
// Pick, through idb so the inbox can ask inside its transaction. A team
// that is not the workspace's is db.ErrNotFound.
func (s *Store) AutoAssign(ctx context.Context, idb bun.IDB, workspaceID, teamID string) (bool, error) {
	if teamID == "" {
		set, err := s.Settings(ctx, idb, workspaceID)
		if err != nil {
			return false, fmt.Errorf("team: auto assign: %w", err)
		}
		return set.AutoAssign, nil
	}
	var on bool
	if err := idb.NewRaw(`SELECT auto_assign FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, teamID).Scan(ctx, &on); err != nil {
		return false, fmt.Errorf("team: auto assign: %w", db.NoRows(err))
	}
	return on, nil
}
