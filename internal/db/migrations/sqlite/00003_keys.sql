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
    key_id       INTEGER NOT NULL CHECK (key_id BETWEEN 1 AND 4294967295), -- random uint32, named in every envelope it seals
    wrapped      BLOB NOT NULL,
    is_primary   BOOLEAN NOT NULL DEFAULT 0,                              -- the key new values are sealed under
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, key_id)
);
-- Exactly one primary per workspace (at most one here; keyring always
-- creates a workspace with one and rotation swaps it in one transaction).
CREATE UNIQUE INDEX workspace_keys_primary ON workspace_keys(workspace_id) WHERE is_primary;

-- Per-contact keys, one per contact, created on the first seal. Each row is
-- the 32-byte key sealed under the workspace key wrapped_by; the associated
-- data binds it to ("contact-dek", workspace_id, contact_id, key_id). There is
-- no foreign key to contacts (that table comes later and its rows are deleted
-- together with their key); the one to workspace_keys makes destroying the
-- workspace's keys take the contact keys with them.
CREATE TABLE contact_keys (
    workspace_id TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    key_id       INTEGER NOT NULL CHECK (key_id BETWEEN 1 AND 4294967295),
    wrapped_by   INTEGER NOT NULL,                                        -- key_id of the workspace key that wraps it
    wrapped      BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, wrapped_by) REFERENCES workspace_keys(workspace_id, key_id) ON DELETE CASCADE
);
CREATE INDEX contact_keys_wrapped_by ON contact_keys(workspace_id, wrapped_by);

-- +goose Down
DROP TABLE contact_keys;
DROP TABLE workspace_keys;
