//! What survives a reload in the browser's localStorage, per user: the
//! outbox of unacknowledged sends, drafts per conversation, and the emoji
//! picker's recent emoji and skin tone.

use std::collections::BTreeMap;

use crate::components::emoji_picker::EmojiPrefs;
use crate::model::Outgoing;
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

pub fn load_outbox(user: UserId) -> Vec<Outgoing> {
    local_storage()
        .and_then(|s| s.get_item(&outbox_key(user)).ok().flatten())
        .and_then(|json| serde_json::from_slice(json.as_bytes()).ok())
        .unwrap_or_default()
}

pub fn save_outbox(user: UserId, outbox: &[Outgoing]) {
    let Some(storage) = local_storage() else {
        return;
    };
    if outbox.is_empty() {
        let _ = storage.remove_item(&outbox_key(user));
    } else if let Ok(json) = serde_json::to_string(outbox) {
        let _ = storage.set_item(&outbox_key(user), &json);
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
    local_storage()
        .and_then(|s| s.get_item(&emoji_key(user)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

pub fn save_emoji_prefs(user: UserId, prefs: &EmojiPrefs) {
    if let (Some(storage), Ok(json)) = (local_storage(), serde_json::to_string(prefs)) {
        let _ = storage.set_item(&emoji_key(user), &json);
    }
}
