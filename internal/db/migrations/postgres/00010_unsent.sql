-- +goose Up
-- Outgoing messages not yet sent or whose outcome is pending. The inbox's
-- sweep reads them to give a send job to any that a crash left behind;
-- the index holds only those, so it stays small however long the history.
CREATE INDEX messages_unsent ON messages(updated_at) WHERE status IN ('queued','sending');

-- +goose Down
DROP INDEX messages_unsent;
