package team

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

// Team is a group of members answering the same kind of conversation.
type Team struct {
	ID          string
	WorkspaceID string
	// Name is unique in the workspace ignoring letter case.
	Name        string
	Description string
	// AutoAssign: conversations routed to the team are assigned to its
	// members round-robin (see Store.Pick).
	AutoAssign bool
	// Members in the order they joined.
	Members   []Member
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is one member of a team.
type Member struct {
	UserID string
	// Role is their current role in the workspace. A member demoted to
	// viewer after joining stays listed (so an admin sees and removes
	// them) but is never picked.
	Role    workspace.Role
	AddedAt time.Time
}

// Input is what a person sets on a team.
type Input struct {
	Name        string
	Description string
	AutoAssign  bool
}

// check returns in as stored, with the name's uniqueness key, or a
// *validate.Error wrapped in ErrInvalid.
func (in Input) check() (Input, string, error) {
	name, err := validate.Name("name", in.Name, MaxName, false)
	if err != nil {
		return Input{}, "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	name = norm.NFC.String(name)
	desc, ok := cleanDescription(in.Description)
	switch {
	case !ok:
		return Input{}, "", fmt.Errorf("%w: %w", ErrInvalid, validate.Field("description", "The description is not valid text."))
	case utf8.RuneCountInString(desc) > MaxDescription:
		return Input{}, "", fmt.Errorf("%w: %w", ErrInvalid, validate.Field("description", fmt.Sprintf("Use at most %d characters.", MaxDescription)))
	}
	return Input{Name: name, Description: desc, AutoAssign: in.AutoAssign}, db.FoldKey(name), nil
}

// cleanDescription trims s and makes it NFC; ok is false for invalid
// UTF-8 or control characters other than line breaks and tabs.
func cleanDescription(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "", false
	}
	return norm.NFC.String(strings.TrimSpace(s)), true
}

const teamCols = `id, workspace_id, name, description, auto_assign, created_at, updated_at`

type teamRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	Name        string    `bun:"name"`
	Description string    `bun:"description"`
	AutoAssign  bool      `bun:"auto_assign"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r teamRow) team() Team {
	return Team{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Description: r.Description, AutoAssign: r.AutoAssign,
		Members: []Member{}, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type memberRow struct {
	TeamID    string         `bun:"team_id"`
	UserID    string         `bun:"user_id"`
	Role      workspace.Role `bun:"role"`
	CreatedAt time.Time      `bun:"created_at"`
}

// CreateTeam adds a team to the workspace, with no members, and records
// team.create. Bad input is ErrInvalid (with a *validate.Error), a name
// the workspace already has ErrNameTaken.
func (s *Store) CreateTeam(ctx context.Context, a audit.Actor, workspaceID string, in Input) (Team, error) {
	in, key, err := in.check()
	if err != nil {
		return Team{}, fmt.Errorf("team: create: %w", err)
	}
	now := s.clock()
	t := Team{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Name: in.Name, Description: in.Description,
		AutoAssign: in.AutoAssign, Members: []Member{}, CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// DO NOTHING rather than a failing insert, which would abort the
		// transaction on PostgreSQL before we could say why.
		err := db.OneRow(tx.NewRaw(`INSERT INTO teams (id, workspace_id, name, name_key, description, auto_assign, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, name_key) DO NOTHING`,
			t.ID, workspaceID, t.Name, key, t.Description, t.AutoAssign, now, now).Exec(ctx))
		if errors.Is(err, db.ErrNotFound) {
			return ErrNameTaken
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionCreate, targetTeam, t.ID, map[string]any{"auto_assign": t.AutoAssign})
	})
	if err != nil {
		return Team{}, fmt.Errorf("team: create: %w", err)
	}
	return t, nil
}

// UpdateTeam replaces the team's name, description and auto-assign flag
// and records team.update with the names of the fields that changed.
// Nothing changed records nothing. Errors as CreateTeam, and db.ErrNotFound
// for a team that is not the workspace's.
func (s *Store) UpdateTeam(ctx context.Context, a audit.Actor, workspaceID, teamID string, in Input) (Team, error) {
	in, key, err := in.check()
	if err != nil {
		return Team{}, fmt.Errorf("team: update: %w", err)
	}
	var out Team
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var cur teamRow
		if err := tx.NewRaw(`SELECT `+teamCols+` FROM teams WHERE workspace_id = ? AND id = ?`+s.forUpdate(), workspaceID, teamID).Scan(ctx, &cur); err != nil {
			return db.NoRows(err)
		}
		var changed []string
		if cur.Name != in.Name {
			changed = append(changed, "name")
		}
		if cur.Description != in.Description {
			changed = append(changed, "description")
		}
		if cur.AutoAssign != in.AutoAssign {
			changed = append(changed, "auto_assign")
		}
		out = cur.team()
		if len(changed) == 0 {
			return nil
		}
		var taken int
		if err := tx.NewRaw(`SELECT count(*) FROM teams WHERE workspace_id = ? AND name_key = ? AND id <> ?`, workspaceID, key, teamID).Scan(ctx, &taken); err != nil {
			return err
		}
		if taken > 0 {
			return ErrNameTaken
		}
		now := s.clock()
		_, err := tx.NewRaw(`UPDATE teams SET name = ?, name_key = ?, description = ?, auto_assign = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			in.Name, key, in.Description, in.AutoAssign, now, workspaceID, teamID).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return ErrNameTaken // a concurrent rename won the name
		}
		if err != nil {
			return err
		}
		out.Name, out.Description, out.AutoAssign, out.UpdatedAt = in.Name, in.Description, in.AutoAssign, now
		return audit.Record(ctx, tx, now, workspaceID, a, ActionUpdate, targetTeam, teamID, map[string]any{"changed": changed, "auto_assign": in.AutoAssign})
	})
	if err != nil {
		return Team{}, fmt.Errorf("team: update: %w", err)
	}
	members, err := s.members(ctx, s.d.R, workspaceID, teamID)
	if err != nil {
		return Team{}, fmt.Errorf("team: update: %w", err)
	}
	out.Members = members[teamID]
	if out.Members == nil {
		out.Members = []Member{}
	}
	return out, nil
}

// DeleteTeam removes the team and its memberships, runs
// Options.TeamDeleted in the same transaction, and records team.delete.
// A team that is not the workspace's is db.ErrNotFound.
func (s *Store) DeleteTeam(ctx context.Context, a audit.Actor, workspaceID, teamID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := db.OneRow(tx.NewRaw(`DELETE FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, teamID).Exec(ctx)); err != nil {
			return err
		}
		if s.opt.TeamDeleted != nil {
			if err := s.opt.TeamDeleted(ctx, tx, workspaceID, teamID); err != nil {
				return fmt.Errorf("unlink: %w", err)
			}
		}
		return audit.Record(ctx, tx, s.clock(), workspaceID, a, ActionDelete, targetTeam, teamID, nil)
	})
	if err != nil {
		return fmt.Errorf("team: delete: %w", err)
	}
	return nil
}

// AddMember puts workspace member userID in the team and records
// team.member_add; someone already in it changes nothing. A team or user
// that is not the workspace's is db.ErrNotFound; a viewer is ErrNotAgent.
func (s *Store) AddMember(ctx context.Context, a audit.Actor, workspaceID, teamID, userID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTeam(ctx, tx, s.forUpdate(), workspaceID, teamID); err != nil {
			return err
		}
		// FOR SHARE keeps a concurrent role change from slipping a viewer
		// in between this check and the insert (PostgreSQL; SQLite has one
		// writer).
		q := `SELECT role FROM members WHERE workspace_id = ? AND user_id = ?`
		if s.d.Dialect == db.Postgres {
			q += ` FOR SHARE`
		}
		var r workspace.Role
		if err := tx.NewRaw(q, workspaceID, userID).Scan(ctx, &r); err != nil {
			return db.NoRows(err)
		}
		if !canTake(r) {
			return ErrNotAgent
		}
		now := s.clock()
		err := db.OneRow(tx.NewRaw(`INSERT INTO team_members (workspace_id, team_id, user_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (team_id, user_id) DO NOTHING`, workspaceID, teamID, userID, now).Exec(ctx))
		if errors.Is(err, db.ErrNotFound) {
			return nil // already in the team
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionMemberAdd, targetTeam, teamID, map[string]any{"user_id": userID})
	})
	if err != nil {
		return fmt.Errorf("team: add member: %w", err)
	}
	return nil
}

// RemoveMember takes userID out of the team and records
// team.member_remove. A team that is not the workspace's, or a user not in
// it, is db.ErrNotFound.
func (s *Store) RemoveMember(ctx context.Context, a audit.Actor, workspaceID, teamID, userID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := db.OneRow(tx.NewRaw(`DELETE FROM team_members WHERE workspace_id = ? AND team_id = ? AND user_id = ?`,
			workspaceID, teamID, userID).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.clock(), workspaceID, a, ActionMemberRemove, targetTeam, teamID, map[string]any{"user_id": userID})
	})
	if err != nil {
		return fmt.Errorf("team: remove member: %w", err)
	}
	return nil
}

// lockTeam checks that the team is the workspace's (db.ErrNotFound
// otherwise) and, with lock set (" FOR UPDATE" or " FOR KEY SHARE"), holds
// its row until the transaction ends, so a concurrent delete waits.
func lockTeam(ctx context.Context, tx bun.IDB, lock, workspaceID, teamID string) error {
	var id string
	if err := tx.NewRaw(`SELECT id FROM teams WHERE workspace_id = ? AND id = ?`+lock, workspaceID, teamID).Scan(ctx, &id); err != nil {
		return db.NoRows(err)
	}
	return nil
}

// Teams lists the workspace's teams by name, each with its members.
func (s *Store) Teams(ctx context.Context, workspaceID string) ([]Team, error) {
	var rows []teamRow
	if err := s.d.R.NewRaw(`SELECT `+teamCols+` FROM teams WHERE workspace_id = ? ORDER BY name_key, id`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("team: list: %w", err)
	}
	members, err := s.members(ctx, s.d.R, workspaceID, "")
	if err != nil {
		return nil, fmt.Errorf("team: list: %w", err)
	}
	out := make([]Team, 0, len(rows))
	for _, r := range rows {
		t := r.team()
		if m := members[r.ID]; m != nil {
			t.Members = m
		}
		out = append(out, t)
	}
	return out, nil
}

// Team returns one of the workspace's teams with its members; another
// workspace's team is db.ErrNotFound.
func (s *Store) Team(ctx context.Context, workspaceID, teamID string) (Team, error) {
	var r teamRow
	if err := s.d.R.NewRaw(`SELECT `+teamCols+` FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, teamID).Scan(ctx, &r); err != nil {
		return Team{}, fmt.Errorf("team: get: %w", db.NoRows(err))
	}
	members, err := s.members(ctx, s.d.R, workspaceID, teamID)
	if err != nil {
		return Team{}, fmt.Errorf("team: get: %w", err)
	}
	t := r.team()
	if m := members[teamID]; m != nil {
		t.Members = m
	}
	return t, nil
}

// TeamsOf lists the IDs of the workspace's teams userID is in (the inbox's
// "my teams" filter), through idb so it can run in a transaction.
func (s *Store) TeamsOf(ctx context.Context, idb bun.IDB, workspaceID, userID string) ([]string, error) {
	out := []string{}
	if err := idb.NewRaw(`SELECT team_id FROM team_members WHERE workspace_id = ? AND user_id = ? ORDER BY team_id`,
		workspaceID, userID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("team: teams of member: %w", err)
	}
	return out, nil
}

// members returns the members of one team (teamID) or of every team
// ("") of the workspace, by team ID, in the order they joined.
func (s *Store) members(ctx context.Context, idb bun.IDB, workspaceID, teamID string) (map[string][]Member, error) {
	q := `SELECT tm.team_id, tm.user_id, m.role, tm.created_at
		FROM team_members tm JOIN members m ON m.workspace_id = tm.workspace_id AND m.user_id = tm.user_id
		WHERE tm.workspace_id = ?`
	args := []any{workspaceID}
	if teamID != "" {
		q += ` AND tm.team_id = ?`
		args = append(args, teamID)
	}
	var rows []memberRow
	if err := idb.NewRaw(q+` ORDER BY tm.created_at, tm.user_id`, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	out := map[string][]Member{}
	for _, r := range rows {
		out[r.TeamID] = append(out[r.TeamID], Member{UserID: r.UserID, Role: r.Role, AddedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}
