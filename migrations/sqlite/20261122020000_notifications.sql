-- Notifications: the feed order, collapsing of chat notifications, the
-- organisation API keys CRM systems ingest with, idempotent ingestion, and
-- per-kind preferences.

-- A NEW_MESSAGE notification stands for every unread message of one
-- conversation: item_count says how many. activity_at orders the feed, so a
-- collapsed notification moves up when another message joins it.
ALTER TABLE notifications ADD COLUMN item_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN activity_at INTEGER NOT NULL DEFAULT 0;
UPDATE notifications SET activity_at = created_at;

DROP INDEX notifications_by_user;
-- The feed, newest activity first (keyset pagination).
CREATE INDEX notifications_feed ON notifications (user_id, activity_at, id) WHERE deleted_at IS NULL;
-- Unread counts and "mark all read", optionally by kind.
CREATE INDEX notifications_unread ON notifications (user_id, kind) WHERE read_at IS NULL AND deleted_at IS NULL;
-- At most one unread NEW_MESSAGE notification per member and conversation.
CREATE UNIQUE INDEX notifications_collapse ON notifications (user_id, conversation_id)
    WHERE kind = 'NEW_MESSAGE' AND read_at IS NULL AND deleted_at IS NULL;

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organizations (id),
    name          TEXT    NOT NULL,
    -- The key's first characters, so admins can tell keys apart.
    prefix        TEXT    NOT NULL,
    -- SHA-256 of the whole key in hex. Keys carry 256 random bits, so a
    -- fast hash is enough; the key itself is shown once and never stored.
    key_hash      TEXT    NOT NULL UNIQUE,
    created_by    INTEGER NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, id);

-- What an ingestion with an Idempotency-Key answered, so a retry gets the
-- same answer and creates nothing. Kept for a week.
CREATE TABLE ingestion_requests (
    org_id           INTEGER NOT NULL REFERENCES organizations (id),
    idempotency_key  TEXT    NOT NULL,
    request_hash     TEXT    NOT NULL,
    response         TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, idempotency_key)
);
CREATE INDEX ingestion_requests_by_age ON ingestion_requests (org_id, created_at);

-- A muted kind is still stored and listed, but not pushed live.
CREATE TABLE notification_settings (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    kind     TEXT    NOT NULL,
    muted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, kind)
);
