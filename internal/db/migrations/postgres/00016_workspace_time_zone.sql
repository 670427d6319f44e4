-- +goose Up
-- The workspace's time zone, an IANA name ("Asia/Phnom_Penh"): flows read
-- business hours that name no zone of their own in it. Existing workspaces
-- keep UTC, which is how their flows have run so far.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- +goose Down
ALTER TABLE workspaces DROP COLUMN time_zone;
