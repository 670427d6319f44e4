-- +goose Up
-- Parley's durable job queue (internal/job). A row exists from the moment a
-- job is enqueued — in the same transaction as the change that caused it —
-- until a handler finishes it; finished jobs are deleted, so the table holds
-- only pending, running and dead work.
--
-- id is monotonic and never reused (AUTOINCREMENT), so it doubles as the
-- order of jobs that share an ordering_key: such a job runs only once no
-- lower-id, not-dead job with the same key remains.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,                 -- names the registered handler
    payload      BLOB NOT NULL,                 -- usually JSON; may hold personal data, never logged
    ordering_key TEXT,                          -- jobs sharing a key run one at a time, in id order
    unique_key   TEXT,                          -- at most one pending or running job per key
    state        TEXT NOT NULL CHECK (state IN ('pending','waiting','running','dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,    -- claims so far, including the current one
    run_at       TIMESTAMP NOT NULL,            -- not runnable before this
    locked_by    TEXT,                          -- worker ID holding the lease while running
    locked_until TIMESTAMP,                     -- lease end; after it another worker reclaims the job
    last_error   TEXT NOT NULL DEFAULT '',      -- truncated, redacted message of the last failure
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL             -- for dead jobs: when they died
);
-- The claim query walks this index in order and stops at its batch size.
CREATE INDEX jobs_due ON jobs(run_at, id) WHERE state = 'pending';
-- Reaping expired leases and renewing our own.
CREATE INDEX jobs_leased ON jobs(locked_until) WHERE state = 'running';
-- "Is an earlier job with this key unfinished?" for per-key ordering.
CREATE INDEX jobs_ordering ON jobs(ordering_key, id) WHERE ordering_key IS NOT NULL AND state <> 'dead';
-- Idempotent enqueue. Dead jobs do not hold their unique key.
CREATE UNIQUE INDEX jobs_unique ON jobs(unique_key) WHERE state <> 'dead';
-- Listing dead letters (and purging them: the set is small).
CREATE INDEX jobs_dead ON jobs(id) WHERE state = 'dead';

-- One row per named periodic task: the start of the last slot for which a
-- job was enqueued. Replicas compare-and-set it, so each slot runs once.
CREATE TABLE job_periodic (
    name      TEXT PRIMARY KEY,
    last_slot TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE job_periodic;
DROP TABLE jobs;
