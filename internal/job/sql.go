package job

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// jobColumns is what a claim returns.
const jobColumns = `id, kind, payload, ordering_key, unique_key, state, attempts, run_at, last_error, created_at, updated_at`

// runnable selects due pending jobs of our kinds whose ordering key has no
// earlier unfinished job. Because the earliest unfinished job of a key is
// the only one that passes, one batch never holds two jobs of one key, and
// a key's next job is only claimable once its predecessor is finished
// (deleted) or dead. The walk follows jobs_due and stops at the LIMIT.
const runnable = `
	SELECT j.id FROM jobs AS j
	WHERE j.state = 'pending' AND j.run_at <= ? AND j.kind IN (?)
	  AND (j.ordering_key IS NULL OR NOT EXISTS (
		SELECT 1 FROM jobs AS e
		WHERE e.ordering_key = j.ordering_key AND e.id < j.id AND e.state <> 'dead'))
	ORDER BY j.run_at, j.id
	LIMIT ?`

// claim leases up to n runnable jobs to this worker, oldest due first.
//
// On PostgreSQL, replicas claim concurrently: FOR UPDATE SKIP LOCKED makes
// each skip rows another is claiming instead of waiting for them. On SQLite
// the transaction holds the database's single write lock, so claims are
// serialised and need no row locks.
func (q *Queue) claim(ctx context.Context, tx bun.Tx, now time.Time, n int) ([]*Job, error) {
	if len(q.names) == 0 {
		return nil, nil // a producer-only queue claims nothing
	}
	until := now.Add(q.opt.Lease)
	var query string
	if q.d.Dialect == db.Postgres {
		query = `WITH c AS (` + runnable + ` FOR UPDATE SKIP LOCKED)
			UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ?
			FROM c WHERE jobs.id = c.id
			RETURNING jobs.` + strings.ReplaceAll(jobColumns, ", ", ", jobs.")
	} else {
		query = `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ?
			WHERE id IN (` + runnable + `)
			RETURNING ` + jobColumns
	}
	args := []any{now, bun.In(q.names), n, q.opt.WorkerID, until, now}
	if q.d.Dialect != db.Postgres {
		args = []any{q.opt.WorkerID, until, now, now, bun.In(q.names), n}
	}
	var rows []Job
	if err := tx.NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("job: claim: %w", err)
	}
	// RETURNING has no order; hand jobs out oldest first.
	sort.Slice(rows, func(a, b int) bool { return rows[a].ID < rows[b].ID })
	out := make([]*Job, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, nil
}

// finish writes the outcomes of finished runs. Every statement is fenced on
// locked_by and state: if our lease was lost (it expired and someone else
// reclaimed the job, or Stop released it), the row is no longer ours and the
// result is dropped — the job's new owner decides its fate.
func (q *Queue) finish(ctx context.Context, tx bun.Tx, now time.Time, pend []result) error {
	if len(pend) == 0 {
		return nil
	}
	var doneIDs, releaseIDs []int64
	for _, r := range pend {
		switch r.out {
		case done:
			doneIDs = append(doneIDs, r.id)
		case release:
			releaseIDs = append(releaseIDs, r.id)
		case retry, dead:
			state, runAt := Pending, r.runAt
			if r.out == dead {
				state, runAt = Dead, now
			}
			if _, err := tx.NewRaw(`UPDATE jobs SET state = ?, run_at = ?, last_error = ?, locked_by = NULL, locked_until = NULL, updated_at = ?
				WHERE id = ? AND locked_by = ? AND state = 'running'`,
				string(state), runAt, r.err, now, r.id, q.opt.WorkerID).Exec(ctx); err != nil {
				return fmt.Errorf("job: record failure of %d: %w", r.id, err)
			}
		}
	}
	if len(doneIDs) > 0 {
		if _, err := tx.NewRaw(`DELETE FROM jobs WHERE id IN (?) AND locked_by = ? AND state = 'running'`,
			bun.In(doneIDs), q.opt.WorkerID).Exec(ctx); err != nil {
			return fmt.Errorf("job: delete finished jobs: %w", err)
		}
	}
	if len(releaseIDs) > 0 {
		if _, err := tx.NewRaw(`UPDATE jobs SET state = 'pending', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = ?
			WHERE id IN (?) AND locked_by = ? AND state = 'running'`,
			now, bun.In(releaseIDs), q.opt.WorkerID).Exec(ctx); err != nil {
			return fmt.Errorf("job: release jobs: %w", err)
		}
	}
	return nil
}

// renew extends the leases of every job this worker is running.
func (q *Queue) renew(ctx context.Context, now time.Time) error {
	_, err := q.d.W.NewRaw(`UPDATE jobs SET locked_until = ? WHERE locked_by = ? AND state = 'running'`,
		now.Add(q.opt.Lease), q.opt.WorkerID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("job: renew leases: %w", err)
	}
	return nil
}

// leaseExpired is the last_error of a reaped job.
const leaseExpired = "lease expired: the worker stopped renewing it (crashed, killed or stalled)"

// reap returns jobs whose lease ran out to pending, whoever held them. The
// attempt stays counted, so a job that keeps killing its worker ends up
// dead rather than looping forever.
func (q *Queue) reap(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.d.W.NewRaw(`UPDATE jobs SET state = 'pending', locked_by = NULL, locked_until = NULL, last_error = ?, updated_at = ?
		WHERE state = 'running' AND locked_until <= ?`, leaseExpired, now, now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("job: reap expired leases: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// releaseAll hands back every job leased to this worker without counting
// the attempt (Stop, when handlers did not return in time).
func (q *Queue) releaseAll(ctx context.Context) (int64, error) {
	res, err := q.d.W.NewRaw(`UPDATE jobs SET state = 'pending', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = ?
		WHERE locked_by = ? AND state = 'running'`, q.now(), q.opt.WorkerID).Exec(ctx)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}
