-- +goose Up
-- Encrypted object storage (package media, promise P-31): what Parley
-- knows about each stored file. The file itself lives in the object store
-- (local disk under the data directory by default), sealed under the key of
-- the contact it belongs to before it is written, so neither the disk nor a
-- storage provider can read it, and destroying the contact's key shreds it.
--
-- Nothing here holds content in clear: the file name (which a customer or
-- an agent chose, and may say anything) is sealed under the contact key
-- like the file. No digest of the plaintext is kept: a hash of a known
-- photo would be a fingerprint that survives the key's destruction.
-- storage_key is server-generated (workspace/contact/object IDs) and never
-- derived from the file name.
--
-- Deleting a contact, a conversation or the workspace deletes the rows
-- here (cascade); the files they pointed at are removed after commit by the
-- erasure hooks, or by the next retention sweep (Store.Purge), which also
-- deletes files no row points at any more. Until then they stay sealed. A
-- deleted message leaves its object to the retention of attachments.
CREATE TABLE media_objects (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id      TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    message_id      TEXT REFERENCES messages(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('image','video','audio','file')),
    content_type    TEXT NOT NULL,                 -- from the file's first bytes, never the client's word
    size_bytes      BIGINT  NOT NULL,              -- plaintext size
    name            BYTEA NOT NULL,                -- sealed under the contact key
    storage_key     TEXT NOT NULL UNIQUE,
    created_by      TEXT NOT NULL DEFAULT '',      -- user:<id>, api_key:<id>
    created_at      TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX media_objects_contact ON media_objects(workspace_id, contact_id);
CREATE INDEX media_objects_created ON media_objects(workspace_id, created_at);
CREATE INDEX media_objects_message ON media_objects(message_id) WHERE message_id IS NOT NULL;

-- +goose Down
DROP TABLE media_objects;
