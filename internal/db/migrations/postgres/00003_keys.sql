-- +goose Up
-- Random data keys, stored only wrapped (security.md §2.3). The master key
-- that unwraps them never enters the database, so a dump alone opens nothing
-- (promise P-30). Destroying a key deletes its row: whatever it sealed, here
-- and in every copy of the sealed values, becomes unreadable (P-33).

-- Per-workspace keys. Each row is the 32-byte key sealed under the master's
-- "dek-wrap/v1" key; the envelope names the master key ID and its associated
-- data binds it to ("ws-dek", workspace_id, key_id). Rotation adds a new
-- primary row and keeps the old ones, which still open what they sealed.
CREATE TABLE workspace_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key_id       BIGINT NOT NULL CHECK (key_id BETWEEN 1 AND 4294967295),
    wrapped      BYTEA NOT NULL,
    is_primary   BOOLEAN NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, key_id)
);
CREATE UNIQUE INDEX workspace_keys_primary ON workspace_keys(workspace_id) WHERE is_primary;

-- Per-contact keys, one per contact, created on the first seal and wrapped
-- under the workspace key wrapped_by (see the SQLite migration for details).
CREATE TABLE contact_keys (
    workspace_id TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    key_id       BIGINT NOT NULL CHECK (key_id BETWEEN 1 AND 4294967295),
    wrapped_by   BIGINT NOT NULL,
    wrapped      BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, wrapped_by) REFERENCES workspace_keys(workspace_id, key_id) ON DELETE CASCADE
);
CREATE INDEX contact_keys_wrapped_by ON contact_keys(workspace_id, wrapped_by);

-- +goose Down
DROP TABLE contact_keys;
DROP TABLE workspace_keys;
