-- +goose Up
-- Flows (package flow): the documents businesses write their chatbots in,
-- as an editable draft and as numbered, immutable published versions.
-- Documents are sealed under the workspace key (associated data workspace,
-- table, column and flow/version): they hold the secret values of HTTP
-- node headers, and destroying the workspace's keys shreds them with the
-- rest of the tenant (P-33). The name stays in clear for lists.

CREATE TABLE flows (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,                 -- the draft's name, at most 200 characters
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','archived')),
    draft             BLOB NOT NULL,                 -- the draft document (JSON) sealed under the workspace key
    draft_rev         INTEGER NOT NULL DEFAULT 1,    -- counts draft saves
    draft_updated_at  TIMESTAMP NOT NULL,
    published_version INTEGER,                       -- the live version; NULL until first published
    published_rev     INTEGER,                       -- draft_rev when it was last published
    published_at      TIMESTAMP,
    created_by        TEXT NOT NULL DEFAULT '',      -- user:<id> or api_key:<id>
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    archived_at       TIMESTAMP,
    -- The parent key of composite foreign keys from rows that name a flow
    -- (versions, sessions, statistics), so none can point across workspaces.
    UNIQUE (workspace_id, id)
);
CREATE INDEX flows_workspace ON flows(workspace_id, created_at);

-- Published versions, numbered 1, 2, … per flow and never changed: a
-- conversation that started on version N finishes on version N.
CREATE TABLE flow_versions (
    flow_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    document     BLOB NOT NULL,                      -- the document (JSON) sealed under the workspace key
    published_at TIMESTAMP NOT NULL,
    published_by TEXT NOT NULL DEFAULT '',           -- user:<id> or api_key:<id>
    PRIMARY KEY (flow_id, version),
    FOREIGN KEY (workspace_id, flow_id) REFERENCES flows(workspace_id, id) ON DELETE CASCADE
);

-- One counter per workspace, bumped in every transaction that changes
-- which flow versions are live (publish, archive, restore). Runners cache
-- the compiled triggers of a workspace by it and compare one row to notice
-- a change, on any replica.
CREATE TABLE flow_revisions (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    revision     BIGINT NOT NULL
);

-- +goose Down
DROP TABLE flow_revisions;
DROP TABLE flow_versions;
DROP INDEX flows_workspace;
DROP TABLE flows;
