-- +goose Up
-- Retention (package retention, promise P-35, security.md §3.N): how long
-- each workspace keeps each class of data, and the legal holds that stop
-- retention from deleting anything of a workspace or of one contact.

-- One row per workspace and class the workspace changed from the default
-- (a missing row means the default of package retention's table). days is
-- how long rows of the class are kept; 0 means for the workspace's
-- lifetime (allowed only for message content and attachments).
CREATE TABLE retention_settings (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    class        TEXT NOT NULL,                 -- message_content, attachments, raw_payloads, operational_logs, audit_log, exports
    days         INTEGER NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT '',      -- user:<id> or api_key:<id>
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, class)
);

-- Legal holds (N-7): while a row exists, retention deletes nothing of the
-- workspace (contact_id NULL) or nothing of that contact. reason is the
-- admin's short label for the hold (a case number), shown to admins.
-- Erasing the contact removes its hold with it.
CREATE TABLE retention_holds (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',      -- user:<id> or api_key:<id>
    created_at   TIMESTAMP NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
-- At most one workspace hold and one hold per contact.
CREATE UNIQUE INDEX retention_holds_workspace ON retention_holds(workspace_id) WHERE contact_id IS NULL;
CREATE UNIQUE INDEX retention_holds_contact ON retention_holds(workspace_id, contact_id) WHERE contact_id IS NOT NULL;

-- +goose Down
DROP TABLE retention_holds;
DROP TABLE retention_settings;
