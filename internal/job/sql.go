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

// runnable selects due pending jobs of our kinds (the first %s becomes
// one placeholder per kind, the second the LIMIT). Of the jobs sharing an
// ordering key only the earliest unfinished one (the head) is pending; the
// rest wait in state waiting, outside jobs_due, until promote makes the
// next one pending. The NOT EXISTS re-checks that a pending job really is
// its key's head — one cheap index probe, since nothing precedes a head —
// so ordering holds even if a row was put in the wrong state by hand. The
// walk follows jobs_due and stops at the LIMIT.
const runnable = `
	SELECT j.id FROM jobs AS j
	WHERE j.state = 'pending' AND j.run_at <= ? AND j.kind IN (%s)
	  AND (j.ordering_key IS NULL OR NOT EXISTS (
		SELECT 1 FROM jobs AS e
		WHERE e.ordering_key = j.ordering_key AND e.id < j.id AND e.state <> 'dead'))
	ORDER BY j.run_at, j.id
	LIMIT %s`

// claimSQL builds the claim statement for nKinds registered kinds.
//
// On PostgreSQL, replicas claim concurrently: FOR UPDATE SKIP LOCKED makes
// each skip rows another is claiming instead of waiting for them. On SQLite
// the transaction holds the database's single write lock, so claims are
// serialised and need no row locks.
func claimSQL(d db.Dialect, nKinds int) string {
	// SQLite re-prepares a statement whose LIMIT is a bare parameter on
	// every run (four times the cost of the claim itself); an expression
	// does not trigger that.
	limit := "? + 0"
	if d == db.Postgres {
		limit = "?"
	}
	sel := fmt.Sprintf(runnable, db.Placeholders(nKinds), limit)
	if d == db.Postgres {
		return `WITH c AS (` + sel + ` FOR UPDATE SKIP LOCKED)
			UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ?
			FROM c WHERE jobs.id = c.id
			RETURNING jobs.` + strings.ReplaceAll(jobColumns, ", ", ", jobs.")
	}
	return `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ?
		WHERE id IN (` + sel + `)
		RETURNING ` + jobColumns
}

// claim leases up to n runnable jobs to this worker, oldest due first.
func (q *Queue) claim(ctx context.Context, tx bun.Tx, now time.Time, n int) ([]*Job, error) {
	if len(q.names) == 0 {
		return nil, nil // a producer-only queue claims nothing
	}
	until := now.Add(q.opt.Lease)
	sel := append([]any{now}, anys(q.names)...)
	sel = append(sel, n)
	set := []any{q.opt.WorkerID, until, now}
	args := append(set, sel...)
	if q.d.Dialect == db.Postgres {
		args = append(sel, set...)
	}
	jobs, err := q.st.jobs(ctx, tx, q.claimSQL, args...)
	if err != nil {
		return nil, fmt.Errorf("job: claim: %w", err)
	}
	// RETURNING has no order; hand jobs out oldest first.
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID })
	return jobs, nil
}

// The dispatcher's statements, prepared by Start (lists for every padded
// length, see inLists).
const (
	failSQL = `UPDATE jobs SET state = ?, run_at = ?, last_error = ?, locked_by = NULL, locked_until = NULL, updated_at = ?
		WHERE id = ? AND locked_by = ? AND state = 'running'`
	renewSQL = `UPDATE jobs SET locked_until = ? WHERE locked_by = ? AND state = 'running'`
	// snoozeSQL is failSQL without the attempt (Snooze).
	snoozeSQL = `UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, attempts = attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = ?
		WHERE id = ? AND locked_by = ? AND state = 'running'`
)

func deleteSQL(n int) string {
	return `DELETE FROM jobs WHERE id IN (` + db.Placeholders(n) + `) AND locked_by = ? AND state = 'running'`
}

func releaseSQL(n int) string {
	return `UPDATE jobs SET state = 'pending', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = ?
		WHERE id IN (` + db.Placeholders(n) + `) AND locked_by = ? AND state = 'running'`
}

// promoteSQL makes pending the earliest unfinished job of each of n keys,
// if that job is waiting (the key's head just finished or died).
func promoteSQL(n int) string {
	return `UPDATE jobs SET state = 'pending', updated_at = ?
		WHERE state = 'waiting' AND id IN (
			SELECT (SELECT min(h.id) FROM jobs AS h WHERE h.ordering_key = v.column1 AND h.state <> 'dead')
			FROM ` + values(n) + ` AS v)`
}

// hotStatements lists every statement stmts should prepare for this queue.
func (q *Queue) hotStatements() []string {
	out := []string{insertSQL, insertKeyedSQL, uniqueSQL, failSQL, renewSQL, busySQL, snoozeSQL}
	if q.d.Dialect == db.SQLite {
		out[1], out[5] = insertKeyedSQLite, busySQLite
	} else {
		out = append(out, lockKeySQL)
	}
	if q.claimSQL != "" {
		out = append(out, q.claimSQL)
	}
	for n := 1; n <= db.MaxList; n *= 2 {
		out = append(out, deleteSQL(n), releaseSQL(n), promoteSQL(n))
	}
	return out
}

// finish writes the outcomes of finished runs and promotes the next job of
// every key whose head finished or died. Every statement is fenced on
// locked_by and state: if our lease was lost (it expired and someone else
// reclaimed the job, or Stop released it), the row is no longer ours and the
// result is dropped — the job's new owner decides its fate.
//
// postponed lists keys whose promotion an earlier round had to postpone;
// finish returns the keys it has to postpone now (PostgreSQL only, see
// promote).
func (q *Queue) finish(ctx context.Context, tx bun.Tx, now time.Time, pend []result, postponed []string) ([]string, error) {
	var doneIDs, releaseIDs []int64
	keys := append([]string(nil), postponed...)
	for _, r := range pend {
		switch r.out {
		case done:
			doneIDs = append(doneIDs, r.id)
		case release:
			releaseIDs = append(releaseIDs, r.id)
		case snooze:
			if _, err := q.st.exec(ctx, tx, snoozeSQL, r.runAt, r.err, now, r.id, q.opt.WorkerID); err != nil {
				return nil, fmt.Errorf("job: snooze %d: %w", r.id, err)
			}
		case retry, dead:
			state, runAt := Pending, r.runAt
			if r.out == dead {
				state, runAt = Dead, now
			}
			if _, err := q.st.exec(ctx, tx, failSQL, string(state), runAt, r.err, now, r.id, q.opt.WorkerID); err != nil {
				return nil, fmt.Errorf("job: record failure of %d: %w", r.id, err)
			}
		}
		if r.key != "" && (r.out == done || r.out == dead) {
			keys = append(keys, r.key)
		}
	}
	if err := db.InLists(doneIDs, func(ids []any) error {
		_, err := q.st.exec(ctx, tx, deleteSQL(len(ids)), append(ids, q.opt.WorkerID)...)
		return err
	}); err != nil {
		return nil, fmt.Errorf("job: delete finished jobs: %w", err)
	}
	if err := db.InLists(releaseIDs, func(ids []any) error {
		args := append([]any{now}, ids...)
		_, err := q.st.exec(ctx, tx, releaseSQL(len(ids)), append(args, q.opt.WorkerID)...)
		return err
	}); err != nil {
		return nil, fmt.Errorf("job: release jobs: %w", err)
	}
	return q.promote(ctx, tx, now, keys)
}

// promote makes the earliest waiting job of each key pending, if it is now
// the key's earliest unfinished job. It returns the keys it could not handle
// yet.
//
// On PostgreSQL a transaction enqueueing for a key holds the key's advisory
// lock until it commits, and its new row is invisible to us until then; if
// we promoted now we could miss that row and leave it waiting for ever. So
// we only promote keys whose lock we get at once (never waiting: a slow
// producer must not stall the dispatcher) and hand the rest back to be
// tried next round. If the process dies first, repair catches them.
func (q *Queue) promote(ctx context.Context, tx bun.Tx, now time.Time, keys []string) ([]string, error) {
	keys = distinct(keys)
	if len(keys) == 0 {
		return nil, nil
	}
	var later []string
	if q.d.Dialect == db.Postgres {
		var locks []struct {
			K  string `bun:"k"`
			OK bool   `bun:"ok"`
		}
		if err := tx.NewRaw(`SELECT v.column1 AS k, pg_try_advisory_xact_lock(?, hashtext(v.column1)) AS ok FROM `+values(len(keys))+` AS v`,
			append([]any{advisoryNamespace}, anys(keys)...)...).Scan(ctx, &locks); err != nil {
			return nil, fmt.Errorf("job: lock ordering keys: %w", err)
		}
		keys = keys[:0]
		for _, l := range locks {
			if l.OK {
				keys = append(keys, l.K)
			} else {
				later = append(later, l.K)
			}
		}
		if len(keys) == 0 {
			return later, nil
		}
	}
	if err := db.InLists(keys, func(ks []any) error {
		_, err := q.st.exec(ctx, tx, promoteSQL(len(ks)), append([]any{now}, ks...)...)
		return err
	}); err != nil {
		return nil, fmt.Errorf("job: promote waiting jobs: %w", err)
	}
	return later, nil
}

// repair promotes waiting jobs that nothing is going to promote: the
// earliest unfinished job of their key, yet still waiting. That happens
// only when a process died between finishing a key's head and a postponed
// promotion (PostgreSQL), but a stuck conversation is bad enough to check
// for it on every housekeeping tick. The search runs on the readers and
// reads the keyed part of one index; the update re-checks each row.
func (q *Queue) repair(ctx context.Context, now time.Time) (int64, error) {
	var ids []int64
	// One pass over jobs_ordering: each key's earliest unfinished job, kept
	// if it is waiting.
	if err := q.d.R.NewRaw(`SELECT j.id FROM jobs AS j JOIN (
			SELECT min(id) AS id FROM jobs WHERE ordering_key IS NOT NULL AND state <> 'dead' GROUP BY ordering_key
		) AS h ON h.id = j.id
		WHERE j.state = 'waiting'`).Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("job: find stranded jobs: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := q.d.W.NewRaw(`UPDATE jobs SET state = 'pending', updated_at = ?
		WHERE id IN (?) AND state = 'waiting'
		AND id = (SELECT min(h.id) FROM jobs AS h WHERE h.ordering_key = jobs.ordering_key AND h.state <> 'dead')`,
		now, bun.In(ids)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("job: promote stranded jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// values is a VALUES list of n one-column rows; the column is column1 on
// both engines.
func values(n int) string {
	return "(VALUES " + strings.TrimSuffix(strings.Repeat("(?), ", n), ", ") + ")"
}

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func distinct(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	sort.Strings(ss)
	out := ss[:1]
	for _, s := range ss[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

// renew extends the leases of every job this worker is running.
func (q *Queue) renew(ctx context.Context, now time.Time) error {
	_, err := q.st.exec(ctx, q.d.W, renewSQL, now.Add(q.opt.Lease), q.opt.WorkerID)
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
