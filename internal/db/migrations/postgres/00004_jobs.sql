-- +goose Up
-- Parley's durable job queue (internal/job); see the SQLite twin for the
-- column notes. id is an identity column: monotonic, never reused, and the
-- order of jobs sharing an ordering_key (enqueue takes a per-key advisory
-- lock so that id order is also commit order for one key).
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    ordering_key TEXT,
    unique_key   TEXT,
    state        TEXT NOT NULL CHECK (state IN ('pending','waiting','running','dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_by    TEXT,
    locked_until TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
-- Rows are short-lived: vacuum the table far more eagerly than the default
-- 20% of dead tuples, so the claim index stays small under load.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX jobs_due ON jobs(run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_leased ON jobs(locked_until) WHERE state = 'running';
CREATE INDEX jobs_ordering ON jobs(ordering_key, id) WHERE ordering_key IS NOT NULL AND state <> 'dead';
CREATE UNIQUE INDEX jobs_unique ON jobs(unique_key) WHERE state <> 'dead';
CREATE INDEX jobs_dead ON jobs(id) WHERE state = 'dead';

CREATE TABLE job_periodic (
    name      TEXT PRIMARY KEY,
    last_slot TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE job_periodic;
DROP TABLE jobs;
