//! Storage rows become wire types here, and only here.

use crate::backend::db::conversations::{SummaryRow, members_of_row};
use crate::backend::db::messages::MessageRow;
use crate::model::preview_text;
use crate::protocol::{
    Attachment, AttachmentId, Author, ConversationKind, ConversationSummary, Me, Message,
    MessageId, MessageKind, MessagePreview, Participant, ParticipantRole, Pin, ReactionSummary,
    ReplyPreview, UserId,
};

/// Where members download an attachment.
pub fn attachment_url(id: AttachmentId) -> String {
    format!("/api/chat/uploads/{id}")
}

/// Parses an aggregated reaction list (`emoji user,emoji user,…`, oldest
/// first) into summaries in the order each emoji was first used.
pub fn parse_reactions(list: Option<&str>, viewer: UserId) -> Vec<ReactionSummary> {
    let mut summaries: Vec<ReactionSummary> = Vec::new();
    for entry in list
        .unwrap_or_default()
        .split(',')
        .filter(|e| !e.is_empty())
    {
        let Some((emoji, user)) = entry.rsplit_once(' ') else {
            continue;
        };
        let Ok(user_id) = user.parse().map(UserId) else {
            continue;
        };
        match summaries.iter_mut().find(|s| s.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                summary.me |= user_id == viewer;
                summary.user_ids.push(user_id);
            }
            None => summaries.push(ReactionSummary {
                emoji: emoji.to_owned(),
                count: 1,
                me: user_id == viewer,
                user_ids: vec![user_id],
            }),
        }
    }
    summaries
}

/// Recomputes `me` for another viewer.
pub fn reactions_for_viewer(reactions: &[ReactionSummary], viewer: UserId) -> Vec<ReactionSummary> {
    reactions
        .iter()
        .map(|r| ReactionSummary {
            me: r.user_ids.contains(&viewer),
            ..r.clone()
        })
        .collect()
}

/// A message as `viewer` sees it (reactions carry `me`).
pub fn message_from_row(row: MessageRow, viewer: UserId) -> Message {
    let kind = row.kind();
    let reactions = parse_reactions(row.reaction_list.as_deref(), viewer);
    let deleted = row.deleted_at.is_some();
    let reply_to = match (row.reply_id, row.reply_seq, row.reply_sender_id) {
        (Some(id), Some(seq), Some(sender_id)) => {
            let is_deleted = row.reply_deleted_at.is_some();
            Some(ReplyPreview {
                message_id: MessageId(id),
                seq,
                sender_id: UserId(sender_id),
                sender_name: row.reply_sender_name.clone().unwrap_or_default(),
                text: preview_text(
                    MessageKind::Text,
                    row.reply_body.as_deref().unwrap_or(""),
                    is_deleted,
                    None,
                ),
                is_deleted,
            })
        }
        _ => None,
    };
    let attachment = match (deleted, row.attachment_id) {
        (false, Some(id)) => Some(Attachment {
            id: AttachmentId(id),
            file_name: row.attachment_file_name.clone().unwrap_or_default(),
            content_type: row.attachment_content_type.clone().unwrap_or_default(),
            size_bytes: row.attachment_size.unwrap_or_default(),
            width: row.attachment_width,
            height: row.attachment_height,
            url: attachment_url(AttachmentId(id)),
        }),
        _ => None,
    };
    let forwarded_from = row.forwarded_from.map(|id| Author {
        user_id: UserId(id),
        name: row.forwarded_from_name.clone().unwrap_or_default(),
    });
    let pinned = match (deleted, row.pinned_at, row.pinned_by) {
        (false, Some(at), Some(by)) => Some(Pin {
            by: Author {
                user_id: UserId(by),
                name: row.pinned_by_name.clone().unwrap_or_default(),
            },
            at,
        }),
        _ => None,
    };
    Message {
        id: row.id,
        conversation_id: row.conversation_id,
        seq: row.seq,
        event_seq: row.event_seq,
        sender_id: row.sender_id,
        sender_name: row.sender_name,
        client_msg_id: row.client_msg_id,
        message_type: kind,
        content: if deleted { String::new() } else { row.body },
        reply_to,
        forwarded_from,
        pinned,
        attachment,
        reactions: if deleted { Vec::new() } else { reactions },
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted_at: row.deleted_at,
    }
}

/// Rows as `viewer` sees them, in the order given.
pub fn messages_from_rows(rows: Vec<MessageRow>, viewer: UserId) -> Vec<Message> {
    rows.into_iter()
        .map(|row| message_from_row(row, viewer))
        .collect()
}

/// Whether a participant with `role` may post in a conversation of `kind`.
pub fn can_post(kind: ConversationKind, role: ParticipantRole) -> bool {
    kind != ConversationKind::Broadcast || role == ParticipantRole::Admin
}

/// Assembles a list row. `is_online` answers presence from the real-time hub.
pub fn summary_from_rows(
    mut row: SummaryRow,
    viewer: &Me,
    is_online: &dyn Fn(UserId) -> bool,
) -> ConversationSummary {
    let members = members_of_row(&mut row, viewer.id, &viewer.display_name);
    let kind = ConversationKind::parse(&row.kind).unwrap_or(ConversationKind::Group);
    let my_role = ParticipantRole::parse(&row.role).unwrap_or(ParticipantRole::Member);
    let participants: Vec<Participant> = members
        .into_iter()
        .map(|m| Participant {
            user_id: m.user_id,
            role: ParticipantRole::parse(&m.role).unwrap_or(ParticipantRole::Member),
            display_name: m.display_name,
            last_read_seq: m.last_read_seq,
            last_delivered_seq: m.last_delivered_seq,
            is_online: is_online(m.user_id),
            last_seen_at: m.last_seen_at,
        })
        .collect();
    let title = match kind {
        ConversationKind::Direct => participants
            .iter()
            .find(|p| p.user_id != viewer.id)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| viewer.display_name.clone()),
        _ => row.title.clone().unwrap_or_default(),
    };
    let last_message = match (row.lm_id, row.lm_sender_id, row.lm_created_at) {
        (Some(id), Some(sender_id), Some(created_at)) => {
            let kind = row
                .lm_kind
                .as_deref()
                .and_then(MessageKind::parse)
                .unwrap_or(MessageKind::Text);
            let is_deleted = row.lm_deleted_at.is_some();
            Some(MessagePreview {
                message_id: MessageId(id),
                seq: row.last_message_seq,
                sender_id: UserId(sender_id),
                sender_name: row.lm_sender_name.clone().unwrap_or_default(),
                message_type: kind,
                text: preview_text(
                    kind,
                    row.lm_body.as_deref().unwrap_or(""),
                    is_deleted,
                    row.lm_file_name.as_deref().zip(row.lm_file_type.as_deref()),
                ),
                is_deleted,
                created_at,
            })
        }
        _ => None,
    };
    ConversationSummary {
        id: row.id,
        kind,
        title,
        my_role,
        can_post: can_post(kind, my_role),
        muted: row.muted != 0,
        pinned_at: row.pinned_at,
        marked_unread: row.marked_unread != 0,
        marked_unread_from_seq: (row.unread_from_seq > 0).then_some(row.unread_from_seq),
        unread_count: row.unread_count,
        mentions_me: row.mention_candidate.as_deref().is_some_and(|text| {
            crate::format::mentions_person(text, viewer.id, &viewer.display_name)
        }),
        my_last_read_seq: row.last_read_seq,
        last_message,
        last_message_seq: row.last_message_seq,
        last_event_seq: row.last_event_seq,
        last_activity_at: row.last_message_at.unwrap_or(row.created_at),
        participants,
        participant_count: row.participant_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_are_grouped_per_emoji_with_me() {
        let summaries = &parse_reactions(Some("👍 7,❤️ 8,👍 8"), UserId(7));
        assert_eq!(summaries[0].emoji, "👍");
        assert_eq!(summaries[0].count, 2);
        assert!(summaries[0].me);
        assert!(!summaries[1].me);
        let for_8 = reactions_for_viewer(summaries, UserId(8));
        assert!(for_8[0].me && for_8[1].me);
        assert!(parse_reactions(None, UserId(7)).is_empty());
    }

    #[test]
    fn only_admins_post_in_broadcasts() {
        assert!(can_post(ConversationKind::Group, ParticipantRole::Member));
        assert!(can_post(
            ConversationKind::Broadcast,
            ParticipantRole::Admin
        ));
        assert!(!can_post(
            ConversationKind::Broadcast,
            ParticipantRole::Member
        ));
    }
}
