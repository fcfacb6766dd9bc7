//! What survives a reload in the browser's localStorage, per user: the
//! outbox of unacknowledged sends, drafts per conversation, the emoji
//! picker's recent emoji and skin tone, whether the composer's formatting
//! bar is open, and which notifications the drawer shows.

use std::collections::BTreeMap;

use crate::components::emoji_picker::EmojiPrefs;
use crate::model::{NotificationView, Outgoing};
use crate::protocol::{ConversationId, UserId};

pub(super) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn outbox_key(user: UserId) -> String {
    format!("crm-chat.outbox.{user}")
}

fn draft_prefix(user: UserId) -> String {
    format!("crm-chat.draft.{user}.")
}

fn draft_key(user: UserId, conversation: ConversationId) -> String {
    format!("{}{conversation}", draft_prefix(user))
}

/// What `key` holds as JSON; the default when it is missing or unreadable.
/// (`from_slice`, the one JSON reader the page has: `from_str` would add a
/// second one, 10 KB.)
fn load_json<T: serde::de::DeserializeOwned + Default>(key: &str) -> T {
    local_storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|json| serde_json::from_slice(json.as_bytes()).ok())
        .unwrap_or_default()
}

fn save_json<T: serde::Serialize + ?Sized>(key: &str, value: &T) {
    if let (Some(storage), Ok(json)) = (local_storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &json);
    }
}

pub fn load_outbox(user: UserId) -> Vec<Outgoing> {
    load_json(&outbox_key(user))
}

pub fn save_outbox(user: UserId, outbox: &[Outgoing]) {
    if outbox.is_empty() {
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(&outbox_key(user));
        }
    } else {
        save_json(&outbox_key(user), outbox);
    }
}

pub fn load_draft(user: UserId, conversation: ConversationId) -> String {
    local_storage()
        .and_then(|s| s.get_item(&draft_key(user, conversation)).ok().flatten())
        .unwrap_or_default()
}

/// The user's drafts, by conversation.
pub fn load_drafts(user: UserId) -> BTreeMap<ConversationId, String> {
    let Some(storage) = local_storage() else {
        return BTreeMap::new();
    };
    let prefix = draft_prefix(user);
    (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter_map(|key| {
            let id = key.strip_prefix(&prefix)?.parse().ok()?;
            let text = storage.get_item(&key).ok().flatten()?;
            Some((ConversationId(id), text))
        })
        .collect()
}

pub fn save_draft(user: UserId, conversation: ConversationId, text: &str) {
    let Some(storage) = local_storage() else {
        return;
    };
    if text.trim().is_empty() {
        let _ = storage.remove_item(&draft_key(user, conversation));
    } else {
        let _ = storage.set_item(&draft_key(user, conversation), text);
    }
}

fn emoji_key(user: UserId) -> String {
    format!("crm-chat.emoji.{user}")
}

/// The emoji picker's recent emoji and skin tone.
pub fn load_emoji_prefs(user: UserId) -> EmojiPrefs {
    load_json(&emoji_key(user))
}

pub fn save_emoji_prefs(user: UserId, prefs: &EmojiPrefs) {
    save_json(&emoji_key(user), prefs);
}

fn format_bar_key(user: UserId) -> String {
    format!("crm-chat.format-bar.{user}")
}

/// Whether the composer's formatting bar was left open.
pub fn load_format_bar(user: UserId) -> bool {
    load_json(&format_bar_key(user))
}

pub fn save_format_bar(user: UserId, open: bool) {
    save_json(&format_bar_key(user), &open);
}

fn notification_view_key(user: UserId) -> String {
    format!("crm-chat.notification-view.{user}")
}

/// Which notifications the drawer was left showing.
pub fn load_notification_view(user: UserId) -> NotificationView {
    load_json(&notification_view_key(user))
}

pub fn save_notification_view(user: UserId, view: NotificationView) {
    save_json(&notification_view_key(user), &view);
}
