-- +goose Up
-- Data-subject requests and a contact's privacy state (package dsr, issue 6
-- item 3, promises P-34 and P-40, security.md §1.4 and §3.O O-7..O-9).
-- Nothing here holds a name, a message or a field value in clear: export
-- archives are sealed under the contact's own key, so destroying that key
-- (erasure) shreds them even in copies.

-- A contact's processing flags: restricted (Art 18: keep the data, stop
-- every automated send and flow), objected (Art 21: no direct marketing or
-- automation), minor (no tracking, no broadcasts, no automation). One row
-- per contact that ever had a flag set; no row means no flag. Deleting the
-- contact deletes it.
CREATE TABLE contact_privacy (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id    TEXT NOT NULL,
    restricted    BOOLEAN NOT NULL DEFAULT 0,
    objected      BOOLEAN NOT NULL DEFAULT 0,
    minor         BOOLEAN NOT NULL DEFAULT 0,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);

-- Consent given and withdrawn, per contact and channel, append-only: the
-- latest row of a (contact, channel) is the state now. channel_id '' means
-- every channel. source is from a closed list (package dsr); actor is who
-- recorded it (contact.By form). Deleting the contact deletes its rows.
CREATE TABLE contact_consents (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id    TEXT NOT NULL,
    channel_id    TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    source        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_consents_contact ON contact_consents(workspace_id, contact_id, at, id);

-- Data-subject requests (Art 12(3): acknowledge within 7 days, answer
-- within 30). contact_id has no foreign key on purpose: the record of an
-- erasure request must outlive the contact it erased, so erasure sets it
-- to NULL (dsr.Service.ForgetContact) and clears the free-text reason.
CREATE TABLE dsr_requests (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id       TEXT,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL,
    received_at      TIMESTAMP NOT NULL,
    acknowledge_by   TIMESTAMP NOT NULL,
    complete_by      TIMESTAMP NOT NULL,
    acknowledged_at  TIMESTAMP,
    closed_at        TIMESTAMP,
    reason           TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX dsr_requests_open ON dsr_requests(workspace_id, state, complete_by);
CREATE INDEX dsr_requests_contact ON dsr_requests(workspace_id, contact_id);

-- Export archives of one contact (Art 15/20): a zip sealed under the
-- contact's key, built by a durable job ("dsr.export") with progress, and
-- downloadable until expires_at, after which the archive is set to NULL.
-- Retention (class exports) deletes old rows; erasing the contact deletes
-- them with it and, having destroyed its key, shreds any copy.
CREATE TABLE dsr_exports (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id     TEXT NOT NULL,
    request_id     TEXT,
    state          TEXT NOT NULL,
    steps_done     INTEGER NOT NULL DEFAULT 0,
    steps_total    INTEGER NOT NULL DEFAULT 0,
    archive        BLOB,
    size_bytes     INTEGER NOT NULL DEFAULT 0,
    error          TEXT NOT NULL DEFAULT '',
    downloads      INTEGER NOT NULL DEFAULT 0,
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    expires_at     TIMESTAMP,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX dsr_exports_contact ON dsr_exports(workspace_id, contact_id, created_at);
CREATE INDEX dsr_exports_expiry ON dsr_exports(expires_at);

-- +goose Down
DROP TABLE dsr_exports;
DROP TABLE dsr_requests;
DROP TABLE contact_consents;
DROP TABLE contact_privacy;
