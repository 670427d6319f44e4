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

// sqlStranded lists messages neither sent nor failed for a while, oldest
// first; the partial index messages_unsent holds exactly those.
const sqlStranded = `SELECT id, workspace_id, conversation_id FROM messages
	WHERE status IN ('queued','sending') AND updated_at <= ? ORDER BY updated_at LIMIT ?`

// sweep is the KindSweep job. A message that has a send job already keeps
// that one (the unique key), so sweeping costs nothing for the job path's
// backlog but a lookup.
func (s *Service) sweep(ctx context.Context, _ *job.Job) error {
	return s.sweepOlder(ctx, sweepAfter)
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
	for {
		n, err := s.sweepOnce(ctx, 0)
		if err != nil {
			return err
		}
		if n < sweepBatch {
			break
		}
	}
	s.dir.mu.Lock()
	s.dir.started = true
	s.dir.mu.Unlock()
	return nil
}

// sweepOlder gives a job to up to sweepBatch messages unsent for longer
// than age.
func (s *Service) sweepOlder(ctx context.Context, age time.Duration) error {
	_, err := s.sweepOnce(ctx, age)
	return err
}

func (s *Service) sweepOnce(ctx context.Context, age time.Duration) (int, error) {
	var rows []struct {
		ID             string `bun:"id"`
		WorkspaceID    string `bun:"workspace_id"`
		ConversationID string `bun:"conversation_id"`
	}
	if err := s.d.R.NewRaw(sqlStranded, s.now().Add(-age), sweepBatch).Scan(ctx, &rows); err != nil {
		return 0, fmt.Errorf("inbox: sweep: %w", err)
	}
	for _, r := range rows {
		if _, err := s.opt.Sends.Enqueue(ctx, s.d.W, KindSend, idJob{WS: r.WorkspaceID, ID: r.ID},
			job.Key(r.ConversationID), job.Unique(sendUnique(r.ID))); err != nil {
			return 0, fmt.Errorf("inbox: sweep: %w", err)
		}
	}
	if len(rows) > 0 {
		s.opt.Sends.Notify()
	}
	return len(rows), nil
}
