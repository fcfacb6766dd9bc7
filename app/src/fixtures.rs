//! Values the unit tests share.

use crate::protocol::{
    ConversationId, ConversationKind, ConversationSummary, Participant, ParticipantRole, UserId,
};

pub const ME: UserId = UserId(1);
pub const BOB: UserId = UserId(2);

pub fn participant(user_id: UserId, name: &str) -> Participant {
    Participant {
        user_id,
        display_name: name.into(),
        role: ParticipantRole::Member,
        last_read_seq: 0,
        last_delivered_seq: 0,
        is_online: false,
        last_seen_at: None,
    }
}

/// Alice's direct conversation with Bob, as her list shows it.
pub fn row(id: ConversationId, last_event_seq: i64, last_activity_at: i64) -> ConversationSummary {
    ConversationSummary {
        id,
        kind: ConversationKind::Direct,
        title: "Bob".into(),
        my_role: ParticipantRole::Member,
        can_post: true,
        muted: false,
        pinned_at: None,
        marked_unread: false,
        marked_unread_from_seq: None,
        unread_count: 0,
        mentions_me: false,
        my_last_read_seq: 0,
        last_message: None,
        last_message_seq: 0,
        last_event_seq,
        last_activity_at,
        participants: vec![participant(ME, "Alice"), participant(BOB, "Bob")],
        participant_count: 2,
    }
}
