package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// Dead lists dead-lettered jobs, newest first: those with an ID below before
// (0 for the newest), at most limit (1–500, default 50). Payloads are left
// out: they may hold personal data and an operator's list does not need them.
func (q *Queue) Dead(ctx context.Context, before int64, limit int) ([]Job, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	out := []Job{}
	err := q.d.R.NewRaw(`SELECT id, kind, ordering_key, unique_key, state, attempts, run_at, last_error, created_at, updated_at
		FROM jobs WHERE state = 'dead' AND id < ? ORDER BY id DESC LIMIT ?`, before, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("job: list dead: %w", err)
	}
	return out, nil
}

// Retry re-queues the dead job id as a new job (new ID, attempts reset,
// runnable now) and removes the dead row, in one transaction; it returns
// the new ID. A retried job with an ordering key runs after every job
// already queued for that key. If an unfinished job holds its unique key,
// that job already does the same work: Retry returns its ID and only removes
// the dead row. It returns db.ErrNotFound if id is not a dead job.
func (q *Queue) Retry(ctx context.Context, id int64) (int64, error) {
	var newID int64
	err := q.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var j Job
		err := tx.NewRaw(`SELECT `+jobColumns+` FROM jobs WHERE id = ? AND state = 'dead'`, id).Scan(ctx, &j)
		if errors.Is(err, sql.ErrNoRows) {
			return db.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`DELETE FROM jobs WHERE id = ?`, id).Exec(ctx); err != nil {
			return err
		}
		now := q.now()
		newID, err = q.insert(ctx, tx, newRow{kind: j.Kind, payload: j.Payload, key: j.Key, unique: j.UniqueKey, runAt: now, now: now})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("job: retry %d: %w", id, err)
	}
	q.Notify()
	return newID, nil
}

// PurgeDead deletes dead jobs that died before t and reports how many. The
// retention task calls it: dead payloads may hold personal data.
func (q *Queue) PurgeDead(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.d.W.NewRaw(`DELETE FROM jobs WHERE state = 'dead' AND updated_at < ?`, t.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("job: purge dead: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Stats counts jobs by state. Each count but waiting's walks its own
// partial index.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := q.d.R.NewRaw(`SELECT
		(SELECT count(*) FROM jobs WHERE state = 'pending'),
		(SELECT count(*) FROM jobs WHERE state = 'waiting'),
		(SELECT count(*) FROM jobs WHERE state = 'running'),
		(SELECT count(*) FROM jobs WHERE state = 'dead')`).Scan(ctx, &s.Pending, &s.Waiting, &s.Running, &s.Dead)
	if err != nil {
		return Stats{}, fmt.Errorf("job: stats: %w", err)
	}
	return s, nil
}
