-- A forwarded message: the author of the message it copies (the first
-- author, when that was itself forwarded). NULL for everything else.
ALTER TABLE messages ADD COLUMN forwarded_from BIGINT REFERENCES users (id);
