-- A member can pin a conversation to the top of their own list. NULL: not
-- pinned; otherwise when they pinned it (Unix ms), which orders the pinned
-- conversations, most recently pinned first.
ALTER TABLE participants ADD COLUMN pinned_at INTEGER;
