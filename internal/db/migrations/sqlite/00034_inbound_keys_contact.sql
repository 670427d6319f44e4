-- +goose Up
-- A redelivery key (an event without a platform ID) now names the contact
-- it came from, so erasing the contact deletes its keys too (issue 6:
-- "deduplication keys"). Keys stored before this have none and expire with
-- the operational logs. Only events without a message ID write here, so
-- the index costs the webhook path little.
ALTER TABLE inbound_keys ADD COLUMN contact_id TEXT;
CREATE INDEX inbound_keys_contact ON inbound_keys(contact_id) WHERE contact_id IS NOT NULL;

-- +goose Down
DROP INDEX inbound_keys_contact;
ALTER TABLE inbound_keys DROP COLUMN contact_id;
