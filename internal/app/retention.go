package app

import (
	"time"

	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/retention"
)

// retentionTimeout bounds one retention run. A run cut short loses
// nothing (each batch commits on its own) and the next hourly slot goes
// on from there.
const retentionTimeout = 30 * time.Minute

// retentionJob builds the retention service (promise P-35) and schedules
// its hourly run. Expired messages take their search entries with them by
// the search tables' cascading foreign keys, in the batch's own
// transaction, so no message hook is needed for search (the unsend path
// needs Forget because the message row stays). Packages owning other
// classes register with a.Retention.Register when they are wired: media
// (attachments), dsr (exports). It runs after messaging and before the
// job queue starts.
func (a *App) retentionJob() {
	a.Retention = retention.New(a.DB, retention.Options{Now: a.Now, Log: a.Log.With("component", "retention")})
	a.Jobs.Register(retention.Kind, a.Retention.Handle, job.Timeout(retentionTimeout), job.MaxAttempts(3))
	a.Jobs.Periodic("apply retention periods", retention.Every, retention.Kind)
}
