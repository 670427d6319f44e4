-- +goose Up
-- A workspace is one business (tenant). Every tenant-owned row carries its
-- workspace_id and every query is scoped by it (promise P-03).
CREATE TABLE workspaces (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    plan          TEXT NOT NULL,                 -- trial, starter, pro …
    trial_ends_at TIMESTAMP,                     -- when the trial turns the workspace read-only
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner','admin','agent','viewer')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user ON members(user_id);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    email_key    TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner','admin','agent','viewer')),
    token_hash   TEXT NOT NULL UNIQUE,           -- SHA-256 of the link token; the token itself is never stored
    invited_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    accepted_at  TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX invitations_workspace ON invitations(workspace_id);

-- API keys for the public REST API: only a SHA-256 of the key is stored (P-08).
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,                  -- first characters, shown so people can tell keys apart
    key_hash     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin','agent','viewer')),
    created_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_keys_workspace ON api_keys(workspace_id);

-- The audit log is append-only: rows can be added, never changed, and removed
-- only by retention once they are more than a year old (P-06).
CREATE TABLE audit_log (
    id               TEXT PRIMARY KEY,            -- UUIDv7, so ordered by time
    workspace_id     TEXT,                        -- NULL for account-level and platform events
    actor_user_id    TEXT,
    actor_api_key_id TEXT,
    impersonator_id  TEXT,
    action           TEXT NOT NULL,
    target_type      TEXT NOT NULL DEFAULT '',
    target_id        TEXT NOT NULL DEFAULT '',
    ip               TEXT NOT NULL DEFAULT '',
    request_id       TEXT NOT NULL DEFAULT '',
    details          TEXT NOT NULL DEFAULT '{}',
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);
CREATE INDEX audit_log_actor ON audit_log(actor_user_id, id);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_early_delete BEFORE DELETE ON audit_log
WHEN old.created_at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-365 days')
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are kept for 12 months');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_keys;
DROP TABLE invitations;
DROP TABLE members;
DROP TABLE workspaces;
