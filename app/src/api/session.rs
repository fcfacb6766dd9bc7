//! Who is calling: the session from `Authorization: Bearer` (API clients) or
//! the HttpOnly session cookie (browsers), checked against the database on
//! every request so that sign-out and revocation take effect at once.

use axum::extract::{FromRef, FromRequestParts};
use cookie::{Cookie, SameSite};
use http::header;
use http::request::Parts;

use super::error::AppError;
use crate::backend::Backend;
use crate::protocol::Me;

pub const SESSION_COOKIE: &str = "crm_chat_session";

/// The authenticated user of a request. Extracting it answers 401 when there
/// is no valid session.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Me);

/// The bearer token or session cookie of a request, bearer first.
pub fn request_token(headers: &http::HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned());
    bearer.or_else(|| {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == SESSION_COOKIE)
            .map(|cookie| cookie.value().to_owned())
    })
}

/// Resolves the session of a request once; later calls reuse the answer
/// cached in the request's extensions.
pub async fn authenticate_parts(parts: &mut Parts, backend: &Backend) -> Result<Me, AppError> {
    if let Some(Authenticated(me)) = parts.extensions.get::<Authenticated>() {
        return Ok(me.clone());
    }
    let token = request_token(&parts.headers).ok_or_else(AppError::unauthenticated)?;
    let me = backend.authenticate(&token).await.map_err(AppError::from)?;
    parts.extensions.insert(Authenticated(me.clone()));
    Ok(me)
}

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    Backend: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let backend = Backend::from_ref(state);
        authenticate_parts(parts, &backend).await.map(Authenticated)
    }
}

/// The organisation of the API key a request carries as `Authorization:
/// Bearer crmk_…`. Only a header: a key never rides in a cookie, and a
/// user's session is no key.
#[derive(Clone, Copy, Debug)]
pub struct ApiKeyOrg(pub crate::protocol::OrgId);

impl<S> FromRequestParts<S> for ApiKeyOrg
where
    S: Send + Sync,
    Backend: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                AppError::new(
                    super::error::ErrorCode::Unauthenticated,
                    "Send an organisation API key: Authorization: Bearer crmk_…",
                )
            })?;
        let backend = Backend::from_ref(state);
        let (_, org_id) = backend
            .authenticate_api_key(key)
            .await
            .map_err(AppError::from)?;
        Ok(ApiKeyOrg(org_id))
    }
}

/// The signed-in user of the server function being run.
pub async fn current_user() -> Result<Me, AppError> {
    let backend = leptos::prelude::use_context::<super::state::AppState>()
        .map(|state| state.backend)
        .ok_or_else(|| {
            AppError::new(
                super::error::ErrorCode::Internal,
                "The server is misconfigured.",
            )
        })?;
    let mut parts =
        leptos::prelude::use_context::<Parts>().ok_or_else(AppError::unauthenticated)?;
    authenticate_parts(&mut parts, &backend).await
}

/// The viewer's UTC offset in minutes east, from the cookie the browser
/// sets (`crm_chat_tz`); 0 until it has.
pub fn utc_offset_minutes() -> i32 {
    let Some(parts) = leptos::prelude::use_context::<Parts>() else {
        return 0;
    };
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == crate::format::OFFSET_COOKIE)
        .and_then(|cookie| cookie.value().parse::<i32>().ok())
        .filter(|minutes| (-14 * 60..=14 * 60).contains(minutes))
        .unwrap_or(0)
}

/// The `Set-Cookie` value that carries a session to the browser.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_bearer_token_wins_over_the_cookie() {
        let parts = parts(&[
            ("authorization", "Bearer abc"),
            ("cookie", "crm_chat_session=def"),
        ]);
        assert_eq!(request_token(&parts.headers).as_deref(), Some("abc"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let parts = parts(&[("cookie", "theme=dark; crm_chat_session=def; x=1")]);
        assert_eq!(request_token(&parts.headers).as_deref(), Some("def"));
    }

    #[test]
    fn the_session_cookie_is_http_only_and_same_site_lax() {
        let cookie = session_cookie("t", 60, false);
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(session_cookie("t", 60, true).contains("Secure"));
    }
}
