-- +goose Up
-- Custom fields and tags of contacts (package contact), promises P-15, P-20
-- and P-25. Every row carries its workspace_id, and the links between a
-- contact and a field or tag use composite foreign keys on (workspace_id, id):
-- even a buggy query cannot attach one workspace's field or tag to another
-- workspace's contact (P-03). Deleting a contact deletes its values and tags.

-- The parent key of those composite foreign keys (id alone is already
-- unique; this index only lets the engine check the pair).
CREATE UNIQUE INDEX contacts_workspace_id ON contacts(workspace_id, id);

-- Field definitions: workspace configuration, in clear. key is the stable
-- name flows and the API use ({{contact.fields.city}}); label is what people
-- read. An archived field keeps its key and its values but is hidden and
-- cannot be set.
CREATE TABLE contact_fields (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,                  -- [a-z][a-z0-9_]{0,39}
    label        TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type IN ('text','number','date','boolean','email','phone','choice')),
    choices      TEXT NOT NULL DEFAULT '[]',     -- JSON list of strings; only for type choice
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    archived_at  TIMESTAMP,
    UNIQUE (workspace_id, key),
    UNIQUE (workspace_id, id)
);

-- Field values: personal data, so value is the normalized text sealed under
-- the contact's key (associated data workspace, "contact_field_values",
-- "value", contact_id/field_id). Destroying the contact's key erases them
-- everywhere, backups included (P-33).
CREATE TABLE contact_field_values (
    contact_id   TEXT NOT NULL,
    field_id     TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    value        BLOB NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT '',       -- user:<id>, api_key:<id>, flow:<id>, ai, system
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_id, field_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, field_id) REFERENCES contact_fields(workspace_id, id) ON DELETE CASCADE
);
-- "Does this field hold any value?" (type changes) and segments by field.
CREATE INDEX contact_field_values_field ON contact_field_values(field_id, contact_id);

-- Tags: workspace configuration, in clear. name_key is the trimmed NFC name
-- case-folded in Go (SQL lower() depends on the engine and collation), so "VIP" and
-- "vip" are one tag.
CREATE TABLE tags (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    color        TEXT NOT NULL DEFAULT '',       -- #rrggbb, or '' for the dashboard's default
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, name_key),
    UNIQUE (workspace_id, id)
);

-- Which contact has which tag. Deleting a tag or a contact removes its rows.
CREATE TABLE contact_tags (
    contact_id   TEXT NOT NULL,
    tag_id       TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by   TEXT NOT NULL DEFAULT '',       -- user:<id>, api_key:<id>, flow:<id>, ai, system
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_id, tag_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, tag_id) REFERENCES tags(workspace_id, id) ON DELETE CASCADE
);
-- The contacts having a tag, in ID order (conditions, segments, broadcasts).
CREATE INDEX contact_tags_tag ON contact_tags(tag_id, contact_id);

-- +goose Down
DROP TABLE contact_tags;
DROP TABLE tags;
DROP TABLE contact_field_values;
DROP TABLE contact_fields;
DROP INDEX contacts_workspace_id;
