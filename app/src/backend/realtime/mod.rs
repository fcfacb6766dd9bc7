//! The real-time hub: the registry of live connections, and the fan-out of
//! every committed change to the members it concerns.
//!
//! The writer publishes each commit's events here, in commit order, from one
//! thread. The hub turns them into frames and offers them to each
//! connection's bounded live queue without ever waiting: a connection whose
//! queue is full has fallen behind, and is closed so it reconnects and
//! resumes from the database. So a slow client costs memory bounded by its
//! queue, and nobody else notices it.

pub mod bus;
pub mod session;
pub mod typing;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::backend::chat::events::{ChatEvent, ConnectionId, MessageChange, UnreadState};
use crate::backend::chat::views::reactions_for_viewer;
use crate::backend::chat::writer::EventSink;
use crate::backend::now_ms;
use crate::protocol::{
    ConversationId, ConversationKind, Me, Message, Notification, OrgId, ServerEvent, UserId,
    close_code,
};

/// Events a connection may have waiting before it counts as fallen behind.
pub const LIVE_QUEUE: usize = 1024;
/// Events buffered for observers of the feed (tests, the bus between nodes).
const FEED_CAPACITY: usize = 4096;

/// A new message, for delivery ticks.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub sender_id: UserId,
    /// When the message was committed (ms), for the delivery latency.
    pub created_at: i64,
}

/// Why a connection must close now, ahead of anything queued: a close code
/// and reason, sent once. (A oneshot, not a watch: every connection holds
/// one, and a watch channel costs some 400 bytes.)
pub type Kill = oneshot::Sender<(u16, &'static str)>;

/// What the hub hands a connection. Small, because every idle connection
/// holds a block of queue slots: a frame is one shared allocation.
#[derive(Debug, Clone)]
pub enum Live {
    Frame(Arc<Frame>),
    /// The conversation's membership, title or roles changed: send its row anew.
    Refresh(ConversationId),
}

/// A frame, shared by every connection it goes to. Sequenced frames carry
/// their conversation and event, so that a connection that has just
/// replayed can drop what it already sent; a new message carries its
/// position and sender, so the recipient's connection can report it
/// delivered once it is on the wire.
#[derive(Debug)]
pub struct Frame {
    pub sequence: Option<(ConversationId, i64)>,
    pub delivery: Option<Delivery>,
    pub json: Bytes,
}

impl Live {
    fn frame(
        sequence: Option<(ConversationId, i64)>,
        delivery: Option<Delivery>,
        json: Bytes,
    ) -> Live {
        Live::Frame(Arc::new(Frame {
            sequence,
            delivery,
            json,
        }))
    }
}

struct Connection {
    id: ConnectionId,
    live: mpsc::Sender<Live>,
    /// Taken when used: the first reason to close wins.
    kill: Option<Kill>,
}

impl Connection {
    fn kill(&mut self, code: u16, reason: &'static str) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send((code, reason));
        }
    }
}

#[derive(Default)]
struct Registry {
    by_user: HashMap<UserId, Vec<Connection>>,
    online_by_org: HashMap<OrgId, HashSet<UserId>>,
    /// Users with connections on other nodes, and which nodes.
    remote: HashMap<UserId, (OrgId, HashSet<String>)>,
}

pub struct Hub {
    registry: Mutex<Registry>,
    feed: broadcast::Sender<Arc<ChatEvent>>,
    next_connection: AtomicU64,
    pub typing: typing::Typing,
}

/// A user's presence changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    CameOnline,
    WentOffline,
    Unchanged,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Arc::new(Hub {
            registry: Mutex::new(Registry::default()),
            feed,
            // Connection ids travel in events between nodes: each node
            // numbers its connections from a random start of its own.
            next_connection: AtomicU64::new(u64::from(rand::random::<u32>()) << 32 | 1),
            typing: typing::Typing::default(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a connection of `me`. Returns its id and whether the user
    /// just came online.
    pub fn register(
        &self,
        me: &Me,
        live: mpsc::Sender<Live>,
        kill: Kill,
    ) -> (ConnectionId, Presence) {
        let id = ConnectionId(self.next_connection.fetch_add(1, Ordering::Relaxed));
        let mut registry = self.registry();
        let connections = registry.by_user.entry(me.id).or_default();
        let presence = if connections.is_empty() {
            Presence::CameOnline
        } else {
            Presence::Unchanged
        };
        connections.push(Connection {
            id,
            live,
            kill: Some(kill),
        });
        registry
            .online_by_org
            .entry(me.org_id)
            .or_default()
            .insert(me.id);
        (id, presence)
    }

    /// Forgets a connection. Returns whether the user just went offline.
    pub fn unregister(&self, me: &Me, id: ConnectionId) -> Presence {
        let mut registry = self.registry();
        let Some(connections) = registry.by_user.get_mut(&me.id) else {
            return Presence::Unchanged;
        };
        let before = connections.len();
        connections.retain(|c| c.id != id);
        if connections.is_empty() {
            registry.by_user.remove(&me.id);
            if let Some(online) = registry.online_by_org.get_mut(&me.org_id) {
                online.remove(&me.id);
            }
            if before > 0 {
                return Presence::WentOffline;
            }
        }
        Presence::Unchanged
    }

    /// Whether the user has at least one live connection, on this node or
    /// another.
    pub fn is_online(&self, user_id: UserId) -> bool {
        let registry = self.registry();
        registry
            .by_user
            .get(&user_id)
            .is_some_and(|c| !c.is_empty())
            || registry
                .remote
                .get(&user_id)
                .is_some_and(|(_, nodes)| !nodes.is_empty())
    }

    /// Whether the user has a connection on another node.
    pub fn is_online_elsewhere(&self, user_id: UserId) -> bool {
        self.registry()
            .remote
            .get(&user_id)
            .is_some_and(|(_, nodes)| !nodes.is_empty())
    }

    /// Notes that a user has (or no longer has) connections on another node.
    pub fn set_remote_presence(&self, user: UserId, org: OrgId, node: &str, online: bool) {
        let mut registry = self.registry();
        if online {
            registry
                .remote
                .entry(user)
                .or_insert_with(|| (org, HashSet::new()))
                .1
                .insert(node.to_owned());
        } else if let Some((_, nodes)) = registry.remote.get_mut(&user) {
            nodes.remove(node);
            if nodes.is_empty() {
                registry.remote.remove(&user);
            }
        }
    }

    /// Forgets a node that left or died. Returns the users who are now
    /// offline everywhere.
    pub fn forget_node(&self, node: &str) -> Vec<(UserId, OrgId)> {
        let mut registry = self.registry();
        let mut gone = Vec::new();
        registry.remote.retain(|user, (org, nodes)| {
            if nodes.remove(node) && nodes.is_empty() {
                gone.push((*user, *org));
            }
            !nodes.is_empty()
        });
        gone.retain(|(user, _)| registry.by_user.get(user).is_none_or(Vec::is_empty));
        gone
    }

    /// Closes every connection on this node (shutdown, or cut off from the bus).
    pub fn close_all(&self, code: u16, reason: &'static str) {
        let mut registry = self.registry();
        for connection in registry.by_user.values_mut().flatten() {
            connection.kill(code, reason);
        }
    }

    pub fn connection_count(&self, user_id: UserId) -> usize {
        self.registry().by_user.get(&user_id).map_or(0, Vec::len)
    }

    /// Every connection open on this node.
    pub fn total_connections(&self) -> usize {
        self.registry().by_user.values().map(Vec::len).sum()
    }

    /// Closes every connection of the user (sign-out, revocation).
    pub fn disconnect_user(&self, user_id: UserId, code: u16, reason: &'static str) {
        let mut registry = self.registry();
        for connection in registry.by_user.get_mut(&user_id).into_iter().flatten() {
            connection.kill(code, reason);
        }
    }

    /// Every event published from now on, in commit order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChatEvent>> {
        self.feed.subscribe()
    }

    /// Offers a frame to every connection of the users; `except` skips one.
    fn offer(&self, users: &[UserId], live: &Live, except: Option<ConnectionId>) {
        let mut registry = self.registry();
        let mut lagging = Vec::new();
        for user in users {
            for connection in registry.by_user.get(user).into_iter().flatten() {
                if Some(connection.id) == except {
                    continue;
                }
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    connection.live.try_send(live.clone())
                {
                    lagging.push((*user, connection.id));
                }
            }
        }
        drop_lagging(&mut registry, lagging);
    }

    /// Offers a frame to one connection.
    fn offer_to(&self, user: UserId, id: ConnectionId, live: Live) {
        let mut registry = self.registry();
        let full = registry
            .by_user
            .get(&user)
            .and_then(|cs| cs.iter().find(|c| c.id == id))
            .is_some_and(|c| {
                matches!(
                    c.live.try_send(live),
                    Err(mpsc::error::TrySendError::Full(_))
                )
            });
        if full {
            drop_lagging(&mut registry, vec![(user, id)]);
        }
    }

    /// Sends an organisation-wide frame (presence) to everyone online in it
    /// but `subject`, whom it is about.
    pub fn send_to_org(&self, org_id: OrgId, subject: UserId, event: &ServerEvent) {
        let users: Vec<UserId> = self
            .registry()
            .online_by_org
            .get(&org_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|user| *user != subject)
            .collect();
        if let Some(json) = to_json(event) {
            self.offer(&users, &Live::frame(None, None, json), None);
        }
    }

    /// Sends an unsequenced frame to the given users' connections.
    pub fn send_to_users(
        &self,
        users: &[UserId],
        event: &ServerEvent,
        except: Option<ConnectionId>,
    ) {
        if let Some(json) = to_json(event) {
            self.offer(users, &Live::frame(None, None, json), except);
        }
    }

    /// Fans one committed event out.
    fn dispatch(&self, event: &ChatEvent) {
        match event {
            ChatEvent::MessageCreated {
                message,
                origin,
                kind,
                members,
                unread,
            } => {
                self.dispatch_created(message, *origin, *kind, members, unread);
            }
            ChatEvent::MessageChanged {
                message,
                change,
                members,
                unread,
            } => {
                self.dispatch_changed(message, *change, members, unread);
            }
            ChatEvent::Read {
                conversation_id,
                reader,
                up_to_seq,
                unread_count,
                receipt_audience,
                ..
            } => {
                let update =
                    conversation_update(*conversation_id, *unread_count, *up_to_seq, None, None);
                self.send_to_users(&[*reader], &update, None);
                let receipt = ServerEvent::MessagesRead {
                    conversation_id: *conversation_id,
                    read_by: *reader,
                    up_to_seq: *up_to_seq,
                    timestamp: now_ms(),
                };
                let others: Vec<UserId> = receipt_audience
                    .iter()
                    .copied()
                    .filter(|u| u != reader)
                    .collect();
                self.send_to_users(&others, &receipt, None);
            }
            ChatEvent::Delivered {
                conversation_id,
                user_id,
                up_to_seq,
                audience,
            } => {
                let event = ServerEvent::MessagesDelivered {
                    conversation_id: *conversation_id,
                    delivered_to: *user_id,
                    up_to_seq: *up_to_seq,
                };
                self.send_to_users(audience, &event, None);
            }
            ChatEvent::ConversationChanged {
                conversation_id,
                members,
                removed,
            } => {
                self.offer(members, &Live::Refresh(*conversation_id), None);
                let gone = ServerEvent::ConversationRemoved {
                    conversation_id: *conversation_id,
                };
                self.send_to_users(removed, &gone, None);
            }
            ChatEvent::NotificationCreated {
                user_id,
                notification,
                unread_count,
                push,
            } => {
                let event = if *push {
                    ServerEvent::NewNotification {
                        notification: Notification::clone(notification),
                        unread_count: *unread_count,
                    }
                } else {
                    // Muted: the badge still counts it, nothing pops up.
                    ServerEvent::NotificationsUpdated {
                        unread_count: *unread_count,
                        read: Vec::new(),
                        deleted: Vec::new(),
                        all_read: false,
                        kind: None,
                    }
                };
                self.send_to_users(&[*user_id], &event, None);
            }
            ChatEvent::NotificationsChanged {
                user_id,
                unread_count,
                read,
                deleted,
                all_read,
                kind,
            } => {
                let event = ServerEvent::NotificationsUpdated {
                    unread_count: *unread_count,
                    read: read.clone(),
                    deleted: deleted.clone(),
                    all_read: *all_read,
                    kind: *kind,
                };
                self.send_to_users(&[*user_id], &event, None);
            }
        }
    }

    fn dispatch_created(
        &self,
        message: &Message,
        origin: Option<ConnectionId>,
        kind: ConversationKind,
        members: &[UserId],
        unread: &[UnreadState],
    ) {
        let sequence = Some((message.conversation_id, message.event_seq));
        let delivery = Some(Delivery {
            conversation_id: message.conversation_id,
            seq: message.seq,
            sender_id: message.sender_id,
            created_at: message.created_at,
        });
        if let Some(json) = to_json(&ServerEvent::NewMessage(message.clone())) {
            self.offer(members, &Live::frame(sequence, delivery, json), origin);
        }
        // The sender's own tab gets the acknowledgement, in the same order.
        if let (Some(origin), Some(client_msg_id)) = (origin, message.client_msg_id.clone()) {
            let ack = ServerEvent::MessageDelivered {
                client_msg_id,
                message_id: message.id,
                conversation_id: message.conversation_id,
                timestamp: message.created_at,
                message: message.clone(),
            };
            if let Some(json) = to_json(&ack) {
                self.offer_to(message.sender_id, origin, Live::frame(sequence, None, json));
            }
        }
        // Counts and preview for every member's list; a broadcast tells only
        // those whose count changed (everyone, for a new announcement).
        let preview = crate::model::preview(message);
        for state in unread {
            let update = conversation_update(
                message.conversation_id,
                state.unread_count,
                state.last_read_seq,
                Some(preview.clone()),
                Some(message.event_seq),
            );
            self.send_to_users(&[state.user_id], &update, None);
        }
        // Broadcasts are announcements: members see their own count change,
        // which the loop above covers; nothing else differs by kind.
        let _ = kind;
    }

    fn dispatch_changed(
        &self,
        message: &Message,
        change: MessageChange,
        members: &[UserId],
        unread: &[UnreadState],
    ) {
        let sequence = Some((message.conversation_id, message.event_seq));
        // Reactions carry `me`, which differs per member: one frame each.
        for member in members {
            let seen = Message {
                reactions: reactions_for_viewer(&message.reactions, *member),
                ..message.clone()
            };
            let event = match change {
                MessageChange::Edited | MessageChange::Pinned => ServerEvent::MessageUpdated(seen),
                MessageChange::Deleted => ServerEvent::MessageDeleted {
                    message_id: seen.id,
                    conversation_id: seen.conversation_id,
                    event_seq: seen.event_seq,
                    timestamp: seen.deleted_at.unwrap_or_else(now_ms),
                    message: seen,
                },
                MessageChange::Reactions => ServerEvent::ReactionsChanged {
                    message_id: seen.id,
                    conversation_id: seen.conversation_id,
                    event_seq: seen.event_seq,
                    reactions: seen.reactions,
                },
            };
            if let Some(json) = to_json(&event) {
                self.offer(&[*member], &Live::frame(sequence, None, json), None);
            }
        }
        for state in unread {
            let update = conversation_update(
                message.conversation_id,
                state.unread_count,
                state.last_read_seq,
                None,
                Some(message.event_seq),
            );
            self.send_to_users(&[state.user_id], &update, None);
        }
    }
}

impl Hub {
    /// Hands committed events to this node's connections, in order.
    pub fn publish_local(&self, events: Vec<ChatEvent>) {
        for event in events {
            self.dispatch(&event);
            // No observers is fine: nobody is listening.
            let _ = self.feed.send(Arc::new(event));
        }
    }
}

/// Where the writer's events go: straight to the local hub, or (with several
/// nodes on PostgreSQL) into the transaction for the bus, which brings them
/// back to every node's hub after the commit.
pub enum Fanout {
    Local(Arc<Hub>),
    Cluster(Arc<bus::Cluster>),
}

impl Fanout {
    pub fn hub(&self) -> &Arc<Hub> {
        match self {
            Fanout::Local(hub) => hub,
            Fanout::Cluster(cluster) => cluster.hub(),
        }
    }

    /// Events of a change that is already committed, to every node.
    pub async fn announce(&self, events: Vec<ChatEvent>) {
        match self {
            Fanout::Local(hub) => hub.publish_local(events),
            Fanout::Cluster(cluster) => {
                if let Err(error) = cluster.publish_committed(events).await {
                    tracing::warn!(error = %format!("{error:#}"), "events were not put on the bus");
                }
            }
        }
    }

    /// Commits a transaction and sends its events to every node: with
    /// several nodes, recorded in the transaction itself, so they go out
    /// exactly when it commits.
    pub async fn commit(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        events: Vec<ChatEvent>,
    ) -> sqlx::Result<()> {
        match self {
            Fanout::Local(hub) => {
                tx.commit().await?;
                hub.publish_local(events);
            }
            Fanout::Cluster(cluster) => {
                cluster.record(&mut tx, &events).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// An unsequenced frame (typing) for these users' connections, on every node.
    pub async fn to_users(&self, users: Vec<UserId>, event: ServerEvent) {
        match self {
            Fanout::Local(hub) => hub.send_to_users(&users, &event, None),
            Fanout::Cluster(cluster) => cluster.to_users(users, event).await,
        }
    }

    /// Closes a user's connections on every node.
    pub async fn kick(&self, user: UserId, code: u16, reason: &'static str) {
        match self {
            Fanout::Local(hub) => hub.disconnect_user(user, code, reason),
            Fanout::Cluster(cluster) => cluster.kick(user, code, reason).await,
        }
    }
}

impl EventSink for Fanout {
    fn publish(&self, events: Vec<ChatEvent>) {
        match self {
            Fanout::Local(hub) => hub.publish_local(events),
            // Dispatched when the bus delivers them, in commit order.
            Fanout::Cluster(_) => {}
        }
    }

    fn is_connected(&self, user_id: UserId) -> bool {
        match self {
            Fanout::Local(hub) => hub.is_online(user_id),
            Fanout::Cluster(cluster) => cluster.hub().is_online(user_id),
        }
    }

    fn cluster(&self) -> Option<&bus::Cluster> {
        match self {
            Fanout::Local(_) => None,
            Fanout::Cluster(cluster) => Some(cluster),
        }
    }
}

/// Connections whose queue was full have fallen behind: they are told to
/// resume and forgotten here, which frees their queue at once.
fn drop_lagging(registry: &mut Registry, lagging: Vec<(UserId, ConnectionId)>) {
    for (user, id) in lagging {
        if let Some(connections) = registry.by_user.get_mut(&user) {
            if let Some(connection) = connections.iter_mut().find(|c| c.id == id) {
                tracing::warn!(
                    connection = id.0,
                    "a client fell behind; asking it to resume"
                );
                metrics::counter!("crm_chat_outbound_queue_drops_total").increment(1);
                connection.kill(close_code::RESUME_REQUIRED, "fell behind; resume");
            }
            connections.retain(|c| c.id != id);
        }
    }
}

fn conversation_update(
    conversation_id: ConversationId,
    unread_count: i64,
    last_read_seq: i64,
    last_message: Option<crate::protocol::MessagePreview>,
    last_event_seq: Option<i64>,
) -> ServerEvent {
    ServerEvent::ConversationUpdated {
        conversation_id,
        unread_count: Some(unread_count),
        last_read_seq: Some(last_read_seq),
        last_activity_at: last_message.as_ref().map(|m| m.created_at),
        last_message,
        last_event_seq,
        conversation: None,
    }
}

pub fn to_json(event: &ServerEvent) -> Option<Bytes> {
    match serde_json::to_vec(event) {
        Ok(json) => Some(Bytes::from(json)),
        Err(error) => {
            tracing::error!(%error, "an event could not be serialised");
            None
        }
    }
}
