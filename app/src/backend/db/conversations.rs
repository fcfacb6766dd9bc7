//! Conversations and their change counters.

use sqlx::{AnyConnection, FromRow};

use super::Engine;
use super::sql::{self, Column, engine_of};
use crate::protocol::{ConversationId, ConversationKind, OrgId, UserId};

#[derive(Debug, Clone, FromRow)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub org_id: OrgId,
    pub kind: String,
    pub title: Option<String>,
    pub last_event_seq: i64,
    pub last_message_seq: i64,
}

impl ConversationRow {
    pub fn kind(&self) -> ConversationKind {
        ConversationKind::parse(&self.kind).unwrap_or(ConversationKind::Group)
    }
}

/// One row of a user's conversation list, before participants are attached.
#[derive(Debug, serde::Deserialize)]
pub struct SummaryRow {
    pub id: ConversationId,
    pub kind: String,
    pub title: Option<String>,
    pub last_event_seq: i64,
    pub last_message_seq: i64,
    pub last_message_at: Option<i64>,
    pub created_at: i64,
    pub role: String,
    pub unread_count: i64,
    pub last_read_seq: i64,
    pub muted: i64,
    /// When the viewer pinned it to the top of their list (Unix ms).
    pub pinned_at: Option<i64>,
    /// 0 or 1: the viewer marked it as unread.
    pub marked_unread: i64,
    /// The message the viewer marked it unread from; 0 for none.
    pub unread_from_seq: i64,
    pub participant_count: i64,
    pub lm_id: Option<i64>,
    pub lm_sender_id: Option<i64>,
    pub lm_sender_name: Option<String>,
    pub lm_kind: Option<String>,
    pub lm_body: Option<String>,
    /// The last message's file: its name and type.
    pub lm_file_name: Option<String>,
    pub lm_file_type: Option<String>,
    pub lm_deleted_at: Option<i64>,
    pub lm_created_at: Option<i64>,
    pub last_delivered_seq: i64,
    /// The other person of a direct conversation.
    pub other_id: Option<UserId>,
    pub other_role: Option<String>,
    pub other_last_read_seq: Option<i64>,
    pub other_last_delivered_seq: Option<i64>,
    pub other_last_seen_at: Option<i64>,
    pub other_name: Option<String>,
    /// The members of a group (see [`MemberTuple`]).
    pub members: Option<Vec<MemberTuple>>,
    /// The newest unread message of a group or broadcast whose text holds
    /// `@` and the viewer's name (or `@all`, `@everyone`), when unread
    /// messages remain: whether it really mentions them is
    /// `format::mentions`'s to say.
    pub mention_candidate: Option<String>,
}

/// A participant of one of a user's conversations, with their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub display_name: String,
    pub role: String,
    pub last_read_seq: i64,
    pub last_delivered_seq: i64,
    pub last_seen_at: Option<i64>,
}

const CONVERSATION_COLUMNS: &str = "id, org_id, kind, title, last_event_seq, last_message_seq";

#[tracing::instrument(skip_all)]
pub async fn get(
    conn: &mut AnyConnection,
    id: ConversationId,
) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn get_many(
    conn: &mut AnyConnection,
    ids: &[ConversationId],
) -> sqlx::Result<Vec<ConversationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id IN {}",
        sql::ids(engine_of(conn), 1)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(ids))
        .fetch_all(conn)
        .await
}

/// Takes the row locks of conversations in id order, so that two transactions
/// touching the same conversations never deadlock. SQLite's write lock is
/// already exclusive.
pub async fn lock(
    conn: &mut AnyConnection,
    engine: Engine,
    ids: &[ConversationId],
) -> sqlx::Result<()> {
    if engine == Engine::Sqlite || ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id FROM conversations WHERE id IN {} ORDER BY id FOR UPDATE",
        sql::ids(engine, 1)
    );
    sqlx::query(&sql).bind(sql::json(ids)).execute(conn).await?;
    Ok(())
}

/// Creates the direct conversation for `key` unless it exists; `None` when it did.
#[tracing::instrument(skip_all)]
pub async fn insert_direct(
    conn: &mut AnyConnection,
    org_id: OrgId,
    key: &str,
    created_by: UserId,
    now: i64,
) -> sqlx::Result<Option<ConversationId>> {
    sqlx::query_scalar(
        "INSERT INTO conversations (org_id, kind, direct_key, created_by, created_at)
         VALUES ($1, 'direct', $2, $3, $4)
         ON CONFLICT (direct_key) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(key)
    .bind(created_by)
    .bind(now)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_direct(
    conn: &mut AnyConnection,
    key: &str,
) -> sqlx::Result<Option<ConversationId>> {
    sqlx::query_scalar("SELECT id FROM conversations WHERE direct_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    org_id: OrgId,
    kind: ConversationKind,
    title: &str,
    created_by: UserId,
    now: i64,
) -> sqlx::Result<ConversationId> {
    sqlx::query_scalar(
        "INSERT INTO conversations (org_id, kind, title, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(title)
    .bind(created_by)
    .bind(now)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn set_title(
    conn: &mut AnyConnection,
    id: ConversationId,
    title: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE conversations SET title = $1 WHERE id = $2")
        .bind(title)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The broadcast conversations of an organisation (new users join them).
#[tracing::instrument(skip_all)]
pub async fn broadcasts_of_org(
    conn: &mut AnyConnection,
    org_id: OrgId,
) -> sqlx::Result<Vec<ConversationId>> {
    sqlx::query_scalar("SELECT id FROM conversations WHERE org_id = $1 AND kind = 'broadcast'")
        .bind(org_id)
        .fetch_all(conn)
        .await
}

/// A participant of a conversation a batch writes to, with the
/// conversation's counters as locked for the batch.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LockedMember {
    pub conversation_id: ConversationId,
    pub org_id: OrgId,
    pub kind: String,
    pub title: Option<String>,
    pub last_event_seq: i64,
    pub last_message_seq: i64,
    pub user_id: UserId,
    pub role: String,
    pub display_name: String,
    pub unread_count: i64,
    pub last_read_seq: i64,
    pub last_delivered_seq: i64,
    /// 0 or 1: the member muted the conversation.
    pub muted: i64,
}

impl LockedMember {
    pub fn kind(&self) -> ConversationKind {
        ConversationKind::parse(&self.kind).unwrap_or(ConversationKind::Group)
    }

    pub fn role(&self) -> crate::protocol::ParticipantRole {
        crate::protocol::ParticipantRole::parse(&self.role)
            .unwrap_or(crate::protocol::ParticipantRole::Member)
    }
}

/// The participants of the conversations, with the conversations' counters.
/// On PostgreSQL the conversations' rows are locked, in id order (no two
/// batches can deadlock); SQLite's write transaction is exclusive already.
/// Until commit, the counters read here are the ones to advance from.
#[tracing::instrument(skip_all)]
pub async fn lock_members(
    conn: &mut AnyConnection,
    engine: Engine,
    ids: &[ConversationId],
) -> sqlx::Result<Vec<LockedMember>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let lock = match engine {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE OF c",
    };
    let inner = format!(
        "SELECT c.id AS conversation_id, c.org_id, c.kind, c.title, c.last_event_seq, c.last_message_seq,
                p.user_id, p.role, u.display_name, p.unread_count, p.last_read_seq, p.last_delivered_seq,
                p.muted, p.joined_at
         FROM conversations c
         JOIN participants p ON p.conversation_id = c.id
         JOIN users u ON u.id = p.user_id
         WHERE c.id IN {}
         ORDER BY c.id, p.joined_at, p.user_id{lock}",
        sql::ids(engine, 1)
    );
    // One JSON document rather than a row per member: a batch locks a
    // hundred members or more, and the driver converts rows value by value.
    let sql = sql::json_document(
        engine,
        &inner,
        LOCKED_MEMBER_FIELDS,
        &[],
        "t.conversation_id, t.joined_at, t.user_id",
    );
    let document = sqlx::query_scalar(&sql)
        .bind(sql::json(ids))
        .fetch_one(conn)
        .await?;
    sql::decode_document(document)
}

const LOCKED_MEMBER_FIELDS: &[&str] = &[
    "conversation_id",
    "org_id",
    "kind",
    "title",
    "last_event_seq",
    "last_message_seq",
    "user_id",
    "role",
    "display_name",
    "unread_count",
    "last_read_seq",
    "last_delivered_seq",
    "muted",
];

/// Sets conversations' counters to values computed under their locks:
/// `(id, last_event_seq, last_message_seq)`.
#[tracing::instrument(skip_all)]
pub async fn set_counters(
    conn: &mut AnyConnection,
    counters: &[(ConversationId, i64, i64)],
    now: i64,
) -> sqlx::Result<()> {
    if counters.is_empty() {
        return Ok(());
    }
    #[derive(serde::Serialize)]
    struct Counter {
        id: ConversationId,
        event_seq: i64,
        message_seq: i64,
    }
    let rows: Vec<Counter> = counters
        .iter()
        .map(|&(id, event_seq, message_seq)| Counter {
            id,
            event_seq,
            message_seq,
        })
        .collect();
    let columns = [
        Column::Int("id"),
        Column::Int("event_seq"),
        Column::Int("message_seq"),
    ];
    let sql = format!(
        "UPDATE conversations SET last_event_seq = v.event_seq, last_message_seq = v.message_seq, last_message_at = $2
         FROM {} WHERE conversations.id = v.id",
        sql::records(engine_of(conn), 1, "v", &columns)
    );
    sqlx::query(&sql)
        .bind(sql::json(&rows))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Advances the counters of several conversations at once: `(id, events,
/// messages)` adds `events` to `last_event_seq` and `messages` to
/// `last_message_seq`. Returns each conversation's new `(last_event_seq,
/// last_message_seq)`.
#[tracing::instrument(skip_all)]
pub async fn advance(
    conn: &mut AnyConnection,
    increments: &[(ConversationId, i64, i64)],
    now: i64,
) -> sqlx::Result<Vec<(ConversationId, i64, i64)>> {
    if increments.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(serde::Serialize)]
    struct Increment {
        id: ConversationId,
        events: i64,
        messages: i64,
    }
    let rows: Vec<Increment> = increments
        .iter()
        .map(|&(id, events, messages)| Increment {
            id,
            events,
            messages,
        })
        .collect();
    let columns = [
        Column::Int("id"),
        Column::Int("events"),
        Column::Int("messages"),
    ];
    let sql = format!(
        "UPDATE conversations SET
             last_event_seq = last_event_seq + v.events,
             last_message_seq = last_message_seq + v.messages,
             last_message_at = CASE WHEN v.messages > 0 THEN $2 ELSE last_message_at END
         FROM {}
         WHERE conversations.id = v.id
         RETURNING conversations.id, conversations.last_event_seq, conversations.last_message_seq",
        sql::records(engine_of(conn), 1, "v", &columns)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(&rows))
        .bind(now)
        .fetch_all(conn)
        .await
}

/// The list row of each of a user's conversations (`$1`), as a row query.
/// A direct conversation's other person comes as plain columns (a join is
/// much cheaper than a subquery per row, and most conversations are direct);
/// a group's members come as a JSON array of `[user, role, last read, last
/// delivered, last seen, name]`; a broadcast lists none (it reaches the whole
/// organisation).
fn summary_select(engine: Engine) -> String {
    let members = sql::json_array_agg(
        engine,
        &[
            "pm.user_id",
            "pm.role",
            "pm.last_read_seq",
            "pm.last_delivered_seq",
            "um.last_seen_at",
            "um.display_name",
        ],
        "pm.joined_at, pm.user_id",
    );
    format!(
        "SELECT c.id, c.kind, c.title, c.last_event_seq, c.last_message_seq, c.last_message_at, c.created_at,
                COALESCE(c.last_message_at, c.created_at) AS activity,
                p.role, p.unread_count, p.last_read_seq, p.last_delivered_seq, p.muted,
                p.pinned_at, p.marked_unread, p.unread_from_seq,
                CASE c.kind WHEN 'direct' THEN 2
                     ELSE (SELECT COUNT(*) FROM participants pc WHERE pc.conversation_id = c.id) END AS participant_count,
                lm.id AS lm_id, lm.sender_id AS lm_sender_id, lu.display_name AS lm_sender_name,
                lm.kind AS lm_kind, lm.body AS lm_body, lm.deleted_at AS lm_deleted_at, lm.created_at AS lm_created_at,
                la.file_name AS lm_file_name, la.content_type AS lm_file_type,
                op.user_id AS other_id, op.role AS other_role, op.last_read_seq AS other_last_read_seq,
                op.last_delivered_seq AS other_last_delivered_seq, ou.last_seen_at AS other_last_seen_at,
                ou.display_name AS other_name,
                CASE WHEN c.kind = 'group' THEN
                    (SELECT {members} FROM participants pm JOIN users um ON um.id = pm.user_id
                     WHERE pm.conversation_id = c.id)
                END AS members,
                CASE WHEN p.unread_count > 0 AND c.kind <> 'direct' THEN
                    (SELECT mm.body FROM messages mm JOIN users mu ON mu.id = p.user_id
                     WHERE mm.conversation_id = c.id AND mm.seq > p.last_read_seq
                       AND mm.sender_id <> p.user_id AND mm.deleted_at IS NULL
                       AND (lower(mm.body) LIKE '%@' || lower(mu.display_name) || '%'
                            OR lower(mm.body) LIKE '%@all%' OR lower(mm.body) LIKE '%@everyone%')
                     ORDER BY mm.seq DESC LIMIT 1)
                END AS mention_candidate
         FROM participants p
         JOIN conversations c ON c.id = p.conversation_id
         LEFT JOIN participants op ON c.kind = 'direct' AND op.conversation_id = c.id AND op.user_id <> p.user_id
         LEFT JOIN users ou ON ou.id = op.user_id
         LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = c.last_message_seq
         LEFT JOIN users lu ON lu.id = lm.sender_id
         LEFT JOIN attachments la ON la.id = lm.attachment_id
         WHERE p.user_id = $1"
    )
}

const SUMMARY_FIELDS: &[&str] = &[
    "id",
    "kind",
    "title",
    "last_event_seq",
    "last_message_seq",
    "last_message_at",
    "created_at",
    "role",
    "unread_count",
    "last_read_seq",
    "last_delivered_seq",
    "muted",
    "pinned_at",
    "marked_unread",
    "unread_from_seq",
    "participant_count",
    "lm_id",
    "lm_sender_id",
    "lm_sender_name",
    "lm_kind",
    "lm_body",
    "lm_file_name",
    "lm_file_type",
    "lm_deleted_at",
    "lm_created_at",
    "other_id",
    "other_role",
    "other_last_read_seq",
    "other_last_delivered_seq",
    "other_last_seen_at",
    "other_name",
    "members",
    "mention_candidate",
];

/// A user's conversations: the pinned ones first, most recently pinned
/// first, then the rest, most recently active first. One query answering one
/// JSON document.
#[tracing::instrument(skip_all)]
pub async fn summaries_for_user(
    conn: &mut AnyConnection,
    user_id: UserId,
) -> sqlx::Result<Vec<SummaryRow>> {
    let engine = engine_of(conn);
    let sql = sql::json_document(
        engine,
        &summary_select(engine),
        SUMMARY_FIELDS,
        &["members"],
        "COALESCE(t.pinned_at, 0) DESC, t.activity DESC, t.id DESC",
    );
    let document = sqlx::query_scalar(&sql)
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    sql::decode_document(document)
}

/// One conversation of a user's list; `None` when they are not in it.
#[tracing::instrument(skip_all)]
pub async fn summary_for_user(
    conn: &mut AnyConnection,
    user_id: UserId,
    conversation_id: ConversationId,
) -> sqlx::Result<Option<SummaryRow>> {
    let engine = engine_of(conn);
    let inner = format!("{} AND c.id = $2", summary_select(engine));
    let sql = sql::json_document(engine, &inner, SUMMARY_FIELDS, &["members"], "t.id");
    let document = sqlx::query_scalar(&sql)
        .bind(user_id)
        .bind(conversation_id)
        .fetch_one(conn)
        .await?;
    Ok(sql::decode_document(document)?.into_iter().next())
}

/// A member as the list's JSON carries them: `[user, role, last read, last
/// delivered, last seen, name]`.
pub type MemberTuple = (UserId, String, i64, i64, Option<i64>, String);

/// The members of a list row: for a direct conversation the viewer and the
/// other person, for a group its members, for a broadcast none.
pub fn members_of_row(row: &mut SummaryRow, viewer: UserId, viewer_name: &str) -> Vec<MemberRow> {
    let conversation_id = row.id;
    if let (Some(other_id), Some(other_name)) = (row.other_id, row.other_name.take()) {
        let me = MemberRow {
            conversation_id,
            user_id: viewer,
            display_name: viewer_name.to_owned(),
            role: row.role.clone(),
            last_read_seq: row.last_read_seq,
            last_delivered_seq: row.last_delivered_seq,
            last_seen_at: None,
        };
        let other = MemberRow {
            conversation_id,
            user_id: other_id,
            display_name: other_name,
            role: row.other_role.take().unwrap_or_default(),
            last_read_seq: row.other_last_read_seq.unwrap_or_default(),
            last_delivered_seq: row.other_last_delivered_seq.unwrap_or_default(),
            last_seen_at: row.other_last_seen_at,
        };
        let mut both = vec![me, other];
        both.sort_by_key(|m| m.user_id);
        return both;
    }
    row.members
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(
            |(user_id, role, last_read_seq, last_delivered_seq, last_seen_at, display_name)| {
                MemberRow {
                    conversation_id,
                    user_id,
                    display_name,
                    role,
                    last_read_seq,
                    last_delivered_seq,
                    last_seen_at,
                }
            },
        )
        .collect()
}
