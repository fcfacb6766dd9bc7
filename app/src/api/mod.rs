//! Server functions: the UI's calls into the backend. They are thin: find the
//! caller, parse the input, call `backend`, map the error. They live at stable
//! URLs under `/api/fn/`, beside the REST API under `/api/`.

pub mod chat;
pub mod error;
pub mod json;
pub mod notifications;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;

pub use error::{AppError, ErrorCode};

use crate::protocol::Me;

#[cfg(feature = "ssr")]
fn app_state() -> Result<state::AppState, AppError> {
    use_context::<state::AppState>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "The server is misconfigured."))
}

#[cfg(feature = "ssr")]
fn response_options() -> Result<leptos_axum::ResponseOptions, AppError> {
    use_context::<leptos_axum::ResponseOptions>()
        .ok_or_else(|| AppError::new(ErrorCode::Internal, "The server is misconfigured."))
}

/// Maps a backend error for a server function, setting the response status.
#[cfg(feature = "ssr")]
fn fail(error: impl Into<AppError>) -> AppError {
    let error = error.into();
    error.set_server_fn_status();
    error
}

/// The signed-in user, or `None` when signed out.
#[server(prefix = "/api/fn", endpoint = "session")]
pub async fn get_session() -> Result<Option<Me>, AppError> {
    match session::current_user().await {
        Ok(me) => Ok(Some(me)),
        Err(error) if error.code == ErrorCode::Unauthenticated => Ok(None),
        Err(error) => Err(fail(error)),
    }
}

/// Signs in and sets the session cookie. A plain HTML form (no JavaScript) is
/// redirected to the app; the hydrated page reloads itself.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use http::{HeaderValue, header};

    let state = app_state()?;
    let session = state.backend.login(&email, &password).await.map_err(fail)?;
    let max_age_secs = (session.expires_at - crate::backend::now_ms()) / 1000;
    let cookie = session::session_cookie(
        &session.token,
        max_age_secs,
        state.backend.config.secure_cookies(),
    );
    let response = response_options()?;
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| AppError::new(ErrorCode::Internal, "Failed to build the session cookie."))?;
    response.append_header(header::SET_COOKIE, cookie);
    if is_plain_form_post() {
        leptos_axum::redirect("/");
    }
    Ok(())
}

/// Signs out everywhere: revokes every token of the user and clears the cookie.
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use http::{HeaderValue, header};

    let state = app_state()?;
    let response = response_options()?;
    if let Ok(me) = session::current_user().await {
        state.backend.logout(me.id).await.map_err(fail)?;
    }
    let cookie = session::clear_session_cookie(state.backend.config.secure_cookies());
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.append_header(header::SET_COOKIE, cookie);
    }
    if is_plain_form_post() {
        leptos_axum::redirect("/login");
    }
    Ok(())
}

/// True when the browser posted a form itself, rather than the hydrated app
/// calling the server function.
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
        .and_then(|accept| accept.to_str().ok().map(|a| a.contains("text/html")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    /// Leptos registers server functions by path, and a second function at
    /// a path silently takes the first one's place: each needs its own.
    #[test]
    fn every_server_function_answers_at_a_path_of_its_own() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("chat.rs"),
            include_str!("notifications.rs"),
        ];
        // Spelt in two, or this test's own text would be a declaration.
        let marker = concat!("#[ser", "ver(");
        let mut seen = std::collections::BTreeSet::new();
        let mut count = 0;
        for source in sources {
            for declaration in source.split(marker).skip(1) {
                let attribute = declaration.split(")]").next().unwrap_or_default();
                let endpoint = attribute
                    .split("endpoint = \"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_else(|| {
                        panic!("a server function without an endpoint: {attribute}")
                    });
                assert!(
                    seen.insert(endpoint),
                    "two server functions answer at /api/fn/{endpoint}"
                );
                count += 1;
            }
        }
        assert!(count > 20, "found only {count} server functions");
    }
}
