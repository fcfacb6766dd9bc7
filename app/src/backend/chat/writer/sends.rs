//! The writer's hot path: a batch of sends, and delivery marks, in a few
//! statements whatever the batch's size, on either of the writer's
//! connections (see [`SendStore`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context;

use super::{Outcome, SendCommand};
use crate::backend::chat::events::{ChatEvent, UnreadState};
use crate::backend::chat::views::{can_post, message_from_row};
use crate::backend::db::attachments::{self, AttachmentRow};
use crate::backend::db::conversations::{self, LockedMember};
use crate::backend::db::messages::{self, MessageRow, NewMessage};
use crate::backend::db::notifications::{self, NewNotification};
use crate::backend::db::participants::{self, DeliveryNotice, UnreadChange};
use crate::backend::db::sql::engine_of;
use crate::backend::db::sqlite_writer::WriteTx;
use crate::backend::notifications::chat::notices_for_offline_members;
use crate::backend::{Error, Result};
use crate::protocol::{
    AttachmentId, ConversationId, ConversationKind, Message, MessageId, MessageKind, UserId,
};

/// What a batch of sends and delivery marks needs from storage, inside the
/// batch's transaction. Two connections provide it: sqlx's, whose
/// statements take a whole batch each (a round trip per statement is what
/// counts on PostgreSQL), and on SQLite the writer's own, which runs one
/// prepared statement per row on the writer's thread (no round trips there,
/// and no JSON to parse).
pub(super) trait SendStore {
    /// Messages already stored under these `(client id, sender)` pairs:
    /// `(client id, sender, id, conversation)`. May return more, for other
    /// senders of the same client ids.
    async fn stored_sends(
        &mut self,
        keys: &[(&str, UserId)],
    ) -> anyhow::Result<Vec<(String, UserId, MessageId, ConversationId)>>;
    /// The members of the conversations with their counters, locked until
    /// the transaction ends.
    async fn lock_members(&mut self, ids: &[ConversationId]) -> anyhow::Result<Vec<LockedMember>>;
    async fn messages(&mut self, ids: &[MessageId]) -> anyhow::Result<Vec<MessageRow>>;
    async fn attachments(&mut self, ids: &[AttachmentId]) -> anyhow::Result<Vec<AttachmentRow>>;
    /// `(conversation, last_event_seq, last_message_seq)`.
    async fn set_counters(
        &mut self,
        counters: &[(ConversationId, i64, i64)],
        now: i64,
    ) -> anyhow::Result<()>;
    /// Returns `(conversation, seq, id)` for each row.
    async fn insert_messages(
        &mut self,
        rows: &[NewMessage<'_>],
    ) -> anyhow::Result<Vec<(ConversationId, i64, MessageId)>>;
    async fn apply_unread(
        &mut self,
        changes: &[(ConversationId, UserId, UnreadChange)],
    ) -> anyhow::Result<()>;
    async fn collapse_chat(&mut self, rows: &[NewNotification], now: i64) -> anyhow::Result<()>;
    async fn record_deliveries(
        &mut self,
        marks: &[(ConversationId, UserId, i64)],
    ) -> anyhow::Result<Vec<DeliveryNotice>>;
}

impl SendStore for sqlx::AnyConnection {
    async fn stored_sends(
        &mut self,
        keys: &[(&str, UserId)],
    ) -> anyhow::Result<Vec<(String, UserId, MessageId, ConversationId)>> {
        let client_ids: Vec<&str> = keys.iter().map(|(id, _)| *id).collect();
        Ok(messages::find_by_client_ids(self, &client_ids).await?)
    }

    async fn lock_members(&mut self, ids: &[ConversationId]) -> anyhow::Result<Vec<LockedMember>> {
        let engine = engine_of(self);
        Ok(conversations::lock_members(self, engine, ids).await?)
    }

    async fn messages(&mut self, ids: &[MessageId]) -> anyhow::Result<Vec<MessageRow>> {
        Ok(messages::by_ids(self, ids).await?)
    }

    async fn attachments(&mut self, ids: &[AttachmentId]) -> anyhow::Result<Vec<AttachmentRow>> {
        Ok(attachments::get_many(self, ids).await?)
    }

    async fn set_counters(
        &mut self,
        counters: &[(ConversationId, i64, i64)],
        now: i64,
    ) -> anyhow::Result<()> {
        Ok(conversations::set_counters(self, counters, now).await?)
    }

    async fn insert_messages(
        &mut self,
        rows: &[NewMessage<'_>],
    ) -> anyhow::Result<Vec<(ConversationId, i64, MessageId)>> {
        Ok(messages::insert_many(self, rows).await?)
    }

    async fn apply_unread(
        &mut self,
        changes: &[(ConversationId, UserId, UnreadChange)],
    ) -> anyhow::Result<()> {
        Ok(participants::apply_unread(self, changes).await?)
    }

    async fn collapse_chat(&mut self, rows: &[NewNotification], now: i64) -> anyhow::Result<()> {
        Ok(notifications::collapse_chat(self, rows, now).await?)
    }

    async fn record_deliveries(
        &mut self,
        marks: &[(ConversationId, UserId, i64)],
    ) -> anyhow::Result<Vec<DeliveryNotice>> {
        Ok(participants::record_deliveries(self, marks).await?)
    }
}

/// The writer's own SQLite connection answers at once: these never wait.
impl SendStore for WriteTx<'_> {
    async fn stored_sends(
        &mut self,
        keys: &[(&str, UserId)],
    ) -> anyhow::Result<Vec<(String, UserId, MessageId, ConversationId)>> {
        Ok(WriteTx::stored_sends(self, keys)?)
    }

    async fn lock_members(&mut self, ids: &[ConversationId]) -> anyhow::Result<Vec<LockedMember>> {
        Ok(WriteTx::lock_members(self, ids)?)
    }

    async fn messages(&mut self, ids: &[MessageId]) -> anyhow::Result<Vec<MessageRow>> {
        WriteTx::messages(self, ids)
    }

    async fn attachments(&mut self, ids: &[AttachmentId]) -> anyhow::Result<Vec<AttachmentRow>> {
        Ok(WriteTx::attachments(self, ids)?)
    }

    async fn set_counters(
        &mut self,
        counters: &[(ConversationId, i64, i64)],
        now: i64,
    ) -> anyhow::Result<()> {
        Ok(WriteTx::set_counters(self, counters, now)?)
    }

    async fn insert_messages(
        &mut self,
        rows: &[NewMessage<'_>],
    ) -> anyhow::Result<Vec<(ConversationId, i64, MessageId)>> {
        Ok(WriteTx::insert_messages(self, rows)?)
    }

    async fn apply_unread(
        &mut self,
        changes: &[(ConversationId, UserId, UnreadChange)],
    ) -> anyhow::Result<()> {
        Ok(WriteTx::apply_unread(self, changes)?)
    }

    async fn collapse_chat(&mut self, rows: &[NewNotification], now: i64) -> anyhow::Result<()> {
        Ok(WriteTx::collapse_chat(self, rows, now)?)
    }

    async fn record_deliveries(
        &mut self,
        marks: &[(ConversationId, UserId, i64)],
    ) -> anyhow::Result<Vec<DeliveryNotice>> {
        Ok(WriteTx::record_deliveries(self, marks)?)
    }
}

/// A send that passed validation, with its position.
struct Accepted<'a> {
    index: usize,
    send: &'a SendCommand,
    kind: MessageKind,
    seq: i64,
    event_seq: i64,
}

pub(super) async fn apply_sends(
    store: &mut impl SendStore,
    sends: &[(usize, &SendCommand)],
    now: i64,
    is_connected: &dyn Fn(UserId) -> bool,
    events: &mut Vec<ChatEvent>,
) -> anyhow::Result<Vec<(usize, Result<Outcome>)>> {
    if sends.is_empty() {
        // A batch of other commands: no statement to run.
        return Ok(Vec::new());
    }
    let mut results: Vec<(usize, Result<Outcome>)> = Vec::with_capacity(sends.len());

    // 1. The same send twice in this batch: the second gets the first's answer.
    let mut first_of: HashMap<(UserId, &str), usize> = HashMap::new();
    let mut copies: Vec<(usize, usize)> = Vec::new();
    let mut unique: Vec<(usize, &SendCommand)> = Vec::new();
    for &(index, send) in sends {
        match first_of.get(&(send.sender.id, send.client_msg_id.as_str())) {
            Some(&first) => copies.push((index, first)),
            None => {
                first_of.insert((send.sender.id, send.client_msg_id.as_str()), index);
                unique.push((index, send));
            }
        }
    }

    // 2. Sends stored by an earlier batch: answer with the stored message.
    //    (Statement 1.)
    let keys: Vec<(&str, UserId)> = unique
        .iter()
        .map(|(_, s)| (s.client_msg_id.as_str(), s.sender.id))
        .collect();
    let stored: HashMap<(String, UserId), (MessageId, ConversationId)> = store
        .stored_sends(&keys)
        .await?
        .into_iter()
        .map(|(client_id, sender, id, conversation)| ((client_id, sender), (id, conversation)))
        .collect();
    let mut replays: Vec<(usize, MessageId, UserId)> = Vec::new();
    let mut fresh: Vec<(usize, &SendCommand)> = Vec::new();
    for (index, send) in unique {
        match stored.get(&(send.client_msg_id.as_str().to_owned(), send.sender.id)) {
            Some(&(id, conversation)) if conversation == send.conversation_id => {
                replays.push((index, id, send.sender.id));
            }
            Some(_) => results.push((index, Err(Error::ClientMsgIdReused))),
            None => fresh.push((index, send)),
        }
    }

    // 3. Members and counters of every conversation written to, locked for
    //    the batch (statement 2); quoted messages and attachments when any.
    let mut conversation_ids: Vec<ConversationId> =
        fresh.iter().map(|(_, s)| s.conversation_id).collect();
    conversation_ids.sort();
    conversation_ids.dedup();
    let mut members: BTreeMap<ConversationId, Vec<LockedMember>> = BTreeMap::new();
    for row in store.lock_members(&conversation_ids).await? {
        members.entry(row.conversation_id).or_default().push(row);
    }
    let reply_ids: Vec<MessageId> = fresh.iter().filter_map(|(_, s)| s.reply_to).collect();
    let replies: HashMap<MessageId, MessageRow> = store
        .messages(&reply_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let attachment_ids: Vec<AttachmentId> =
        fresh.iter().filter_map(|(_, s)| s.attachment_id).collect();
    let attachment_rows: HashMap<AttachmentId, AttachmentRow> = store
        .attachments(&attachment_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();

    let mut accepted: BTreeMap<ConversationId, Vec<Accepted>> = BTreeMap::new();
    for (index, send) in fresh {
        let verdict = validate_send(
            send,
            members.get(&send.conversation_id),
            &replies,
            &attachment_rows,
        );
        match verdict {
            Ok(kind) => accepted
                .entry(send.conversation_id)
                .or_default()
                .push(Accepted {
                    index,
                    send,
                    kind,
                    seq: 0,
                    event_seq: 0,
                }),
            Err(error) => results.push((index, Err(error))),
        }
    }

    // 4. Positions, from the counters read under the lock (statement 3).
    let mut counters = Vec::with_capacity(accepted.len());
    for (id, sends) in accepted.iter_mut() {
        let Some(first) = members.get(id).and_then(|m| m.first()) else {
            continue;
        };
        let (mut event_seq, mut seq) = (first.last_event_seq, first.last_message_seq);
        for a in sends.iter_mut() {
            seq += 1;
            event_seq += 1;
            a.seq = seq;
            a.event_seq = event_seq;
        }
        counters.push((*id, event_seq, seq));
    }
    store.set_counters(&counters, now).await?;

    // 5. The rows (statement 4).
    let new_rows: Vec<NewMessage> = accepted
        .iter()
        .flat_map(|(conversation_id, sends)| {
            let org_id = members
                .get(conversation_id)
                .and_then(|m| m.first())
                .map(|m| m.org_id);
            sends.iter().filter_map(move |a| {
                Some(NewMessage {
                    conversation_id: *conversation_id,
                    org_id: org_id?,
                    seq: a.seq,
                    event_seq: a.event_seq,
                    sender_id: a.send.sender.id,
                    client_msg_id: Some(a.send.client_msg_id.as_str()),
                    kind: a.kind,
                    body: a.send.body.as_str(),
                    reply_to_id: a.send.reply_to,
                    attachment_id: a.send.attachment_id,
                    forwarded_from: a.send.forwarded_from.as_ref().map(|f| f.user_id),
                    created_at: now,
                })
            })
        })
        .collect();
    let ids: HashMap<(ConversationId, i64), MessageId> = store
        .insert_messages(&new_rows)
        .await?
        .into_iter()
        .map(|(conversation, seq, id)| ((conversation, seq), id))
        .collect();

    // 6. Unread counts (statement 5), from the state read under the lock:
    //    each member gains the others' new messages; a sender has read up to
    //    their own newest one, so only others' messages after it are unread.
    let mut changes = Vec::new();
    let mut unread: HashMap<(ConversationId, UserId), UnreadState> = HashMap::new();
    for (conversation_id, sends) in &accepted {
        for member in members
            .get(conversation_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let last_own = sends
                .iter()
                .filter(|a| a.send.sender.id == member.user_id)
                .map(|a| a.seq)
                .max();
            let (unread_count, last_read_seq) = match last_own {
                Some(seq) => {
                    let after = sends
                        .iter()
                        .filter(|a| a.seq > seq && a.send.sender.id != member.user_id)
                        .count();
                    (after as i64, seq.max(member.last_read_seq))
                }
                None => (
                    member.unread_count + sends.len() as i64,
                    member.last_read_seq,
                ),
            };
            changes.push((
                *conversation_id,
                member.user_id,
                UnreadChange::Set {
                    unread_count,
                    last_read_seq,
                },
            ));
            unread.insert(
                (*conversation_id, member.user_id),
                UnreadState {
                    user_id: member.user_id,
                    unread_count,
                    last_read_seq,
                },
            );
        }
    }
    store.apply_unread(&changes).await?;

    // 7. Answers and events, built from what was written.
    let mut created: Vec<(Arc<Message>, &[LockedMember])> = Vec::new();
    for (conversation_id, sends) in &accepted {
        let member_rows = members
            .get(conversation_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let member_ids: Arc<[UserId]> = member_rows.iter().map(|m| m.user_id).collect();
        let kind = member_rows
            .first()
            .map_or(ConversationKind::Group, LockedMember::kind);
        let last = sends.len() - 1;
        for (i, a) in sends.iter().enumerate() {
            let Some(&id) = ids.get(&(*conversation_id, a.seq)) else {
                anyhow::bail!("an inserted message did not come back");
            };
            let message = new_message(id, *conversation_id, a, now, &replies, &attachment_rows);
            // Counts change once per batch; the conversation's last new message carries them.
            let unread_states = if i == last {
                member_rows
                    .iter()
                    .filter_map(|m| unread.get(&(*conversation_id, m.user_id)).copied())
                    .collect()
            } else {
                Vec::new()
            };
            let shared = Arc::new(message.clone());
            created.push((shared.clone(), member_rows));
            events.push(ChatEvent::MessageCreated {
                message: shared,
                origin: a.send.origin,
                kind,
                members: member_ids.clone(),
                unread: unread_states,
            });
            results.push((a.index, Ok(Outcome::Message(Box::new(message)))));
        }
    }

    // 8. Members who are not connected find a notification when they come
    //    back (statement 6, only when there are any).
    let notices = notices_for_offline_members(
        created
            .iter()
            .map(|(message, members)| (message.as_ref(), *members)),
        is_connected,
    );
    store.collapse_chat(&notices, now).await?;

    // 9. Retries of stored sends: the stored message, unchanged.
    if !replays.is_empty() {
        let ids: Vec<MessageId> = replays.iter().map(|(_, id, _)| *id).collect();
        let rows: HashMap<MessageId, MessageRow> = store
            .messages(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for (index, id, viewer) in replays {
            let row = rows
                .get(&id)
                .cloned()
                .context("a stored message vanished")?;
            results.push((
                index,
                Ok(Outcome::Replayed(Box::new(message_from_row(row, viewer)))),
            ));
        }
    }

    // Copies answer like their first.
    for (copy, first) in copies {
        let answer = match results.iter().find(|(i, _)| *i == first) {
            Some((_, Ok(Outcome::Message(message) | Outcome::Replayed(message)))) => {
                Ok(Outcome::Replayed(message.clone()))
            }
            Some((_, Ok(outcome))) => Ok(outcome.clone()),
            Some((_, Err(error))) => Err(error.duplicate()),
            None => Err(anyhow::anyhow!("a duplicate send lost its original").into()),
        };
        results.push((copy, answer));
    }
    Ok(results)
}

/// Whether the sender may post this, and as what kind of message.
fn validate_send(
    send: &SendCommand,
    members: Option<&Vec<LockedMember>>,
    replies: &HashMap<MessageId, MessageRow>,
    attachments: &HashMap<AttachmentId, AttachmentRow>,
) -> Result<MessageKind> {
    let members = members
        .filter(|m| m.first().is_some_and(|c| c.org_id == send.sender.org_id))
        .ok_or(Error::NotFound)?;
    let me = members
        .iter()
        .find(|m| m.user_id == send.sender.id)
        .ok_or(Error::NotFound)?;
    if !can_post(me.kind(), me.role()) {
        return Err(Error::Forbidden(
            "Only the admins of a broadcast post in it.",
        ));
    }
    let quotes_elsewhere = send.reply_to.is_some_and(|id| {
        replies
            .get(&id)
            .is_none_or(|r| r.conversation_id != send.conversation_id)
    });
    if quotes_elsewhere {
        return Err(Error::InvalidInput(
            "replyTo must be a message of the same conversation.".into(),
        ));
    }
    match send.attachment_id {
        None if send.body.as_str().is_empty() => Err(Error::EmptyMessage),
        None => Ok(MessageKind::Text),
        Some(id) => {
            let attachment = attachments
                .get(&id)
                .filter(|a| {
                    a.conversation_id == send.conversation_id && a.uploader_id == send.sender.id
                })
                .ok_or(Error::NotFound)?;
            Ok(if attachment.content_type.starts_with("image/") {
                MessageKind::Image
            } else {
                MessageKind::File
            })
        }
    }
}

/// The message just inserted, as its sender sees it.
fn new_message(
    id: MessageId,
    conversation_id: ConversationId,
    a: &Accepted,
    now: i64,
    replies: &HashMap<MessageId, MessageRow>,
    attachments: &HashMap<AttachmentId, AttachmentRow>,
) -> Message {
    let row = MessageRow {
        id,
        conversation_id,
        seq: a.seq,
        event_seq: a.event_seq,
        created_event_seq: a.event_seq,
        sender_id: a.send.sender.id,
        sender_name: a.send.sender.display_name.clone(),
        client_msg_id: Some(a.send.client_msg_id.as_str().to_owned()),
        kind: a.kind.as_str().to_owned(),
        body: a.send.body.as_str().to_owned(),
        created_at: now,
        edited_at: None,
        deleted_at: None,
        reply_id: None,
        reply_seq: None,
        reply_sender_id: None,
        reply_sender_name: None,
        reply_body: None,
        reply_deleted_at: None,
        attachment_id: None,
        attachment_file_name: None,
        attachment_content_type: None,
        attachment_size: None,
        attachment_width: None,
        attachment_height: None,
        forwarded_from: a.send.forwarded_from.as_ref().map(|f| f.user_id.0),
        forwarded_from_name: a.send.forwarded_from.as_ref().map(|f| f.name.clone()),
        pinned_at: None,
        pinned_by: None,
        pinned_by_name: None,
        reaction_list: None,
    };
    let row = with_reply(row, a.send.reply_to.and_then(|r| replies.get(&r)));
    let row = with_attachment(
        row,
        a.send.attachment_id.and_then(|id| attachments.get(&id)),
    );
    message_from_row(row, a.send.sender.id)
}

fn with_reply(mut row: MessageRow, reply: Option<&MessageRow>) -> MessageRow {
    if let Some(reply) = reply {
        row.reply_id = Some(reply.id.0);
        row.reply_seq = Some(reply.seq);
        row.reply_sender_id = Some(reply.sender_id.0);
        row.reply_sender_name = Some(reply.sender_name.clone());
        row.reply_body = Some(reply.body.clone());
        row.reply_deleted_at = reply.deleted_at;
    }
    row
}

fn with_attachment(mut row: MessageRow, attachment: Option<&AttachmentRow>) -> MessageRow {
    if let Some(a) = attachment {
        row.attachment_id = Some(a.id.0);
        row.attachment_file_name = Some(a.file_name.clone());
        row.attachment_content_type = Some(a.content_type.clone());
        row.attachment_size = Some(a.size_bytes);
        row.attachment_width = a.width;
        row.attachment_height = a.height;
    }
    row
}

/// Records delivery marks, and tells the senders whose messages they cover.
pub(super) async fn mark_delivered(
    store: &mut impl SendStore,
    marks: &[(ConversationId, UserId, i64)],
    events: &mut Vec<ChatEvent>,
) -> anyhow::Result<()> {
    // Ordered by conversation, member and sender: one event per moved cursor.
    let notices = store.record_deliveries(marks).await?;
    for group in notices.chunk_by(|a, b| {
        (a.conversation_id, a.user_id, a.up_to_seq) == (b.conversation_id, b.user_id, b.up_to_seq)
    }) {
        let first = group[0];
        events.push(ChatEvent::Delivered {
            conversation_id: first.conversation_id,
            user_id: first.user_id,
            up_to_seq: first.up_to_seq,
            audience: group.iter().map(|n| n.sender).collect(),
        });
    }
    Ok(())
}
