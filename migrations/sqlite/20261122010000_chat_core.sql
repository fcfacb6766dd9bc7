-- Chat core: the event that created each message (so a replay can tell new
-- messages from changed ones), and full-text search.

ALTER TABLE messages ADD COLUMN created_event_seq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET created_event_seq = event_seq;

-- Full-text index over message bodies. It is filled by the chat writer
-- shortly after each commit rather than by a trigger inside it: indexing a
-- few messages per transaction cost more than the rest of the send. So
-- search lags sends by up to about a second. `search_progress` says how far
-- the index reaches; changes to rows it already covers are mirrored by the
-- triggers below, and rows beyond it are indexed with their current text.
-- Deleting a message erases its body, which removes it from the index.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE search_progress (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_up_to  INTEGER NOT NULL
);
INSERT INTO search_progress (id, indexed_up_to) VALUES (1, 0);

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.id <= (SELECT indexed_up_to FROM search_progress) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_up_to FROM search_progress) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE INDEX messages_by_attachment ON messages (attachment_id) WHERE attachment_id IS NOT NULL;
CREATE INDEX reactions_by_user ON reactions (user_id);
