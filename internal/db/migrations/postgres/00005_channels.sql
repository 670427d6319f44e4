-- +goose Up
-- Connected accounts on messaging platforms (package channel). A Messenger
-- channel is one Facebook Page connected to one workspace. Webhook events are
-- routed by (type, external_id), so at most one active channel may hold a
-- given Page; a disconnected row stays for the conversations that refer to
-- it, with its token destroyed.
CREATE TABLE channels (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    type            TEXT NOT NULL CHECK (type IN ('messenger')),
    external_id     TEXT NOT NULL,                 -- the platform's ID: the Page ID for Messenger
    name            TEXT NOT NULL,                 -- the Page name as the platform reported it
    token           BYTEA,                          -- access token sealed under the workspace key (P-10); NULL once disconnected
    token_state     TEXT NOT NULL DEFAULT 'ok' CHECK (token_state IN ('ok','needs_reconnect')),
    status          TEXT NOT NULL CHECK (status IN ('active','disconnected')),
    auto_reply      TEXT NOT NULL DEFAULT '',      -- fixed automatic reply while no flow answers ('' = none)
    profile         TEXT NOT NULL DEFAULT '{}',    -- page settings JSON: get started, greeting, menu, ice breakers
    last_event_at   TIMESTAMPTZ,                     -- last webhook event routed here (health)
    last_error      TEXT NOT NULL DEFAULT '',      -- last platform error, safe to show (no token)
    last_error_at   TIMESTAMPTZ,
    connected_by    TEXT,                          -- user ID, or NULL when connected by an API key
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    disconnected_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX channels_active_external ON channels(type, external_id) WHERE status = 'active';
CREATE INDEX channels_workspace ON channels(workspace_id, created_at);

-- A Facebook Login in progress: created when the dialog opens (id is the
-- nonce inside the signed state), given the long-lived user token at the
-- callback, deleted once pages are chosen or when it expires.
CREATE TABLE channel_logins (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    user_token   BYTEA,                             -- sealed under the workspace key
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX channel_logins_expiry ON channel_logins(expires_at);

-- Webhook events for accounts no workspace has connected: counted, never
-- stored (their content is dropped at once).
CREATE TABLE unknown_accounts (
    object        TEXT NOT NULL,                   -- webhook object: page, instagram, ...
    external_id   TEXT NOT NULL,
    events        INTEGER NOT NULL DEFAULT 0,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (object, external_id)
);

-- +goose Down
DROP TABLE unknown_accounts;
DROP TABLE channel_logins;
DROP TABLE channels;
