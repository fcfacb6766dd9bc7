-- A message pinned to the top of its conversation: when, and by whom. NULL
-- when it is not pinned. Deleting a message unpins it.
ALTER TABLE messages ADD COLUMN pinned_at INTEGER;
ALTER TABLE messages ADD COLUMN pinned_by INTEGER REFERENCES users (id);
-- A conversation's pins, newest first; only pinned rows are in it.
CREATE INDEX messages_pinned ON messages (conversation_id, pinned_at) WHERE pinned_at IS NOT NULL;
