//! Organisation API keys: CRM systems authenticate ingestion with them.
//! Only a SHA-256 of each key is stored.

use sqlx::{AnyConnection, FromRow};

use crate::protocol::{ApiKeyId, ApiKeySummary, OrgId, UserId};

#[derive(Debug, FromRow)]
struct SummaryRow {
    id: ApiKeyId,
    name: String,
    prefix: String,
    created_by: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<SummaryRow> for ApiKeySummary {
    fn from(row: SummaryRow) -> Self {
        ApiKeySummary {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            created_by: row.created_by,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}

const SELECT: &str = "
    SELECT k.id, k.name, k.prefix, u.display_name AS created_by, k.created_at,
           k.last_used_at, k.revoked_at
    FROM api_keys k JOIN users u ON u.id = k.created_by";

pub struct NewKey<'a> {
    pub org_id: OrgId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub created_by: UserId,
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    key: NewKey<'_>,
    now: i64,
) -> sqlx::Result<ApiKeySummary> {
    let id: ApiKeyId = sqlx::query_scalar(
        "INSERT INTO api_keys (org_id, name, prefix, key_hash, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(key.org_id)
    .bind(key.name)
    .bind(key.prefix)
    .bind(key.key_hash)
    .bind(key.created_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let row: SummaryRow = sqlx::query_as(&format!("{SELECT} WHERE k.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(row.into())
}

/// The organisation's keys, newest first, revoked ones included.
#[tracing::instrument(skip_all)]
pub async fn of_org(conn: &mut AnyConnection, org_id: OrgId) -> sqlx::Result<Vec<ApiKeySummary>> {
    let rows: Vec<SummaryRow> =
        sqlx::query_as(&format!("{SELECT} WHERE k.org_id = $1 ORDER BY k.id DESC"))
            .bind(org_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Revokes a key of the organisation. Whether it existed there.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    conn: &mut AnyConnection,
    org_id: OrgId,
    id: ApiKeyId,
    now: i64,
) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3)
         WHERE id = $1 AND org_id = $2 RETURNING 1",
    )
    .bind(id)
    .bind(org_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The organisation of a live key with this hash, noting its use.
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    conn: &mut AnyConnection,
    key_hash: &str,
    now: i64,
) -> sqlx::Result<Option<(ApiKeyId, OrgId)>> {
    sqlx::query_as(
        "UPDATE api_keys SET last_used_at = $2
         WHERE key_hash = $1 AND revoked_at IS NULL
         RETURNING id, org_id",
    )
    .bind(key_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}
