package team

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/workspace"
)

// Limits on what people type, in characters.
const (
	MaxName        = 50
	MaxDescription = 500
	// MaxCapacity bounds a capacity (per member or workspace default):
	// far above what one person can answer, low enough to catch typos.
	MaxCapacity = 1000
	// DefaultCapacity is a new workspace's default capacity (the column
	// default of team_settings.default_capacity).
	DefaultCapacity = 10
)

// Presence timing. The dashboard's live connection calls Seen on connect
// and then at least every SeenEvery; a member whose last call is older
// than OnlineWindow is taken as gone (closed tab, lost network) even if
// their status still says online. The window is four beats, so one or
// two missed calls on a bad connection do not take anyone offline.
const (
	// SeenEvery is how often Seen writes a member's last_seen_at at most.
	SeenEvery = 30 * time.Second
	// OnlineWindow is how recent last_seen_at must be for a member whose
	// status is online to count as online.
	OnlineWindow = 2 * time.Minute
)

// Audit actions (target type "team" or "user"). Details hold IDs and
// states only, never names or descriptions.
const (
	ActionCreate       = "team.create"
	ActionUpdate       = "team.update"
	ActionDelete       = "team.delete"
	ActionMemberAdd    = "team.member_add"
	ActionMemberRemove = "team.member_remove"
	ActionAvailability = "agent.availability"
	ActionCapacity     = "agent.capacity"
	ActionSettings     = "team.settings"
	targetTeam         = "team"
	targetUser         = "user"
	targetWorkspace    = "workspace"
)

var (
	// ErrInvalid is wrapped by every error about bad input; field-level
	// problems also carry a *validate.Error (see validate.As).
	ErrInvalid = errors.New("team: invalid input")
	// ErrNotAgent: the member is a viewer, who reads only and so can
	// neither join a team nor take conversations. Wraps ErrInvalid.
	ErrNotAgent = fmt.Errorf("%w: viewers cannot take conversations", ErrInvalid)
	// ErrNameTaken: the workspace already has a team of that name,
	// ignoring letter case. Wraps db.ErrConflict.
	ErrNameTaken = fmt.Errorf("a team with this name already exists: %w", db.ErrConflict)
)

// Status is what a member chose: whether they want conversations now.
type Status string

// The statuses. A member who never chose one is StatusOnline (the column
// default), so assignment works as soon as their dashboard is open;
// choosing busy or offline stops new conversations.
const (
	StatusOnline  Status = "online"
	StatusBusy    Status = "busy"
	StatusOffline Status = "offline"
)

// Valid reports whether s is one of the three statuses.
func (s Status) Valid() bool {
	return s == StatusOnline || s == StatusBusy || s == StatusOffline
}

// assignable lists the roles that may join teams and take conversations:
// everyone who may write in the inbox. Viewers read only.
func assignable() []string {
	return []string{string(workspace.RoleOwner), string(workspace.RoleAdmin), string(workspace.RoleAgent)}
}

// canTake reports whether a member of role r may be in a team and be
// assigned conversations.
func canTake(r workspace.Role) bool { return r.AtLeast(workspace.RoleAgent) }

// Options tune a Store. The zero value is fine.
type Options struct {
	// TeamDeleted, when set, runs inside DeleteTeam's transaction after
	// the team's rows are gone, so the owner of rows that name the team
	// (package inbox: conversations.team_id) can clear them atomically.
	// team must not import inbox, hence the hook; app wires it.
	TeamDeleted func(ctx context.Context, tx bun.Tx, workspaceID, teamID string) error
}

// Store keeps teams, availability and assignment settings, and picks
// assignees.
type Store struct {
	d   *db.DB
	now func() time.Time
	opt Options
}

// NewStore returns a Store on d; now is the clock.
func NewStore(d *db.DB, now func() time.Time, opt Options) *Store {
	return &Store{d: d, now: now, opt: opt}
}

// clock returns the current time in UTC at the microsecond, the
// precision both engines keep, so that a value read back equals the value
// written.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// forUpdate is the row-lock suffix on PostgreSQL; SQLite has one writer,
// which is lock enough.
func (s *Store) forUpdate() string {
	if s.d.Dialect == db.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// keyShare is the row-lock suffix that keeps a row from being deleted
// (or its key changed) until the transaction ends without blocking other
// readers or key sharers, on PostgreSQL; SQLite has one writer.
func (s *Store) keyShare() string {
	if s.d.Dialect == db.Postgres {
		return " FOR KEY SHARE"
	}
	return ""
}

// memberRole reads userID's role in the workspace through idb; not a
// member is db.ErrNotFound.
func memberRole(ctx context.Context, idb bun.IDB, workspaceID, userID string) (workspace.Role, error) {
	var r workspace.Role
	if err := idb.NewRaw(`SELECT role FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(ctx, &r); err != nil {
		return "", db.NoRows(err)
	}
	return r, nil
}

// takerRole is memberRole refusing viewers with ErrNotAgent.
func takerRole(ctx context.Context, idb bun.IDB, workspaceID, userID string) (workspace.Role, error) {
	r, err := memberRole(ctx, idb, workspaceID, userID)
	if err != nil {
		return "", err
	}
	if !canTake(r) {
		return "", ErrNotAgent
	}
	return r, nil
}

// isNoRows reports whether err is "no row" (sql.ErrNoRows).
func isNoRows(err error) bool { return errors.Is(db.NoRows(err), db.ErrNotFound) }

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
