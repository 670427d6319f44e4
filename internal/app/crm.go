package app

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/pipeline"
)

// kindReconcile brings a workspace's contacts in line with its default
// pipeline, one batch per run (pipeline.Store.Reconcile).
const kindReconcile = "pipeline.reconcile"

// reconcilePayload names the workspace and where the previous batch
// stopped: IDs only, never contact data.
type reconcilePayload struct {
	WorkspaceID string `json:"workspace_id"`
	After       string `json:"after,omitempty"`
}

// crm builds the contacts' activity log and the pipelines (after the
// contacts, before the flow runner, whose set_stage actions move cards on
// the default pipeline), and registers the reconcile job.
func (a *App) crm() {
	a.Activity = activity.NewStore(a.DB, a.Keyring, a.Now)
	a.Pipelines = pipeline.NewStore(a.DB, a.Contacts, a.Activity, a.Now)
	a.Jobs.Register(kindReconcile, a.reconcileBatch)
}

// reconcileBatch runs one batch and enqueues the next. A crash between
// the two redoes the batch, which is harmless: Reconcile only changes
// what is out of line.
func (a *App) reconcileBatch(ctx context.Context, j *job.Job) error {
	var p reconcilePayload
	if err := j.Decode(&p); err != nil {
		return err
	}
	next, _, err := a.Pipelines.Reconcile(ctx, p.WorkspaceID, p.After, pipeline.MaxReconcile)
	if err != nil || next == "" {
		return err
	}
	_, err = a.Jobs.Enqueue(ctx, nil, kindReconcile, reconcilePayload{WorkspaceID: p.WorkspaceID, After: next},
		job.Key(kindReconcile+":"+p.WorkspaceID))
	return err
}

// ReconcilePipelines schedules the one-off pass that places the
// workspace's contacts whose lead stage names a stage of its default
// pipeline (called after the default changes: a first pipeline, or
// another made the default). Passes for one workspace run one at a time,
// in order, under their ordering key; each reads the default afresh.
func (a *App) ReconcilePipelines(ctx context.Context, workspaceID string) error {
	if _, err := a.Jobs.Enqueue(ctx, nil, kindReconcile, reconcilePayload{WorkspaceID: workspaceID},
		job.Key(kindReconcile+":"+workspaceID)); err != nil {
		return fmt.Errorf("app: reconcile pipelines: %w", err)
	}
	return nil
}
