//! Notifications: one user's feed. Every statement is scoped by the
//! recipient, so an id of someone else's notification finds nothing.

use sqlx::{AnyConnection, FromRow};

use super::sql::{self, Column, engine_of};
use crate::protocol::{ConversationId, NotificationId, NotificationKind, OrgId, UserId};

#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub metadata: String,
    pub link: Option<String>,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub conversation_id: Option<ConversationId>,
    pub item_count: i64,
    pub read_at: Option<i64>,
    pub created_at: i64,
    pub activity_at: i64,
}

/// A notification to store.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewNotification {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    /// A JSON object, as text.
    pub metadata: String,
    pub link: Option<String>,
    pub actor_id: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    pub item_count: i64,
}

const NEW_COLUMNS: [Column; 10] = [
    Column::Int("org_id"),
    Column::Int("user_id"),
    Column::Text("kind"),
    Column::Text("title"),
    Column::Text("body"),
    Column::Text("metadata"),
    Column::Text("link"),
    Column::Int("actor_id"),
    Column::Int("conversation_id"),
    Column::Int("item_count"),
];

const SELECT: &str = "
    SELECT n.id, n.kind, n.title, n.body, n.metadata, n.link, n.actor_id,
           a.display_name AS actor_name, n.conversation_id, n.item_count,
           n.read_at, n.created_at, n.activity_at
    FROM notifications n LEFT JOIN users a ON a.id = n.actor_id";

/// What a page of the feed asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub unread_only: bool,
    pub kind: Option<NotificationKind>,
    pub before: Option<NotificationId>,
}

/// Stores notifications, one statement whatever their number; at most one
/// per recipient. Returns each recipient's new notification id.
#[tracing::instrument(skip_all)]
pub async fn insert_many(
    conn: &mut AnyConnection,
    rows: &[NewNotification],
    now: i64,
) -> sqlx::Result<Vec<(NotificationId, UserId)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let engine = engine_of(conn);
    let sql = format!(
        "INSERT INTO notifications (org_id, user_id, kind, title, body, metadata, link, actor_id,
                                    conversation_id, item_count, created_at, activity_at)
         SELECT v.org_id, v.user_id, v.kind, v.title, v.body, v.metadata, v.link, v.actor_id,
                v.conversation_id, v.item_count, $2, $2
         FROM {}
         RETURNING id, user_id",
        sql::records(engine, 1, "v", &NEW_COLUMNS)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(rows))
        .bind(now)
        .fetch_all(conn)
        .await
}

/// How a chat message joins the member's unread NEW_MESSAGE notification of
/// its conversation (the partial unique index `notifications_collapse`).
pub(crate) const COLLAPSE_CHAT: &str = "
    ON CONFLICT (user_id, conversation_id)
        WHERE kind = 'NEW_MESSAGE' AND read_at IS NULL AND deleted_at IS NULL
    DO UPDATE SET item_count = notifications.item_count + excluded.item_count,
                  title = excluded.title, body = excluded.body,
                  metadata = excluded.metadata, actor_id = excluded.actor_id,
                  activity_at = excluded.activity_at";

/// Adds chat messages to each member's unread NEW_MESSAGE notification of
/// the conversation, creating it when there is none: one unread
/// notification per member and conversation however many messages arrive.
/// One statement for the whole batch; rows must be unique per
/// (user, conversation).
#[tracing::instrument(skip_all)]
pub async fn collapse_chat(
    conn: &mut AnyConnection,
    rows: &[NewNotification],
    now: i64,
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let engine = engine_of(conn);
    let sql = format!(
        "INSERT INTO notifications (org_id, user_id, kind, title, body, metadata, link, actor_id,
                                    conversation_id, item_count, created_at, activity_at)
         SELECT v.org_id, v.user_id, 'NEW_MESSAGE', v.title, v.body, v.metadata, v.link,
                v.actor_id, v.conversation_id, v.item_count, $2, $2
         FROM {} WHERE true {COLLAPSE_CHAT}",
        sql::records(engine, 1, "v", &NEW_COLUMNS)
    );
    sqlx::query(&sql)
        .bind(sql::json(rows))
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A page of the feed, newest activity first.
#[tracing::instrument(skip_all)]
pub async fn page(
    conn: &mut AnyConnection,
    user_id: UserId,
    filter: Filter,
    limit: i64,
) -> sqlx::Result<Vec<NotificationRow>> {
    let sql = format!(
        "{SELECT}
         WHERE n.user_id = $1 AND n.deleted_at IS NULL
           AND ($2 = 0 OR n.read_at IS NULL)
           AND ($3 = '' OR n.kind = $3)
           AND ($4 = 0 OR (n.activity_at, n.id) <
                (SELECT b.activity_at, b.id FROM notifications b WHERE b.id = $4 AND b.user_id = $1))
         ORDER BY n.activity_at DESC, n.id DESC
         LIMIT $5"
    );
    sqlx::query_as(&sql)
        .bind(user_id)
        .bind(i64::from(filter.unread_only))
        .bind(filter.kind.map_or("", NotificationKind::as_str))
        .bind(filter.before.map_or(0, |id| id.0))
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// The user's notifications with these ids (deleted ones excluded).
#[tracing::instrument(skip_all)]
pub async fn by_ids(
    conn: &mut AnyConnection,
    user_id: UserId,
    ids: &[NotificationId],
) -> sqlx::Result<Vec<NotificationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let engine = engine_of(conn);
    let sql = format!(
        "{SELECT} WHERE n.user_id = $1 AND n.deleted_at IS NULL AND n.id IN {} ORDER BY n.id",
        sql::ids(engine, 2)
    );
    sqlx::query_as(&sql)
        .bind(user_id)
        .bind(sql::json(ids))
        .fetch_all(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn unread_count(conn: &mut AnyConnection, user_id: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications
         WHERE user_id = $1 AND read_at IS NULL AND deleted_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// The unread counts of several users; those with none are left out.
#[tracing::instrument(skip_all)]
pub async fn unread_counts(
    conn: &mut AnyConnection,
    users: &[UserId],
) -> sqlx::Result<Vec<(UserId, i64)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let engine = engine_of(conn);
    let sql = format!(
        "SELECT user_id, COUNT(*) FROM notifications
         WHERE read_at IS NULL AND deleted_at IS NULL AND user_id IN {}
         GROUP BY user_id",
        sql::ids(engine, 1)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(users))
        .fetch_all(conn)
        .await
}

/// Marks one notification read. `None` when the user has no such
/// notification; else whether it was unread.
#[tracing::instrument(skip_all)]
pub async fn mark_read(
    conn: &mut AnyConnection,
    user_id: UserId,
    id: NotificationId,
    now: i64,
) -> sqlx::Result<Option<bool>> {
    let changed = sqlx::query(
        "UPDATE notifications SET read_at = $3
         WHERE id = $1 AND user_id = $2 AND read_at IS NULL AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed > 0 {
        return Ok(Some(true));
    }
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM notifications WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(exists.map(|_| false))
}

/// Marks every unread notification of the user (of one kind) read, in one
/// statement however many there are. Returns how many changed.
#[tracing::instrument(skip_all)]
pub async fn mark_all_read(
    conn: &mut AnyConnection,
    user_id: UserId,
    kind: Option<NotificationKind>,
    now: i64,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at = $3
         WHERE user_id = $1 AND read_at IS NULL AND deleted_at IS NULL
           AND ($2 = '' OR kind = $2)",
    )
    .bind(user_id)
    .bind(kind.map_or("", NotificationKind::as_str))
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Marks the user's unread NEW_MESSAGE notification of a conversation read.
/// Returns its id, if there was one.
#[tracing::instrument(skip_all)]
pub async fn mark_chat_read(
    conn: &mut AnyConnection,
    user_id: UserId,
    conversation_id: ConversationId,
    now: i64,
) -> sqlx::Result<Option<NotificationId>> {
    sqlx::query_scalar(
        "UPDATE notifications SET read_at = $3
         WHERE user_id = $1 AND conversation_id = $2 AND kind = 'NEW_MESSAGE'
           AND read_at IS NULL AND deleted_at IS NULL
         RETURNING id",
    )
    .bind(user_id)
    .bind(conversation_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Soft-deletes one notification. `None` when the user has no such
/// notification; else whether it was unread.
#[tracing::instrument(skip_all)]
pub async fn soft_delete(
    conn: &mut AnyConnection,
    user_id: UserId,
    id: NotificationId,
    now: i64,
) -> sqlx::Result<Option<bool>> {
    let read_at: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE notifications SET deleted_at = $3
         WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL
         RETURNING read_at",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(read_at.map(|read_at| read_at.is_none()))
}

/// The kinds the user muted.
#[tracing::instrument(skip_all)]
pub async fn muted_kinds(
    conn: &mut AnyConnection,
    user_id: UserId,
) -> sqlx::Result<Vec<NotificationKind>> {
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM notification_settings WHERE user_id = $1 AND muted = 1",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    Ok(kinds
        .iter()
        .filter_map(|k| NotificationKind::parse(k))
        .collect())
}

/// Of these users, those who muted the kind.
#[tracing::instrument(skip_all)]
pub async fn muting(
    conn: &mut AnyConnection,
    users: &[UserId],
    kind: NotificationKind,
) -> sqlx::Result<Vec<UserId>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let engine = engine_of(conn);
    let sql = format!(
        "SELECT user_id FROM notification_settings
         WHERE kind = $1 AND muted = 1 AND user_id IN {}",
        sql::ids(engine, 2)
    );
    sqlx::query_scalar(&sql)
        .bind(kind.as_str())
        .bind(sql::json(users))
        .fetch_all(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn set_muted(
    conn: &mut AnyConnection,
    user_id: UserId,
    kind: NotificationKind,
    muted: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notification_settings (user_id, kind, muted) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, kind) DO UPDATE SET muted = excluded.muted",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(i64::from(muted))
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Idempotent ingestion
// ---------------------------------------------------------------------------

/// How long an Idempotency-Key is remembered.
pub const IDEMPOTENCY_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Claims an idempotency key for a request. `None` when it is new (and now
/// claimed by this transaction); else the first request's hash and answer.
/// A racing second claim waits for the first transaction and then sees it.
#[tracing::instrument(skip_all)]
pub async fn claim_idempotency_key(
    conn: &mut AnyConnection,
    org_id: OrgId,
    key: &str,
    request_hash: &str,
    now: i64,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query("DELETE FROM ingestion_requests WHERE org_id = $1 AND created_at < $2")
        .bind(org_id)
        .bind(now - IDEMPOTENCY_TTL_MS)
        .execute(&mut *conn)
        .await?;
    let claimed = sqlx::query(
        "INSERT INTO ingestion_requests (org_id, idempotency_key, request_hash, response, created_at)
         VALUES ($1, $2, $3, '', $4)
         ON CONFLICT (org_id, idempotency_key) DO NOTHING",
    )
    .bind(org_id)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT request_hash, response FROM ingestion_requests
         WHERE org_id = $1 AND idempotency_key = $2",
    )
    .bind(org_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Records the answer to a claimed key, in the claiming transaction.
#[tracing::instrument(skip_all)]
pub async fn record_idempotent_response(
    conn: &mut AnyConnection,
    org_id: OrgId,
    key: &str,
    response: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ingestion_requests SET response = $3 WHERE org_id = $1 AND idempotency_key = $2",
    )
    .bind(org_id)
    .bind(key)
    .bind(response)
    .execute(conn)
    .await?;
    Ok(())
}
