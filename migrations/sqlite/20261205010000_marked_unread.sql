-- 0 or 1: the member marked the conversation as unread ("come back to this");
-- opening it clears the mark.
ALTER TABLE participants ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;
