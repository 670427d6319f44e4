-- +goose Up
-- Raw webhook deliveries between acknowledgement and processing (package
-- webhook). A delivery is written, sealed under the platform key, before
-- Meta gets its 200, so nothing acknowledged is lost; it is deleted in the
-- transaction that applies its events. Deliveries that cannot be processed
-- (an authentic body that is not valid JSON) stay quarantined for a
-- operator to look at, and are purged by retention.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,                  -- UUIDv7: also the order of arrival
    source      TEXT NOT NULL,                     -- meta
    body        BLOB NOT NULL,                     -- sealed raw bytes exactly as received
    state       TEXT NOT NULL CHECK (state IN ('pending','quarantined')),
    error       TEXT NOT NULL DEFAULT '',          -- why it was quarantined; never content
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_state ON webhook_deliveries(state, id);

-- +goose Down
DROP TABLE webhook_deliveries;
