-- +goose Up
-- Contacts without a channel identity, and contacts with more than one
-- (package contact, issue 5: CSV import, API-created leads, merging two
-- contacts). The SQLite twin of this file explains the design; PostgreSQL
-- drops NOT NULL in place, without rewriting the table.
--
-- 1. contacts.channel_id and contacts.external_id become nullable (a person
--    added by hand or imported has not written on any channel yet); both are
--    NULL or neither is. created_by says who added such a contact.
ALTER TABLE contacts ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE contacts ALTER COLUMN external_id DROP NOT NULL;
ALTER TABLE contacts ADD COLUMN created_by TEXT NOT NULL DEFAULT '';   -- user:<id>, api_key:<id>, system
ALTER TABLE contacts ADD CONSTRAINT contacts_identity_pair CHECK ((channel_id IS NULL) = (external_id IS NULL));

-- 2. The channel identities merged into a contact (contact.Store.Merge).
-- The first identity stays on contacts (the webhook's hot path); only a miss
-- there looks here. A contact has at most one identity per channel.
CREATE TABLE contact_identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    channel_id   TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,                    -- PSID (Messenger), IGSID, WhatsApp ID
    created_at   TIMESTAMPTZ NOT NULL,             -- when it was merged in
    PRIMARY KEY (channel_id, external_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX contact_identities_contact ON contact_identities(workspace_id, contact_id, channel_id);

-- +goose Down
-- Contacts without a channel identity cannot exist in the older schema:
-- they are deleted (their dependents with them).
DROP TABLE contact_identities;
DELETE FROM contacts WHERE channel_id IS NULL;
ALTER TABLE contacts DROP CONSTRAINT contacts_identity_pair;
ALTER TABLE contacts DROP COLUMN created_by;
ALTER TABLE contacts ALTER COLUMN external_id SET NOT NULL;
ALTER TABLE contacts ALTER COLUMN channel_id SET NOT NULL;
