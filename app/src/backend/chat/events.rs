//! What changed, as the writer hands it to the real-time hub after a commit.
//! Each event carries the conversation's members, so the hub routes it only to
//! them without reading the database.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::protocol::{
    ConversationId, ConversationKind, Message, Notification, NotificationId, NotificationKind,
    UserId,
};

/// A live connection (a browser tab or an API client's socket), unique
/// across nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectionId(pub u64);

/// A member's unread state after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadState {
    pub user_id: UserId,
    pub unread_count: i64,
    pub last_read_seq: i64,
}

/// How a stored message changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageChange {
    Edited,
    Deleted,
    Reactions,
    /// Pinned or unpinned: members get the whole message, as for an edit.
    Pinned,
}

/// Serialised as is onto the bus between nodes (see `realtime::bus`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ChatEvent {
    /// A new message. The connection that sent it (if any) gets the
    /// acknowledgement; every other tab of every member gets the message.
    MessageCreated {
        message: Arc<Message>,
        origin: Option<ConnectionId>,
        kind: ConversationKind,
        members: Arc<[UserId]>,
        /// Unread counts that changed with this message.
        unread: Vec<UnreadState>,
    },
    /// A message was edited, deleted or reacted to.
    MessageChanged {
        message: Arc<Message>,
        change: MessageChange,
        members: Arc<[UserId]>,
        unread: Vec<UnreadState>,
    },
    /// A member read up to `up_to_seq`.
    Read {
        conversation_id: ConversationId,
        kind: ConversationKind,
        reader: UserId,
        up_to_seq: i64,
        unread_count: i64,
        members: Arc<[UserId]>,
        /// Who may see read receipts: everyone, or in a broadcast its admins.
        receipt_audience: Arc<[UserId]>,
    },
    /// A member's devices received messages up to `up_to_seq`.
    Delivered {
        conversation_id: ConversationId,
        user_id: UserId,
        up_to_seq: i64,
        /// Whose ticks it changes: the senders of the messages it covers.
        /// (In a group of 50, telling everyone made each message cost 49 × 49
        /// frames instead of 49.)
        audience: Arc<[UserId]>,
    },
    /// Membership, title or roles changed, or the conversation is new.
    ConversationChanged {
        conversation_id: ConversationId,
        members: Arc<[UserId]>,
        removed: Vec<UserId>,
    },
    /// A notification was stored for a user. `push` is false for kinds the
    /// user muted: stored and listed, not pushed.
    NotificationCreated {
        user_id: UserId,
        notification: Arc<Notification>,
        unread_count: i64,
        push: bool,
    },
    /// A user's notifications were read or deleted.
    NotificationsChanged {
        user_id: UserId,
        unread_count: i64,
        read: Vec<NotificationId>,
        deleted: Vec<NotificationId>,
        all_read: bool,
        kind: Option<NotificationKind>,
    },
}

impl ChatEvent {
    /// The conversation the event is about; none for a user's notifications.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            ChatEvent::MessageCreated { message, .. }
            | ChatEvent::MessageChanged { message, .. } => Some(message.conversation_id),
            ChatEvent::Read {
                conversation_id, ..
            }
            | ChatEvent::Delivered {
                conversation_id, ..
            }
            | ChatEvent::ConversationChanged {
                conversation_id, ..
            } => Some(*conversation_id),
            ChatEvent::NotificationCreated { .. } | ChatEvent::NotificationsChanged { .. } => None,
        }
    }
}
