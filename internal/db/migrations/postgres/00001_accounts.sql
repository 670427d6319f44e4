-- +goose Up
-- Users are the people who sign in to the dashboard (business staff), never
-- the customers who message a business.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL UNIQUE,          -- lower-cased email, for lookup
    name                TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,                 -- "v1$" + bcrypt(base64(HMAC-SHA256(pepper, password)))
    age_confirmed_at    TIMESTAMPTZ NOT NULL,            -- promise P-01: the signer attests to being 18 or older
    totp_secret         BYTEA,                          -- sealed with the platform key; NULL until 2FA is set up
    totp_enabled        BOOLEAN NOT NULL DEFAULT false,
    totp_last_step      BIGINT NOT NULL DEFAULT 0, -- last accepted TOTP time step: a code works once
    is_platform_admin   BOOLEAN NOT NULL DEFAULT false,
    password_changed_at TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

-- A session is what the JWT cookie points at; revoking the row ends it.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One-time 2FA recovery codes, stored as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE sessions;
DROP TABLE users;
