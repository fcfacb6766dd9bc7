-- Chat core: the event that created each message (so a replay can tell new
-- messages from changed ones), and full-text search.

ALTER TABLE messages ADD COLUMN created_event_seq BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET created_event_seq = event_seq;

-- Full-text search with the 'simple' configuration: no stemming, so it works
-- the same for every language a CRM's staff write in. Deleting a message
-- erases its body, which removes it from the index.
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', body));

CREATE INDEX messages_by_attachment ON messages (attachment_id) WHERE attachment_id IS NOT NULL;
CREATE INDEX reactions_by_user ON reactions (user_id);
-- Foreign keys PostgreSQL does not index by itself.
CREATE INDEX messages_by_sender ON messages (sender_id);
CREATE INDEX messages_by_reply ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
