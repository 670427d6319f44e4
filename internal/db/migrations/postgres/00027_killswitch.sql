-- +goose Up
-- The operator kill switch (package killswitch, promise P-37,
-- security.md §3.P). One row per scope that has something paused: the
-- empty workspace_id is every workspace, any other value one workspace.
-- A row whose flags are both off is deleted; the history of toggles, with
-- reasons, is in the audit log. Every process polls this small table
-- (killswitch.DefaultPoll) instead of reading it per message.
CREATE TABLE kill_switches (
    workspace_id TEXT PRIMARY KEY,              -- '' = global
    outbound     BOOLEAN NOT NULL DEFAULT false,    -- nothing reaches a platform's Send API
    processing   BOOLEAN NOT NULL DEFAULT false,    -- webhooks are stored but not applied
    reason       TEXT NOT NULL,                 -- the operator's words; no customer data
    paused_by    TEXT NOT NULL,                 -- user ID, or "cli" for the command line
    paused_at    TIMESTAMPTZ NOT NULL
);

-- A delivery held back because a workspace it names has its processing
-- paused: it stays pending, out of the processor's reads (index below),
-- until the workspace resumes; then it is applied in arrival (ID) order.
ALTER TABLE webhook_deliveries ADD COLUMN held_for TEXT NOT NULL DEFAULT '';
CREATE INDEX webhook_deliveries_ready ON webhook_deliveries(state, held_for, id);

-- A platform administrator acting as a user (operator console, promise
-- P-06). It is bound to the administrator's own session: it is only ever
-- looked up through that session, so it ends with it (sign-out, expiry,
-- revocation) as well as on "stop impersonating" (ended_at).
CREATE TABLE impersonations (
    id               TEXT PRIMARY KEY,
    admin_session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    admin_user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason           TEXT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ
);
CREATE INDEX impersonations_session ON impersonations(admin_session_id, ended_at);

-- +goose Down
DROP TABLE impersonations;
DROP INDEX webhook_deliveries_ready;
ALTER TABLE webhook_deliveries DROP COLUMN held_for;
DROP TABLE kill_switches;
