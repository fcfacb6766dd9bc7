-- The seq of the message a member marked the conversation unread from
-- ("mark unread from here"); 0 when they did not. While it is set, their
-- unread_count also counts the others' messages from there on, as if their
-- read cursor stood just before it; their read receipts do not move back.
-- Opening the conversation clears it; so does sending in it, which also
-- clears marked_unread.
ALTER TABLE participants ADD COLUMN unread_from_seq INTEGER NOT NULL DEFAULT 0;
