//! Chat server functions for the UI: the same backend calls as the REST API.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::AppError;
#[cfg(feature = "ssr")]
use super::{app_state, fail};
#[cfg(feature = "ssr")]
use crate::api::session::current_user;
use crate::protocol::{
    Changes, ConversationId, ConversationKind, ConversationSummary, ForwardMessage as Forward,
    Message, MessageId, MessagePage, ParticipantRole, ReadState, SearchHit,
    SendMessage as NewMessage, ShortcodeMatch, SkinTone, UserId, UserSummary,
};

#[server(prefix = "/api/fn", endpoint = "conversations", input = Json)]
pub async fn list_conversations() -> Result<Vec<ConversationSummary>, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?.backend.conversations(&me).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "conversation", input = Json)]
pub async fn get_conversation(id: ConversationId) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .conversation(&me, id)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "messages", input = Json)]
pub async fn get_messages(
    conversation_id: ConversationId,
    before_seq: Option<i64>,
    limit: Option<i64>,
) -> Result<MessagePage, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .messages(&me, conversation_id, before_seq, limit)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "changes", input = Json)]
pub async fn get_changes(conversation_id: ConversationId, since: i64) -> Result<Changes, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .changes_since(&me, conversation_id, since)
        .await
        .map_err(fail)
}

/// The fallback path for sending when the WebSocket is down.
#[server(prefix = "/api/fn", endpoint = "send", input = Json)]
pub async fn send_message(
    conversation_id: ConversationId,
    message: NewMessage,
) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .send_message(&me, conversation_id, message, None)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "forward", input = Json)]
pub async fn forward_message(message_id: MessageId, forward: Forward) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .forward_message(&me, message_id, forward)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "edit", input = Json)]
pub async fn edit_message(message_id: MessageId, content: String) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .edit_message(&me, message_id, &content)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "delete", input = Json)]
pub async fn delete_message(message_id: MessageId) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .delete_message(&me, message_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "react", input = Json)]
pub async fn toggle_reaction(message_id: MessageId, emoji: String) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .toggle_reaction(&me, message_id, &emoji)
        .await
        .map_err(fail)
}

/// Pins the message to the top of its conversation, or unpins it.
#[server(prefix = "/api/fn", endpoint = "pin-message", input = Json)]
pub async fn pin_message(message_id: MessageId, pinned: bool) -> Result<Message, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .pin_message(&me, message_id, pinned)
        .await
        .map_err(fail)
}

/// The emoji to offer for a `:shortcode` being typed, as
/// `GET /api/chat/emoji/shortcodes` answers. A server function rather than
/// that request, so that the thread's chunk needs no HTTP client and JSON
/// reader of its own (wasm-split moved them into the main module: +52 KB).
#[server(prefix = "/api/fn", endpoint = "emoji-shortcodes", input = Json)]
pub async fn emoji_shortcodes(
    prefix: String,
    tone: SkinTone,
) -> Result<Vec<ShortcodeMatch>, AppError> {
    Ok(crate::backend::chat::emoji::shortcode_matches(
        &prefix, tone,
    ))
}

#[server(prefix = "/api/fn", endpoint = "read", input = Json)]
pub async fn mark_read(
    conversation_id: ConversationId,
    up_to_seq: Option<i64>,
) -> Result<ReadState, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .mark_read(&me, conversation_id, up_to_seq)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "contacts", input = Json)]
pub async fn contacts(query: String) -> Result<Vec<UserSummary>, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .contacts(&me, &query)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "search", input = Json)]
pub async fn search_messages(query: String) -> Result<Vec<SearchHit>, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?.backend.search(&me, &query).await.map_err(fail)
}

/// Gets or creates a direct conversation, or creates a group or broadcast.
#[server(prefix = "/api/fn", endpoint = "create-conversation", input = Json)]
pub async fn create_conversation(
    kind: ConversationKind,
    target_user_id: Option<UserId>,
    title: Option<String>,
    member_ids: Vec<UserId>,
) -> Result<ConversationSummary, AppError> {
    use crate::protocol::CreateConversation as NewConversation;
    let me = current_user().await.map_err(fail)?;
    let request = NewConversation {
        kind: Some(kind),
        target_user_id,
        title,
        member_ids,
    };
    app_state()?
        .backend
        .create_conversation(&me, request)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "add-participants", input = Json)]
pub async fn add_participants(
    conversation_id: ConversationId,
    user_ids: Vec<UserId>,
) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .add_participants(&me, conversation_id, user_ids)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "remove-participant", input = Json)]
pub async fn remove_participant(
    conversation_id: ConversationId,
    user_id: UserId,
) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .remove_participant(&me, conversation_id, user_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "rename", input = Json)]
pub async fn rename_conversation(
    conversation_id: ConversationId,
    title: String,
) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .rename_conversation(&me, conversation_id, &title)
        .await
        .map_err(fail)
}

/// Pins the conversation to the top of the caller's list, or unpins it.
#[server(prefix = "/api/fn", endpoint = "pin", input = Json)]
pub async fn set_conversation_pinned(
    conversation_id: ConversationId,
    pinned: bool,
) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .set_conversation_pinned(&me, conversation_id, pinned)
        .await
        .map_err(fail)
}

/// Marks the conversation as unread for the caller, to come back to it.
#[server(prefix = "/api/fn", endpoint = "mark-unread", input = Json)]
pub async fn mark_conversation_unread(
    conversation_id: ConversationId,
) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .set_conversation_marked_unread(&me, conversation_id, true)
        .await
        .map_err(fail)
}

/// Marks the message's conversation unread for the caller from that message
/// on ("Mark unread" on a message).
#[server(prefix = "/api/fn", endpoint = "mark-unread-from", input = Json)]
pub async fn mark_unread_from(message_id: MessageId) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .mark_unread_from(&me, message_id)
        .await
        .map_err(fail)
}

/// Reads the whole conversation, and clears a mark as unread, without
/// opening it (the list's "Mark as read").
#[server(prefix = "/api/fn", endpoint = "mark-conversation-read", input = Json)]
pub async fn mark_conversation_read(
    conversation_id: ConversationId,
) -> Result<ConversationSummary, AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .read_conversation(&me, conversation_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "set-role", input = Json)]
pub async fn set_role(
    conversation_id: ConversationId,
    user_id: UserId,
    role: ParticipantRole,
) -> Result<(), AppError> {
    let me = current_user().await.map_err(fail)?;
    app_state()?
        .backend
        .set_participant_role(&me, conversation_id, user_id, role)
        .await
        .map_err(fail)
}

/// What the chat page starts from: who is signed in, their conversations,
/// the bell's count, and the viewer's UTC offset (for rendering times).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bootstrap {
    pub me: crate::protocol::Me,
    pub conversations: Vec<ConversationSummary>,
    pub unread_notifications: i64,
    pub utc_offset_minutes: i32,
    /// The server's clock when it rendered: the page's times start from it.
    pub now: i64,
}

#[server(prefix = "/api/fn", endpoint = "bootstrap", input = Json)]
pub async fn chat_bootstrap() -> Result<Bootstrap, AppError> {
    let me = current_user().await.map_err(fail)?;
    let backend = app_state()?.backend;
    let conversations = backend.conversations(&me).await.map_err(fail)?;
    let unread_notifications = backend.notification_unread_count(&me).await.map_err(fail)?;
    Ok(Bootstrap {
        me,
        conversations,
        unread_notifications,
        utc_offset_minutes: super::session::utc_offset_minutes(),
        now: crate::backend::now_ms(),
    })
}

/// An opened conversation: its row, read first (opening clears a mark as
/// unread), and its newest page, reaching back to the first unread message
/// (up to 200 messages). Every
/// change up to the row's `lastEventSeq` is in the page, so a resume from
/// there misses nothing.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenedThread {
    pub conversation: ConversationSummary,
    pub page: MessagePage,
    /// Where the caller had marked it unread from, if from a message (the
    /// opening cleared the mark): the "New messages" line goes there.
    pub marked_from_seq: Option<i64>,
    /// The pinned messages, the last pinned first.
    pub pinned: Vec<Message>,
}

#[server(prefix = "/api/fn", endpoint = "open-thread", input = Json)]
pub async fn open_thread(conversation_id: ConversationId) -> Result<OpenedThread, AppError> {
    let me = current_user().await.map_err(fail)?;
    let backend = app_state()?.backend;
    let opened = backend
        .open_conversation(&me, conversation_id)
        .await
        .map_err(fail)?;
    let page = backend.opening_page(&me, &opened).await.map_err(fail)?;
    let pinned = backend.opening_pins(&me, &opened).await.map_err(fail)?;
    Ok(OpenedThread {
        conversation: opened.row,
        page,
        marked_from_seq: opened.marked_from_seq,
        pinned,
    })
}
