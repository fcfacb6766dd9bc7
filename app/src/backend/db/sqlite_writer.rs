//! The chat writer's own SQLite connection, driven on the writer's thread.
//!
//! sqlx runs each SQLite connection on a worker thread and hands every
//! statement over to it and every answer back. For the writer that was the
//! larger part of a batch of sends: eight hand-offs for its statements, and,
//! so that each statement handled a whole batch, lists sent as JSON that
//! SQLite parsed again for every field. Here the writer's thread runs SQLite
//! itself (rusqlite, over the same libsqlite3 as sqlx), and a batch is one
//! prepared statement per row, each prepared once per connection.
//!
//! Only the writer's hot path lives here: sends and delivery marks, which
//! are nearly all it does. Everything else it does (edits, reactions, read
//! marks, membership, search indexing) is rare and goes through sqlx and the
//! functions of the other modules, written once for both engines.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::attachments::{ATTACHMENT_COLUMNS, AttachmentRow};
use super::conversations::LockedMember;
use super::messages::{self, MessageRow, NewMessage};
use super::notifications::{COLLAPSE_CHAT, NewNotification};
use super::participants::{
    DeliveryAdvance, DeliveryNotice, UnreadChange, delivery_notices, delivery_ranges,
};
use super::{Engine, SQLITE_PRAGMAS, WRITER_PRAGMAS, sql};
use crate::protocol::{AttachmentId, ConversationId, MessageId, UserId};

/// Statements the writer keeps prepared: every one of this module's, with room.
const STATEMENT_CACHE: usize = 32;

/// The writer's connection.
pub struct WriterConnection {
    conn: Connection,
}

/// The SQLite file behind a `sqlite:` URL.
pub fn path_of_url(url: &str) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(url.starts_with("sqlite:"), "not a sqlite: URL");
    let (path, _) = super::split_sqlite_url(url);
    anyhow::ensure!(
        !path.is_empty() && path != ":memory:",
        "the writer needs a SQLite file, not {url}"
    );
    Ok(PathBuf::from(path))
}

impl WriterConnection {
    /// Opens the database file, which the migrations have created, with
    /// the pragmas of every connection and the writer's own.
    pub fn open(path: &Path) -> anyhow::Result<WriterConnection> {
        let conn =
            Connection::open(path).with_context(|| format!("Failed to open {}", path.display()))?;
        conn.execute_batch(SQLITE_PRAGMAS)
            .and_then(|()| conn.execute_batch(WRITER_PRAGMAS))
            .context("Failed to set the writer's pragmas")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(WriterConnection { conn })
    }

    /// Begins the batch's transaction, taking the write lock up front.
    pub fn begin(&mut self) -> anyhow::Result<WriteTx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .context("Failed to begin a write transaction")?;
        Ok(WriteTx { tx })
    }
}

/// One batch's transaction. Dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx<'c> {
    tx: rusqlite::Transaction<'c>,
}

impl WriteTx<'_> {
    pub fn commit(self) -> anyhow::Result<()> {
        self.tx.commit().context("Failed to commit a batch")
    }

    /// Messages already stored under these `(client id, sender)` pairs:
    /// `(client id, sender, id, conversation)`.
    pub fn stored_sends(
        &self,
        keys: &[(&str, UserId)],
    ) -> rusqlite::Result<Vec<(String, UserId, MessageId, ConversationId)>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT id, conversation_id FROM messages WHERE client_msg_id = ?1 AND sender_id = ?2",
        )?;
        let mut stored = Vec::new();
        for &(client_msg_id, sender) in keys {
            let found = statement
                .query_row(params![client_msg_id, sender], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            if let Some((id, conversation_id)) = found {
                stored.push((client_msg_id.to_owned(), sender, id, conversation_id));
            }
        }
        Ok(stored)
    }

    /// The members of each conversation with its counters, as
    /// `conversations::lock_members` returns them (the write transaction
    /// holds SQLite's only write lock already).
    pub fn lock_members(&self, ids: &[ConversationId]) -> rusqlite::Result<Vec<LockedMember>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT c.id, c.org_id, c.kind, c.title, c.last_event_seq, c.last_message_seq,
                    p.user_id, p.role, u.display_name, p.unread_count, p.last_read_seq,
                    p.last_delivered_seq, p.muted
             FROM conversations c
             JOIN participants p ON p.conversation_id = c.id
             JOIN users u ON u.id = p.user_id
             WHERE c.id = ?1
             ORDER BY p.joined_at, p.user_id",
        )?;
        let mut members = Vec::new();
        for id in ids {
            let rows = statement.query_map([id], |row| {
                Ok(LockedMember {
                    conversation_id: row.get(0)?,
                    org_id: row.get(1)?,
                    kind: row.get(2)?,
                    title: row.get(3)?,
                    last_event_seq: row.get(4)?,
                    last_message_seq: row.get(5)?,
                    user_id: row.get(6)?,
                    role: row.get(7)?,
                    display_name: row.get(8)?,
                    unread_count: row.get(9)?,
                    last_read_seq: row.get(10)?,
                    last_delivered_seq: row.get(11)?,
                    muted: row.get(12)?,
                })
            })?;
            for member in rows {
                members.push(member?);
            }
        }
        Ok(members)
    }

    /// The messages with these ids (replies are quoted from them), through
    /// the statement `messages::by_ids` runs.
    pub fn messages(&self, ids: &[MessageId]) -> anyhow::Result<Vec<MessageRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self
            .tx
            .prepare_cached(&messages::by_ids_document(Engine::Sqlite))?;
        let document: Option<String> = statement.query_row([sql::json(ids)], |row| row.get(0))?;
        Ok(sql::decode_document(document)?)
    }

    pub fn attachments(&self, ids: &[AttachmentId]) -> rusqlite::Result<Vec<AttachmentRow>> {
        let mut statement = self.tx.prepare_cached(&format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?1"
        ))?;
        let mut found = Vec::new();
        for id in ids {
            let row = statement
                .query_row([id], |row| {
                    Ok(AttachmentRow {
                        id: row.get(0)?,
                        org_id: row.get(1)?,
                        conversation_id: row.get(2)?,
                        uploader_id: row.get(3)?,
                        sha256: row.get(4)?,
                        content_type: row.get(5)?,
                        file_name: row.get(6)?,
                        size_bytes: row.get(7)?,
                        width: row.get(8)?,
                        height: row.get(9)?,
                    })
                })
                .optional()?;
            found.extend(row);
        }
        Ok(found)
    }

    /// Sets conversations' counters: `(id, last_event_seq, last_message_seq)`.
    pub fn set_counters(
        &self,
        counters: &[(ConversationId, i64, i64)],
        now: i64,
    ) -> rusqlite::Result<()> {
        let mut statement = self.tx.prepare_cached(
            "UPDATE conversations SET last_event_seq = ?2, last_message_seq = ?3, last_message_at = ?4
             WHERE id = ?1",
        )?;
        for (id, event_seq, message_seq) in counters {
            statement.execute(params![id, event_seq, message_seq, now])?;
        }
        Ok(())
    }

    /// Inserts messages. Returns `(conversation, seq, id)` for each.
    pub fn insert_messages(
        &self,
        rows: &[NewMessage<'_>],
    ) -> rusqlite::Result<Vec<(ConversationId, i64, MessageId)>> {
        let mut statement = self.tx.prepare_cached(
            "INSERT INTO messages (conversation_id, org_id, seq, event_seq, created_event_seq, sender_id,
                                   client_msg_id, kind, body, reply_to_id, attachment_id, forwarded_from,
                                   created_at)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut inserted = Vec::with_capacity(rows.len());
        for m in rows {
            let id = statement.insert(params![
                m.conversation_id,
                m.org_id,
                m.seq,
                m.event_seq,
                m.sender_id,
                m.client_msg_id,
                m.kind.as_str(),
                m.body,
                m.reply_to_id,
                m.attachment_id,
                m.forwarded_from,
                m.created_at,
            ])?;
            inserted.push((m.conversation_id, m.seq, MessageId(id)));
        }
        Ok(inserted)
    }

    /// Members' unread state after new messages (`participants::apply_unread`).
    pub fn apply_unread(
        &self,
        changes: &[(ConversationId, UserId, UnreadChange)],
    ) -> rusqlite::Result<()> {
        let mut statement = self.tx.prepare_cached(
            "UPDATE participants SET
                 unread_count = ?3,
                 last_read_seq = ?4,
                 last_delivered_seq = max(last_delivered_seq, ?4),
                 marked_unread = CASE WHEN ?4 > last_read_seq THEN 0 ELSE marked_unread END,
                 unread_from_seq = CASE WHEN ?4 > last_read_seq THEN 0 ELSE unread_from_seq END
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?;
        for (conversation_id, user_id, change) in changes {
            let UnreadChange::Set {
                unread_count,
                last_read_seq,
            } = change;
            statement.execute(params![
                conversation_id,
                user_id,
                unread_count,
                last_read_seq
            ])?;
        }
        Ok(())
    }

    /// Adds messages to members' unread NEW_MESSAGE notifications
    /// (`notifications::collapse_chat`).
    pub fn collapse_chat(&self, rows: &[NewNotification], now: i64) -> rusqlite::Result<()> {
        let mut statement = self.tx.prepare_cached(&format!(
            "INSERT INTO notifications (org_id, user_id, kind, title, body, metadata, link, actor_id,
                                        conversation_id, item_count, created_at, activity_at)
             VALUES (?1, ?2, 'NEW_MESSAGE', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) {COLLAPSE_CHAT}"
        ))?;
        for n in rows {
            statement.execute(params![
                n.org_id,
                n.user_id,
                n.title,
                n.body,
                n.metadata,
                n.link,
                n.actor_id,
                n.conversation_id,
                n.item_count,
                now,
            ])?;
        }
        Ok(())
    }

    /// Records what reached members' devices, forward only, and returns who
    /// must be told (`participants::record_deliveries`).
    pub fn record_deliveries(
        &self,
        marks: &[(ConversationId, UserId, i64)],
    ) -> rusqlite::Result<Vec<DeliveryNotice>> {
        let mut cursor = self.tx.prepare_cached(
            "SELECT last_delivered_seq FROM participants WHERE conversation_id = ?1 AND user_id = ?2",
        )?;
        let mut advance = self.tx.prepare_cached(
            "UPDATE participants SET last_delivered_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
        )?;
        let mut advances = Vec::new();
        for &(conversation_id, user_id, seq) in marks {
            let from: Option<i64> = cursor
                .query_row(params![conversation_id, user_id], |row| row.get(0))
                .optional()?;
            if let Some(from_seq) = from.filter(|&from| from < seq) {
                advance.execute(params![conversation_id, user_id, seq])?;
                advances.push(DeliveryAdvance {
                    conversation_id,
                    user_id,
                    from_seq,
                    to_seq: seq,
                });
            }
        }
        let mut senders_in = self.tx.prepare_cached(
            "SELECT seq, sender_id FROM messages
             WHERE conversation_id = ?1 AND seq > ?2 AND seq <= ?3 AND kind <> 'system'",
        )?;
        let mut senders = Vec::new();
        for range in delivery_ranges(&advances) {
            let rows = senders_in.query_map(
                params![range.conversation_id, range.from_seq, range.to_seq],
                |row| Ok((range.conversation_id, row.get(0)?, row.get(1)?)),
            )?;
            for sender in rows {
                senders.push(sender?);
            }
        }
        Ok(delivery_notices(&advances, &senders))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_finds_the_file_behind_a_sqlite_url() {
        assert_eq!(
            path_of_url("sqlite://data/crm-chat.db?mode=rwc").unwrap(),
            PathBuf::from("data/crm-chat.db")
        );
        assert_eq!(
            path_of_url("sqlite:/tmp/x.db").unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert!(path_of_url("sqlite::memory:").is_err());
        assert!(path_of_url("postgres://u@h/db").is_err());
    }
}
