//! Pages need a session: a signed-out visitor is sent to `/login`, and a
//! signed-in one who opens `/login` goes to the app. API routes answer 401
//! themselves, and static files are public.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use app::api::session::authenticate_parts;
use app::api::state::AppState;

pub async fn guard_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_public(path) {
        return next.run(request).await;
    }
    let is_login = path == "/login";
    let (mut parts, body) = request.into_parts();
    let signed_in = authenticate_parts(&mut parts, &state.backend).await.is_ok();
    match (signed_in, is_login) {
        (true, true) => Redirect::to("/").into_response(),
        (false, false) => Redirect::to("/login").into_response(),
        _ => next.run(Request::from_parts(parts, body)).await,
    }
}

/// Whether a path is open to anyone: the API (which answers 401 itself),
/// files, probes and the socket. Everything else is a page.
pub(crate) fn is_public(path: &str) -> bool {
    const PUBLIC_PREFIXES: &[&str] = &[
        "/api/", "/pkg/", "/icons/", "/healthz", "/readyz", "/metrics", "/ws",
    ];
    let is_file = path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'));
    is_file
        || PUBLIC_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn pages_are_guarded_and_assets_are_public() {
        assert!(!is_public("/"));
        assert!(!is_public("/login"));
        assert!(!is_public("/c/12"));
        assert!(is_public("/pkg/crm-chat.wasm"));
        assert!(is_public("/favicon.svg"));
        assert!(is_public("/api/auth/login"));
        assert!(is_public("/healthz"));
    }
}
