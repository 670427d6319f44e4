-- +goose Up
-- Deleting a contact (erasure, merge, a workspace's purge) finds its flow
-- sessions through the foreign key (workspace_id, contact_id); without an
-- index that is a walk of every session of every workspace, while the
-- SQLite writer is held. One entry per conversation's session.
CREATE INDEX flow_sessions_contact ON flow_sessions(workspace_id, contact_id);

-- +goose Down
DROP INDEX flow_sessions_contact;
