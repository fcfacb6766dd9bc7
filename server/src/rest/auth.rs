use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;

use app::api::AppError;
use app::api::session::{Authenticated, clear_session_cookie};
use app::api::state::AppState;
use app::protocol::{LoginRequest, LoginResponse, Me};

use super::extract::ApiJson;

/// Exchanges email and password for a bearer token.
///
/// The sixth failed attempt on an account within 15 minutes is 429 with
/// `Retry-After`. Unknown accounts and wrong passwords answer alike.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong email or password", body = AppError),
        (status = 429, description = "Too many failed attempts", body = AppError),
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<axum::Json<LoginResponse>, AppError> {
    let session = state
        .backend
        .login(&request.email, &request.password)
        .await?;
    Ok(axum::Json(LoginResponse {
        token: session.token,
        expires_at: session.expires_at,
        user: session.me,
    }))
}

/// Signs out everywhere: revokes every token of the caller, closes their
/// sockets and clears the session cookie.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn logout(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
) -> Result<impl IntoResponse, AppError> {
    state.backend.logout(me.id).await?;
    let mut headers = HeaderMap::new();
    if let Ok(cookie) =
        HeaderValue::from_str(&clear_session_cookie(state.backend.config.secure_cookies()))
    {
        headers.insert(header::SET_COOKIE, cookie);
    }
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The signed-in user.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn me(Authenticated(me): Authenticated) -> axum::Json<Me> {
    axum::Json(me)
}
