package team

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// Settings are a workspace's assignment settings.
type Settings struct {
	// DefaultCapacity is how many open and pending conversations a member
	// may have assigned before Pick passes them over, unless they have a
	// capacity of their own (SetCapacity). 0 means nobody is picked.
	DefaultCapacity int
	// AutoAssign: new conversations that no team takes are assigned
	// round-robin among the whole workspace's members.
	AutoAssign bool
}

// loadSQL counts a member's open load: their conversations that still
// need an answer. It reads package inbox's conversations table (read only)
// through the conversations_assignee_load index of migration 00019, so it
// costs as much as the member's load, not the workspace's conversations.
// It expects m to be the members row.
const loadSQL = `(SELECT count(*) FROM conversations c
	WHERE c.workspace_id = m.workspace_id AND c.assignee_id = m.user_id AND c.status IN ('open','pending'))`

// Settings returns the workspace's assignment settings (the defaults when
// none were saved), through idb so the inbox can read AutoAssign inside
// its transaction.
func (s *Store) Settings(ctx context.Context, idb bun.IDB, workspaceID string) (Settings, error) {
	out := Settings{DefaultCapacity: DefaultCapacity}
	err := idb.NewRaw(`SELECT default_capacity, auto_assign FROM team_settings WHERE workspace_id = ?`, workspaceID).
		Scan(ctx, &out.DefaultCapacity, &out.AutoAssign)
	if err != nil && !isNoRows(err) {
		return Settings{}, fmt.Errorf("team: settings: %w", err)
	}
	return out, nil
}

// SetSettings saves the workspace's assignment settings and records
// team.settings. A capacity outside 0…MaxCapacity is ErrInvalid.
func (s *Store) SetSettings(ctx context.Context, a audit.Actor, workspaceID string, in Settings) error {
	if err := checkCapacity("default_capacity", in.DefaultCapacity); err != nil {
		return fmt.Errorf("team: set settings: %w", err)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.clock()
		if _, err := tx.NewRaw(`INSERT INTO team_settings (workspace_id, default_capacity, auto_assign, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET default_capacity = excluded.default_capacity,
				auto_assign = excluded.auto_assign, updated_at = excluded.updated_at`,
			workspaceID, in.DefaultCapacity, in.AutoAssign, now).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionSettings, targetWorkspace, workspaceID,
			map[string]any{"default_capacity": in.DefaultCapacity, "auto_assign": in.AutoAssign})
	})
	if err != nil {
		return fmt.Errorf("team: set settings: %w", err)
	}
	return nil
}

func checkCapacity(field string, n int) error {
	if n < 0 || n > MaxCapacity {
		return fmt.Errorf("%w: %w", ErrInvalid, validate.Field(field, fmt.Sprintf("Use a number from 0 to %d.", MaxCapacity)))
	}
	return nil
}

// SetAvailability sets the status member userID chose and records
// agent.availability with the old and new status; the same status again
// changes and records nothing. Going online also counts as being seen, as
// the member is at the dashboard. An unknown status is ErrInvalid, a user
// who is not the workspace's member db.ErrNotFound, a viewer ErrNotAgent.
// Who may set whose status is the HTTP layer's rule (a member their own,
// an admin anyone's).
func (s *Store) SetAvailability(ctx context.Context, a audit.Actor, workspaceID, userID string, status Status) error {
	if !status.Valid() {
		return fmt.Errorf("team: set availability: %w: %w", ErrInvalid, validate.Field("status", "Choose online, busy or offline."))
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := takerRole(ctx, tx, workspaceID, userID); err != nil {
			return err
		}
		cur := StatusOnline // the column default, for a member with no row yet
		err := tx.NewRaw(`SELECT status FROM agent_availability WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(ctx, &cur)
		if err != nil && !isNoRows(err) {
			return err
		}
		now := s.clock()
		var seen *time.Time
		if status == StatusOnline {
			seen = &now
		}
		if _, err := tx.NewRaw(`INSERT INTO agent_availability (workspace_id, user_id, status, last_seen_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO UPDATE SET status = excluded.status,
				last_seen_at = COALESCE(excluded.last_seen_at, agent_availability.last_seen_at), updated_at = excluded.updated_at`,
			workspaceID, userID, status, seen, now).Exec(ctx); err != nil {
			return err
		}
		if cur == status {
			return nil
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionAvailability, targetUser, userID, map[string]any{"from": cur, "to": status})
	})
	if err != nil {
		return fmt.Errorf("team: set availability: %w", err)
	}
	return nil
}

// SetCapacity gives member userID a capacity of their own, or with nil
// returns them to the workspace default, and records agent.capacity.
// Errors as SetAvailability; a capacity outside 0…MaxCapacity is
// ErrInvalid.
func (s *Store) SetCapacity(ctx context.Context, a audit.Actor, workspaceID, userID string, capacity *int) error {
	if capacity != nil {
		if err := checkCapacity("capacity", *capacity); err != nil {
			return fmt.Errorf("team: set capacity: %w", err)
		}
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := takerRole(ctx, tx, workspaceID, userID); err != nil {
			return err
		}
		now := s.clock()
		if _, err := tx.NewRaw(`INSERT INTO agent_availability (workspace_id, user_id, capacity, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO UPDATE SET capacity = excluded.capacity, updated_at = excluded.updated_at`,
			workspaceID, userID, capacity, now).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionCapacity, targetUser, userID, map[string]any{"capacity": capacity})
	})
	if err != nil {
		return fmt.Errorf("team: set capacity: %w", err)
	}
	return nil
}

// Seen records that member userID's dashboard is connected now. The
// dashboard's live connection calls it on connect and at least every
// SeenEvery after; it writes at most once per SeenEvery per member: a
// read on the reader pool answers most calls, and the write itself is
// conditional on the row's last_seen_at, so concurrent calls (several
// tabs, several replicas) cannot write more often. Calls for viewers and
// for users who are not members write nothing and are not errors (the
// caller has already authorised the connection).
func (s *Store) Seen(ctx context.Context, workspaceID, userID string) error {
	now := s.clock()
	stale := now.Add(-SeenEvery)
	var last *time.Time
	err := s.d.R.NewRaw(`SELECT last_seen_at FROM agent_availability WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(ctx, &last)
	switch {
	case err == nil && last != nil && last.After(stale):
		return nil
	case err != nil && !isNoRows(err):
		return fmt.Errorf("team: seen: %w", err)
	}
	// INSERT … SELECT from members so that only an owner, admin or agent of
	// the workspace gets a row; the SELECT's WHERE also settles SQLite's
	// parsing ambiguity of INSERT … SELECT … ON CONFLICT.
	_, err = s.d.W.NewRaw(`INSERT INTO agent_availability (workspace_id, user_id, last_seen_at, updated_at)
		SELECT workspace_id, user_id, ?, ? FROM members WHERE workspace_id = ? AND user_id = ? AND role IN (?)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
		WHERE agent_availability.last_seen_at IS NULL OR agent_availability.last_seen_at <= ?`,
		now, now, workspaceID, userID, bun.List(assignable()), stale).Exec(ctx)
	if err != nil {
		return fmt.Errorf("team: seen: %w", err)
	}
	return nil
}

// Agent is one member's availability and load, for the dashboard.
type Agent struct {
	UserID string
	Role   workspace.Role
	// Status is what they chose (online for a member who never chose).
	Status Status
	// Online: Status is online and their dashboard was seen within
	// OnlineWindow. Only online members are picked.
	Online bool
	// Load is their open and pending assigned conversations.
	Load int
	// Capacity is the one that applies: their own, or the workspace's
	// default. Pick passes them over while Load >= Capacity.
	Capacity int
	// OwnCapacity is their own capacity, nil when the default applies.
	OwnCapacity    *int
	LastSeenAt     time.Time // zero: never
	LastAssignedAt time.Time // zero: never picked
}

// Load lists the workspace's owners, admins and agents in the order they
// joined, with their availability and load.
func (s *Store) Load(ctx context.Context, workspaceID string) ([]Agent, error) {
	set, err := s.Settings(ctx, s.d.R, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("team: load: %w", err)
	}
	var rows []struct {
		UserID         string         `bun:"user_id"`
		Role           workspace.Role `bun:"role"`
		Status         Status         `bun:"status"`
		Capacity       *int           `bun:"capacity"`
		LastSeenAt     *time.Time     `bun:"last_seen_at"`
		LastAssignedAt *time.Time     `bun:"last_assigned_at"`
		Load           int            `bun:"open_load"`
	}
	err = s.d.R.NewRaw(`SELECT m.user_id, m.role, COALESCE(a.status, 'online') AS status, a.capacity, a.last_seen_at, a.last_assigned_at,
			`+loadSQL+` AS open_load
		FROM members m LEFT JOIN agent_availability a ON a.workspace_id = m.workspace_id AND a.user_id = m.user_id
		WHERE m.workspace_id = ? AND m.role IN (?)
		ORDER BY m.created_at, m.user_id`, workspaceID, bun.List(assignable())).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("team: load: %w", err)
	}
	cutoff := s.clock().Add(-OnlineWindow)
	out := make([]Agent, 0, len(rows))
	for _, r := range rows {
		ag := Agent{UserID: r.UserID, Role: r.Role, Status: r.Status, Load: r.Load, Capacity: set.DefaultCapacity,
			OwnCapacity: r.Capacity, LastSeenAt: utc(r.LastSeenAt), LastAssignedAt: utc(r.LastAssignedAt)}
		if r.Capacity != nil {
			ag.Capacity = *r.Capacity
		}
		ag.Online = r.Status == StatusOnline && r.LastSeenAt != nil && !r.LastSeenAt.Before(cutoff)
		out = append(out, ag)
	}
	return out, nil
}
