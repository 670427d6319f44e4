-- +goose Up
-- Call-log sync (package calllog, issue 5 item 7, promise P-28): a phone
-- blind index of contacts (package contact), the keys of calls already
-- recorded (package calllog) and the scopes of API keys (package
-- workspace). Nothing here holds a phone number, a call or a name in clear.

-- Which contact has which phone number, as a blind index: digest is the
-- 32-byte HMAC of the E.164 number under the blind-index key bound to the
-- workspace (contact.PhoneDigest), so a call can be matched to its contact
-- without the number being stored in clear, and the same number in two
-- workspaces gives unrelated digests. One row per phone-type field value,
-- written and deleted with the value in the same transaction; deleting the
-- contact or the field deletes it.
CREATE TABLE contact_phones (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    field_id     TEXT NOT NULL,
    digest       BYTEA NOT NULL,
    PRIMARY KEY (contact_id, field_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, field_id) REFERENCES contact_fields(workspace_id, id) ON DELETE CASCADE
);
-- Lookup by number, covering: the contacts come out of the index alone.
CREATE INDEX contact_phones_digest ON contact_phones(workspace_id, digest, contact_id);

-- Calls already recorded on a contact's activity log, so that uploading
-- the same call again adds nothing. call_key is a blind HMAC of the number,
-- time and direction (package calllog) and exists only for matched calls:
-- an unmatched call leaves no trace at all. Deleting the contact deletes
-- its rows.
CREATE TABLE call_log_seen (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    call_key     BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, call_key),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);

-- What an API key may do beyond its role: a JSON list of scopes from the
-- closed list of package workspace (such as "call_logs:write"). Existing
-- keys get none and keep working for everything their role allows; only
-- routes that require a scope refuse them.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE api_keys DROP COLUMN scopes;
DROP TABLE call_log_seen;
DROP TABLE contact_phones;
