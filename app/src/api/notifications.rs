//! Notification server functions for the drawer, the settings page and the
//! admin page: the same backend calls as the REST API.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::AppError;
#[cfg(feature = "ssr")]
use super::{app_state, fail};
#[cfg(feature = "ssr")]
use crate::api::session::current_user;
use crate::protocol::{
    ApiKeyId, ApiKeySummary, ConversationId, ConversationSummary, NewApiKey, Notification,
    NotificationId, NotificationKind, NotificationPage, NotificationSetting,
};

/// A page of the caller's notifications, newest first: every one or the
/// unread ones, of every kind or of one.
#[server(prefix = "/api/fn", endpoint = "notifications", input = Json)]
pub async fn list_notifications(
    before: Option<NotificationId>,
    unread_only: bool,
    kind: Option<NotificationKind>,
) -> Result<NotificationPage, AppError> {
    use crate::backend::db::notifications::Filter;
    let me = current_user().await.map_err(fail)?;
    let filter = Filter {
        unread_only,
        kind,
        before,
    };
    app_state()?
        .backend
        .notifications(&me, filter, None)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "notification-read", input = Json)]
pub async fn mark_notification_read(id: NotificationId) -> Result<Notification, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .mark_notification_read(&me, id)
        .await
        .map_err(fail)
}

/// Marks all read; returns how many changed.
#[server(prefix = "/api/fn", endpoint = "notifications-read-all", input = Json)]
pub async fn mark_all_notifications_read(kind: Option<NotificationKind>) -> Result<u64, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .mark_all_notifications_read(&me, kind)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "notification-delete", input = Json)]
pub async fn delete_notification(id: NotificationId) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .delete_notification(&me, id)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "notification-settings", input = Json)]
pub async fn notification_settings() -> Result<Vec<NotificationSetting>, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .notification_settings(&me)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "notification-mute", input = Json)]
pub async fn set_notification_muted(
    kind: NotificationKind,
    muted: bool,
) -> Result<Vec<NotificationSetting>, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .set_notification_muted(&me, kind, muted)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "conversation-mute", input = Json)]
pub async fn set_conversation_muted(
    conversation_id: ConversationId,
    muted: bool,
) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .set_conversation_muted(&me, conversation_id, muted)
        .await
        .map_err(fail)
}

/// The organisation's API keys, with the clock and the viewer's UTC offset
/// that their "last used" times are shown by, so the server and the browser
/// render the same text.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKeySummary>,
    pub now: i64,
    pub utc_offset_minutes: i32,
}

#[server(prefix = "/api/fn", endpoint = "api-keys", input = Json)]
pub async fn list_api_keys() -> Result<ApiKeyList, AppError> {
    let me = current_user().await.map_err(fail)?;
    let keys = app_state()?.backend.api_keys(&me).await.map_err(fail)?;
    Ok(ApiKeyList {
        keys,
        now: crate::backend::now_ms(),
        utc_offset_minutes: super::session::utc_offset_minutes(),
    })
}

/// Creates an organisation API key; the answer is the only place it appears.
#[server(prefix = "/api/fn", endpoint = "api-key-create", input = Json)]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .create_api_key(&me, &name)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "api-key-revoke", input = Json)]
pub async fn revoke_api_key(id: ApiKeyId) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .revoke_api_key(&me, id)
        .await
        .map_err(fail)
}

/// The bell's count.
#[server(prefix = "/api/fn", endpoint = "notification-count", input = Json)]
pub async fn notification_count() -> Result<i64, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .notification_unread_count(&me)
        .await
        .map_err(fail)
}
