use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;

use app::api::AppError;
use app::api::session::{Authenticated, clear_session_cookie};
use app::api::state::AppState;
use app::protocol::{LoginRequest, LoginResponse, Me};

use super::extract::ApiJson;

/// # POST /api/auth/login
///
/// Exchanges email and password for a bearer token.
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

/// # POST /api/auth/logout
///
/// Revokes every token of the caller and clears the session cookie.
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

/// # GET /api/auth/me
pub async fn me(Authenticated(me): Authenticated) -> axum::Json<Me> {
    axum::Json(me)
}
