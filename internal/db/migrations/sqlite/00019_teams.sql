-- +goose Up
-- Teams, agent availability and round-robin assignment (package team,
-- issue 5). Every row carries its workspace_id; team members and
-- availability rows point at the membership itself through a composite
-- foreign key on members(workspace_id, user_id), so removing someone from
-- the workspace removes them from its teams and forgets their availability
-- in the same statement, and no row can name another workspace's member or
-- team (P-03).

-- A team groups members who answer the same kind of conversation. name_key
-- is the trimmed NFC name case-folded in Go (SQL lower() depends on the
-- engine), so "Sales" and "SALES" are one team.
CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    auto_assign  BOOLEAN NOT NULL DEFAULT 0,      -- conversations routed to the team are assigned round-robin
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, name_key),
    UNIQUE (workspace_id, id)
);

-- Who is in which team. Only owners, admins and agents are added (package
-- team checks the role; a member later demoted to viewer stays listed but
-- is never picked).
CREATE TABLE team_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    team_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES members(workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX team_members_user ON team_members(workspace_id, user_id);

-- Per-workspace assignment settings, created on first use. Pick locks this
-- row (FOR UPDATE on PostgreSQL) so that two transactions assigning at once
-- take turns and cannot both push one agent past capacity. assign_seq
-- numbers the picks, so rotation stays exact when two picks share a
-- timestamp.
CREATE TABLE team_settings (
    workspace_id     TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    default_capacity INTEGER NOT NULL DEFAULT 10 CHECK (default_capacity >= 0),
    auto_assign      BOOLEAN NOT NULL DEFAULT 0,  -- new conversations with no team are assigned round-robin
    assign_seq       BIGINT NOT NULL DEFAULT 0,
    updated_at       TIMESTAMP NOT NULL
);

-- Each member's chosen status and presence. status is what the member
-- chose; last_seen_at is written by their dashboard's live connection (at
-- most every 30 s). A member is online only when both say so.
CREATE TABLE agent_availability (
    workspace_id     TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'online' CHECK (status IN ('online','busy','offline')),
    capacity         INTEGER CHECK (capacity IS NULL OR capacity >= 0),  -- NULL: the workspace default
    last_seen_at     TIMESTAMP,
    last_assigned_at TIMESTAMP,
    assign_seq       BIGINT NOT NULL DEFAULT 0,     -- team_settings.assign_seq of their last pick; 0 = never
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES members(workspace_id, user_id) ON DELETE CASCADE
);

-- An agent's open load: their open and pending conversations. conversations
-- belongs to package inbox; team only reads it (and owns this index, which
-- keeps Pick's count proportional to the agent's load, not the workspace's
-- conversations).
CREATE INDEX conversations_assignee_load ON conversations(workspace_id, assignee_id, status) WHERE assignee_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_assignee_load;
DROP TABLE agent_availability;
DROP TABLE team_settings;
DROP TABLE team_members;
DROP TABLE teams;
