//! Conversations: direct get-or-create, groups, broadcasts, the list, and
//! group administration (through the writer, since it changes the event stream).

use std::sync::Arc;

use super::events::ChatEvent;
use super::input::Title;
use super::views::summary_from_rows;
use super::writer::{Command, MembershipChange, Outcome, UnreadMark};
use crate::backend::db::participants::OwnSetting;
use crate::backend::db::{conversations, messages, participants, users};
use crate::backend::{Backend, Error, Result, now_ms};
use crate::protocol::{
    ConversationId, ConversationKind, ConversationSummary, CreateConversation, Me, MessageId,
    MessageKind, OrgRole, ParticipantRole, UpdateConversation, UserId, UserSummary,
};

/// A conversation as its thread opens: its row, with the caller's mark as
/// unread cleared, and where that mark started if it was from a message (the
/// thread's "New messages" line goes there).
#[derive(Clone, Debug)]
pub struct OpenedConversation {
    pub row: ConversationSummary,
    pub marked_from_seq: Option<i64>,
}

impl OpenedConversation {
    /// The seq the caller's unread messages followed as it opened.
    pub fn unread_after(&self) -> i64 {
        participants::unread_after(self.row.my_last_read_seq, self.marked_from_seq.unwrap_or(0))
    }
}

/// The most members a group can be created with in one call.
const MAX_GROUP_MEMBERS: usize = 500;

impl Backend {
    /// The people of the caller's organisation whose name or email contains
    /// `query`, with their presence.
    pub async fn contacts(&self, me: &Me, query: &str) -> Result<Vec<UserSummary>> {
        let mut people = users::list_in_org(&self.db, me.org_id, query, 200).await?;
        people.retain(|p| p.id != me.id);
        for person in &mut people {
            person.is_online = self.hub.is_online(person.id);
        }
        Ok(people)
    }

    /// The caller's conversations, most recently active first. One query.
    pub async fn conversations(&self, me: &Me) -> Result<Vec<ConversationSummary>> {
        let mut conn = self.db.pool().acquire().await?;
        let rows = conversations::summaries_for_user(&mut conn, me.id).await?;
        let is_online = |user: UserId| self.hub.is_online(user);
        Ok(rows
            .into_iter()
            .map(|row| summary_from_rows(row, me, &is_online))
            .collect())
    }

    /// One of the caller's conversations. Not being in it is `NotFound`.
    pub async fn conversation(&self, me: &Me, id: ConversationId) -> Result<ConversationSummary> {
        let mut conn = self.db.pool().acquire().await?;
        let row = conversations::summary_for_user(&mut conn, me.id, id)
            .await?
            .ok_or(Error::NotFound)?;
        let is_online = |user: UserId| self.hub.is_online(user);
        Ok(summary_from_rows(row, me, &is_online))
    }

    /// `POST /api/chat/conversations`: a direct conversation (get-or-create),
    /// a group, or a broadcast.
    pub async fn create_conversation(
        &self,
        me: &Me,
        request: CreateConversation,
    ) -> Result<ConversationSummary> {
        let kind = request.kind.unwrap_or(if request.target_user_id.is_some() {
            ConversationKind::Direct
        } else {
            ConversationKind::Group
        });
        let id = match kind {
            ConversationKind::Direct => {
                let target = request.target_user_id.ok_or_else(|| {
                    Error::InvalidInput(
                        "targetUserId is required for a direct conversation.".into(),
                    )
                })?;
                self.direct_conversation(me, target).await?
            }
            ConversationKind::Group => {
                let title = Title::parse(request.title.as_deref().unwrap_or_default())?;
                self.create_group(me, &title, &request.member_ids).await?
            }
            ConversationKind::Broadcast => {
                let title = Title::parse(request.title.as_deref().unwrap_or_default())?;
                self.create_broadcast(me, &title).await?
            }
        };
        self.conversation(me, id).await
    }

    /// Gets or creates the direct conversation with another user of the
    /// organisation. Racing calls get the same conversation: the pair's key is unique.
    pub async fn direct_conversation(&self, me: &Me, target: UserId) -> Result<ConversationId> {
        if target == me.id {
            return Err(Error::InvalidInput(
                "Pick someone else to chat with.".into(),
            ));
        }
        users::find_in_org(&self.db, me.org_id, target)
            .await?
            .ok_or(Error::NotFound)?;
        let key = format!("{}:{}", me.id.min(target), me.id.max(target));
        let mut tx = self.db.begin_write().await?;
        if let Some(existing) = conversations::find_direct(&mut tx, &key).await? {
            return Ok(existing);
        }
        let now = now_ms();
        let Some(id) = conversations::insert_direct(&mut tx, me.org_id, &key, me.id, now).await?
        else {
            // Another transaction created it between our look and our insert.
            drop(tx);
            let mut conn = self.db.pool().acquire().await?;
            return conversations::find_direct(&mut conn, &key)
                .await?
                .ok_or(Error::NotFound);
        };
        let members = [
            (me.id, ParticipantRole::Member),
            (target, ParticipantRole::Member),
        ];
        participants::insert_many(&mut tx, id, &members, 0, now).await?;
        tx.commit().await?;
        self.announce_new_conversation(id, vec![me.id, target])
            .await;
        Ok(id)
    }

    async fn create_group(
        &self,
        me: &Me,
        title: &Title,
        member_ids: &[UserId],
    ) -> Result<ConversationId> {
        let mut wanted: Vec<UserId> = member_ids
            .iter()
            .copied()
            .filter(|id| *id != me.id)
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.len() > MAX_GROUP_MEMBERS {
            return Err(Error::InvalidInput(format!(
                "A group starts with at most {MAX_GROUP_MEMBERS} members."
            )));
        }
        let mut tx = self.db.begin_write().await?;
        let found = users::names_in_org(&mut tx, me.org_id, &wanted).await?;
        if found.len() != wanted.len() {
            return Err(Error::NotFound);
        }
        let now = now_ms();
        let id = conversations::insert(
            &mut tx,
            me.org_id,
            ConversationKind::Group,
            title.as_str(),
            me.id,
            now,
        )
        .await?;
        let mut members = vec![(me.id, ParticipantRole::Admin)];
        members.extend(wanted.iter().map(|id| (*id, ParticipantRole::Member)));
        participants::insert_many(&mut tx, id, &members, 0, now).await?;
        self.first_system_message(
            &mut tx,
            me,
            id,
            format!("{} created the group “{}”", me.display_name, title.as_str()),
            now,
        )
        .await?;
        tx.commit().await?;
        self.announce_new_conversation(id, members.iter().map(|(id, _)| *id).collect())
            .await;
        Ok(id)
    }

    /// A broadcast reaches everyone in the organisation; its admins (the
    /// organisation's admins) post, everyone else reads and reacts.
    async fn create_broadcast(&self, me: &Me, title: &Title) -> Result<ConversationId> {
        if me.role != OrgRole::Admin {
            return Err(Error::Forbidden(
                "Only organisation admins can create a broadcast.",
            ));
        }
        let mut tx = self.db.begin_write().await?;
        let now = now_ms();
        let id = conversations::insert(
            &mut tx,
            me.org_id,
            ConversationKind::Broadcast,
            title.as_str(),
            me.id,
            now,
        )
        .await?;
        participants::insert_whole_org(&mut tx, id, me.org_id, now).await?;
        self.first_system_message(
            &mut tx,
            me,
            id,
            format!(
                "{} started the broadcast “{}”",
                me.display_name,
                title.as_str()
            ),
            now,
        )
        .await?;
        let members: Vec<UserId> = participants::of_conversations(&mut tx, &[id])
            .await?
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        tx.commit().await?;
        self.announce_new_conversation(id, members).await;
        Ok(id)
    }

    /// Message 1 of a new conversation, in the creating transaction: nothing
    /// else can be in its event stream yet.
    async fn first_system_message(
        &self,
        conn: &mut sqlx::AnyConnection,
        me: &Me,
        id: ConversationId,
        text: String,
        now: i64,
    ) -> Result<()> {
        conversations::advance(conn, &[(id, 1, 1)], now).await?;
        let new = messages::NewMessage {
            conversation_id: id,
            org_id: me.org_id,
            seq: 1,
            event_seq: 1,
            sender_id: me.id,
            client_msg_id: None,
            kind: MessageKind::System,
            body: &text,
            reply_to_id: None,
            attachment_id: None,
            forwarded_from: None,
            created_at: now,
        };
        messages::insert_many(conn, &[new]).await?;
        Ok(())
    }

    /// Tells these members' tabs to fetch the conversation's row anew.
    async fn announce_new_conversation(
        &self,
        conversation_id: ConversationId,
        members: Vec<UserId>,
    ) {
        self.fanout
            .announce(vec![ChatEvent::ConversationChanged {
                conversation_id,
                members: Arc::from(members),
                removed: Vec::new(),
            }])
            .await;
    }

    /// Mutes a conversation for the caller: its messages still count as
    /// unread, but leave no notifications. Their other tabs see the change.
    pub async fn set_conversation_muted(
        &self,
        me: &Me,
        id: ConversationId,
        muted: bool,
    ) -> Result<ConversationSummary> {
        self.set_own(me, id, &[OwnSetting::Muted(muted)]).await
    }

    /// Pins a conversation to the top of the caller's list (the most
    /// recently pinned first), or unpins it. Pinning a pinned conversation
    /// keeps its place. Their other tabs see the change.
    pub async fn set_conversation_pinned(
        &self,
        me: &Me,
        id: ConversationId,
        pinned: bool,
    ) -> Result<ConversationSummary> {
        self.set_own(me, id, &[OwnSetting::Pinned(pinned.then(now_ms))])
            .await
    }

    /// Marks a conversation as unread for the caller, to come back to it, or
    /// clears the mark. Their other tabs see the change.
    pub async fn set_conversation_marked_unread(
        &self,
        me: &Me,
        id: ConversationId,
        marked: bool,
    ) -> Result<ConversationSummary> {
        let mark = if marked {
            UnreadMark::Conversation(id)
        } else {
            UnreadMark::Cleared(id)
        };
        self.set_unread_mark(me, mark).await
    }

    /// "Mark unread" on a message (Slack's): its conversation counts as
    /// unread for the caller from that message on, until they open it or
    /// send in it. What the others see does not change: the caller's read
    /// receipts stay. The conversation's row as it is afterwards.
    pub async fn mark_unread_from(
        &self,
        me: &Me,
        message_id: MessageId,
    ) -> Result<ConversationSummary> {
        self.set_unread_mark(me, UnreadMark::From(message_id)).await
    }

    async fn set_unread_mark(&self, me: &Me, mark: UnreadMark) -> Result<ConversationSummary> {
        let command = Command::SetUnreadMark {
            actor: me.clone(),
            mark,
        };
        match self.writer.submit(command).await? {
            Outcome::Conversation(id) => self.conversation(me, id).await,
            _ => Err(anyhow::anyhow!("an unread mark answered with something else").into()),
        }
    }

    /// The caller opens a conversation: its row, with a mark as unread
    /// cleared (and their other tabs told).
    pub async fn open_conversation(
        &self,
        me: &Me,
        id: ConversationId,
    ) -> Result<OpenedConversation> {
        let row = self.conversation(me, id).await?;
        if !row.marked_unread {
            return Ok(OpenedConversation {
                row,
                marked_from_seq: None,
            });
        }
        Ok(OpenedConversation {
            marked_from_seq: row.marked_unread_from_seq,
            row: self.set_conversation_marked_unread(me, id, false).await?,
        })
    }

    /// "Mark as read" from the list, without opening it: everything up to
    /// the newest message is read (the senders see the receipts) and a mark
    /// as unread is cleared. The row as it is afterwards.
    pub async fn read_conversation(
        &self,
        me: &Me,
        id: ConversationId,
    ) -> Result<ConversationSummary> {
        self.mark_read(me, id, None).await?;
        Ok(self.open_conversation(me, id).await?.row)
    }

    /// A `PATCH` of a conversation: a new title (group admins), then the
    /// caller's own settings, all at once. The row as it is afterwards.
    pub async fn update_conversation(
        &self,
        me: &Me,
        id: ConversationId,
        request: UpdateConversation,
    ) -> Result<ConversationSummary> {
        if let Some(title) = request.title {
            self.rename_conversation(me, id, &title).await?;
        }
        if let Some(marked) = request.marked_unread {
            self.set_conversation_marked_unread(me, id, marked).await?;
        }
        let settings: Vec<OwnSetting> = [
            request.muted.map(OwnSetting::Muted),
            request
                .pinned
                .map(|pinned| OwnSetting::Pinned(pinned.then(now_ms))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if settings.is_empty() {
            return self.conversation(me, id).await;
        }
        self.set_own(me, id, &settings).await
    }

    /// Changes the caller's own settings for a conversation: their tabs
    /// fetch its row anew (once), and the caller gets it. Not a member: 404.
    async fn set_own(
        &self,
        me: &Me,
        id: ConversationId,
        settings: &[OwnSetting],
    ) -> Result<ConversationSummary> {
        let mut conn = self.db.pool().acquire().await?;
        for setting in settings {
            if !participants::set_own(&mut conn, id, me.id, *setting).await? {
                return Err(Error::NotFound);
            }
        }
        drop(conn);
        self.announce_new_conversation(id, vec![me.id]).await;
        self.conversation(me, id).await
    }

    pub async fn add_participants(
        &self,
        me: &Me,
        id: ConversationId,
        user_ids: Vec<UserId>,
    ) -> Result<()> {
        self.change_membership(me, id, MembershipChange::Add(user_ids))
            .await
    }

    pub async fn remove_participant(
        &self,
        me: &Me,
        id: ConversationId,
        user_id: UserId,
    ) -> Result<()> {
        let change = if user_id == me.id {
            MembershipChange::Leave
        } else {
            MembershipChange::Remove(user_id)
        };
        self.change_membership(me, id, change).await
    }

    pub async fn leave_conversation(&self, me: &Me, id: ConversationId) -> Result<()> {
        self.change_membership(me, id, MembershipChange::Leave)
            .await
    }

    pub async fn rename_conversation(
        &self,
        me: &Me,
        id: ConversationId,
        title: &str,
    ) -> Result<()> {
        let title = Title::parse(title)?;
        self.change_membership(me, id, MembershipChange::Rename(title))
            .await
    }

    pub async fn set_participant_role(
        &self,
        me: &Me,
        id: ConversationId,
        user_id: UserId,
        role: ParticipantRole,
    ) -> Result<()> {
        self.change_membership(me, id, MembershipChange::SetRole(user_id, role))
            .await
    }

    async fn change_membership(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        change: MembershipChange,
    ) -> Result<()> {
        match self
            .writer
            .submit(Command::Membership {
                actor: me.clone(),
                conversation_id,
                change,
            })
            .await?
        {
            Outcome::Done
            | Outcome::Message(_)
            | Outcome::Replayed(_)
            | Outcome::Read(_)
            | Outcome::Conversation(_) => Ok(()),
        }
    }
}
