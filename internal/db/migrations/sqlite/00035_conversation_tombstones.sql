-- +goose NO TRANSACTION
-- +goose Up
-- A deleted conversation gets a tombstone too (kind 'conversation'), so
-- restoring a backup from before the deletion deletes it again. SQLite
-- cannot change a CHECK, so the (small) tombstones table is rebuilt in one
-- transaction; nothing references it.
BEGIN;
CREATE TABLE tombstones_next (
    id           TEXT PRIMARY KEY,                -- UUIDv7: time ordered
    kind         TEXT NOT NULL CHECK (kind IN ('contact','conversation','workspace')),
    workspace_id TEXT NOT NULL DEFAULT '',        -- the contact's or conversation's workspace; '' for a workspace tombstone
    subject      TEXT NOT NULL,                   -- hex HMAC-SHA256 of the erased thing's ID
    created_at   TIMESTAMP NOT NULL
);
INSERT INTO tombstones_next (id, kind, workspace_id, subject, created_at)
    SELECT id, kind, workspace_id, subject, created_at FROM tombstones;
DROP TABLE tombstones;
ALTER TABLE tombstones_next RENAME TO tombstones;
CREATE UNIQUE INDEX tombstones_subject ON tombstones(kind, workspace_id, subject);
CREATE INDEX tombstones_at ON tombstones(created_at, id);
COMMIT;

-- +goose Down
BEGIN;
CREATE TABLE tombstones_prev (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('contact','workspace')),
    workspace_id TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
INSERT INTO tombstones_prev (id, kind, workspace_id, subject, created_at)
    SELECT id, kind, workspace_id, subject, created_at FROM tombstones WHERE kind <> 'conversation';
DROP TABLE tombstones;
ALTER TABLE tombstones_prev RENAME TO tombstones;
CREATE UNIQUE INDEX tombstones_subject ON tombstones(kind, workspace_id, subject);
CREATE INDEX tombstones_at ON tombstones(created_at, id);
COMMIT;
