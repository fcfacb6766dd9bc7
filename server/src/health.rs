use axum::extract::State;
use axum::http::StatusCode;

use app::api::state::AppState;

/// # GET /healthz
///
/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// # GET /readyz
///
/// The process can serve: the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.backend.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
