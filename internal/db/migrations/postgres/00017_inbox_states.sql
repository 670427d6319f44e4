-- +goose Up
-- The shared inbox (issue 5, package inbox): four statuses, snooze, team,
-- unread state, the silence timer of "return to bot", per-workspace inbox
-- settings, and the indexes of the conversation list.
--
-- Statuses: open (needs a person), pending (the bot or the AI handles it),
-- snoozed (until snoozed_until), resolved (was "closed"). A CHECK cannot be
-- altered in SQLite and conversations cannot be rebuilt (DROP TABLE would
-- cascade to messages), so the column is replaced: add, copy, drop, rename.
ALTER TABLE conversations ADD COLUMN status_v2 TEXT NOT NULL DEFAULT 'open'
    CHECK (status_v2 IN ('open','pending','snoozed','resolved'));
UPDATE conversations SET status_v2 = CASE status WHEN 'closed' THEN 'resolved' ELSE 'open' END;
ALTER TABLE conversations DROP COLUMN status;
ALTER TABLE conversations RENAME COLUMN status_v2 TO status;

ALTER TABLE conversations ADD COLUMN snoozed_until TIMESTAMPTZ;      -- when a snoozed conversation wakes
ALTER TABLE conversations ADD COLUMN team_id TEXT;                 -- the team answering it (package team's teams.id)
ALTER TABLE conversations ADD COLUMN agent_last_seen_at TIMESTAMPTZ; -- an agent last opened it: unread = last_inbound_at after this
ALTER TABLE conversations ADD COLUMN seen_sent_upto TIMESTAMPTZ;     -- the inbound time mark_seen was last sent for (once per new inbound)
ALTER TABLE conversations ADD COLUMN human_at TIMESTAMPTZ;           -- a person's last message (Parley or the Page inbox): the silence timer

-- The list, most recently active first, keyset-paged on (last_activity_at,
-- id): one index per filter that a list opens with, so the first page and
-- a deep page walk an index in order instead of sorting a million rows.
DROP INDEX conversations_recent;
CREATE INDEX conversations_recent ON conversations(workspace_id, last_activity_at, id);
CREATE INDEX conversations_status ON conversations(workspace_id, status, last_activity_at, id);
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, last_activity_at, id);
CREATE INDEX conversations_team ON conversations(workspace_id, team_id, last_activity_at, id);

-- Per-workspace inbox settings; a workspace without a row has the defaults
-- (everything off).
CREATE TABLE inbox_settings (
    workspace_id               TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    return_to_bot_after_seconds INTEGER NOT NULL DEFAULT 0,  -- hand back to the bot after a person's silence (0: never)
    updated_at                 TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE inbox_settings;
DROP INDEX conversations_team;
DROP INDEX conversations_assignee;
DROP INDEX conversations_status;
DROP INDEX conversations_recent;
CREATE INDEX conversations_recent ON conversations(workspace_id, last_activity_at);
ALTER TABLE conversations DROP COLUMN human_at;
ALTER TABLE conversations DROP COLUMN seen_sent_upto;
ALTER TABLE conversations DROP COLUMN agent_last_seen_at;
ALTER TABLE conversations DROP COLUMN team_id;
ALTER TABLE conversations DROP COLUMN snoozed_until;
ALTER TABLE conversations ADD COLUMN status_v1 TEXT NOT NULL DEFAULT 'open' CHECK (status_v1 IN ('open','closed'));
UPDATE conversations SET status_v1 = CASE status WHEN 'resolved' THEN 'closed' ELSE 'open' END;
ALTER TABLE conversations DROP COLUMN status;
ALTER TABLE conversations RENAME COLUMN status_v1 TO status;
