-- +goose Up
-- Lead stage and broadcast subscription of contacts (package contact),
-- promises P-25 (leads with stages), P-26 and P-40 (broadcasts only to people
-- who opted in; withdrawal recorded). Both are kept in clear: segments and
-- broadcasts select on them, and neither says anything about who the person
-- is. Who made the last change is kept beside it, like field values and tags.

-- The lead stage: a short label (issue 5 gives stages definitions), NULL
-- while the contact has none.
ALTER TABLE contacts ADD COLUMN stage TEXT;
ALTER TABLE contacts ADD COLUMN stage_by TEXT NOT NULL DEFAULT '';          -- user:<id>, api_key:<id>, flow:<id>, ai, system
ALTER TABLE contacts ADD COLUMN stage_updated_at TIMESTAMP;

-- Broadcast opt-in. Nobody is subscribed until they (or someone on their
-- behalf, or a flow they answered) opt in; subscribed_at is the last opt-in,
-- unsubscribed_at the last withdrawal, both kept as the consent record.
ALTER TABLE contacts ADD COLUMN subscribed BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN subscribed_at TIMESTAMP;
ALTER TABLE contacts ADD COLUMN unsubscribed_at TIMESTAMP;
ALTER TABLE contacts ADD COLUMN subscription_by TEXT NOT NULL DEFAULT '';   -- who made the last change

-- +goose Down
ALTER TABLE contacts DROP COLUMN subscription_by;
ALTER TABLE contacts DROP COLUMN unsubscribed_at;
ALTER TABLE contacts DROP COLUMN subscribed_at;
ALTER TABLE contacts DROP COLUMN subscribed;
ALTER TABLE contacts DROP COLUMN stage_updated_at;
ALTER TABLE contacts DROP COLUMN stage_by;
ALTER TABLE contacts DROP COLUMN stage;
