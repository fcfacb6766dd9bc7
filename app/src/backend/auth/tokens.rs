//! Session tokens: HS256 JWTs with the algorithm pinned, and `exp`, `iss`, `aud`
//! validated. The `ver` claim must match the user's current `token_version`,
//! which the caller checks against the database on every request.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::backend::config::{JWT_AUDIENCE, JWT_ISSUER};
use crate::protocol::{OrgId, UserId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id. RFC 7519 makes `sub` a string.
    pub sub: String,
    pub org: OrgId,
    /// The user's token_version when the token was issued.
    pub ver: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn new(secret: &[u8]) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[JWT_ISSUER]);
        validation.set_audience(&[JWT_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs a token valid from `now_secs` for `ttl_secs`.
    pub fn issue(
        &self,
        user: UserId,
        org: OrgId,
        token_version: i64,
        now_secs: i64,
        ttl_secs: i64,
    ) -> anyhow::Result<(String, Claims)> {
        let claims = Claims {
            sub: user.to_string(),
            org,
            ver: token_version,
            iat: now_secs,
            exp: now_secs + ttl_secs,
            iss: JWT_ISSUER.to_owned(),
            aud: JWT_AUDIENCE.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// The user and claims of a token this server signed and that has not expired.
    pub fn verify(&self, token: &str) -> Option<(UserId, Claims)> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let user_id = claims.sub.parse().ok()?;
        Some((user_id, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn now_secs() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn a_token_round_trips() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let (token, claims) = tokens
            .issue(UserId(7), OrgId(3), 2, now_secs(), 60)
            .unwrap();
        assert_eq!(tokens.verify(&token), Some((UserId(7), claims)));
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let (token, _) = tokens
            .issue(UserId(7), OrgId(3), 0, now_secs() - 3600, 60)
            .unwrap();
        assert_eq!(tokens.verify(&token), None);
    }

    #[test]
    fn a_token_signed_with_another_key_is_rejected() {
        let ours = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let theirs = Tokens::new(b"fedcba9876543210fedcba9876543210");
        let (token, _) = theirs
            .issue(UserId(7), OrgId(3), 0, NOW, i64::from(u32::MAX))
            .unwrap();
        assert_eq!(ours.verify(&token), None);
    }

    #[test]
    fn an_unsigned_token_is_rejected() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let (token, _) = tokens
            .issue(UserId(7), OrgId(3), 0, now_secs(), 60)
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(tokens.verify(&forged), None);
    }
}
