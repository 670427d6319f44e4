package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/job"
)

// KindSweep finds replies the direct path left behind (its process died
// between storing a reply and settling it) and gives each a send job, on
// Options.Jobs. The composition root runs it periodically (SweepEvery).
const KindSweep = "inbox.sweep_sends"

// SweepEvery is how often the sweep should run; sweepAfter is how long a
// message may stay queued or sending before the sweep takes it: far longer
// than the direct path takes, so it only finds what nobody holds anymore.
// Whatever it hands over is claimed before it is sent, so a message the
// direct path still holds is never sent twice: one of the two finds it no
// longer queued.
const (
	SweepEvery = 15 * time.Second
	sweepAfter = 30 * time.Second
	sweepBatch = 500
)

// sqlStranded lists, a page at a time after the cursor (updated_at, id),
// messages neither sent nor failed for a while, oldest first; the partial
// index messages_unsent holds exactly those. The cursor matters: most of
// them may be the job path's backlog, which the sweep leaves as it is, and
// the stranded ones can be behind it.
const sqlStranded = `SELECT id, workspace_id, conversation_id, updated_at FROM messages
	WHERE status IN ('queued','sending') AND updated_at <= ?
	AND (updated_at > ? OR (updated_at = ? AND id > ?))
	ORDER BY updated_at, id LIMIT ?`

// sweep is the KindSweep job. A message that has a send job already keeps
// that one (the unique key), so sweeping costs nothing for the job path's
// backlog but a lookup.
func (s *Service) sweep(ctx context.Context, _ *job.Job) error {
	return s.sweepOlder(ctx, sweepAfter)
}

// sweepOlder gives a job to every message unsent for longer than age that
// has none.
func (s *Service) sweepOlder(ctx context.Context, age time.Duration) error {
	until := s.now().Add(-age)
	var at time.Time
	var id string
	for {
		var rows []struct {
			ID             string    `bun:"id"`
			WorkspaceID    string    `bun:"workspace_id"`
			ConversationID string    `bun:"conversation_id"`
			UpdatedAt      time.Time `bun:"updated_at"`
		}
		if err := s.d.R.NewRaw(sqlStranded, until, at, at, id, sweepBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("inbox: sweep: %w", err)
		}
		for _, r := range rows {
			if _, err := s.opt.Sends.Enqueue(ctx, s.d.W, KindSend, idJob{WS: r.WorkspaceID, ID: r.ID},
				job.Key(r.ConversationID), job.Unique(sendUnique(r.ID))); err != nil {
				return fmt.Errorf("inbox: sweep: %w", err)
			}
		}
		if len(rows) > 0 {
			s.opt.Sends.Notify()
		}
		if len(rows) < sweepBatch {
			return nil
		}
		last := rows[len(rows)-1]
		at, id = last.UpdatedAt, last.ID
	}
}

// Start opens the direct path (Options.Direct; until then every reply is a
// job), after sweeping once without waiting for age: what a process that
// stopped or died left queued or sending gets its job at once, not a sweep
// later.
// A replica still running may hold some of those in memory that very
// moment; the claim before each send keeps every message to one send, and
// at worst two replies of one conversation leave out of order, during a
// deployment. Call it once the Sends queue can take jobs.
func (s *Service) Start(ctx context.Context) error {
	if s.dir == nil {
		return nil
	}
	if err := s.sweepOlder(ctx, 0); err != nil {
		return err
	}
	s.dir.mu.Lock()
	s.dir.started = true
	s.dir.mu.Unlock()
	return nil
}
