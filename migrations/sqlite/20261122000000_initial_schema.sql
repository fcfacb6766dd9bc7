-- crm-chat initial schema (SQLite). Forward-only: never edit a merged migration.
-- Ids are i64, timestamps are unix milliseconds, JSON is TEXT: the same shapes
-- as the PostgreSQL schema, so queries are written once.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organizations (id),
    -- Lower-cased and trimmed; sign-in is by email, so it is unique across organisations.
    email          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    org_role       TEXT    NOT NULL CHECK (org_role IN ('admin', 'member')),
    -- Part of every token; bumping it revokes all of the user's tokens.
    token_version  INTEGER NOT NULL DEFAULT 0,
    last_seen_at   INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX users_by_org ON users (org_id, display_name);

-- Per-account sign-in throttle, keyed by the normalised email whether or not a
-- user has it, so that "no such user" and "wrong password" look the same.
CREATE TABLE login_throttle (
    email              TEXT    PRIMARY KEY,
    attempts           INTEGER NOT NULL,
    window_started_at  INTEGER NOT NULL
);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organizations (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('direct', 'group', 'broadcast')),
    title             TEXT,
    -- "<low user id>:<high user id>" for direct conversations: makes get-or-create idempotent.
    direct_key        TEXT    UNIQUE,
    created_by        INTEGER REFERENCES users (id),
    -- Bumped by every change (message, edit, delete, reaction) in the changing transaction.
    last_event_seq    INTEGER NOT NULL DEFAULT 0,
    last_message_seq  INTEGER NOT NULL DEFAULT 0,
    last_message_at   INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX conversations_by_org ON conversations (org_id);

CREATE TABLE participants (
    conversation_id     INTEGER NOT NULL REFERENCES conversations (id),
    user_id             INTEGER NOT NULL REFERENCES users (id),
    role                TEXT    NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
    last_read_seq       INTEGER NOT NULL DEFAULT 0,
    last_delivered_seq  INTEGER NOT NULL DEFAULT 0,
    -- Materialised form of the derived count (messages from others, not deleted,
    -- after last_read_seq), maintained in the same transactions that change it.
    unread_count        INTEGER NOT NULL DEFAULT 0,
    -- 0 or 1: the Any driver decodes integers alike on both engines.
    muted               INTEGER NOT NULL DEFAULT 0,
    joined_at           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX participants_by_user ON participants (user_id);

-- Content-addressed: the bytes live at data/uploads/<sha256[0..2]>/<sha256>.
CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organizations (id),
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
    uploader_id      INTEGER NOT NULL REFERENCES users (id),
    sha256           TEXT    NOT NULL,
    content_type     TEXT    NOT NULL,
    file_name        TEXT    NOT NULL,
    size_bytes       INTEGER NOT NULL,
    width            INTEGER,
    height           INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attachments_by_conversation ON attachments (conversation_id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
    org_id           INTEGER NOT NULL REFERENCES organizations (id),
    -- Position among the conversation's messages: 1, 2, 3, ... without gaps.
    seq              INTEGER NOT NULL,
    -- The conversation event that last changed this row.
    event_seq        INTEGER NOT NULL,
    sender_id        INTEGER NOT NULL REFERENCES users (id),
    client_msg_id    TEXT,
    kind             TEXT    NOT NULL CHECK (kind IN ('text', 'image', 'file', 'system')),
    body             TEXT    NOT NULL,
    reply_to_id      INTEGER REFERENCES messages (id),
    attachment_id    INTEGER REFERENCES attachments (id),
    edited_at        INTEGER,
    deleted_at       INTEGER,
    deleted_by       INTEGER REFERENCES users (id),
    created_at       INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_by_event ON messages (conversation_id, event_seq);
-- A retried send finds its first attempt here. Partial, because system and
-- imported messages have no client id: counted in, their NULLs make the index
-- look unselective to the planner, which then scans the table instead.
-- client_msg_id first, so a batch looks up many retries with one IN list.
CREATE UNIQUE INDEX messages_by_client_id ON messages (client_msg_id, sender_id) WHERE client_msg_id IS NOT NULL;

CREATE TABLE reactions (
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    emoji       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organizations (id),
    user_id          INTEGER NOT NULL REFERENCES users (id),
    kind             TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    metadata         TEXT    NOT NULL DEFAULT '{}',
    link             TEXT,
    actor_id         INTEGER REFERENCES users (id),
    conversation_id  INTEGER REFERENCES conversations (id),
    read_at          INTEGER,
    deleted_at       INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);
