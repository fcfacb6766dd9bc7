//! Sign-in, sessions and sign-out.

pub mod passwords;
pub mod tokens;

use crate::protocol::{Me, UserId};

use super::db::{login_throttle, users};
use super::error::{Error, Result};
use super::{Backend, now_ms};

/// Failed attempts allowed per account within [`LOGIN_WINDOW_MS`].
pub const MAX_LOGIN_ATTEMPTS: i64 = 5;
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_PASSWORD_BYTES: usize = 1024;

/// A signed-in session: the token and who it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub me: Me,
}

/// Emails are compared trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Backend {
    /// Signs in with email and password. Unknown accounts and wrong passwords
    /// both give `InvalidCredentials`, after the same amount of work; the sixth
    /// attempt on an account within 15 minutes gives `LoginThrottled`.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: &str) -> Result<Session> {
        let email = normalize_email(email);
        if email.is_empty() || password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::InvalidCredentials);
        }
        let now = now_ms();
        let (attempts, window_started_at) =
            login_throttle::record_attempt(&self.db, &email, now, LOGIN_WINDOW_MS).await?;
        if attempts > MAX_LOGIN_ATTEMPTS {
            let remaining_ms = (window_started_at + LOGIN_WINDOW_MS - now).max(1000);
            return Err(Error::LoginThrottled {
                retry_after_secs: (remaining_ms as u64).div_ceil(1000),
            });
        }

        let credentials = users::credentials_by_email(&self.db, &email).await?;
        let user_id = credentials.as_ref().map(|c| c.id);
        let verified = self
            .passwords
            .verify(password, credentials.map(|c| c.password_hash))
            .await?;
        let (Some(user_id), true) = (user_id, verified) else {
            tracing::info!(target: "crm_chat::auth", "failed sign-in");
            metrics::counter!("crm_chat_login_failures_total").increment(1);
            return Err(Error::InvalidCredentials);
        };

        login_throttle::clear(&self.db, &email).await?;
        self.issue_session(user_id).await
    }

    /// Issues a token for a user, carrying their current token version.
    pub async fn issue_session(&self, user_id: UserId) -> Result<Session> {
        let (me, token_version) = users::me(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let now_secs = now_ms() / 1000;
        let ttl_secs = self.config.session_ttl.as_secs() as i64;
        let (token, claims) =
            self.tokens
                .issue(me.id, me.org_id, token_version, now_secs, ttl_secs)?;
        Ok(Session {
            token,
            expires_at: claims.exp * 1000,
            me,
        })
    }

    /// The user a token belongs to, if the token is valid and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Me> {
        self.authenticate_until(token).await.map(|(me, _)| me)
    }

    /// The user a token belongs to, and when the token expires (unix ms).
    pub async fn authenticate_until(&self, token: &str) -> Result<(Me, i64)> {
        let (user_id, claims) = self.tokens.verify(token).ok_or(Error::Unauthenticated)?;
        let (me, token_version) = users::me(&self.db, user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if token_version != claims.ver || me.org_id != claims.org {
            return Err(Error::Unauthenticated);
        }
        Ok((me, claims.exp * 1000))
    }

    /// Signs the user out everywhere: every token they hold stops working.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, user_id: UserId) -> Result<()> {
        users::bump_token_version(&self.db, user_id).await?;
        self.fanout
            .kick(
                user_id,
                crate::protocol::close_code::SESSION_ENDED,
                "signed out",
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_compared_trimmed_and_lower_cased() {
        assert_eq!(normalize_email("  Alice@Acme.TEST "), "alice@acme.test");
    }
}
