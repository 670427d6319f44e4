-- +goose Up
-- Users are the people who sign in to the dashboard (business staff), never
-- the customers who message a business.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_key           TEXT NOT NULL UNIQUE,          -- lower-cased email, for lookup
    name                TEXT NOT NULL DEFAULT '',
    password_hash       TEXT NOT NULL,                 -- "v1$" + bcrypt(base64(HMAC-SHA256(pepper, password)))
    age_confirmed_at    TIMESTAMP NOT NULL,            -- promise P-01: the signer attests to being 18 or older
    totp_secret         BLOB,                          -- sealed with the platform key; NULL until 2FA is set up
    totp_enabled        BOOLEAN NOT NULL DEFAULT 0,
    totp_last_step      INTEGER NOT NULL DEFAULT 0,    -- last accepted TOTP time step: a code works once
    is_platform_admin   BOOLEAN NOT NULL DEFAULT 0,
    password_changed_at TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

-- A session is what the JWT cookie points at; revoking the row ends it.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One-time 2FA recovery codes, stored as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE sessions;
DROP TABLE users;
