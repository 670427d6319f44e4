-- +goose Up
-- Segments and CSV imports (packages segment and csvio), promise P-25.

-- Saved filters over a workspace's contacts. definition is the JSON of
-- segment.Definition: a closed list of fields and operators, compiled to
-- parameterized SQL when evaluated, never stored as SQL. name_key is the
-- trimmed NFC name case-folded in Go, so "VIP" and "vip" are one segment.
CREATE TABLE segments (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    definition   TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',       -- user:<id>, api_key:<id>
    updated_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, name_key),
    UNIQUE (workspace_id, id)
);

-- Segments on "last interaction" look up a contact's conversations by
-- contact (read-only, package segment). contact_id alone: the column never
-- changes, so the hot path's updates of last_inbound_at never touch it.
CREATE INDEX conversations_by_contact ON conversations(contact_id);

-- CSV imports of contacts. The uploaded file is personal data: it is kept
-- sealed under the workspace key (associated data workspace,
-- "contact_imports", "file", id) only while the import runs, and set to NULL
-- when it finishes. done_rows is the number of data rows handled: each batch
-- of rows commits together with it, so a retried job resumes after the last
-- committed batch and never creates a contact twice.
CREATE TABLE contact_imports (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN ('pending','running','done','failed')),
    file          BLOB,                          -- sealed CSV; NULL once finished
    options       TEXT NOT NULL,                 -- JSON: mapping, delimiter, dedupe, tag policy (no personal data)
    total_rows    INTEGER NOT NULL DEFAULT 0,
    done_rows     INTEGER NOT NULL DEFAULT 0,
    created_rows  INTEGER NOT NULL DEFAULT 0,
    updated_rows  INTEGER NOT NULL DEFAULT 0,
    failed_rows   INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',      -- why the whole import failed (no personal data)
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    UNIQUE (workspace_id, id)
);
CREATE INDEX contact_imports_recent ON contact_imports(workspace_id, created_at);

-- Rows of an import that were refused: row number, column and a message
-- naming the problem (no personal data), and the row itself sealed under the
-- workspace key (associated data workspace, "contact_import_errors", "row",
-- import_id/row_no) for the downloadable report. Deleted with the import.
CREATE TABLE contact_import_errors (
    import_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    row_no       INTEGER NOT NULL,               -- line of the data row in the file, header = 1
    col          TEXT NOT NULL DEFAULT '',       -- the CSV header, '' for the whole row
    message      TEXT NOT NULL,
    row_data     BLOB,                           -- sealed CSV record
    PRIMARY KEY (import_id, row_no),
    FOREIGN KEY (workspace_id, import_id) REFERENCES contact_imports(workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE contact_import_errors;
DROP TABLE contact_imports;
DROP INDEX conversations_by_contact;
DROP TABLE segments;
