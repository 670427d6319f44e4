-- +goose Up
-- Conversation timeline events, private notes with @mentions (package
-- timeline) and canned responses (package canned), issue 5.

-- The parent key of the composite foreign key below (id alone is already
-- unique; this index only lets the engine check the pair), as 00009 did
-- for contacts: an event cannot point at another workspace's conversation.
CREATE UNIQUE INDEX conversations_workspace_id ON conversations(workspace_id, id);

-- What happened to a conversation besides its messages: ownership,
-- assignment, team, status, snooze, flow, AI, hand-off, seen, and private
-- notes. data is a JSON object of strings with no personal data, in clear;
-- note is the text of a private note, sealed under the contact's key
-- (associated data workspace, "conversation_events", "note", id), so
-- destroying that key erases it everywhere, backups included (P-33).
CREATE TABLE conversation_events (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('owner','assignment','team','status','snooze','note','flow','ai','handoff','seen')),
    actor           TEXT NOT NULL,                   -- user:<id>, api_key:<id>, flow:<id>, ai, system, page, contact
    data            TEXT NOT NULL DEFAULT '{}',      -- JSON object of strings, no personal data
    note            BLOB,                            -- sealed note text; only for kind note
    edited_at       TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations(workspace_id, id) ON DELETE CASCADE
);
-- A conversation's timeline, newest first, in pages.
CREATE INDEX conversation_events_conversation ON conversation_events(conversation_id, created_at, id);

-- Members mentioned in a private note. The foreign key on members keeps
-- mentions to the note's workspace's members, and removing a member
-- removes their mentions; deleting the note removes its mentions.
CREATE TABLE conversation_mentions (
    workspace_id    TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    read_at         TIMESTAMP,
    PRIMARY KEY (event_id, user_id),
    FOREIGN KEY (workspace_id, event_id) REFERENCES conversation_events(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES members(workspace_id, user_id) ON DELETE CASCADE
);
-- "Mentions of me", newest first, and the unread ones.
CREATE INDEX conversation_mentions_user ON conversation_mentions(workspace_id, user_id, event_id);
CREATE INDEX conversation_mentions_unread ON conversation_mentions(workspace_id, user_id, event_id) WHERE read_at IS NULL;

-- Canned responses: workspace content written by its agents for every
-- contact ({{contact.first_name}} is filled in when sending), not personal
-- data, so in clear. shortcut is what an agent types after "/".
-- title_key is the title case-folded in Go, for prefix search the same on
-- both engines.
CREATE TABLE canned_responses (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    shortcut     TEXT NOT NULL,                      -- [a-z0-9][a-z0-9_-]{0,31}
    title        TEXT NOT NULL,
    title_key    TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',           -- user:<id>, api_key:<id>
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, shortcut)
);
CREATE INDEX canned_responses_title ON canned_responses(workspace_id, title_key);

-- +goose Down
DROP TABLE canned_responses;
DROP TABLE conversation_mentions;
DROP TABLE conversation_events;
DROP INDEX conversations_workspace_id;
