//! A live connection's life as the gateway drives it: registering (and
//! presence), typing, delivery marks, and the replay that resumes it.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::typing::Typist;
use super::{Fanout, Live, Presence, to_json};
use crate::api::ErrorCode;
use crate::backend::chat::events::ConnectionId;
use crate::backend::chat::messages::MAX_CHANGES;
use crate::backend::chat::views::message_from_row;
use crate::backend::db::{conversations, messages, participants, users};
use crate::backend::{Backend, Error, Result, now_ms};
use crate::protocol::{ConversationId, Me, ServerEvent, UserId};

/// The receiving ends of a registered connection.
pub struct LiveConnection {
    pub id: ConnectionId,
    /// Events, in commit order.
    pub live: mpsc::Receiver<Live>,
    /// Set when the connection must close at once.
    pub kill: oneshot::Receiver<(u16, &'static str)>,
}

/// What resuming a connection sends before live events: the changes after
/// each cursor, in order, errors for the cursors that cannot be honoured, and
/// where each conversation now stands.
pub struct Replay {
    pub frames: Vec<Bytes>,
    pub errors: Vec<ServerEvent>,
    pub cursors: BTreeMap<ConversationId, i64>,
}

impl Backend {
    /// Registers a live connection of `me`; tells the organisation when it is
    /// their first anywhere (other nodes hear of it over the bus).
    pub fn connect(&self, me: &Me) -> LiveConnection {
        let (live_tx, live) = mpsc::channel(super::LIVE_QUEUE);
        let (kill_tx, kill) = oneshot::channel();
        let (id, presence) = self.hub.register(me, live_tx, kill_tx);
        metrics::gauge!("crm_chat_connections").set(self.hub.total_connections() as f64);
        if presence == Presence::CameOnline {
            if let Fanout::Cluster(cluster) = self.fanout.as_ref() {
                cluster.queue_presence(me.id, me.org_id, true);
            }
            if !self.hub.is_online_elsewhere(me.id) {
                let event = ServerEvent::UserStatusChanged {
                    user_id: me.id,
                    is_online: true,
                    last_seen: None,
                    timestamp: now_ms(),
                };
                self.hub.send_to_org(me.org_id, me.id, &event);
            }
        }
        LiveConnection { id, live, kill }
    }

    /// Forgets a connection. When it was the user's last anywhere, records
    /// when they were last seen and tells the organisation.
    pub async fn disconnect(&self, me: &Me, id: ConnectionId) {
        let presence = self.hub.unregister(me, id);
        metrics::gauge!("crm_chat_connections").set(self.hub.total_connections() as f64);
        if presence != Presence::WentOffline {
            return;
        }
        if let Fanout::Cluster(cluster) = self.fanout.as_ref() {
            cluster.queue_presence(me.id, me.org_id, false);
        }
        if self.hub.is_online_elsewhere(me.id) {
            return;
        }
        let now = now_ms();
        if let Err(error) = users::set_last_seen(&self.db, me.id, now).await {
            tracing::warn!(%error, "could not record when a user was last seen");
        }
        let event = ServerEvent::UserStatusChanged {
            user_id: me.id,
            is_online: false,
            last_seen: Some(now),
            timestamp: now,
        };
        self.hub.send_to_org(me.org_id, me.id, &event);
    }

    /// Relays that `me` started or stopped typing to the conversation's other
    /// members: at most every 2 s, and "stopped" only after "started".
    pub async fn typing(
        &self,
        me: &Me,
        conversation_id: ConversationId,
        is_typing: bool,
    ) -> Result<()> {
        if !is_typing {
            if let Some(typist) = self.hub.typing.stopped(conversation_id, me.id) {
                self.fanout
                    .to_users(typist.audience.to_vec(), typing_event(&typist, false))
                    .await;
            }
            return Ok(());
        }
        let mut conn = self.db.pool().acquire().await?;
        let members = participants::of_conversations(&mut conn, &[conversation_id]).await?;
        if !members.iter().any(|m| m.user_id == me.id) {
            return Err(Error::NotFound);
        }
        let audience: Arc<[UserId]> = members
            .iter()
            .map(|m| m.user_id)
            .filter(|u| *u != me.id)
            .collect();
        let typist = Typist {
            conversation_id,
            user_id: me.id,
            name: me.display_name.clone(),
            audience,
        };
        if self.hub.typing.started(typist.clone(), Instant::now()) {
            self.fanout
                .to_users(typist.audience.to_vec(), typing_event(&typist, true))
                .await;
        }
        Ok(())
    }

    /// Notes that a message reached one of the user's devices. The writer
    /// records it with one of its next batches (see
    /// [`Writer::delivered`](crate::backend::chat::writer::Writer::delivered)).
    pub fn delivered(&self, user_id: UserId, conversation_id: ConversationId, seq: i64) {
        self.writer.delivered(conversation_id, user_id, seq);
    }

    /// The replay that resumes a connection: for each `(conversation, cursor)`,
    /// every change after the cursor in order (as `newMessage` when the
    /// message is new since the cursor, else `messageUpdated`), then the
    /// conversation's list row with current counts and receipts.
    pub async fn replay(&self, me: &Me, cursors: &BTreeMap<ConversationId, i64>) -> Result<Replay> {
        let mut replay = Replay {
            frames: Vec::new(),
            errors: Vec::new(),
            cursors: BTreeMap::new(),
        };
        let mut conn = self.db.pool().acquire().await?;
        for (&conversation_id, &cursor) in cursors {
            let counters = match participants::get(&mut conn, conversation_id, me.id).await? {
                Some(_) => conversations::get(&mut conn, conversation_id)
                    .await?
                    .map(|c| (c.last_event_seq, c.last_message_seq)),
                None => None,
            };
            let Some(counters @ (last_event_seq, _)) = counters else {
                replay.errors.push(cursor_error(
                    ErrorCode::NotFound,
                    "You are not in this conversation.",
                    conversation_id,
                ));
                continue;
            };
            if cursor < 0 || cursor > last_event_seq {
                let message = format!(
                    "The cursor {cursor} is ahead of the conversation, which is at event {last_event_seq}."
                );
                replay.errors.push(cursor_error(
                    ErrorCode::CursorAhead,
                    &message,
                    conversation_id,
                ));
                continue;
            }
            let mut position = cursor;
            loop {
                let rows = messages::changed_since(
                    &mut conn,
                    conversation_id,
                    counters,
                    position,
                    MAX_CHANGES,
                )
                .await?;
                let full = rows.len() as i64 == MAX_CHANGES;
                for row in rows {
                    position = position.max(row.event_seq);
                    let is_new = row.created_event_seq > cursor;
                    let message = message_from_row(row, me.id);
                    let event = if is_new {
                        ServerEvent::NewMessage(message)
                    } else {
                        ServerEvent::MessageUpdated(message)
                    };
                    if let Some(json) = to_json(&event) {
                        replay.frames.push(json);
                    }
                }
                if !full {
                    break;
                }
            }
            replay
                .cursors
                .insert(conversation_id, position.max(last_event_seq));
        }
        drop(conn);
        // Counts, receipts and presence as they are now.
        if !replay.cursors.is_empty() {
            for summary in self.conversations(me).await? {
                if replay.cursors.contains_key(&summary.id) {
                    let event = ServerEvent::ConversationUpdated {
                        conversation_id: summary.id,
                        unread_count: Some(summary.unread_count),
                        last_read_seq: Some(summary.my_last_read_seq),
                        last_message: summary.last_message.clone(),
                        last_event_seq: Some(summary.last_event_seq),
                        last_activity_at: Some(summary.last_activity_at),
                        conversation: Some(summary),
                    };
                    replay.frames.extend(to_json(&event));
                }
            }
        }
        Ok(replay)
    }

    /// The list row of a conversation for a live connection after a change
    /// of membership: the row, or that the user is no longer in it.
    pub async fn conversation_event(
        &self,
        me: &Me,
        conversation_id: ConversationId,
    ) -> Result<ServerEvent> {
        match self.conversation(me, conversation_id).await {
            Ok(summary) => Ok(ServerEvent::ConversationUpdated {
                conversation_id,
                unread_count: Some(summary.unread_count),
                last_read_seq: Some(summary.my_last_read_seq),
                last_message: summary.last_message.clone(),
                last_event_seq: Some(summary.last_event_seq),
                last_activity_at: Some(summary.last_activity_at),
                conversation: Some(summary),
            }),
            Err(Error::NotFound) => Ok(ServerEvent::ConversationRemoved { conversation_id }),
            Err(error) => Err(error),
        }
    }
}

fn typing_event(typist: &Typist, is_typing: bool) -> ServerEvent {
    ServerEvent::UserTyping {
        conversation_id: typist.conversation_id,
        user_id: typist.user_id,
        user_name: typist.name.clone(),
        is_typing,
    }
}

fn cursor_error(code: ErrorCode, message: &str, conversation_id: ConversationId) -> ServerEvent {
    ServerEvent::Error {
        code,
        message: message.to_owned(),
        reference: None,
        conversation_id: Some(conversation_id),
    }
}

/// Tells the audience of typing indicators that expired. Stops with the hub.
pub(crate) fn start_typing_sweeper(fanout: Weak<Fanout>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            let Some(fanout) = fanout.upgrade() else {
                return;
            };
            for typist in fanout.hub().typing.expired(Instant::now()) {
                fanout
                    .to_users(typist.audience.to_vec(), typing_event(&typist, false))
                    .await;
            }
        }
    });
}
