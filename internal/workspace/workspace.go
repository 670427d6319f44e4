package workspace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// PlanTrial is the plan every workspace starts on. Other plan names belong
// to billing; this package only needs to know which one expires.
const PlanTrial = "trial"

// maxNameLen bounds workspace and API key names, in characters.
const maxNameLen = 100

// Workspace is one business (tenant).
type Workspace struct {
	ID          string     `bun:"id" json:"id"`
	Name        string     `bun:"name" json:"name"`
	Plan        string     `bun:"plan" json:"plan"`
	TrialEndsAt *time.Time `bun:"trial_ends_at" json:"trial_ends_at"`
	// TimeZone is an IANA time zone name ("Asia/Phnom_Penh"; DefaultTimeZone
	// until changed). Flows read business hours that name no zone in it.
	TimeZone  string    `bun:"time_zone" json:"time_zone"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at" json:"updated_at"`
	// DeletionRequestedAt is set while the workspace waits to be purged
	// (delete.go): the access layer then refuses it to everyone.
	DeletionRequestedAt *time.Time `bun:"deletion_requested_at" json:"deletion_requested_at,omitempty"`
	// PurgeAt is when the purge job deletes it, unless cancelled first.
	PurgeAt *time.Time `bun:"purge_at" json:"purge_at,omitempty"`
}

// Deleting reports whether the workspace's owner asked to delete it and it
// is waiting for the purge: nobody may reach it any more (promise P-33).
func (w *Workspace) Deleting() bool { return w.DeletionRequestedAt != nil }

// ReadOnly reports whether the workspace is on a trial that has ended at
// now. A read-only workspace keeps all its data and answers reads; the HTTP
// layer refuses its writes with 402 trial_expired (promise P-07).
func (w *Workspace) ReadOnly(now time.Time) bool {
	return w.Plan == PlanTrial && w.TrialEndsAt != nil && !now.Before(*w.TrialEndsAt)
}

// Membership is a workspace seen by one of its members.
type Membership struct {
	Workspace
	Role Role `bun:"role" json:"role"`
}

const workspaceCols = `id, name, plan, trial_ends_at, time_zone, created_at, updated_at, deletion_requested_at, purge_at`

// Create makes a workspace with a.UserID as its owner, on a trial of
// Options.TrialDays, in timeZone (an IANA name, see ParseTimeZone; ""
// means DefaultTimeZone), creates its data key and records
// workspace.create, all in one transaction.
func (s *Service) Create(ctx context.Context, a audit.Actor, name, timeZone string) (*Workspace, error) {
	name, err := validate.Name("name", name, maxNameLen, false)
	if err != nil {
		return nil, err
	}
	if timeZone == "" {
		timeZone = DefaultTimeZone
	}
	loc, err := ParseTimeZone(timeZone)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, errors.New("workspace: create: the actor must be a user")
	}
	now := s.now()
	ends := now.AddDate(0, 0, s.opt.TrialDays)
	w := &Workspace{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Plan: PlanTrial, TrialEndsAt: &ends, TimeZone: loc.String(), CreatedAt: now, UpdatedAt: now}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO workspaces (id, name, plan, trial_ends_at, time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.Name, w.Plan, w.TrialEndsAt, w.TimeZone, w.CreatedAt, w.UpdatedAt).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			w.ID, a.UserID, RoleOwner, now, now).Exec(ctx); err != nil {
			return err
		}
		if err := s.keys.CreateWorkspaceKey(ctx, tx, w.ID); err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		return audit.Record(ctx, tx, now, w.ID, a, ActionWorkspaceCreate, targetWorkspace, w.ID,
			map[string]any{"plan": w.Plan, "trial_ends_at": ends, "time_zone": w.TimeZone})
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: create: %w", err)
	}
	return w, nil
}

// ListForUser returns the workspaces userID belongs to, with their role,
// ordered by name.
func (s *Service) ListForUser(ctx context.Context, userID string) ([]Membership, error) {
	out := []Membership{}
	err := s.d.R.NewRaw(membershipSelect+` WHERE m.user_id = ? ORDER BY w.name, w.id`, userID).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("workspace: list for user: %w", err)
	}
	return out, nil
}

const membershipSelect = `SELECT w.id, w.name, w.plan, w.trial_ends_at, w.time_zone, w.created_at, w.updated_at, w.deletion_requested_at, w.purge_at, m.role
	FROM members m JOIN workspaces w ON w.id = m.workspace_id`

// Membership returns a workspace with userID's role in it, in one query
// (the access check of every dashboard and API request), or an error
// wrapping db.ErrNotFound when the user is not a member.
func (s *Service) Membership(ctx context.Context, workspaceID, userID string) (*Membership, error) {
	var m Membership
	err := s.d.R.NewRaw(membershipSelect+` WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID).Scan(ctx, &m)
	if err != nil {
		return nil, fmt.Errorf("workspace: membership: %w", db.NoRows(err))
	}
	return &m, nil
}

// Get returns one workspace, or an error wrapping db.ErrNotFound.
func (s *Service) Get(ctx context.Context, workspaceID string) (*Workspace, error) {
	w, err := getWorkspace(ctx, s.d.R, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("workspace: get: %w", err)
	}
	return w, nil
}

func getWorkspace(ctx context.Context, idb bun.IDB, workspaceID string) (*Workspace, error) {
	var w Workspace
	if err := idb.NewRaw(`SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, workspaceID).Scan(ctx, &w); err != nil {
		return nil, db.NoRows(err)
	}
	return &w, nil
}

// Changes are the settings Update changes; a nil field stays as it is.
type Changes struct {
	// Name is the new name (at most 100 characters).
	Name *string
	// TimeZone is the new IANA time zone (see ParseTimeZone).
	TimeZone *string
}

// Update changes a workspace's name, time zone or both. Every value is
// checked before anything is written, so a bad one changes nothing. What
// actually changes is recorded, in the same transaction, as
// workspace.rename and workspace.time_zone_change; setting a value the
// workspace already has writes nothing. A new time zone reaches this
// process's TimeZone at once. The HTTP layer allows it to admins and
// owners.
func (s *Service) Update(ctx context.Context, a audit.Actor, workspaceID string, c Changes) (*Workspace, error) {
	var name, zone string
	if c.Name != nil {
		var err error
		if name, err = validate.Name("name", *c.Name, maxNameLen, false); err != nil {
			return nil, err
		}
	}
	if c.TimeZone != nil {
		loc, err := ParseTimeZone(*c.TimeZone)
		if err != nil {
			return nil, err
		}
		zone = loc.String()
	}
	var w *Workspace
	var rezoned bool
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		old, err := getWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		renamed := c.Name != nil && name != old.Name
		rezoned = c.TimeZone != nil && zone != old.TimeZone
		if !renamed && !rezoned {
			w = old
			return nil
		}
		if !renamed {
			name = old.Name
		}
		if !rezoned {
			zone = old.TimeZone
		}
		now := s.now()
		if _, err := tx.NewRaw(`UPDATE workspaces SET name = ?, time_zone = ?, updated_at = ? WHERE id = ?`,
			name, zone, now, workspaceID).Exec(ctx); err != nil {
			return err
		}
		if renamed {
			// The name itself stays out of the log: it may be a person's name.
			if err := audit.Record(ctx, tx, now, workspaceID, a, ActionWorkspaceRename, targetWorkspace, workspaceID, nil); err != nil {
				return err
			}
		}
		if rezoned {
			if err := audit.Record(ctx, tx, now, workspaceID, a, ActionWorkspaceTimeZone, targetWorkspace, workspaceID,
				map[string]any{"from": old.TimeZone, "to": zone}); err != nil {
				return err
			}
		}
		w, err = getWorkspace(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: update: %w", err)
	}
	if rezoned {
		s.zones.forget(workspaceID)
	}
	return w, nil
}

// Rename changes a workspace's name: Update with only a name.
func (s *Service) Rename(ctx context.Context, a audit.Actor, workspaceID, name string) (*Workspace, error) {
	return s.Update(ctx, a, workspaceID, Changes{Name: &name})
}

// SetPlan moves a workspace to plan, with the trial ending at trialEndsAt
// (nil for none), and records workspace.plan_change. Billing and platform
// administrators call it; moving an expired trial to a paid plan makes the
// workspace writable again with all its data. plan is a lower-case name of
// at most 32 letters, digits, '-' or '_'.
func (s *Service) SetPlan(ctx context.Context, a audit.Actor, workspaceID, plan string, trialEndsAt *time.Time) (*Workspace, error) {
	if !validPlan(plan) {
		return nil, validate.Field("plan", "Use a plan name of lower-case letters, digits, '-' or '_'.")
	}
	if trialEndsAt != nil {
		t := trialEndsAt.UTC().Truncate(time.Microsecond)
		trialEndsAt = &t
	}
	var w *Workspace
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old, err := getWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.NewRaw(`UPDATE workspaces SET plan = ?, trial_ends_at = ?, updated_at = ? WHERE id = ?`,
			plan, trialEndsAt, now, workspaceID).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionWorkspacePlanChange, targetWorkspace, workspaceID,
			map[string]any{"from": old.Plan, "to": plan, "trial_ends_at": trialEndsAt}); err != nil {
			return err
		}
		w, err = getWorkspace(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: set plan: %w", err)
	}
	return w, nil
}

func validPlan(p string) bool {
	if p == "" || len(p) > 32 {
		return false
	}
	for _, c := range p {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
