//! Rejects cross-site state-changing requests (CSRF), server functions
//! included: their default form encoding is otherwise open to a forged form.
//!
//! A browser labels each request with `Sec-Fetch-Site` and, on POST, `Origin`.
//! A request passes when the browser says it is same-origin, when its Origin
//! names this host or an allowlisted origin, or when it carries neither header
//! (a non-browser client, which cannot be made to send a victim's cookie).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};

use app::api::state::AppState;
use app::api::{AppError, ErrorCode};

pub async fn reject_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method())
        || is_same_site(request.headers(), &state.backend.config.allowed_origins)
    {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), path = request.uri().path(), "rejected a cross-site request");
    AppError::new(
        ErrorCode::CrossSiteRequest,
        "Cross-site requests are not allowed.",
    )
    .into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request comes from this site, judged by the browser's own labels.
pub fn is_same_site(headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match (fetch_site, origin) {
        (Some("same-origin" | "none"), _) => true,
        (_, Some(origin)) => origin_is_allowed(origin, headers, allowed_origins),
        (Some(_), None) => false,
        (None, None) => true,
    }
}

/// An Origin is allowed when its host and port are the request's `Host`, or
/// when it is on the configured allowlist. `null` never is.
pub fn origin_is_allowed(origin: &str, headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let origin = origin.trim_end_matches('/');
    if allowed_origins.iter().any(|allowed| allowed == origin) {
        return true;
    }
    let Some((_scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_same_origin_fetch_passes() {
        assert!(is_same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &[]
        ));
    }

    #[test]
    fn a_cross_site_fetch_is_rejected() {
        let h = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.test"),
            ("host", "chat.test"),
        ]);
        assert!(!is_same_site(&h, &[]));
    }

    #[test]
    fn an_origin_matching_the_host_passes_without_fetch_metadata() {
        let h = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(is_same_site(&h, &[]));
    }

    #[test]
    fn a_foreign_origin_is_rejected_unless_allowlisted() {
        let h = headers(&[
            ("origin", "https://crm.example.com"),
            ("host", "chat.example.com"),
        ]);
        assert!(!is_same_site(&h, &[]));
        assert!(is_same_site(&h, &["https://crm.example.com".to_owned()]));
    }

    #[test]
    fn a_null_origin_is_rejected() {
        let h = headers(&[("origin", "null"), ("host", "chat.test")]);
        assert!(!is_same_site(&h, &[]));
    }

    #[test]
    fn a_client_without_browser_headers_passes() {
        assert!(is_same_site(&headers(&[("host", "chat.test")]), &[]));
    }
}
