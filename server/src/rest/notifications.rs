//! The notifications REST API (seed 000's shapes, camelCase JSON): a user's
//! feed with a session, and ingestion for CRM systems with an organisation
//! API key. Every handler authenticates, parses, calls the backend, and maps
//! the error; another user's notification is `not_found`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use app::api::session::{ApiKeyOrg, Authenticated};
use app::api::state::AppState;
use app::api::{AppError, ErrorCode};
use app::backend::db::notifications::Filter;
use app::protocol::{
    IngestNotification, Ingested, Notification, NotificationId, NotificationKind, NotificationPage,
    UnreadCount,
};

use super::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only unread notifications.
    #[serde(default)]
    unread_only: bool,
    /// Only this type, e.g. `LEAD_ASSIGNED`.
    #[serde(rename = "type", alias = "kind")]
    #[param(rename = "type", value_type = Option<String>)]
    kind: Option<String>,
    /// The id of the last notification of the previous page.
    before: Option<i64>,
    /// 1 to 100, default 30.
    limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KindQuery {
    /// Only notifications of this type, e.g. `REMINDER`.
    #[serde(rename = "type", alias = "kind")]
    #[param(rename = "type", value_type = Option<String>)]
    kind: Option<String>,
}

/// What `read-all` changed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadAll {
    /// How many notifications were unread and are now read.
    updated: u64,
    unread_count: i64,
}

fn kind(raw: Option<&str>) -> Result<Option<NotificationKind>, AppError> {
    match raw.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(text) => NotificationKind::parse(text).map(Some).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidNotificationType,
                format!("{text:?} is not a notification type."),
            )
        }),
    }
}

/// The caller's notifications, newest activity first.
#[utoipa::path(
    get, path = "/api/notifications", tag = "notifications",
    params(FeedQuery),
    responses(
        (status = 200, body = NotificationPage),
        (status = 400, description = "An unknown type", body = AppError),
        (status = 401, body = AppError),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Json<NotificationPage>, AppError> {
    let filter = Filter {
        unread_only: query.unread_only,
        kind: kind(query.kind.as_deref())?,
        before: query.before.map(NotificationId),
    };
    Ok(Json(
        state
            .backend
            .notifications(&me, filter, query.limit)
            .await?,
    ))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(
    get, path = "/api/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn unread_count(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
) -> Result<Json<UnreadCount>, AppError> {
    let unread_count = state.backend.notification_unread_count(&me).await?;
    Ok(Json(UnreadCount { unread_count }))
}

/// Marks one notification read.
#[utoipa::path(
    post, path = "/api/notifications/{id}/read", tag = "notifications",
    params(("id" = i64, Path, description = "A notification of the caller")),
    responses(
        (status = 200, body = Notification),
        (status = 401, body = AppError),
        (status = 404, description = "No such notification of the caller", body = AppError),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn mark_read(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<NotificationId>,
) -> Result<Json<Notification>, AppError> {
    Ok(Json(state.backend.mark_notification_read(&me, id).await?))
}

/// Marks every unread notification read, or every one of a type. One
/// statement, however many there are.
#[utoipa::path(
    post, path = "/api/notifications/read-all", tag = "notifications",
    params(KindQuery),
    responses(
        (status = 200, body = ReadAll),
        (status = 400, description = "An unknown type", body = AppError),
        (status = 401, body = AppError),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn read_all(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiQuery(query): ApiQuery<KindQuery>,
) -> Result<Json<ReadAll>, AppError> {
    let kind = kind(query.kind.as_deref())?;
    let updated = state.backend.mark_all_notifications_read(&me, kind).await?;
    let unread_count = state.backend.notification_unread_count(&me).await?;
    Ok(Json(ReadAll {
        updated,
        unread_count,
    }))
}

/// Deletes one notification.
#[utoipa::path(
    delete, path = "/api/notifications/{id}", tag = "notifications",
    params(("id" = i64, Path, description = "A notification of the caller")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = AppError),
        (status = 404, description = "No such notification of the caller", body = AppError),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<NotificationId>,
) -> Result<StatusCode, AppError> {
    state.backend.delete_notification(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates notifications for users of the key's organisation (CRM systems).
///
/// Authenticated with an organisation API key (`Authorization: Bearer
/// crmk_…`), never a user's session. With an `Idempotency-Key` header, a
/// retry answers what the first request did and creates nothing
/// (`Idempotent-Replayed: true`); the same key with a different body is 422.
#[utoipa::path(
    post, path = "/api/notifications", tag = "ingestion",
    request_body = IngestNotification,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, body = Ingested),
        (status = 200, description = "A retry: the first answer", body = Ingested),
        (status = 400, description = "Invalid type, title, link or recipients", body = AppError),
        (status = 401, description = "No valid API key", body = AppError),
        (status = 404, description = "A recipient or actor outside the organisation", body = AppError),
        (status = 413, description = "metadata over 8 KiB", body = AppError),
        (status = 422, description = "The Idempotency-Key was used for another request", body = AppError),
    ),
    security(("apiKey" = [])),
)]
pub async fn ingest(
    State(state): State<AppState>,
    ApiKeyOrg(org_id): ApiKeyOrg,
    headers: HeaderMap,
    ApiJson(request): ApiJson<IngestNotification>,
) -> Result<Response, AppError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            AppError::new(
                ErrorCode::InvalidInput,
                "Idempotency-Key must be visible ASCII.",
            )
        })?),
    };
    let outcome = state
        .backend
        .ingest_notifications(org_id, request, key)
        .await?;
    let status = if outcome.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = (status, Json(outcome.ingested)).into_response();
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}
