-- +goose Up
-- Contact activity log (package activity) and pipelines with a board
-- (package pipeline), promise P-25. Every row carries its workspace_id and
-- every link between two workspace-owned rows is a composite foreign key on
-- (workspace_id, id), so not even a buggy query can connect two workspaces
-- (P-03).

-- What happened to a contact: notes, stage and pipeline moves, calls,
-- imports, merges. data is the entry's details (a JSON object of strings,
-- which may hold personal data such as note text or call details) sealed as
-- a whole under the contact's key, associated data (workspace,
-- "contact_activity", "data", id): destroying the key erases it everywhere,
-- backups included (P-33), and deleting the contact deletes the rows. kind
-- is checked against the closed list in Go, not by a CHECK: a new kind then
-- needs no table rebuild on SQLite. edited_at is set when a note is edited.
CREATE TABLE contact_activity (
    id           TEXT PRIMARY KEY,               -- UUIDv7: time ordered, the keyset
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,                  -- user:<id>, api_key:<id>, flow:<id>, ai, system
    data         BLOB NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    edited_at    TIMESTAMP,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
-- A contact's log, newest first, by keyset on id.
CREATE INDEX contact_activity_contact ON contact_activity(workspace_id, contact_id, id);

-- Pipelines: workspace configuration, in clear and audited. The workspace's
-- default pipeline (is_default, at most one) is the one whose stage names are
-- the contacts' lead stage (contacts.stage); see package pipeline.
CREATE TABLE pipelines (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,                  -- name case-folded in Go
    position     INTEGER NOT NULL,
    is_default   BOOLEAN NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, name_key),
    UNIQUE (workspace_id, id)
);
CREATE UNIQUE INDEX pipelines_default ON pipelines(workspace_id) WHERE is_default;

-- A pipeline's stages, the board's columns, in position order. outcome says
-- whether reaching the stage means the deal is won or lost ('' for neither).
-- UNIQUE (workspace_id, pipeline_id, id) is the parent key that lets a card
-- point at a stage of its own pipeline only.
CREATE TABLE pipeline_stages (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    pipeline_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    color        TEXT NOT NULL DEFAULT '',       -- #rrggbb, or '' for the dashboard's default
    outcome      TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'won', 'lost')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (pipeline_id, name_key),
    UNIQUE (workspace_id, pipeline_id, id),
    FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipelines(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages(pipeline_id, position);

-- A contact's card on a pipeline's board: at most one per pipeline, in one
-- stage of that pipeline (the composite key makes another pipeline's or
-- another workspace's stage impossible), ordered inside its column by
-- position (gapped integers, renumbered when a gap runs out).
CREATE TABLE pipeline_cards (
    workspace_id TEXT NOT NULL,
    pipeline_id  TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    stage_id     TEXT NOT NULL,
    position     BIGINT NOT NULL,
    moved_at     TIMESTAMP NOT NULL,
    moved_by     TEXT NOT NULL,                  -- user:<id>, api_key:<id>, flow:<id>, ai, system
    PRIMARY KEY (pipeline_id, contact_id),
    FOREIGN KEY (workspace_id, pipeline_id) REFERENCES pipelines(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, pipeline_id, stage_id) REFERENCES pipeline_stages(workspace_id, pipeline_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
-- A column of the board in order (keyset on position, contact_id) and its
-- count, both answered from the index alone.
CREATE INDEX pipeline_cards_column ON pipeline_cards(workspace_id, pipeline_id, stage_id, position, contact_id);
-- A contact's cards (profile, erasure).
CREATE INDEX pipeline_cards_contact ON pipeline_cards(workspace_id, contact_id);

-- +goose Down
DROP TABLE pipeline_cards;
DROP TABLE pipeline_stages;
DROP TABLE pipelines;
DROP TABLE contact_activity;
