use axum::extract::{Path, State};

use app::api::AppError;
use app::api::session::Authenticated;
use app::api::state::AppState;
use app::protocol::{UserId, UserSummary};

/// # GET /api/users/{id}
///
/// A user of the caller's organisation. Users of other organisations are 404,
/// exactly like users that do not exist.
pub async fn get(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    Path(user_id): Path<UserId>,
) -> Result<axum::Json<UserSummary>, AppError> {
    Ok(axum::Json(state.backend.user_in_org(&me, user_id).await?))
}
