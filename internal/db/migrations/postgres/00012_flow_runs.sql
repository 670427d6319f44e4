-- +goose Up
-- The flow runner (package flow/run), issue 4: one session per conversation,
-- node statistics and the latest errors per flow.

-- A conversation's flow session: which flow version it runs (pinned: a
-- session started on version N finishes on N), where it waits, and why.
-- token grows with every step; the jobs that resume a session (a delay, a
-- question's timeout, an HTTP answer) carry the token they were made for,
-- so a job a reply or a newer run made stale does nothing. vars are the
-- flow variables, personal data (answers), so they are sealed under the
-- contact's key (associated data workspace, "flow_sessions", "vars",
-- conversation ID): erasing the contact erases them. The row outlives the
-- run for last_default_at, the default trigger's per-contact cooldown.
-- status 'starting' is a flow chosen for a new contact whose messages read
-- the contact's name: it starts once the profile fetch ends, or at deadline.
CREATE TABLE flow_sessions (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id      TEXT NOT NULL,
    flow_id         TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 0,
    node_id         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'ended' CHECK (status IN ('running','awaiting','waiting','starting','ended')),
    vars            BYTEA,                         -- sealed JSON object; NULL when there are none
    attempts        INTEGER NOT NULL DEFAULT 0,    -- invalid answers to the question waited on
    token           BIGINT NOT NULL DEFAULT 0,
    deadline        TIMESTAMPTZ,                   -- when the wait ends (delay, question timeout, profile)
    last_default_at TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX flow_sessions_flow ON flow_sessions(workspace_id, flow_id, version) WHERE status <> 'ended';

-- How many sessions entered, completed and dropped each node of each
-- published version. A row is split in shards (by conversation) so that
-- busy flows do not make every conversation's transaction wait on one row;
-- readers add the shards up.
CREATE TABLE flow_node_stats (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    flow_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    node_id      TEXT NOT NULL,
    shard        INTEGER NOT NULL,
    entered      BIGINT NOT NULL DEFAULT 0,
    completed    BIGINT NOT NULL DEFAULT 0,
    dropped      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, flow_id, version, node_id, shard),
    FOREIGN KEY (workspace_id, flow_id) REFERENCES flows(workspace_id, id) ON DELETE CASCADE
);

-- What went wrong while running a flow, for its author: a loop stopped by
-- the step bound, an HTTP call that failed, a value a field refused. The
-- messages are Parley's own words and never carry contact data. Only the
-- latest ones per flow are kept.
CREATE TABLE flow_errors (
    id           TEXT PRIMARY KEY,                 -- UUIDv7: time-ordered
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    flow_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    node_id      TEXT NOT NULL DEFAULT '',
    message      TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, flow_id) REFERENCES flows(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX flow_errors_flow ON flow_errors(workspace_id, flow_id, id);

-- +goose Down
DROP TABLE flow_errors;
DROP TABLE flow_node_stats;
DROP TABLE flow_sessions;
