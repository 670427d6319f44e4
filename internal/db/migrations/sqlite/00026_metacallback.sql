-- +goose Up
-- Meta's data-deletion and deauthorize callbacks (package metacallback,
-- promise P-32, security.md §3.H). Nothing here holds a Facebook ID in
-- clear: app-scoped user IDs (ASIDs) are kept only as asid_hash, the hex
-- HMAC-SHA256 of the ID under a key derived from the master key
-- ("meta-asid/v1"), which is enough to match a later callback and says nothing
-- to whoever reads a dump.

-- The identity map: which channels got their token from which Facebook
-- user (recorded when a member connects Pages through Facebook Login), and
-- which contacts are known to be that person (opt-in with an app-scoped ID,
-- Meta's ID matching). Exactly one of channel_id, contact_id is set.
-- Deleting the channel or the contact deletes the row; deleting the member
-- keeps it (the channel still holds the token of their Facebook login).
CREATE TABLE meta_identities (
    id           TEXT PRIMARY KEY,
    asid_hash    TEXT NOT NULL,                    -- hex HMAC of the app-scoped user ID
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id   TEXT REFERENCES channels(id) ON DELETE CASCADE,
    contact_id   TEXT,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL, -- the member who logged in (channel rows); the origin outlives their account
    source       TEXT NOT NULL CHECK (source IN ('login','opt_in','id_matching')),
    created_at   TIMESTAMP NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE,
    CONSTRAINT meta_identities_one_target CHECK ((channel_id IS NULL) <> (contact_id IS NULL))
);
-- A channel's token came from one login; a contact is one person.
CREATE UNIQUE INDEX meta_identities_channel ON meta_identities(channel_id) WHERE channel_id IS NOT NULL;
CREATE UNIQUE INDEX meta_identities_contact ON meta_identities(contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX meta_identities_asid ON meta_identities(asid_hash);

-- Data-deletion requests, from Meta's callback or an operator's import of
-- the ID lists Meta e-mails. The confirmation code handed to Meta is never
-- stored: code_hash is its hex SHA-256, enough to find the request when the
-- person opens the status page. The status page shows state and dates
-- only; the counts say what was done, never to whom.
CREATE TABLE meta_deletion_requests (
    id                    TEXT PRIMARY KEY,
    code_hash             TEXT NOT NULL UNIQUE,
    asid_hash             TEXT NOT NULL,           -- hex HMAC of the app-scoped user ID while open; '' once completed
    source                TEXT NOT NULL CHECK (source IN ('callback','import')),
    state                 TEXT NOT NULL CHECK (state IN ('received','in_progress','completed')),
    channels_disconnected INTEGER NOT NULL DEFAULT 0,
    contacts_erased       INTEGER NOT NULL DEFAULT 0,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    completed_at          TIMESTAMP
);
-- At most one open request per person: two callbacks racing for the same
-- person end with one request (the loser finds the winner's).
CREATE UNIQUE INDEX meta_deletion_requests_open ON meta_deletion_requests(asid_hash) WHERE state <> 'completed';

-- +goose Down
DROP TABLE meta_deletion_requests;
DROP TABLE meta_identities;
