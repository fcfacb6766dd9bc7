//! Messages, their reactions, and the change feed.

use sqlx::AnyConnection;

use super::Engine;
use super::sql::{self, Column, engine_of};
use crate::protocol::{AttachmentId, ConversationId, MessageId, MessageKind, OrgId, UserId};

/// A message with its sender's name, the message it replies to and its attachment.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub event_seq: i64,
    pub created_event_seq: i64,
    pub sender_id: UserId,
    pub sender_name: String,
    pub client_msg_id: Option<String>,
    pub kind: String,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub reply_id: Option<i64>,
    pub reply_seq: Option<i64>,
    pub reply_sender_id: Option<i64>,
    pub reply_sender_name: Option<String>,
    pub reply_body: Option<String>,
    pub reply_deleted_at: Option<i64>,
    pub attachment_id: Option<i64>,
    pub attachment_file_name: Option<String>,
    pub attachment_content_type: Option<String>,
    pub attachment_size: Option<i64>,
    pub attachment_width: Option<i64>,
    pub attachment_height: Option<i64>,
    pub forwarded_from: Option<i64>,
    pub forwarded_from_name: Option<String>,
    pub pinned_at: Option<i64>,
    pub pinned_by: Option<i64>,
    pub pinned_by_name: Option<String>,
    /// `emoji user,emoji user,…` in the order the reactions were made.
    pub reaction_list: Option<String>,
}

impl MessageRow {
    pub fn kind(&self) -> MessageKind {
        MessageKind::parse(&self.kind).unwrap_or(MessageKind::Text)
    }
}

const MESSAGE_SELECT: &str = "
    SELECT m.id, m.conversation_id, m.seq, m.event_seq, m.created_event_seq, m.sender_id,
           su.display_name AS sender_name, m.client_msg_id, m.kind, m.body,
           m.created_at, m.edited_at, m.deleted_at,
           r.id AS reply_id, r.seq AS reply_seq, r.sender_id AS reply_sender_id,
           ru.display_name AS reply_sender_name, r.body AS reply_body, r.deleted_at AS reply_deleted_at,
           a.id AS attachment_id, a.file_name AS attachment_file_name,
           a.content_type AS attachment_content_type, a.size_bytes AS attachment_size,
           a.width AS attachment_width, a.height AS attachment_height,
           m.forwarded_from, fu.display_name AS forwarded_from_name,
           m.pinned_at, m.pinned_by, pu.display_name AS pinned_by_name,
           (SELECT string_agg(rx.emoji || ' ' || rx.user_id, ',' ORDER BY rx.created_at, rx.user_id, rx.emoji)
            FROM reactions rx WHERE rx.message_id = m.id) AS reaction_list
    FROM messages m
    JOIN users su ON su.id = m.sender_id
    LEFT JOIN messages r ON r.id = m.reply_to_id
    LEFT JOIN users ru ON ru.id = r.sender_id
    LEFT JOIN attachments a ON a.id = m.attachment_id
    LEFT JOIN users fu ON fu.id = m.forwarded_from
    LEFT JOIN users pu ON pu.id = m.pinned_by";

const MESSAGE_FIELDS: &[&str] = &[
    "id",
    "conversation_id",
    "seq",
    "event_seq",
    "created_event_seq",
    "sender_id",
    "sender_name",
    "client_msg_id",
    "kind",
    "body",
    "created_at",
    "edited_at",
    "deleted_at",
    "reply_id",
    "reply_seq",
    "reply_sender_id",
    "reply_sender_name",
    "reply_body",
    "reply_deleted_at",
    "attachment_id",
    "attachment_file_name",
    "attachment_content_type",
    "attachment_size",
    "attachment_width",
    "attachment_height",
    "forwarded_from",
    "forwarded_from_name",
    "pinned_at",
    "pinned_by",
    "pinned_by_name",
    "reaction_list",
];

type DocumentQuery<'q> =
    sqlx::query::QueryScalar<'q, sqlx::Any, Option<String>, sqlx::any::AnyArguments<'q>>;

/// Messages matching `filter` (a `WHERE … ORDER BY … LIMIT …` tail over
/// `m`), decoded from one JSON document, in the order `order_by` gives (over `t`).
async fn select_messages(
    conn: &mut AnyConnection,
    filter: &str,
    order_by: &str,
    bind: impl for<'q> FnOnce(DocumentQuery<'q>) -> DocumentQuery<'q>,
) -> sqlx::Result<Vec<MessageRow>> {
    let inner = format!("{MESSAGE_SELECT} {filter}");
    let sql = sql::json_document(engine_of(conn), &inner, MESSAGE_FIELDS, &[], order_by);
    let document = bind(sqlx::query_scalar(&sql)).fetch_one(conn).await?;
    sql::decode_document(document)
}

/// Up to `limit` messages before `before_seq` (or the newest), newest first,
/// if `viewer` is in the conversation; nothing otherwise. One statement: an
/// index range scan of `UNIQUE (conversation_id, seq)`.
#[tracing::instrument(skip_all)]
pub async fn page(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    viewer: UserId,
    before_seq: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    let filter = "WHERE m.conversation_id = $1 AND m.seq < $2
           AND EXISTS (SELECT 1 FROM participants pm WHERE pm.conversation_id = $1 AND pm.user_id = $4)
         ORDER BY m.seq DESC LIMIT $3";
    select_messages(conn, filter, "t.seq DESC", |q| {
        q.bind(conversation_id)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .bind(viewer)
    })
    .await
}

/// Messages changed after `after_event_seq` (new, edited, deleted or
/// reacted to), up to `limit`, in change order. `counters` are the
/// conversation's `(last_event_seq, last_message_seq)` as read before.
///
/// No index holds every message by `event_seq`: that index cost a page of
/// every commit for each conversation written to, the largest share of the
/// writer's commit. New messages are found by position instead, after the
/// last one created by the cursor's event, and changed ones through
/// `messages_changed`, which holds only the rows whose `event_seq` moved
/// past their `created_event_seq`. One statement reads both, so one snapshot.
#[tracing::instrument(skip_all)]
pub async fn changed_since(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    counters: (i64, i64),
    after_event_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    if after_event_seq >= counters.0 {
        // Anything committed since the counters were read reaches a live
        // connection, which subscribed before reading them.
        return Ok(Vec::new());
    }
    let after_seq = last_created_by(conn, conversation_id, counters, after_event_seq).await?;
    let filter = format!(
        "SELECT * FROM ({MESSAGE_SELECT}
             WHERE m.conversation_id = $1 AND m.seq > $3 AND m.event_seq = m.created_event_seq
             ORDER BY m.seq LIMIT $4) AS created
         UNION ALL
         SELECT * FROM ({MESSAGE_SELECT}
             WHERE m.conversation_id = $1 AND m.event_seq > $2 AND m.event_seq > m.created_event_seq
             ORDER BY m.event_seq LIMIT $4) AS changed"
    );
    let sql = sql::json_document(engine_of(conn), &filter, MESSAGE_FIELDS, &[], "t.event_seq");
    let document = sqlx::query_scalar(&sql)
        .bind(conversation_id)
        .bind(after_event_seq)
        .bind(after_seq)
        .bind(limit)
        .fetch_one(&mut *conn)
        .await?;
    let mut rows: Vec<MessageRow> = sql::decode_document(document)?;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// The `seq` of the last message created by event `event_seq` or before (0
/// when none was). A new message moves both of a conversation's counters by
/// one and any other change moves `last_event_seq` alone, so
/// `created_event_seq` grows with `seq`, is at least `seq`, and exceeds it
/// by at most the conversation's count of other changes: the answer lies in
/// a range that narrow, and bisection finds it with a few point reads.
async fn last_created_by(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    (last_event_seq, last_message_seq): (i64, i64),
    event_seq: i64,
) -> sqlx::Result<i64> {
    let other_changes = (last_event_seq - last_message_seq).max(0);
    let mut low = (event_seq - other_changes).max(0);
    let mut high = event_seq.min(last_message_seq);
    while low < high {
        let middle = low + (high - low + 1) / 2;
        let created: Option<i64> = sqlx::query_scalar(
            "SELECT created_event_seq FROM messages WHERE conversation_id = $1 AND seq = $2",
        )
        .bind(conversation_id)
        .bind(middle)
        .fetch_optional(&mut *conn)
        .await?;
        match created {
            Some(created) if created <= event_seq => low = middle,
            _ => high = middle - 1,
        }
    }
    Ok(low)
}

#[tracing::instrument(skip_all)]
pub async fn by_id(conn: &mut AnyConnection, id: MessageId) -> sqlx::Result<Option<MessageRow>> {
    let rows = select_messages(conn, "WHERE m.id = $1", "t.id", |q| q.bind(id)).await?;
    Ok(rows.into_iter().next())
}

#[tracing::instrument(skip_all)]
pub async fn by_ids(conn: &mut AnyConnection, ids: &[MessageId]) -> sqlx::Result<Vec<MessageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let document = sqlx::query_scalar(&by_ids_document(engine_of(conn)))
        .bind(sql::json(ids))
        .fetch_one(conn)
        .await?;
    sql::decode_document(document)
}

/// The statement of [`by_ids`]: the messages whose ids are in the JSON array
/// `$1`, as one JSON document of [`MessageRow`]s ordered by id.
pub(crate) fn by_ids_document(engine: Engine) -> String {
    let inner = format!("{MESSAGE_SELECT} WHERE m.id IN {}", sql::ids(engine, 1));
    sql::json_document(engine, &inner, MESSAGE_FIELDS, &[], "t.id")
}

/// Messages already stored for any of these client ids: `(client id, sender, id, conversation)`.
#[tracing::instrument(skip_all)]
pub async fn find_by_client_ids(
    conn: &mut AnyConnection,
    client_msg_ids: &[&str],
) -> sqlx::Result<Vec<(String, UserId, MessageId, ConversationId)>> {
    if client_msg_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT client_msg_id, sender_id, id, conversation_id FROM messages
         WHERE client_msg_id IS NOT NULL AND client_msg_id IN {}",
        sql::texts(engine_of(conn), 1)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(client_msg_ids))
        .fetch_all(conn)
        .await
}

/// A message to insert with its position already assigned.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    pub org_id: OrgId,
    pub seq: i64,
    pub event_seq: i64,
    pub sender_id: UserId,
    pub client_msg_id: Option<&'a str>,
    pub kind: MessageKind,
    pub body: &'a str,
    pub reply_to_id: Option<MessageId>,
    pub attachment_id: Option<AttachmentId>,
    pub forwarded_from: Option<UserId>,
    pub created_at: i64,
}

/// Inserts messages, many rows per statement. Returns `(conversation, seq, id)`.
#[tracing::instrument(skip_all)]
pub async fn insert_many(
    conn: &mut AnyConnection,
    messages: &[NewMessage<'_>],
) -> sqlx::Result<Vec<(ConversationId, i64, MessageId)>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let columns = [
        Column::Int("conversation_id"),
        Column::Int("org_id"),
        Column::Int("seq"),
        Column::Int("event_seq"),
        Column::Int("sender_id"),
        Column::Text("client_msg_id"),
        Column::Text("kind"),
        Column::Text("body"),
        Column::Int("reply_to_id"),
        Column::Int("attachment_id"),
        Column::Int("forwarded_from"),
        Column::Int("created_at"),
    ];
    let sql = format!(
        "INSERT INTO messages (conversation_id, org_id, seq, event_seq, created_event_seq, sender_id,
                               client_msg_id, kind, body, reply_to_id, attachment_id, forwarded_from,
                               created_at)
         SELECT v.conversation_id, v.org_id, v.seq, v.event_seq, v.event_seq, v.sender_id,
                v.client_msg_id, v.kind, v.body, v.reply_to_id, v.attachment_id, v.forwarded_from,
                v.created_at
         FROM {}
         RETURNING conversation_id, seq, id",
        sql::records(engine_of(conn), 1, "v", &columns)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(messages))
        .fetch_all(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn set_body(
    conn: &mut AnyConnection,
    id: MessageId,
    body: &str,
    event_seq: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE messages SET body = $1, edited_at = $2, event_seq = $3 WHERE id = $4")
        .bind(body)
        .bind(now)
        .bind(event_seq)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns a message into a tombstone: its text is erased, its place stays.
#[tracing::instrument(skip_all)]
pub async fn tombstone(
    conn: &mut AnyConnection,
    id: MessageId,
    deleted_by: UserId,
    event_seq: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE messages SET body = '', deleted_at = $1, deleted_by = $2, event_seq = $3,
                pinned_at = NULL, pinned_by = NULL
         WHERE id = $4",
    )
    .bind(now)
    .bind(deleted_by)
    .bind(event_seq)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM reactions WHERE message_id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The conversation's pinned messages, the last pinned first, if `viewer`
/// is in it; nothing otherwise.
#[tracing::instrument(skip_all)]
pub async fn pinned(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    viewer: UserId,
) -> sqlx::Result<Vec<MessageRow>> {
    let filter = "WHERE m.conversation_id = $1 AND m.pinned_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM participants pm WHERE pm.conversation_id = $1 AND pm.user_id = $2)
         ORDER BY m.pinned_at DESC, m.seq DESC LIMIT $3";
    select_messages(conn, filter, "t.pinned_at DESC, t.seq DESC", |q| {
        q.bind(conversation_id)
            .bind(viewer)
            .bind(crate::protocol::MAX_PINNED_MESSAGES)
    })
    .await
}

/// How many messages are pinned in the conversation.
#[tracing::instrument(skip_all)]
pub async fn pinned_count(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND pinned_at IS NOT NULL",
    )
    .bind(conversation_id)
    .fetch_one(conn)
    .await
}

/// Pins a message (`Some((by, at))`) or unpins it (`None`), stamped with
/// the event that did it.
#[tracing::instrument(skip_all)]
pub async fn set_pin(
    conn: &mut AnyConnection,
    id: MessageId,
    pin: Option<(UserId, i64)>,
    event_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE messages SET pinned_by = $1, pinned_at = $2, event_seq = $3 WHERE id = $4")
        .bind(pin.map(|(by, _)| by))
        .bind(pin.map(|(_, at)| at))
        .bind(event_seq)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stamps a message with the event that changed its reactions.
#[tracing::instrument(skip_all)]
pub async fn stamp(conn: &mut AnyConnection, id: MessageId, event_seq: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE messages SET event_seq = $1 WHERE id = $2")
        .bind(event_seq)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the reaction, or removes it when the user already made it. Returns
/// whether it is now present.
#[tracing::instrument(skip_all)]
pub async fn toggle_reaction(
    conn: &mut AnyConnection,
    message_id: MessageId,
    user_id: UserId,
    emoji: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let removed =
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(message_id)
            .bind(user_id)
            .bind(emoji)
            .execute(&mut *conn)
            .await?;
    if removed.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(message_id)
    .bind(user_id)
    .bind(emoji)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(true)
}

/// The distinct emoji on a message (bounded, so reactions cannot bloat a message).
#[tracing::instrument(skip_all)]
pub async fn distinct_emoji_count(
    conn: &mut AnyConnection,
    message_id: MessageId,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message_id = $1")
        .bind(message_id)
        .fetch_one(conn)
        .await
}

/// A conversation's messages after `from_seq`, up to `to_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SeqRange {
    pub conversation_id: ConversationId,
    pub from_seq: i64,
    pub to_seq: i64,
}

/// The senders of the (non-system) messages in each range:
/// `(conversation, seq, sender)`, ordered by conversation and seq.
#[tracing::instrument(skip_all)]
pub async fn senders_in_ranges(
    conn: &mut AnyConnection,
    ranges: &[SeqRange],
) -> sqlx::Result<Vec<(ConversationId, i64, UserId)>> {
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let columns = [
        Column::Int("conversation_id"),
        Column::Int("from_seq"),
        Column::Int("to_seq"),
    ];
    let sql = format!(
        "SELECT m.conversation_id, m.seq, m.sender_id
         FROM {} JOIN messages m
           ON m.conversation_id = v.conversation_id AND m.seq > v.from_seq AND m.seq <= v.to_seq
         WHERE m.kind <> 'system'
         ORDER BY m.conversation_id, m.seq",
        sql::records(engine_of(conn), 1, "v", &columns)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(ranges))
        .fetch_all(conn)
        .await
}
