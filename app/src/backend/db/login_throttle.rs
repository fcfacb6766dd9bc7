//! The per-account sign-in throttle. Attempts are counted before the password
//! is checked, atomically, so parallel guesses cannot slip past the limit.

use super::Db;

/// Counts one attempt for `email` and returns the attempts in the current
/// window and when that window started. A window older than `window_ms` is
/// replaced by a new one that starts now.
#[tracing::instrument(skip_all)]
pub async fn record_attempt(
    db: &Db,
    email: &str,
    now: i64,
    window_ms: i64,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "INSERT INTO login_throttle (email, attempts, window_started_at) VALUES ($1, 1, $2)
         ON CONFLICT (email) DO UPDATE SET
             attempts = CASE WHEN login_throttle.window_started_at <= $3
                             THEN 1 ELSE login_throttle.attempts + 1 END,
             window_started_at = CASE WHEN login_throttle.window_started_at <= $3
                                      THEN $2 ELSE login_throttle.window_started_at END
         RETURNING attempts, window_started_at",
    )
    .bind(email)
    .bind(now)
    .bind(now - window_ms)
    .fetch_one(db.pool())
    .await
}

/// A successful sign-in forgets the account's failures.
#[tracing::instrument(skip_all)]
pub async fn clear(db: &Db, email: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE email = $1")
        .bind(email)
        .execute(db.pool())
        .await?;
    Ok(())
}
