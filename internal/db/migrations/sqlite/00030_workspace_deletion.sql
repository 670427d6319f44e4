-- +goose Up
-- Workspace deletion (promise P-33, security.md §3.O O-5/O-6, package
-- workspace delete.go). An owner's request sets deletion_requested_at: from
-- that moment the access check refuses the workspace to everyone (404), as
-- if it did not exist. purge_at is when the purge job deletes every row of
-- it and destroys its keys; until then the owner may cancel, which clears
-- both columns and gives everything back. Both are NULL for a live
-- workspace.
ALTER TABLE workspaces ADD COLUMN deletion_requested_at TIMESTAMP;
ALTER TABLE workspaces ADD COLUMN purge_at TIMESTAMP;
-- Set by the purge's first step, which destroys the keys and records the
-- tombstone: a purge resumed after a crash does not repeat them, and a
-- workspace whose purge started can no longer be cancelled.
ALTER TABLE workspaces ADD COLUMN purge_started_at TIMESTAMP;
-- The purge job's sweep looks for workspaces due to be purged.
CREATE INDEX workspaces_purge ON workspaces(purge_at) WHERE purge_at IS NOT NULL;

-- +goose Down
DROP INDEX workspaces_purge;
ALTER TABLE workspaces DROP COLUMN purge_started_at;
ALTER TABLE workspaces DROP COLUMN purge_at;
ALTER TABLE workspaces DROP COLUMN deletion_requested_at;
