package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// Workspace deletion (promise P-33, security.md §3.O O-5, O-6).
//
// An owner asks, re-entering their password and typing the workspace's
// name. From that moment the workspace is gone for everyone: the access
// layer refuses it on every page and API route (Workspace.Deleting), its
// channels are unsubscribed from the app and their tokens destroyed, so
// webhooks for its pages are dropped as for any unknown page. Its rows stay
// until PurgeAt (DeleteOptions.PurgeAfter, 7 days by default, at most 30),
// during which an owner may cancel and get everything back (channels apart:
// their tokens are gone, so they must be connected again).
//
// At PurgeAt a durable job purges it: the first step, in one transaction,
// destroys the workspace's keys (so every sealed value of it in this
// database is unreadable from then on) and records a workspace tombstone
// (replayed when a backup is restored, which destroys the keys the backup
// brought back); then every row
// of every table with a workspace_id column is deleted in bounded batches,
// each its own short transaction, children before parents; then the queued
// jobs that name the workspace and what it keeps outside the database (its
// media files, DeleterDeps.AfterRows); last the workspaces row itself. The
// purge is idempotent and resumes where it stopped. What is kept: audit log
// entries (append-only for 12 months, actors pseudonymous IDs) and the
// tables named in DeleteOptions.Retained (the tombstone log).

// Deletion settings.
const (
	// DefaultPurgeAfter is the grace period between the request and the
	// purge.
	DefaultPurgeAfter = 7 * 24 * time.Hour
	// MaxPurgeAfter caps the grace period: P-33 promises everything is gone
	// within 30 days.
	MaxPurgeAfter = 30 * 24 * time.Hour
	// DefaultPurgeBatch is how many rows one purge transaction deletes from
	// one table: small enough that the SQLite writer is never held long.
	DefaultPurgeBatch = 500
	// PurgeJobKind is the kind of the durable purge job.
	PurgeJobKind = "workspace.purge"
)

// Audit actions of deletion.
const (
	ActionWorkspaceDeleteRequest = "workspace.delete_request" // (workspace)
	ActionWorkspaceDeleteCancel  = "workspace.delete_cancel"  // (workspace)
	ActionWorkspacePurgeStart    = "workspace.purge_start"    // (workspace)
	ActionWorkspacePurged        = "workspace.purged"         // (workspace)
)

// Errors of deletion.
var (
	// ErrDeleting: the workspace is already waiting to be purged. Wraps
	// db.ErrConflict (409).
	ErrDeleting = fmt.Errorf("workspace is already being deleted: %w", db.ErrConflict)
	// ErrNotDeleting: there is no deletion to cancel. Wraps db.ErrConflict.
	ErrNotDeleting = fmt.Errorf("workspace is not being deleted: %w", db.ErrConflict)
	// ErrPurgeStarted: the grace period is over; the workspace can no longer
	// be restored. Wraps db.ErrConflict.
	ErrPurgeStarted = fmt.Errorf("the grace period is over and the workspace is being purged: %w", db.ErrConflict)
	// ErrPurgeNotDue: Purge was called before PurgeAt.
	ErrPurgeNotDue = errors.New("workspace purge is not due yet")
)

// PasswordVerifier checks a signed-in user's password again before a
// destructive action (account.Service). A wrong password is an error the
// caller recognises (account.ErrInvalidCredentials).
type PasswordVerifier interface {
	VerifyPassword(ctx context.Context, userID, password string) error
}

// KeyDestroyer destroys the workspace's data keys (keyring.Keyring).
type KeyDestroyer interface {
	DestroyWorkspaceKeys(ctx context.Context, idb bun.IDB, workspaceID string) error
}

// TombstoneRecorder records that a workspace was erased, so that restoring
// a backup erases it again (erasure.Service).
type TombstoneRecorder interface {
	RecordWorkspace(ctx context.Context, idb bun.IDB, workspaceID string) error
}

// DeleterDeps are what deletion needs from packages above or beside this
// one, wired by app.
type DeleterDeps struct {
	Passwords  PasswordVerifier
	Keys       KeyDestroyer
	Tombstones TombstoneRecorder
	// Schedule enqueues the durable purge job for workspaceID to run at at,
	// inside idb (the request's transaction). Required.
	Schedule func(ctx context.Context, idb bun.IDB, workspaceID string, at time.Time) error
	// CloseChannels unsubscribes every active channel of the workspace from
	// the platform and destroys its token (connect.Service.Disconnect for
	// each). It runs after the request commits and again at the start of
	// the purge; it must be idempotent. Nil skips it.
	CloseChannels func(ctx context.Context, a audit.Actor, workspaceID string) error
	// AfterRows removes what the workspace keeps outside the database (its
	// media files), once its rows are gone and before the workspaces row
	// goes, so a failure is retried with the rest of the purge. It must be
	// idempotent. Nil skips it.
	AfterRows func(ctx context.Context, workspaceID string) error
}

// DeleteOptions tune deletion. The zero value gives the defaults.
type DeleteOptions struct {
	Now func() time.Time
	Log *slog.Logger
	// PurgeAfter is the grace period (DefaultPurgeAfter; capped at
	// MaxPurgeAfter).
	PurgeAfter time.Duration
	// BatchSize bounds the rows one purge transaction deletes
	// (DefaultPurgeBatch).
	BatchSize int
	// Retained names tables whose rows the purge keeps although they carry
	// a workspace_id (the tombstone log). audit_log is always kept.
	Retained []string
}

// Deleter deletes and purges workspaces.
type Deleter struct {
	d    *db.DB
	deps DeleterDeps
	opt  DeleteOptions
}

// NewDeleter returns a Deleter over d.
func NewDeleter(d *db.DB, deps DeleterDeps, opt DeleteOptions) *Deleter {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.PurgeAfter <= 0 {
		opt.PurgeAfter = DefaultPurgeAfter
	}
	opt.PurgeAfter = min(opt.PurgeAfter, MaxPurgeAfter)
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultPurgeBatch
	}
	return &Deleter{d: d, deps: deps, opt: opt}
}

// PurgeAfter is the grace period in force, for the dashboard to explain.
func (x *Deleter) PurgeAfter() time.Duration { return x.opt.PurgeAfter }

func (x *Deleter) now() time.Time { return x.opt.Now().UTC().Truncate(time.Microsecond) }

// RequestDeletion deletes a workspace on its owner's request: a.UserID must
// be an owner of it (ErrRoleNotAllowed otherwise), password their current
// password (the verifier's error otherwise), and confirmName the
// workspace's name exactly (a *validate.Error naming "confirm_name"). Each
// check runs before anything changes. On success the workspace is
// inaccessible at once, its pending invitations are revoked (for good:
// cancelling does not bring them back) and its purge is scheduled at
// PurgeAt; its channels are then closed (best effort: failures are logged and the purge closes
// them again).
func (x *Deleter) RequestDeletion(ctx context.Context, a audit.Actor, workspaceID, confirmName, password string) (*Workspace, error) {
	if a.UserID == "" {
		return nil, fmt.Errorf("workspace: request deletion: %w", ErrRoleNotAllowed)
	}
	// The role and name first: they are cheap and say nothing about the
	// password, which costs a bcrypt.
	if err := x.checkOwner(ctx, x.d.R, workspaceID, a.UserID); err != nil {
		return nil, fmt.Errorf("workspace: request deletion: %w", err)
	}
	if err := x.deps.Passwords.VerifyPassword(ctx, a.UserID, password); err != nil {
		return nil, fmt.Errorf("workspace: request deletion: %w", err)
	}
	var w *Workspace
	err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockWorkspaceRow(ctx, x.d, tx, workspaceID); err != nil {
			return err
		}
		if err := x.checkOwner(ctx, tx, workspaceID, a.UserID); err != nil {
			return err
		}
		cur, err := getWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		if cur.Deleting() {
			return ErrDeleting
		}
		if strings.TrimSpace(confirmName) != cur.Name {
			return validate.Field("confirm_name", "Type the workspace's name exactly as shown to confirm.")
		}
		now := x.now()
		purgeAt := now.Add(x.opt.PurgeAfter)
		if _, err := tx.NewRaw(`UPDATE workspaces SET deletion_requested_at = ?, purge_at = ?, updated_at = ? WHERE id = ?`,
			now, purgeAt, now, workspaceID).Exec(ctx); err != nil {
			return err
		}
		if err := x.deps.Schedule(ctx, tx, workspaceID, purgeAt); err != nil {
			return fmt.Errorf("schedule purge: %w", err)
		}
		// Pending invitations die with the request: one accepted later
		// would let someone in, as an owner say, to cancel the deletion.
		// They stay revoked if the deletion is cancelled.
		res, err := tx.NewRaw(`UPDATE invitations SET revoked_at = ?
			WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, now, workspaceID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("revoke invitations: %w", err)
		}
		revoked, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("revoke invitations: %w", err)
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionWorkspaceDeleteRequest, targetWorkspace, workspaceID,
			map[string]any{"purge_at": purgeAt, "invitations_revoked": revoked}); err != nil {
			return err
		}
		w, err = getWorkspace(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: request deletion: %w", err)
	}
	// The deletion is done; closing the channels must not stop half way
	// because the person closed the tab.
	x.closeChannels(context.WithoutCancel(ctx), a, workspaceID)
	return w, nil
}

// CancelDeletion gives a workspace back to its owners during the grace
// period: a.UserID must be an owner (ErrRoleNotAllowed; db.ErrNotFound for
// someone who is not a member), the workspace must be waiting
// (ErrNotDeleting) and its purge not begun (ErrPurgeStarted). Every row is
// still there; channels must be connected again, since their tokens were
// destroyed.
func (x *Deleter) CancelDeletion(ctx context.Context, a audit.Actor, workspaceID string) (*Workspace, error) {
	var w *Workspace
	err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockWorkspaceRow(ctx, x.d, tx, workspaceID); err != nil {
			return err
		}
		if err := x.checkOwner(ctx, tx, workspaceID, a.UserID); err != nil {
			return err
		}
		cur, err := getWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		if !cur.Deleting() {
			return ErrNotDeleting
		}
		now := x.now()
		if started, err := purgeStarted(ctx, tx, workspaceID); err != nil {
			return err
		} else if started || !now.Before(*cur.PurgeAt) {
			return ErrPurgeStarted
		}
		if _, err := tx.NewRaw(`UPDATE workspaces SET deletion_requested_at = NULL, purge_at = NULL, updated_at = ? WHERE id = ?`,
			now, workspaceID).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionWorkspaceDeleteCancel, targetWorkspace, workspaceID, nil); err != nil {
			return err
		}
		w, err = getWorkspace(ctx, tx, workspaceID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("workspace: cancel deletion: %w", err)
	}
	return w, nil
}

// checkOwner answers db.ErrNotFound when userID is not a member and
// ErrRoleNotAllowed when they are not an owner.
func (x *Deleter) checkOwner(ctx context.Context, idb bun.IDB, workspaceID, userID string) error {
	role, err := memberRole(ctx, idb, workspaceID, userID)
	if err != nil {
		return err
	}
	if role != RoleOwner {
		return ErrRoleNotAllowed
	}
	return nil
}

func (x *Deleter) closeChannels(ctx context.Context, a audit.Actor, workspaceID string) {
	if x.deps.CloseChannels == nil {
		return
	}
	if err := x.deps.CloseChannels(ctx, a, workspaceID); err != nil {
		x.opt.Log.WarnContext(ctx, "workspace deletion: closing channels failed; the purge retries", "workspace", workspaceID, "err", err)
	}
}

// lockWorkspaceRow is Service.lockWorkspace for the Deleter.
func lockWorkspaceRow(ctx context.Context, d *db.DB, tx bun.IDB, workspaceID string) error {
	return (&Service{d: d}).lockWorkspace(ctx, tx, workspaceID)
}

func purgeStarted(ctx context.Context, idb bun.IDB, workspaceID string) (bool, error) {
	var at sql.NullTime
	if err := idb.NewRaw(`SELECT purge_started_at FROM workspaces WHERE id = ?`, workspaceID).Scan(ctx, &at); err != nil {
		return false, db.NoRows(err)
	}
	return at.Valid, nil
}
