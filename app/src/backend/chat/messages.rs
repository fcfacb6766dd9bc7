//! Messages: send, history, the change feed, edit, delete, reactions and read state.

use super::conversations::OpenedConversation;
use super::events::ConnectionId;
use super::input::{ClientMsgId, Emoji, MessageBody, opening_page_limit, page_limit};
use super::views::messages_from_rows;
use super::writer::{Command, Outcome, SendCommand};
use crate::backend::db::{attachments, conversations, messages, participants};
use crate::backend::{Backend, Error, Result, now_ms};
use crate::protocol::{
    AttachmentId, Author, Changes, ConversationId, ForwardMessage, Me, Message, MessageId,
    MessageKind, MessagePage, ReadState, SendMessage, UserId,
};

/// The most changes one `changesSince` answer carries; a client that is
/// further behind asks again from the last one.
pub const MAX_CHANGES: i64 = 500;

impl Backend {
    /// Sends a message. Durable when this returns. A retry with the same
    /// `clientMsgId` returns the stored message and stores nothing.
    pub async fn send_message(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        request: SendMessage,
        origin: Option<ConnectionId>,
    ) -> Result<Message> {
        let command = send_command(me, conversation_id, request, origin)?;
        expect_message(self.writer.submit(command).await?)
    }

    /// Queues a send and returns its answer to await later, so a connection
    /// can pipeline its sends and keep their order (see `Writer::enqueue`).
    /// Input errors come back at once.
    pub async fn enqueue_send(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        request: SendMessage,
        origin: Option<ConnectionId>,
    ) -> Result<impl std::future::Future<Output = Result<Outcome>> + use<>> {
        let command = send_command(me, conversation_id, request, origin)?;
        self.writer.enqueue(command).await
    }

    /// Forwards a message the caller can see to another of their
    /// conversations (or the same one): a new message there with its text
    /// and file, marked with who wrote the original, through the same writer
    /// as every send. A retry with the same `clientMsgId` returns the first
    /// copy and copies nothing.
    pub async fn forward_message(
        &self,
        me: &Me,
        message_id: MessageId,
        request: ForwardMessage,
    ) -> Result<Message> {
        let client_msg_id = ClientMsgId::parse_or_generate(request.client_msg_id.as_deref())?;
        let to = request.conversation_id;
        let mut conn = self.db.pool().acquire().await?;
        let source = messages::by_id(&mut conn, message_id)
            .await?
            .ok_or(Error::NotFound)?;
        self.require_member(&mut conn, me, source.conversation_id)
            .await?;
        if source.deleted_at.is_some() {
            return Err(Error::MessageDeleted);
        }
        if source.kind() == MessageKind::System {
            return Err(Error::InvalidInput(
                "Only messages that people wrote can be forwarded.".to_owned(),
            ));
        }
        // Checked here as well as by the writer, so that no file is copied
        // into a conversation the caller is not in.
        self.require_member(&mut conn, me, to).await?;
        let retried = messages::find_by_client_ids(&mut conn, &[client_msg_id.as_str()])
            .await?
            .iter()
            .any(|(_, sender, _, _)| *sender == me.id);
        let attachment_id = match source.attachment_id {
            // A retry answers with the first copy, which has its file.
            Some(id) if !retried => {
                let original = attachments::get_many(&mut conn, &[AttachmentId(id)])
                    .await?
                    .pop()
                    .ok_or(Error::NotFound)?;
                Some(attachments::copy_to(&mut conn, &original, to, me.id, now_ms()).await?)
            }
            _ => None,
        };
        let forwarded_from = match (source.forwarded_from, source.forwarded_from_name) {
            (Some(id), Some(name)) => Author {
                user_id: UserId(id),
                name,
            },
            _ => Author {
                user_id: source.sender_id,
                name: source.sender_name,
            },
        };
        drop(conn);
        let command = Command::Send(SendCommand {
            sender: me.clone(),
            conversation_id: to,
            client_msg_id,
            // Stored text passed these checks when it was sent.
            body: MessageBody::parse_allowing_empty(&source.body)?,
            reply_to: None,
            attachment_id,
            forwarded_from: Some(forwarded_from),
            origin: None,
        });
        expect_message(self.writer.submit(command).await?)
    }

    /// A page of history, oldest first, ending before `before_seq` (or at the newest).
    pub async fn messages(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        before_seq: Option<i64>,
        limit: Option<i64>,
    ) -> Result<MessagePage> {
        self.page(me, conversation_id, before_seq, page_limit(limit))
            .await
    }

    /// The page a thread opens with: the newest messages, reaching back to
    /// the caller's first unread one (see [`opening_page_limit`]).
    pub async fn opening_page(&self, me: &Me, opened: &OpenedConversation) -> Result<MessagePage> {
        let limit = opening_page_limit(opened.row.last_message_seq, opened.unread_after());
        self.page(me, opened.row.id, None, limit).await
    }

    async fn page(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<MessagePage> {
        let mut conn = self.db.pool().acquire().await?;
        let mut rows =
            messages::page(&mut conn, conversation_id, me.id, before_seq, limit + 1).await?;
        if rows.is_empty() {
            // Nothing there, or not theirs to see: only the second is an error.
            self.require_member(&mut conn, me, conversation_id).await?;
        }
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        rows.reverse();
        Ok(MessagePage {
            conversation_id,
            messages: messages_from_rows(rows, me.id),
            has_more,
        })
    }

    /// Every message changed after `after_event_seq` (new, edited, deleted or
    /// reacted to), in change order, with the cursor to continue from. A
    /// cursor ahead of the conversation is an error, never a silent empty answer.
    pub async fn changes_since(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        after_event_seq: i64,
    ) -> Result<Changes> {
        let mut conn = self.db.pool().acquire().await?;
        self.require_member(&mut conn, me, conversation_id).await?;
        // Read the counter first: every change up to it is committed, so the
        // answer below covers at least up to it.
        let conversation = conversations::get(&mut conn, conversation_id)
            .await?
            .ok_or(Error::NotFound)?;
        if after_event_seq < 0 || after_event_seq > conversation.last_event_seq {
            return Err(Error::CursorAhead {
                conversation_id,
                last_event_seq: conversation.last_event_seq,
            });
        }
        let counters = (conversation.last_event_seq, conversation.last_message_seq);
        let rows = messages::changed_since(
            &mut conn,
            conversation_id,
            counters,
            after_event_seq,
            MAX_CHANGES,
        )
        .await?;
        let last_event_seq = if rows.len() as i64 == MAX_CHANGES {
            rows.last().map_or(after_event_seq, |r| r.event_seq)
        } else {
            rows.last().map_or(conversation.last_event_seq, |r| {
                r.event_seq.max(conversation.last_event_seq)
            })
        };
        Ok(Changes {
            conversation_id,
            messages: messages_from_rows(rows, me.id),
            last_event_seq,
        })
    }

    pub async fn edit_message(
        &self,
        me: &Me,
        message_id: MessageId,
        content: &str,
    ) -> Result<Message> {
        let body = MessageBody::parse_allowing_empty(content)?;
        expect_message(
            self.writer
                .submit(Command::Edit {
                    actor: me.clone(),
                    message_id,
                    body,
                })
                .await?,
        )
    }

    pub async fn delete_message(&self, me: &Me, message_id: MessageId) -> Result<Message> {
        expect_message(
            self.writer
                .submit(Command::Delete {
                    actor: me.clone(),
                    message_id,
                })
                .await?,
        )
    }

    /// Adds the reaction, or takes it back if the caller had made it.
    pub async fn toggle_reaction(
        &self,
        me: &Me,
        message_id: MessageId,
        emoji: &str,
    ) -> Result<Message> {
        let emoji = Emoji::parse(emoji)?;
        expect_message(
            self.writer
                .submit(Command::React {
                    actor: me.clone(),
                    message_id,
                    emoji,
                })
                .await?,
        )
    }

    /// Pins a message to the top of its conversation for every member, or
    /// unpins it.
    pub async fn pin_message(
        &self,
        me: &Me,
        message_id: MessageId,
        pinned: bool,
    ) -> Result<Message> {
        expect_message(
            self.writer
                .submit(Command::Pin {
                    actor: me.clone(),
                    message_id,
                    pinned,
                })
                .await?,
        )
    }

    /// The conversation's pinned messages, the last pinned first.
    pub async fn pinned_messages(
        &self,
        me: &Me,
        conversation_id: ConversationId,
    ) -> Result<Vec<Message>> {
        let mut conn = self.db.pool().acquire().await?;
        let rows = messages::pinned(&mut conn, conversation_id, me.id).await?;
        if rows.is_empty() {
            // None, or not theirs to see: only the second is an error.
            self.require_member(&mut conn, me, conversation_id).await?;
        }
        Ok(messages_from_rows(rows, me.id))
    }

    /// The pins a thread opens with. Opening it showed the caller is in it,
    /// so no pins (the usual case) needs no second look at membership.
    pub async fn opening_pins(&self, me: &Me, opened: &OpenedConversation) -> Result<Vec<Message>> {
        let mut conn = self.db.pool().acquire().await?;
        let rows = messages::pinned(&mut conn, opened.row.id, me.id).await?;
        Ok(messages_from_rows(rows, me.id))
    }

    /// Moves the caller's read cursor forward to `up_to_seq` (default: the
    /// newest message). Never backward.
    pub async fn mark_read(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        up_to_seq: Option<i64>,
    ) -> Result<ReadState> {
        match self
            .writer
            .submit(Command::MarkRead {
                actor: me.clone(),
                conversation_id,
                up_to_seq,
            })
            .await?
        {
            Outcome::Read(state) => Ok(state),
            _ => Err(anyhow::anyhow!("mark-read answered with something else").into()),
        }
    }

    /// `NotFound` unless the caller is in the conversation (of their organisation).
    pub(crate) async fn require_member(
        &self,
        conn: &mut sqlx::AnyConnection,
        me: &Me,
        conversation_id: ConversationId,
    ) -> Result<participants::ParticipantRow> {
        let participant = participants::get(conn, conversation_id, me.id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(participant)
    }
}

/// A send, parsed: the body and client id are checked here, the rest by the writer.
fn send_command(
    me: &Me,
    conversation_id: ConversationId,
    request: SendMessage,
    origin: Option<ConnectionId>,
) -> Result<Command> {
    let body = if request.attachment_id.is_some() {
        MessageBody::parse_allowing_empty(&request.content)?
    } else {
        MessageBody::parse(&request.content)?
    };
    let client_msg_id = ClientMsgId::parse_or_generate(request.client_msg_id.as_deref())?;
    Ok(Command::Send(SendCommand {
        sender: me.clone(),
        conversation_id,
        client_msg_id,
        body,
        reply_to: request.reply_to,
        attachment_id: request.attachment_id,
        forwarded_from: None,
        origin,
    }))
}

fn expect_message(outcome: Outcome) -> Result<Message> {
    match outcome {
        Outcome::Message(message) | Outcome::Replayed(message) => Ok(*message),
        _ => Err(anyhow::anyhow!("the writer answered with something else").into()),
    }
}
