//! Organisations: the tenant boundary.

use crate::protocol::OrgId;

use super::Db;

#[tracing::instrument(skip_all)]
pub async fn insert(db: &Db, name: &str, slug: &str, now: i64) -> sqlx::Result<OrgId> {
    sqlx::query_scalar(
        "INSERT INTO organizations (name, slug, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(slug)
    .bind(now)
    .fetch_one(db.pool())
    .await
}

#[tracing::instrument(skip_all)]
pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(db.pool())
        .await
}
