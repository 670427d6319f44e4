-- +goose Up
-- Erasure (package erasure, issue 6 item 4, promises P-33, P-34): the
-- tombstone log. One row per erased contact or deleted workspace, with no
-- content: the kind, the workspace a contact belonged to, and the subject
-- as a hex HMAC-SHA256 of its ID under a key derived from the master key
-- (never the ID itself), so the log can say that something was erased and
-- a restored backup can erase it again (erasure.Service.Replay) without
-- the log naming anyone. It has no foreign key: it outlives what it names.
CREATE TABLE tombstones (
    id           TEXT PRIMARY KEY,                -- UUIDv7: time ordered
    kind         TEXT NOT NULL CHECK (kind IN ('contact','workspace')),
    workspace_id TEXT NOT NULL DEFAULT '',        -- the contact's workspace; '' for a workspace tombstone
    subject      TEXT NOT NULL,                   -- hex HMAC-SHA256 of the contact or workspace ID
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX tombstones_subject ON tombstones(kind, workspace_id, subject);
CREATE INDEX tombstones_at ON tombstones(created_at, id);

-- +goose Down
DROP TABLE tombstones;
