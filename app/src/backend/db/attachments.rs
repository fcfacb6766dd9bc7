//! Uploaded files: metadata here, bytes in the blob store under their sha256.

use sqlx::{AnyConnection, FromRow};

use super::sql::{self, engine_of};
use crate::protocol::{AttachmentId, ConversationId, OrgId, UserId};

#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub org_id: OrgId,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub sha256: String,
    pub content_type: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

pub struct NewAttachment<'a> {
    pub org_id: OrgId,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, org_id, conversation_id, uploader_id, sha256, content_type, file_name,
    size_bytes, width, height";

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    new: NewAttachment<'_>,
    now: i64,
) -> sqlx::Result<AttachmentId> {
    sqlx::query_scalar(
        "INSERT INTO attachments (org_id, conversation_id, uploader_id, sha256, content_type, file_name,
                                  size_bytes, width, height, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(new.org_id)
    .bind(new.conversation_id)
    .bind(new.uploader_id)
    .bind(new.sha256)
    .bind(new.content_type)
    .bind(new.file_name)
    .bind(new.size_bytes)
    .bind(new.width)
    .bind(new.height)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// A copy of `original` in another conversation, for a forwarded message:
/// the same bytes (the blob store keeps them once, by hash), uploaded by
/// `forwarder` so that they can send it there.
#[tracing::instrument(skip_all)]
pub async fn copy_to(
    conn: &mut AnyConnection,
    original: &AttachmentRow,
    conversation_id: ConversationId,
    forwarder: UserId,
    now: i64,
) -> sqlx::Result<AttachmentId> {
    let copy = NewAttachment {
        org_id: original.org_id,
        conversation_id,
        uploader_id: forwarder,
        sha256: &original.sha256,
        content_type: &original.content_type,
        file_name: &original.file_name,
        size_bytes: original.size_bytes,
        width: original.width,
        height: original.height,
    };
    insert(conn, copy, now).await
}

#[tracing::instrument(skip_all)]
pub async fn get_many(
    conn: &mut AnyConnection,
    ids: &[AttachmentId],
) -> sqlx::Result<Vec<AttachmentRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id IN {}",
        sql::ids(engine_of(conn), 1)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(ids))
        .fetch_all(conn)
        .await
}

/// The attachment, if `user_id` may download it: they are in its
/// conversation, and it is their own upload or a message that is not deleted
/// carries it.
#[tracing::instrument(skip_all)]
pub async fn get_for_download(
    conn: &mut AnyConnection,
    id: AttachmentId,
    org_id: OrgId,
    user_id: UserId,
) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments a WHERE a.id = $1 AND a.org_id = $2
           AND EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = a.conversation_id AND p.user_id = $3)
           AND (a.uploader_id = $3
                OR EXISTS (SELECT 1 FROM messages m WHERE m.attachment_id = a.id AND m.deleted_at IS NULL))"
    ))
    .bind(id)
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}
