package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/workspace"
)

// Workspace and account deletion (promise P-33, security.md §3.O O-5, O-6;
// the rules are in package workspace, delete.go, and package account,
// delete.go).

const (
	// purgeTimeout bounds one run of a workspace's purge. A run cut short
	// loses nothing: each batch commits on its own and the retry goes on
	// from there.
	purgeTimeout = time.Hour
	// purgeSweepKind is the hourly sweep that enqueues the purge of every
	// workspace whose grace period is over, in case its own job was lost
	// or dead-lettered.
	purgeSweepKind  = "workspace.purge_sweep"
	purgeSweepEvery = time.Hour
)

// purgePayload is the purge job's payload.
type purgePayload struct {
	WorkspaceID string `json:"workspace_id"`
}

// workspaceDeletion builds the Deleter and registers the purge job and its
// sweep. It runs after messaging, erasure and media (it closes channels,
// records tombstones and removes media files) and before the job queue
// starts.
func (a *App) workspaceDeletion() {
	deps := workspace.DeleterDeps{
		Passwords:     a.Accounts,
		Keys:          a.Keyring,
		Tombstones:    a.Erasure,
		Schedule:      a.schedulePurge,
		CloseChannels: a.closeWorkspaceChannels,
	}
	if a.Media != nil {
		deps.AfterRows = a.Media.UnlinkWorkspace
	}
	a.Deletion = workspace.NewDeleter(a.DB, deps, workspace.DeleteOptions{
		Now: a.Now, Log: a.Log.With("component", "workspace-deletion"),
		PurgeAfter: a.Config.WorkspacePurgeAfter,
		// The tombstone log outlives what it records: it is what erases a
		// purged workspace again from a restored backup.
		Retained: []string{"tombstones"},
	})
	a.Jobs.Register(workspace.PurgeJobKind, a.runPurge, job.Timeout(purgeTimeout), job.MaxAttempts(20))
	a.Jobs.Register(purgeSweepKind, a.sweepPurges, job.Timeout(time.Minute), job.MaxAttempts(3))
	a.Jobs.Periodic("purge deleted workspaces", purgeSweepEvery, purgeSweepKind)
}

// schedulePurge enqueues the workspace's purge at at, in the deletion's
// transaction. The ordering key keeps two purges of one workspace from
// running at once; it is not unique, so a workspace deleted, restored and
// deleted again gets a job for its new date (the first finds it not due
// and does nothing).
func (a *App) schedulePurge(ctx context.Context, idb bun.IDB, workspaceID string, at time.Time) error {
	_, err := a.Jobs.Enqueue(ctx, idb, workspace.PurgeJobKind, purgePayload{WorkspaceID: workspaceID},
		job.RunAt(at), job.Key(workspace.PurgeJobKind+":"+workspaceID))
	return err
}

// runPurge is the purge job.
func (a *App) runPurge(ctx context.Context, j *job.Job) error {
	var p purgePayload
	if err := j.Decode(&p); err != nil {
		return err
	}
	err := a.Deletion.Purge(ctx, p.WorkspaceID)
	if errors.Is(err, workspace.ErrPurgeNotDue) || errors.Is(err, workspace.ErrNotDeleting) {
		return nil // cancelled, or deleted again later: another job has that date
	}
	return err
}

// sweepPurges enqueues a purge for every workspace past its grace period.
func (a *App) sweepPurges(ctx context.Context, _ *job.Job) error {
	ids, err := a.Deletion.DuePurges(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := a.Jobs.Enqueue(ctx, nil, workspace.PurgeJobKind, purgePayload{WorkspaceID: id},
			job.Key(workspace.PurgeJobKind+":"+id), job.Unique(workspace.PurgeJobKind+":sweep:"+id)); err != nil {
			return err
		}
	}
	return nil
}

// closeWorkspaceChannels unsubscribes every active channel of the
// workspace from the app and destroys its token (connect.Service
// Disconnect: best effort towards the platform, certain here), so no
// webhook for its pages reaches it any more. Every channel is tried; the
// errors are joined.
func (a *App) closeWorkspaceChannels(ctx context.Context, actor audit.Actor, workspaceID string) error {
	chs, err := a.Channels.List(ctx, workspaceID)
	if err != nil {
		return fmt.Errorf("app: close channels: %w", err)
	}
	var errs []error
	for _, ch := range chs {
		if ch.Status != channel.Active {
			continue
		}
		if _, err := a.Connect.Disconnect(ctx, actor, workspaceID, ch.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeleteAccount deletes the user's own account after checking their
// password, unless they are the last owner of a live workspace
// (account.ErrSoleOwner naming them). Their sessions end with it.
func (a *App) DeleteAccount(ctx context.Context, actor audit.Actor, userID, password string) error {
	return a.Accounts.DeleteAccount(ctx, actor, userID, password, a.soleOwnerships)
}

// soleOwnerships names the live workspaces whose only owner is userID.
func (a *App) soleOwnerships(ctx context.Context, idb bun.IDB, userID string) ([]string, error) {
	ws, err := a.Workspaces.SoleOwnerships(ctx, idb, userID)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ws))
	for _, w := range ws {
		names = append(names, w.Name)
	}
	return names, nil
}

// wireDeletion gives the API and the dashboard the deletions.
func (a *App) wireDeletion() {
	a.API.Deletion, a.API.DeleteAccount = a.Deletion, a.DeleteAccount
	a.Web.Deletion, a.Web.DeleteAccount = a.Deletion, a.DeleteAccount
}
