//! The chat REST API (seed 000/001 shapes, camelCase JSON). Every handler
//! authenticates, parses, calls the backend, and maps the error; membership and
//! organisation are checked in the backend, where a foreign id is `NotFound`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;
use utoipa::{IntoParams, ToSchema};

use app::api::session::Authenticated;
use app::api::state::AppState;
use app::api::{AppError, ErrorCode};
use app::protocol::{
    AddParticipants, Attachment, AttachmentId, ChangeRole, Changes, ConversationId,
    ConversationSummary, CreateConversation, EditMessage, EmojiGroup, ForwardMessage, MarkRead,
    Message, MessageId, MessagePage, ReadState, SearchHit, SendMessage, ShortcodeMatch, SkinTone,
    ToggleReaction, UpdateConversation, UserId, UserSummary,
};

use super::extract::{ApiJson, ApiPath, ApiQuery};

/// The caller's conversations, most recently active first.
#[utoipa::path(
    get, path = "/api/chat/conversations", tag = "chat",
    responses((status = 200, body = ConversationList), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_conversations(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
) -> Result<Json<ConversationList>, AppError> {
    let conversations = state.backend.conversations(&me).await?;
    Ok(Json(ConversationList { conversations }))
}

/// Gets or creates a direct conversation, or creates a group or broadcast.
///
/// `{"targetUserId": 7}` gets or creates a direct conversation;
/// `{"title": "…", "memberIds": [..]}` creates a group;
/// `{"kind": "broadcast", "title": "…"}` creates a broadcast (organisation admins).
#[utoipa::path(
    post, path = "/api/chat/conversations", tag = "chat",
    request_body = CreateConversation,
    responses((status = 200, body = ConversationSummary), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_conversation(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiJson(request): ApiJson<CreateConversation>,
) -> Result<Json<ConversationSummary>, AppError> {
    Ok(Json(state.backend.create_conversation(&me, request).await?))
}

/// One of the caller's conversations.
#[utoipa::path(
    get, path = "/api/chat/conversations/{id}", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    responses((status = 200, body = ConversationSummary), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ConversationSummary>, AppError> {
    Ok(Json(state.backend.conversation(&me, id).await?))
}

/// Renames a group (its admins), or mutes, pins or marks it as unread for
/// the caller.
#[utoipa::path(
    patch, path = "/api/chat/conversations/{id}", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    request_body = UpdateConversation,
    responses((status = 200, body = ConversationSummary), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn update_conversation(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<UpdateConversation>,
) -> Result<Json<ConversationSummary>, AppError> {
    Ok(Json(
        state.backend.update_conversation(&me, id, request).await?,
    ))
}

/// Adds members to a group (its admins).
#[utoipa::path(
    post, path = "/api/chat/conversations/{id}/participants", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    request_body = AddParticipants,
    responses((status = 200, body = ConversationSummary), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn add_participants(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<AddParticipants>,
) -> Result<Json<ConversationSummary>, AppError> {
    state
        .backend
        .add_participants(&me, id, request.user_ids)
        .await?;
    Ok(Json(state.backend.conversation(&me, id).await?))
}

/// Removes a member from a group.
///
/// Removes a member (group admins), or leaves when it is the caller.
#[utoipa::path(
    delete, path = "/api/chat/conversations/{id}/participants/{user_id}", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller"), ("user_id" = i64, Path, description = "A member")),
    responses((status = 204, description = "Removed"), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn remove_participant(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath((id, user_id)): ApiPath<(ConversationId, UserId)>,
) -> Result<StatusCode, AppError> {
    state.backend.remove_participant(&me, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a member's role.
///
/// `{"role": "moderator"}` (group admins).
#[utoipa::path(
    patch, path = "/api/chat/conversations/{id}/participants/{user_id}", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller"), ("user_id" = i64, Path, description = "A member")),
    request_body = ChangeRole,
    responses((status = 200, body = ConversationSummary), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn change_role(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath((id, user_id)): ApiPath<(ConversationId, UserId)>,
    ApiJson(request): ApiJson<ChangeRole>,
) -> Result<Json<ConversationSummary>, AppError> {
    state
        .backend
        .set_participant_role(&me, id, user_id, request.role)
        .await?;
    Ok(Json(state.backend.conversation(&me, id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this `seq` (default: the newest).
    before: Option<i64>,
    /// 1 to 100, default 50.
    limit: Option<i64>,
}

/// A page of history.
///
/// Up to `limit` (default 50, at most 100) messages before the `seq` given
/// (or the newest), oldest first, and whether there are older ones.
#[utoipa::path(
    get, path = "/api/chat/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller"), HistoryQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_messages(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<MessagePage>, AppError> {
    Ok(Json(
        state
            .backend
            .messages(&me, id, query.before, query.limit)
            .await?,
    ))
}

/// Sends a message.
///
/// Durable when answered. Send a `clientMsgId` (UUID) to make retries safe.
#[utoipa::path(
    post, path = "/api/chat/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    request_body = SendMessage,
    responses((status = 201, body = Message), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 409, description = "clientMsgId used in another conversation", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn send_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let message = state.backend.send_message(&me, id, request, None).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The last `eventSeq` the client applied.
    since: i64,
}

/// The change feed of a conversation.
///
/// Every message changed after the event cursor, in order, and the cursor to
/// continue from.
#[utoipa::path(
    get, path = "/api/chat/conversations/{id}/changes", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller"), ChangesQuery),
    responses((status = 200, body = Changes), (status = 400, body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 409, description = "The cursor is ahead of the conversation", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn changes(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
) -> Result<Json<Changes>, AppError> {
    Ok(Json(
        state.backend.changes_since(&me, id, query.since).await?,
    ))
}

/// Marks messages read.
///
/// `{"upToSeq": 42}`, or no body for everything. Only ever moves forward.
#[utoipa::path(
    patch, path = "/api/chat/conversations/{id}/read", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    request_body(content = Option<MarkRead>, description = "Empty for everything"),
    responses((status = 200, body = ReadState), (status = 400, body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn mark_read(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    body: axum::body::Bytes,
) -> Result<Json<ReadState>, AppError> {
    let request: MarkRead = if body.iter().all(u8::is_ascii_whitespace) {
        MarkRead::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::new(
                ErrorCode::BadRequest,
                format!("The body is not a valid read marker: {e}"),
            )
        })?
    };
    let up_to_seq = request.up_to_seq;
    Ok(Json(state.backend.mark_read(&me, id, up_to_seq).await?))
}

/// Forwards a message.
///
/// Sends a copy of a message the caller can see (its text and file) to
/// another of their conversations, marked with who wrote the original.
/// Durable when answered; send a `clientMsgId` (UUID) to make retries safe.
#[utoipa::path(
    post, path = "/api/chat/messages/{id}/forward", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    request_body = ForwardMessage,
    responses((status = 201, body = Message), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, description = "Not allowed to post in the target (a broadcast)", body = AppError), (status = 404, description = "The message or the target is not found, or not the caller's to see", body = AppError), (status = 409, description = "The message was deleted, or clientMsgId was used for another message", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn forward_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(request): ApiJson<ForwardMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let message = state.backend.forward_message(&me, id, request).await?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// Marks unread from a message.
///
/// The message's conversation counts as unread for the caller from that
/// message on (its `unreadCount` counts the others' messages from there,
/// and `markedUnreadFromSeq` says where), until they open it or send in it.
/// Only the caller sees it: their read receipts do not move back.
#[utoipa::path(
    post, path = "/api/chat/messages/{id}/mark-unread", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    responses((status = 200, body = ConversationSummary), (status = 400, description = "A system message", body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 409, description = "The message was deleted", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn mark_unread_from(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
) -> Result<Json<ConversationSummary>, AppError> {
    Ok(Json(state.backend.mark_unread_from(&me, id).await?))
}

/// Edits a message.
///
/// Edits one's own message within 24 hours.
#[utoipa::path(
    patch, path = "/api/chat/messages/{id}", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    request_body = EditMessage,
    responses((status = 200, body = Message), (status = 400, body = AppError), (status = 401, body = AppError), (status = 403, description = "Not the sender, or past 24 hours", body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn edit_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(request): ApiJson<EditMessage>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(
        state
            .backend
            .edit_message(&me, id, &request.content)
            .await?,
    ))
}

/// Deletes a message.
///
/// Deletes one's own message, or any message as a group moderator or admin.
/// Answers with the tombstone.
#[utoipa::path(
    delete, path = "/api/chat/messages/{id}", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    responses((status = 200, body = Message), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn delete_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(state.backend.delete_message(&me, id).await?))
}

/// Toggles a reaction.
///
/// `{"emoji": "👍"}` adds the reaction, or takes it back.
#[utoipa::path(
    post, path = "/api/chat/messages/{id}/reactions", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    request_body = ToggleReaction,
    responses((status = 200, body = Message), (status = 400, body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn toggle_reaction(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(request): ApiJson<ToggleReaction>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(
        state
            .backend
            .toggle_reaction(&me, id, &request.emoji)
            .await?,
    ))
}

/// Pins a message.
///
/// Pins it to the top of its conversation for every member; anyone who may
/// post there may (in a broadcast, its admins). Pinning a pinned message
/// changes nothing. A conversation holds at most 20 pins.
#[utoipa::path(
    put, path = "/api/chat/messages/{id}/pin", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    responses((status = 200, body = Message), (status = 400, description = "20 messages are pinned already", body = AppError), (status = 401, body = AppError), (status = 403, description = "A system message, or a broadcast the caller does not administer", body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 409, description = "The message was deleted", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn pin_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(state.backend.pin_message(&me, id, true).await?))
}

/// Unpins a message.
#[utoipa::path(
    delete, path = "/api/chat/messages/{id}/pin", tag = "chat",
    params(("id" = i64, Path, description = "A message in a conversation of the caller")),
    responses((status = 200, body = Message), (status = 401, body = AppError), (status = 403, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 409, description = "The message was deleted", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn unpin_message(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
) -> Result<Json<Message>, AppError> {
    Ok(Json(state.backend.pin_message(&me, id, false).await?))
}

/// A conversation's pinned messages, the last pinned first.
#[utoipa::path(
    get, path = "/api/chat/conversations/{id}/pins", tag = "chat",
    params(("id" = i64, Path, description = "A conversation of the caller")),
    responses((status = 200, body = PinnedMessages), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn pinned_messages(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<PinnedMessages>, AppError> {
    let messages = state.backend.pinned_messages(&me, id).await?;
    Ok(Json(PinnedMessages { messages }))
}

#[derive(Serialize, ToSchema)]
pub struct PinnedMessages {
    messages: Vec<Message>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TextQuery {
    /// Words to look for.
    #[serde(default)]
    q: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    conversations: Vec<ConversationSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    contacts: Vec<UserSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    results: Vec<SearchHit>,
}

/// The people of the caller's organisation, optionally filtered by name.
#[utoipa::path(
    get, path = "/api/chat/contacts", tag = "chat",
    params(TextQuery),
    responses((status = 200, body = ContactList), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn contacts(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiQuery(query): ApiQuery<TextQuery>,
) -> Result<Json<ContactList>, AppError> {
    let contacts = state.backend.contacts(&me, &query.q).await?;
    Ok(Json(ContactList { contacts }))
}

/// Full-text search of the messages the caller can see.
#[utoipa::path(
    get, path = "/api/chat/search", tag = "chat",
    params(TextQuery),
    responses((status = 200, body = SearchResults), (status = 401, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn search(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiQuery(query): ApiQuery<TextQuery>,
) -> Result<Json<SearchResults>, AppError> {
    let results = state.backend.search(&me, &query.q).await?;
    Ok(Json(SearchResults { results }))
}

/// Uploads a file to a conversation.
///
/// A multipart form with `conversationId` first, then `file`. Streamed to disk;
/// answers 413 as soon as the file passes the limit (or at once, from
/// `Content-Length`).
#[utoipa::path(
    post, path = "/api/chat/uploads", tag = "chat",
    request_body(content_type = "multipart/form-data", description = "`conversationId`, then `file`"),
    responses((status = 201, body = Attachment), (status = 400, body = AppError), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError), (status = 413, body = AppError), (status = 415, body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn upload(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Attachment>), AppError> {
    let max_bytes = state.backend.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes + MULTIPART_OVERHEAD) {
        return Err(app::backend::Error::PayloadTooLarge { max_bytes }.into());
    }
    let mut conversation_id = None;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name() {
            Some("conversationId") => {
                let text = field.text().await.map_err(bad_form)?;
                let id = text.trim().parse().map_err(|_| {
                    AppError::new(ErrorCode::InvalidInput, "conversationId must be a number.")
                })?;
                conversation_id = Some(ConversationId(id));
            }
            Some("file") => {
                let conversation_id = conversation_id.ok_or_else(|| {
                    AppError::new(
                        ErrorCode::InvalidInput,
                        "Send conversationId before the file.",
                    )
                })?;
                let file_name = field.file_name().unwrap_or("file").to_owned();
                let body = field.map_err(std::io::Error::other);
                let attachment = state
                    .backend
                    .upload_attachment(&me, conversation_id, &file_name, Box::pin(body), max_bytes)
                    .await?;
                return Ok((StatusCode::CREATED, Json(attachment)));
            }
            _ => {}
        }
    }
    Err(AppError::new(
        ErrorCode::InvalidInput,
        "The form has no file field.",
    ))
}

/// The emoji a reaction can be, for a picker: Unicode's groups in order,
/// each emoji with its name, GitHub shortcodes and skin tones.
///
/// The same for everyone and every request, so it needs no session and may
/// be cached for a day.
#[utoipa::path(
    get, path = "/api/chat/emoji", tag = "chat",
    responses((status = 200, body = [EmojiGroup])),
)]
pub async fn emoji() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        app::backend::chat::emoji::catalog_json(),
    )
        .into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShortcodeQuery {
    /// What follows the `:` typed so far: `roc` for `:roc`.
    #[serde(default)]
    prefix: String,
    /// The skin tone to offer emoji in where they take one: `light`,
    /// `mediumLight`, `medium`, `mediumDark` or `dark`; none by default.
    #[serde(default)]
    #[param(inline)]
    tone: SkinTone,
}

/// The emoji to offer for a `:shortcode` being typed.
///
/// Up to 8: those with a shortcode that begins with `prefix`, then those
/// with a word of one that does, in the picker's order, in `tone` where
/// they take one. The same for
/// everyone, so it needs no session and may be cached for a day.
#[utoipa::path(
    get, path = "/api/chat/emoji/shortcodes", tag = "chat",
    params(ShortcodeQuery),
    responses((status = 200, body = [ShortcodeMatch]), (status = 400, body = AppError)),
)]
pub async fn emoji_shortcodes(ApiQuery(query): ApiQuery<ShortcodeQuery>) -> Response {
    let matches = app::backend::chat::emoji::shortcode_matches(&query.prefix, query.tone);
    (
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        Json(matches),
    )
        .into_response()
}

/// Room for multipart boundaries and headers around the file itself.
const MULTIPART_OVERHEAD: u64 = 16 * 1024;

fn bad_form(error: axum::extract::multipart::MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::new(ErrorCode::PayloadTooLarge, "The upload is too large.");
    }
    AppError::new(
        ErrorCode::BadRequest,
        format!("The upload could not be read: {}", error.body_text()),
    )
}

/// Downloads an attachment.
///
/// For members of the conversation only. Served with `nosniff`, a sandboxing
/// CSP, and as an attachment unless it is a safe image.
#[utoipa::path(
    get, path = "/api/chat/uploads/{id}", tag = "chat",
    params(("id" = i64, Path, description = "An attachment of a conversation of the caller")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 401, body = AppError), (status = 404, description = "Not found, or not the caller's to see", body = AppError)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn download(
    State(state): State<AppState>,
    Authenticated(me): Authenticated,
    ApiPath(id): ApiPath<AttachmentId>,
) -> Result<Response, AppError> {
    let download = state.backend.download_attachment(&me, id).await?;
    let a = &download.attachment;
    let disposition = content_disposition(
        if download.inline {
            "inline"
        } else {
            "attachment"
        },
        &a.file_name,
    );
    let mut response = Body::from_stream(ReaderStream::new(download.body)).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&a.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(a.size_bytes));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`, with
/// the plain name reduced to safe ASCII and the full name percent-encoded.
pub fn content_disposition(kind: &str, file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn file_names_cannot_break_out_of_the_header() {
        let header = content_disposition("attachment", "a\"; x=\"y.pdf");
        assert!(
            header.starts_with("attachment; filename=\"a__ x__y.pdf\""),
            "{header}"
        );
        assert!(
            header.contains("filename*=UTF-8''a%22%3B%20x%3D%22y.pdf"),
            "{header}"
        );
    }

    #[test]
    fn unicode_names_are_percent_encoded() {
        assert!(content_disposition("inline", "Réunion.png").contains("R%C3%A9union.png"));
    }
}
