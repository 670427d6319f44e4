-- +goose NO TRANSACTION
-- +goose Up
-- Contacts without a channel identity, and contacts with more than one
-- (package contact, issue 5: CSV import, API-created leads, merging two
-- contacts).
--
-- 1. contacts.channel_id and contacts.external_id become nullable: a person
--    added by hand or imported has not written on any channel yet. Both are
--    NULL or neither is. created_by says who added such a contact.
--
-- SQLite cannot drop NOT NULL with ALTER TABLE, so contacts is rebuilt the
-- way https://www.sqlite.org/lang_altertable.html#otheralter describes.
-- Foreign keys MUST be off while the old table is dropped: with them on,
-- DROP TABLE deletes every row first, and ON DELETE CASCADE would take every
-- conversation, message, field value, tag, flow run… with it. The pragma is
-- a no-op inside a transaction, hence NO TRANSACTION: goose runs these
-- statements one by one on one connection (the single writer), and the
-- rebuild itself is one explicit transaction, all or nothing. The tables
-- that reference contacts name it, not its storage, so they follow the new
-- table. Every index of contacts is created again (the contact package's
-- migration test compares the schema before and after, so an index or
-- trigger added on contacts by a lower-numbered sibling migration cannot be
-- lost unnoticed).
--
-- 2. contact_identities: the channel identities merged into a contact
-- (contact.Store.Merge). A contact's first identity stays on contacts, so
-- the webhook's hot path still costs one indexed SELECT; only a miss there
-- looks here. (channel_id, external_id) is unique here as on contacts, and
-- (workspace_id, contact_id, channel_id) is unique because a contact has at
-- most one identity per channel (Merge refuses two people on one Page); that
-- index also serves the inbox's join from a conversation to the PSID it
-- sends to, and the cascade from contacts.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE contacts_rebuild (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id         TEXT REFERENCES channels(id) ON DELETE CASCADE,   -- NULL: no channel identity (yet)
    external_id        TEXT,                       -- PSID (Messenger), IGSID, WhatsApp ID; NULL with channel_id
    first_name         BLOB,                       -- sealed under the contact key
    last_name          BLOB,                       -- sealed under the contact key
    profile_pic        BLOB,                       -- sealed URL (it expires at the platform)
    locale             TEXT NOT NULL DEFAULT '',
    profile_state      TEXT NOT NULL DEFAULT 'pending' CHECK (profile_state IN ('pending','fetched','unavailable')),
    profile_fetched_at TIMESTAMP,                  -- last attempt that got an answer
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    stage              TEXT,
    stage_by           TEXT NOT NULL DEFAULT '',
    stage_updated_at   TIMESTAMP,
    subscribed         BOOLEAN NOT NULL DEFAULT 0,
    subscribed_at      TIMESTAMP,
    unsubscribed_at    TIMESTAMP,
    subscription_by    TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL DEFAULT '',   -- who added a contact without identity: user:<id>, api_key:<id>, system
    CONSTRAINT contacts_identity_pair CHECK ((channel_id IS NULL) = (external_id IS NULL))
);

INSERT INTO contacts_rebuild (id, workspace_id, channel_id, external_id, first_name, last_name, profile_pic, locale,
    profile_state, profile_fetched_at, created_at, updated_at, stage, stage_by, stage_updated_at,
    subscribed, subscribed_at, unsubscribed_at, subscription_by)
SELECT id, workspace_id, channel_id, external_id, first_name, last_name, profile_pic, locale,
    profile_state, profile_fetched_at, created_at, updated_at, stage, stage_by, stage_updated_at,
    subscribed, subscribed_at, unsubscribed_at, subscription_by
FROM contacts;

DROP TABLE contacts;
ALTER TABLE contacts_rebuild RENAME TO contacts;

CREATE UNIQUE INDEX contacts_channel_external ON contacts(channel_id, external_id);
CREATE INDEX contacts_workspace ON contacts(workspace_id, created_at);
CREATE UNIQUE INDEX contacts_workspace_id ON contacts(workspace_id, id);
CREATE INDEX search_contacts_feed ON contacts(updated_at, id);           -- 00020 (package search)

CREATE TABLE contact_identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    channel_id   TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,                    -- PSID (Messenger), IGSID, WhatsApp ID
    created_at   TIMESTAMP NOT NULL,               -- when it was merged in
    PRIMARY KEY (channel_id, external_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX contact_identities_contact ON contact_identities(workspace_id, contact_id, channel_id);

COMMIT;

PRAGMA foreign_keys = ON;

-- +goose Down
-- Contacts without a channel identity cannot exist in the older schema:
-- they are deleted first, foreign keys on, so that their dependents go with
-- them. Merged-in identities are forgotten (their conversations stay with
-- the contact they were merged into).
DELETE FROM contacts WHERE channel_id IS NULL;

PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

DROP TABLE contact_identities;

CREATE TABLE contacts_rebuild (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id         TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id        TEXT NOT NULL,
    first_name         BLOB,
    last_name          BLOB,
    profile_pic        BLOB,
    locale             TEXT NOT NULL DEFAULT '',
    profile_state      TEXT NOT NULL DEFAULT 'pending' CHECK (profile_state IN ('pending','fetched','unavailable')),
    profile_fetched_at TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    stage              TEXT,
    stage_by           TEXT NOT NULL DEFAULT '',
    stage_updated_at   TIMESTAMP,
    subscribed         BOOLEAN NOT NULL DEFAULT 0,
    subscribed_at      TIMESTAMP,
    unsubscribed_at    TIMESTAMP,
    subscription_by    TEXT NOT NULL DEFAULT ''
);

INSERT INTO contacts_rebuild (id, workspace_id, channel_id, external_id, first_name, last_name, profile_pic, locale,
    profile_state, profile_fetched_at, created_at, updated_at, stage, stage_by, stage_updated_at,
    subscribed, subscribed_at, unsubscribed_at, subscription_by)
SELECT id, workspace_id, channel_id, external_id, first_name, last_name, profile_pic, locale,
    profile_state, profile_fetched_at, created_at, updated_at, stage, stage_by, stage_updated_at,
    subscribed, subscribed_at, unsubscribed_at, subscription_by
FROM contacts;

DROP TABLE contacts;
ALTER TABLE contacts_rebuild RENAME TO contacts;

CREATE UNIQUE INDEX contacts_channel_external ON contacts(channel_id, external_id);
CREATE INDEX contacts_workspace ON contacts(workspace_id, created_at);
CREATE UNIQUE INDEX contacts_workspace_id ON contacts(workspace_id, id);
CREATE INDEX search_contacts_feed ON contacts(updated_at, id);           -- 00020 (package search)

COMMIT;

PRAGMA foreign_keys = ON;
