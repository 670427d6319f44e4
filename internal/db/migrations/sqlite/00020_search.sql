-- +goose Up
-- Search over sealed data (package search, docs/adr/0005). Nothing here is
-- plaintext: a document's grams (normalized trigrams and 1–2 code point word
-- prefixes of names, phones, e-mails and message text) are stored only as
-- 64-bit keyed digests under a per-workspace key derived from the master's
-- blind-index key. Every row hangs off its source by a cascading foreign key,
-- so deleting a contact (or a message) deletes its documents and their grams
-- in the same statement: erasure leaves nothing searchable (P-33, N-3, O-2).

-- One document per indexed thing: a contact's profile (message_id NULL) or
-- one message. The integer id keeps the postings below small.
CREATE TABLE search_docs (
    id              INTEGER PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    conversation_id TEXT,                          -- the message's conversation; NULL for a contact document
    message_id      TEXT REFERENCES messages(id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
-- The cascade from contacts, and re-indexing a contact.
CREATE INDEX search_docs_contact ON search_docs(workspace_id, contact_id);
-- At most one profile document per contact and one document per message.
CREATE UNIQUE INDEX search_docs_profile ON search_docs(contact_id) WHERE message_id IS NULL;
CREATE UNIQUE INDEX search_docs_message ON search_docs(message_id) WHERE message_id IS NOT NULL;

-- Postings: (digest of a gram, document). The digest is keyed per workspace,
-- so equal grams of two workspaces never share a digest; WITHOUT ROWID makes
-- the primary key the table (about 17 bytes a row).
CREATE TABLE search_grams (
    gram INTEGER NOT NULL,
    doc  INTEGER NOT NULL REFERENCES search_docs(id) ON DELETE CASCADE,
    PRIMARY KEY (gram, doc)
) WITHOUT ROWID;
-- The cascade from search_docs (without it every delete scans the postings).
CREATE INDEX search_grams_doc ON search_grams(doc);

-- Where the indexer is in each feed: the last (time, id) it indexed.
CREATE TABLE search_cursors (
    feed TEXT PRIMARY KEY,                         -- 'contacts' (updated_at, id) or 'messages' (created_at, id)
    at   TIMESTAMP NOT NULL,
    ref  TEXT NOT NULL
);

-- Contacts to re-index because a searchable field (phone, e-mail) changed,
-- which does not move contacts.updated_at. Deleted with the contact.
CREATE TABLE search_pending (
    workspace_id TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    queued_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);

-- The indexer's feeds read these in key order.
CREATE INDEX search_contacts_feed ON contacts(updated_at, id);
CREATE INDEX search_messages_feed ON messages(created_at, id);

-- +goose Down
DROP INDEX search_messages_feed;
DROP INDEX search_contacts_feed;
DROP TABLE search_pending;
DROP TABLE search_cursors;
DROP TABLE search_grams;
DROP TABLE search_docs;
