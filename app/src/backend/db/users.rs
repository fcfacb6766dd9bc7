//! Users. Every read of another user is scoped by the caller's organisation.

use sqlx::FromRow;

use crate::protocol::{Me, OrgId, OrgRole, UserId, UserSummary};

use super::Db;

/// What sign-in needs to know about an account.
#[derive(Debug, FromRow)]
pub struct Credentials {
    pub id: UserId,
    pub password_hash: String,
}

pub struct NewUser<'a> {
    pub org_id: OrgId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: OrgRole,
}

#[derive(FromRow)]
struct MeRow {
    id: UserId,
    email: String,
    display_name: String,
    org_role: String,
    org_id: OrgId,
    org_name: String,
    token_version: i64,
}

#[derive(FromRow)]
struct SummaryRow {
    id: UserId,
    display_name: String,
    email: String,
    org_role: String,
    last_seen_at: Option<i64>,
}

impl From<SummaryRow> for UserSummary {
    fn from(row: SummaryRow) -> Self {
        UserSummary {
            id: row.id,
            display_name: row.display_name,
            email: row.email,
            role: parse_role(&row.org_role),
            // Presence is the real-time hub's to say; see `Backend::contacts`.
            is_online: false,
            last_seen_at: row.last_seen_at,
        }
    }
}

/// The CHECK constraint allows only the two roles; anything else is treated as
/// the lesser one rather than trusted.
fn parse_role(stored: &str) -> OrgRole {
    OrgRole::parse(stored).unwrap_or(OrgRole::Member)
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    user: NewUser<'_>,
    now: i64,
) -> sqlx::Result<UserId> {
    sqlx::query_scalar(
        "INSERT INTO users (org_id, email, display_name, password_hash, org_role, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.org_id)
    .bind(user.email)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(now)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn credentials_by_email(db: &Db, email: &str) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db.pool())
        .await
}

/// The user with their organisation, and the token version their tokens must carry.
#[tracing::instrument(skip_all)]
pub async fn me(db: &Db, user_id: UserId) -> sqlx::Result<Option<(Me, i64)>> {
    let row: Option<MeRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.display_name, u.org_role, u.org_id, o.name AS org_name, u.token_version
         FROM users u JOIN organizations o ON o.id = u.org_id
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|row| {
        let me = Me {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: parse_role(&row.org_role),
            org_id: row.org_id,
            org_name: row.org_name,
        };
        (me, row.token_version)
    }))
}

/// Records when the user's last connection ended.
#[tracing::instrument(skip_all)]
pub async fn set_last_seen(db: &Db, user_id: UserId, at: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
        .bind(at)
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Revokes every token the user holds.
#[tracing::instrument(skip_all)]
pub async fn bump_token_version(db: &Db, user_id: UserId) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A user of the given organisation; a user of another organisation is `None`,
/// exactly as if they did not exist.
#[tracing::instrument(skip_all)]
pub async fn find_in_org(
    db: &Db,
    org_id: OrgId,
    user_id: UserId,
) -> sqlx::Result<Option<UserSummary>> {
    let row: Option<SummaryRow> = sqlx::query_as(
        "SELECT id, display_name, email, org_role, last_seen_at FROM users WHERE id = $1 AND org_id = $2",
    )
    .bind(user_id)
    .bind(org_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(UserSummary::from))
}

/// The users of an organisation whose name or email contains `query`
/// (case-insensitive), by name.
#[tracing::instrument(skip_all)]
pub async fn list_in_org(
    db: &Db,
    org_id: OrgId,
    query: &str,
    limit: i64,
) -> sqlx::Result<Vec<UserSummary>> {
    let pattern = format!("%{}%", escape_like(&query.trim().to_lowercase()));
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT id, display_name, email, org_role, last_seen_at FROM users
         WHERE org_id = $1 AND (LOWER(display_name) LIKE $2 ESCAPE '\\' OR email LIKE $2 ESCAPE '\\')
         ORDER BY LOWER(display_name), id LIMIT $3",
    )
    .bind(org_id)
    .bind(pattern)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(UserSummary::from).collect())
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `(id, display name)` of those of `ids` who are users of the organisation.
#[tracing::instrument(skip_all)]
pub async fn names_in_org(
    conn: &mut sqlx::AnyConnection,
    org_id: OrgId,
    ids: &[UserId],
) -> sqlx::Result<Vec<(UserId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, display_name FROM users WHERE org_id = $2 AND id IN {} ORDER BY display_name",
        super::sql::ids(super::sql::engine_of(conn), 1)
    );
    sqlx::query_as(&sql)
        .bind(super::sql::json(ids))
        .bind(org_id)
        .fetch_all(conn)
        .await
}
