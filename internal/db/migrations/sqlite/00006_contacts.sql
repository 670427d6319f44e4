-- +goose Up
-- People who message a connected channel (package contact). One row per
-- (channel, platform-scoped ID): a PSID is only meaningful for its Page.
-- Profile fields are exactly what the platform's profile API returns and
-- nothing more (P-14); names and picture are personal data, sealed under the
-- contact's own key so destroying that key erases them everywhere (P-33).
CREATE TABLE contacts (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id         TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id        TEXT NOT NULL,              -- PSID (Messenger), IGSID, WhatsApp ID
    first_name         BLOB,                       -- sealed under the contact key
    last_name          BLOB,                       -- sealed under the contact key
    profile_pic        BLOB,                       -- sealed URL (it expires at the platform)
    locale             TEXT NOT NULL DEFAULT '',
    profile_state      TEXT NOT NULL DEFAULT 'pending' CHECK (profile_state IN ('pending','fetched','unavailable')),
    profile_fetched_at TIMESTAMP,                  -- last attempt that got an answer
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contacts_channel_external ON contacts(channel_id, external_id);
CREATE INDEX contacts_workspace ON contacts(workspace_id, created_at);

-- +goose Down
DROP TABLE contacts;
