//! NEW_MESSAGE notifications: what a member with no open connection finds
//! when they come back (seed 001's offline support). One unread notification
//! per member and conversation, however many messages arrive: it counts them
//! and shows the latest.

use std::collections::BTreeMap;

use crate::backend::db::conversations::LockedMember;
use crate::backend::db::notifications::NewNotification;
use crate::format::{EVERYONE, and_everyone, mentions};
use crate::protocol::{ConversationId, ConversationKind, Message, MessageKind, UserId};

/// The notifications a batch's new messages leave for members who are not
/// connected: none for the sender or for system messages, nor in a
/// conversation the member muted unless the message mentions them (as in
/// Slack, a mention gets through a mute). At most one per member and
/// conversation.
pub fn notices_for_offline_members<'a>(
    created: impl IntoIterator<Item = (&'a Message, &'a [LockedMember])>,
    is_connected: &dyn Fn(UserId) -> bool,
) -> Vec<NewNotification> {
    let mut notices: BTreeMap<(UserId, ConversationId), NewNotification> = BTreeMap::new();
    let mut connected: BTreeMap<UserId, bool> = BTreeMap::new();
    for (message, members) in created {
        if message.message_type == MessageKind::System {
            continue;
        }
        let mentioned = mentioned_members(message, members);
        for member in members {
            let muted = member.muted != 0 && !mentioned.contains(&member.user_id);
            if member.user_id == message.sender_id || muted {
                continue;
            }
            let online = *connected
                .entry(member.user_id)
                .or_insert_with(|| is_connected(member.user_id));
            if online {
                continue;
            }
            let key = (member.user_id, message.conversation_id);
            let item_count = notices.get(&key).map_or(0, |n| n.item_count) + 1;
            notices.insert(key, notice(message, member, item_count));
        }
    }
    notices.into_values().collect()
}

/// The members a message mentions (see [`crate::format::mentions`]): all of
/// them for `@all`.
fn mentioned_members(message: &Message, members: &[LockedMember]) -> Vec<UserId> {
    if !message.content.contains('@') {
        return Vec::new();
    }
    let people: Vec<(UserId, &str)> = members
        .iter()
        .map(|m| (m.user_id, m.display_name.as_str()))
        .collect();
    let named: Vec<UserId> = mentions(&message.content, &and_everyone(&people))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if named.contains(&EVERYONE) {
        return members.iter().map(|m| m.user_id).collect();
    }
    named
}

fn notice(message: &Message, member: &LockedMember, item_count: i64) -> NewNotification {
    let preview = crate::model::preview(message).text;
    let (title, body) = match member.kind() {
        ConversationKind::Direct => (message.sender_name.clone(), preview),
        ConversationKind::Group | ConversationKind::Broadcast => (
            member
                .title
                .clone()
                .unwrap_or_else(|| message.sender_name.clone()),
            format!("{}: {preview}", message.sender_name),
        ),
    };
    NewNotification {
        org_id: member.org_id,
        user_id: member.user_id,
        kind: "NEW_MESSAGE",
        title,
        body,
        metadata: serde_json::json!({
            "conversationId": message.conversation_id,
            "messageId": message.id,
            "seq": message.seq,
        })
        .to_string(),
        link: Some(format!("/c/{}", message.conversation_id)),
        actor_id: Some(message.sender_id),
        conversation_id: Some(message.conversation_id),
        item_count,
    }
}
