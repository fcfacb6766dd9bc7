use axum::extract::State;

use app::api::AppError;
use app::api::session::Authenticated;
use app::api::state::AppState;
use app::protocol::{UserId, UserSummary};

use super::extract::ApiPath;

/// A user of the caller's organisation. Users of other organisations are 404,
/// exactly like users that do not exist.
#[utoipa::path(
    get, path = "/api/users/{id}", tag = "auth",
    params(("id" = i64, Path, description = "A user of the caller's organisation")),
    responses(
        (status = 200, body = UserSummary),
        (status = 401, body = AppError),
        (status = 404, body = AppError),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(user_id): ApiPath<UserId>,
) -> Result<axum::Json<UserSummary>, AppError> {
    Ok(axum::Json(state.backend.user_in_org(&me, user_id).await?))
}
