-- +goose Up
-- Conversations and their messages (package inbox), promises P-15 to P-17.
-- One conversation per contact on a channel (a Messenger thread).
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id        TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    contact_id        TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
    owner             TEXT NOT NULL DEFAULT 'bot' CHECK (owner IN ('bot','ai','human','nobody')),
    assignee_id       TEXT,                         -- the member answering a human-owned conversation
    last_activity_at  TIMESTAMP NOT NULL,
    last_inbound_at   TIMESTAMP,                    -- the person's last message: opens the messaging window
    interaction_count INTEGER NOT NULL DEFAULT 0,   -- messages, taps and postbacks from the person
    unreachable_at    TIMESTAMP,                    -- the platform said the person cannot be reached (551)
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX conversations_contact ON conversations(channel_id, contact_id);
CREATE INDEX conversations_recent ON conversations(workspace_id, last_activity_at);

-- Messages in both directions. body is the sealed JSON of channel.Content
-- under the contact's key. external_id is the platform's message ID (mid):
-- unique per channel, it is what makes a redelivered webhook a no-op.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    contact_id      TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in','out')),
    kind            TEXT NOT NULL,                  -- text, attachment, postback, quick_reply, template, referral, optin, reaction, ...
    body            BLOB NOT NULL,
    sender_type     TEXT NOT NULL CHECK (sender_type IN ('contact','flow','ai','agent','broadcast','page')),
    sender_id       TEXT,                           -- agent user ID, flow ID, broadcast ID
    external_id     TEXT,                           -- platform message ID once known
    reply_to        TEXT,                           -- platform ID of the quoted message
    status          TEXT NOT NULL CHECK (status IN ('received','queued','sending','sent','delivered','read','failed')),
    messaging_type  TEXT NOT NULL DEFAULT '',       -- RESPONSE, UPDATE or MESSAGE_TAG, as sent
    tag             TEXT NOT NULL DEFAULT '',       -- HUMAN_AGENT when sent with that tag
    error_code      TEXT NOT NULL DEFAULT '',       -- stable reason when failed
    error_message   TEXT NOT NULL DEFAULT '',       -- safe to show; never a token
    platform_at     TIMESTAMP,                      -- when the platform says it happened
    sent_at         TIMESTAMP,
    delivered_at    TIMESTAMP,
    read_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages(channel_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
-- Outgoing messages still waiting for a delivery or read receipt: a receipt
-- ("everything before this watermark was read") visits only these, so a
-- long conversation costs no more than a short one (P-17).
CREATE INDEX messages_outgoing_unread ON messages(conversation_id, created_at) WHERE direction = 'out' AND status IN ('sent','delivered');

-- Idempotency keys of inbound events that have no message ID (postbacks
-- from before v11, referrals, opt-ins): a redelivery finds its key here.
CREATE TABLE inbound_keys (
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,                       -- SHA-256 of the event's identifying fields, hex
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, key)
);
CREATE INDEX inbound_keys_age ON inbound_keys(created_at);

-- +goose Down
DROP TABLE inbound_keys;
DROP TABLE messages;
DROP TABLE conversations;
