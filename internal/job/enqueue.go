package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// enqueueOpts collects EnqueueOptions.
type enqueueOpts struct {
	key    string
	unique string
	runAt  time.Time
	delay  time.Duration
}

// EnqueueOption adjusts one Enqueue.
type EnqueueOption func(*enqueueOpts)

// Key sets the ordering key: jobs with the same key run one at a time, in
// the order they were enqueued (all work for one conversation, say). A job
// waits while any earlier job with its key is unfinished — running, waiting,
// or pending, even if only for a retry or a future RunAt; dead jobs do not
// hold their key. So do not give a job scheduled far ahead the key of
// urgent work.
//
// On PostgreSQL, Enqueue takes a transaction-scoped advisory lock on the
// key, so that for one key the order of ids is the order of commits: a
// transaction that enqueues for a key makes others enqueueing for the same
// key wait until it ends, and delays the promotion of that key's next job
// until then. Keep such transactions short, and enqueue for several keys in
// a consistent order (or PostgreSQL may abort one transaction of a pair as a
// deadlock).
func Key(k string) EnqueueOption { return func(o *enqueueOpts) { o.key = k } }

// Unique makes the enqueue idempotent: if a pending, waiting or running job
// with this unique key exists, Enqueue adds nothing and returns that job's
// ID. Finished jobs are deleted and dead ones do not count, so a later
// Enqueue with the same key creates a new job: a unique key dedupes
// redeliveries while the first is unfinished, not for ever.
func Unique(k string) EnqueueOption { return func(o *enqueueOpts) { o.unique = k } }

// RunAt makes the job runnable no sooner than t.
func RunAt(t time.Time) EnqueueOption { return func(o *enqueueOpts) { o.runAt = t } }

// Delay makes the job runnable no sooner than d from now.
func Delay(d time.Duration) EnqueueOption { return func(o *enqueueOpts) { o.delay = d } }

// Enqueue adds a job of the given kind and returns its ID. Pass the
// transaction that makes the change the job is about, so that the job
// exists exactly when the change does; nil means the queue's own database,
// outside any transaction.
//
// payload is stored as-is when it is []byte or json.RawMessage, and as its
// JSON encoding otherwise.
//
// Outside a transaction Enqueue wakes this process's workers at once. Inside
// one the job is invisible until commit, so call Notify after committing
// (otherwise the job waits for the next poll).
func (q *Queue) Enqueue(ctx context.Context, idb bun.IDB, kind string, payload any, opts ...EnqueueOption) (int64, error) {
	if kind == "" {
		return 0, errors.New("job: enqueue: empty kind")
	}
	var o enqueueOpts
	for _, opt := range opts {
		opt(&o)
	}
	body, err := encodePayload(payload)
	if err != nil {
		return 0, fmt.Errorf("job: enqueue %s: %w", kind, err)
	}
	if idb == nil {
		idb = q.d.W
	}
	now := q.now()
	runAt := now
	if !o.runAt.IsZero() {
		runAt = o.runAt.UTC().Truncate(time.Microsecond)
	}
	if o.delay > 0 {
		runAt = runAt.Add(o.delay)
	}
	id, err := q.insert(ctx, idb, newRow{kind: kind, payload: body, key: o.key, unique: o.unique, runAt: runAt, now: now})
	if err != nil {
		return 0, fmt.Errorf("job: enqueue %s: %w", kind, err)
	}
	if !isTx(idb) {
		q.Notify()
	}
	return id, nil
}

func encodePayload(p any) ([]byte, error) {
	switch v := p.(type) {
	case []byte:
		if v == nil {
			return []byte{}, nil
		}
		return v, nil
	case json.RawMessage:
		if v == nil {
			return []byte{}, nil
		}
		return v, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return b, nil
}

// newRow is a job about to be inserted.
type newRow struct {
	kind, key, unique string
	payload           []byte
	runAt, now        time.Time
}

// insert adds r and returns its ID, or the ID of the unfinished job that
// already holds r.unique.
//
// A keyed job starts as waiting when an unfinished job with its key exists,
// and as pending (the key's head) otherwise; finishing the head promotes the
// next waiting job (see promote). That keeps blocked jobs out of the claim
// index, so a long backlog in one conversation costs other conversations
// nothing.
func (q *Queue) insert(ctx context.Context, idb bun.IDB, r newRow) (int64, error) {
	if r.key != "" && q.d.Dialect == db.Postgres {
		if !isTx(idb) {
			// The key lock below is transaction-scoped.
			var id int64
			err := idb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				var err error
				id, err = q.insert(ctx, tx, r)
				return err
			})
			return id, err
		}
		// Transactions enqueueing for one key take turns: the next one's
		// INSERT (a new statement, so a new snapshot) sees this one's row,
		// and ids are handed out in commit order. promote needs the same
		// lock, so it never decides while our row is invisible to it.
		if _, err := q.st.exec(ctx, idb, lockKeySQL, int32(advisoryNamespace), r.key); err != nil {
			return 0, fmt.Errorf("lock ordering key: %w", err)
		}
	}
	ins := insertSQL
	args := []any{r.kind, r.payload, nullable(r.key), nullable(r.unique), r.runAt, r.now, r.now}
	if r.key != "" {
		ins = insertKeyedSQL
		if q.d.Dialect == db.SQLite {
			ins = insertKeyedSQLite
		}
		args = []any{r.kind, r.payload, r.key, nullable(r.unique), r.key, r.runAt, r.now, r.now}
	}
	// A dedupe can race with the holder finishing (and being deleted)
	// between our INSERT and SELECT; then insert again.
	for range 3 {
		var id int64
		err := q.st.scalar(ctx, idb, &id, ins, args...)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) || r.unique == "" {
			return 0, err
		}
		// ON CONFLICT DO NOTHING returned no row: the unique key is taken.
		err = q.st.scalar(ctx, idb, &id, uniqueSQL, r.unique)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	return 0, errors.New("unique key kept changing hands")
}

// The INSERT statements of insert. A keyed job is waiting if an unfinished
// job with its key exists. SQLite plans with average statistics and may
// decide that a scan finds some row of a busy key sooner; for a key with no
// rows that scan is the whole table, on every enqueue — so its variant pins
// the index.
const (
	insertSQL = `INSERT INTO jobs (kind, payload, ordering_key, unique_key, state, attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`
	insertKeyedSQL = `INSERT INTO jobs (kind, payload, ordering_key, unique_key, state, attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE ordering_key = ? AND ordering_key IS NOT NULL AND state <> 'dead')
			THEN 'waiting' ELSE 'pending' END, 0, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`
	insertKeyedSQLite = `INSERT INTO jobs (kind, payload, ordering_key, unique_key, state, attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_ordering WHERE ordering_key = ? AND ordering_key IS NOT NULL AND state <> 'dead')
			THEN 'waiting' ELSE 'pending' END, 0, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`
	uniqueSQL  = `SELECT id FROM jobs WHERE unique_key = ? AND state <> 'dead'`
	lockKeySQL = `SELECT pg_advisory_xact_lock(?, hashtext(?))`
)

// Busy reports whether an unfinished job holds the ordering key: work that
// must follow it in order cannot go around the queue. It reads through idb,
// so that a caller deciding inside a transaction sees what that
// transaction enqueued.
func (q *Queue) Busy(ctx context.Context, idb bun.IDB, key string) (bool, error) {
	var busy bool
	query := busySQL
	if q.d.Dialect == db.SQLite {
		query = busySQLite
	}
	if err := q.st.scalar(ctx, idb, &busy, query, key); err != nil {
		return false, fmt.Errorf("job: busy: %w", err)
	}
	return busy, nil
}

// The statements of Busy; SQLite's pins the index, as insertKeyedSQLite's.
const (
	busySQL    = `SELECT EXISTS (SELECT 1 FROM jobs WHERE ordering_key = ? AND ordering_key IS NOT NULL AND state <> 'dead')`
	busySQLite = `SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_ordering WHERE ordering_key = ? AND ordering_key IS NOT NULL AND state <> 'dead')`
)

func isTx(idb bun.IDB) bool {
	switch idb.(type) {
	case bun.Tx, *bun.Tx:
		return true
	}
	return false
}

// advisoryNamespace is the first half of the two-integer advisory lock key
// taken per ordering key on PostgreSQL ("jobs" in ASCII). Two-integer keys
// live apart from the single-bigint keys goose's migration lock uses; a
// hashtext collision between two ordering keys only makes them take turns.
const advisoryNamespace = 0x6a6f6273

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
