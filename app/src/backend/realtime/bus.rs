//! The bus between server processes that share one PostgreSQL.
//!
//! A single process (and every SQLite deployment) needs none: the writer
//! hands each commit's events straight to the local hub. With several nodes,
//! each committed batch of events is written to `bus_events` in the
//! transaction that made them, with a `NOTIFY` naming its row; PostgreSQL
//! delivers notifications at commit, in commit order, to every listening node,
//! the committing one included. Each node then reads the row and dispatches
//! the events to its own connections. So:
//!
//! - nothing is announced before a reader can see it (the NOTIFY is part of
//!   the commit);
//! - every node sees one conversation's events in `eventSeq` order (the
//!   transactions that touch a conversation are serialised by its row lock,
//!   and notifications come in commit order), including the node that wrote
//!   them, which dispatches its own events from the bus too for that reason;
//! - one NOTIFY per committed batch, with a payload of a few bytes.
//!
//! Typing, presence, heartbeats and sign-outs are ephemeral: they travel in
//! the NOTIFY payload itself and the sending node acts on them at once.
//!
//! A node that loses its LISTEN connection reconnects and re-reads the rows
//! it may have missed. One that stays cut off longer than
//! [`Timing::bus_loss_limit`] closes its sockets with "going away", so clients resume
//! on a healthy node. A node that dies stops its heartbeat; the others notice
//! within [`Timing::node_timeout`] and take its users' presence away.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::{AnyConnection, Connection};
use tokio::sync::{mpsc, watch};

use super::{Hub, Presence};
use crate::backend::chat::events::ChatEvent;
use crate::backend::db::Db;
use crate::backend::db::sql::{self, Column};
use crate::backend::now_ms;
use crate::protocol::{OrgId, ServerEvent, UserId};

const CHANNEL: &str = "crm_chat";

/// How quickly the cluster notices trouble.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Silence after which a node counts as dead and its users go offline
    /// (`CRM_CHAT_NODE_TIMEOUT_SECS`, default 20). Nodes beat four times
    /// as often.
    pub node_timeout: Duration,
    /// How long a node may be without the bus before it sends its clients
    /// elsewhere (`CRM_CHAT_BUS_LOSS_LIMIT_SECS`, default 10).
    pub bus_loss_limit: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            node_timeout: Duration::from_secs(20),
            bus_loss_limit: Duration::from_secs(10),
        }
    }
}
/// How long event rows are kept for nodes that fell behind.
const EVENT_RETENTION_MS: i64 = 10 * 60 * 1000;
/// How far back a reconnecting listener looks for rows committed out of id
/// order (ids are taken before commit).
const CATCH_UP_WINDOW: i64 = 10_000;

/// What a NOTIFY carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t")]
enum Signal {
    /// A committed batch: read row `id` of `bus_events`.
    #[serde(rename = "e")]
    Events { id: i64 },
    /// A frame for these users' connections (typing).
    #[serde(rename = "u")]
    ToUsers {
        from: String,
        users: Vec<UserId>,
        event: Box<ServerEvent>,
    },
    /// Users' first connections on a node opened, or their last ones
    /// closed: at most one change per user, in the order they happened.
    #[serde(rename = "p")]
    Presence {
        from: String,
        changes: Vec<PresenceChange>,
    },
    /// Close every connection of a user (sign-out, revocation).
    #[serde(rename = "k")]
    Kick {
        from: String,
        user: UserId,
        code: u16,
        reason: String,
    },
    /// A node is alive; or, with `alive: false`, leaving.
    #[serde(rename = "h")]
    Heartbeat { from: String, alive: bool },
}

/// A user came online on a node, or went offline there.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct PresenceChange {
    #[serde(rename = "u")]
    user: UserId,
    #[serde(rename = "o")]
    org: OrgId,
    #[serde(rename = "on")]
    online: bool,
    at: i64,
}

/// Presence changes announced in one signal: about 50 bytes each, well
/// within PostgreSQL's 8,000-byte NOTIFY payload.
const PRESENCE_PER_SIGNAL: usize = 100;

/// How long a node that said goodbye is remembered as gone (ms).
const DEPARTED_FOR_MS: i64 = 60 * 60 * 1000;

/// One node of a cluster: its id, the database, and its hub.
pub struct Cluster {
    pub node: String,
    db: Db,
    hub: Arc<Hub>,
    timing: Timing,
    /// When each other node was last heard from (ms).
    peers: std::sync::Mutex<HashMap<String, i64>>,
    /// Nodes that said goodbye, and when (ms). A node announces presence
    /// and says goodbye on different connections, so an announcement can
    /// arrive after its goodbye; it must not bring the node's users back.
    /// Node ids are new for every process: forgotten after an hour.
    departed: std::sync::Mutex<HashMap<String, i64>>,
    /// Since when the LISTEN connection is lost (0: it is not).
    lost_since: AtomicI64,
    stopping: AtomicBool,
    /// Set once the listener has caught up after starting.
    ready: watch::Sender<bool>,
    /// Local presence changes, announced in the order they happened (a
    /// quick connect and disconnect must not arrive reversed), those that
    /// queue up while one announcement is under way in one signal.
    presence: mpsc::UnboundedSender<PresenceChange>,
}

impl Cluster {
    /// Joins the cluster: registers the node, learns who is online on the
    /// other nodes, and starts listening, heart-beating and sweeping.
    pub async fn join(db: Db, hub: Arc<Hub>, timing: Timing) -> anyhow::Result<Arc<Cluster>> {
        let node = uuid::Uuid::new_v4().simple().to_string();
        let now = now_ms();
        sqlx::query("INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)")
            .bind(&node)
            .bind(now)
            .execute(db.pool())
            .await
            .context("Failed to register this node")?;
        let (ready, mut ready_rx) = watch::channel(false);
        let (presence, mut presence_rx) = mpsc::unbounded_channel();
        let cluster = Arc::new(Cluster {
            node,
            db,
            hub,
            timing,
            peers: std::sync::Mutex::new(HashMap::new()),
            departed: std::sync::Mutex::new(HashMap::new()),
            lost_since: AtomicI64::new(0),
            stopping: AtomicBool::new(false),
            ready,
            presence,
        });
        cluster.load_presence(now).await?;
        tokio::spawn(listen(Arc::downgrade(&cluster)));
        tokio::spawn(beat(Arc::downgrade(&cluster)));
        let weak = Arc::downgrade(&cluster);
        tokio::spawn(async move {
            let mut queued = Vec::with_capacity(PRESENCE_PER_SIGNAL);
            while presence_rx
                .recv_many(&mut queued, PRESENCE_PER_SIGNAL)
                .await
                > 0
            {
                let Some(cluster) = weak.upgrade() else {
                    return;
                };
                cluster.local_presence(latest_per_user(&mut queued)).await;
            }
        });
        // Events committed from here on reach this node.
        let _ = tokio::time::timeout(Duration::from_secs(10), ready_rx.wait_for(|r| *r)).await;
        Ok(cluster)
    }

    /// The presence other live nodes recorded.
    async fn load_presence(&self, now: i64) -> anyhow::Result<()> {
        let rows: Vec<(String, UserId, OrgId)> = sqlx::query_as(
            "SELECT p.node_id, p.user_id, p.org_id FROM node_presence p
             JOIN nodes n ON n.id = p.node_id
             WHERE n.id <> $1 AND n.heartbeat_at > $2",
        )
        .bind(&self.node)
        .bind(now - timing_ms(self.timing.node_timeout))
        .fetch_all(self.db.pool())
        .await
        .context("Failed to read who is online on other nodes")?;
        let mut peers = self.peers();
        for (node, user, org) in rows {
            peers.insert(node.clone(), now);
            self.hub.set_remote_presence(user, org, &node, true);
        }
        Ok(())
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Whether this node is cut off from the bus.
    pub fn is_cut_off(&self) -> bool {
        self.lost_since.load(Ordering::Relaxed) != 0
    }

    /// Records a batch of events in the transaction that made them; the
    /// NOTIFY goes out with the commit.
    pub async fn record(&self, conn: &mut AnyConnection, events: &[ChatEvent]) -> sqlx::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let payload =
            serde_json::to_string(events).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        // One round trip: the row, and the NOTIFY naming it (the JSON of
        // `Signal::Events`), which goes out with the commit.
        sqlx::query(
            "WITH e AS (
                 INSERT INTO bus_events (node_id, payload, created_at) VALUES ($1, $2, $3) RETURNING id
             )
             SELECT pg_notify($4, json_build_object('t', 'e', 'id', e.id)::text) FROM e",
        )
        .bind(&self.node)
        .bind(payload)
        .bind(now_ms())
        .bind(CHANNEL)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Records and announces events whose change is already committed.
    pub async fn publish_committed(&self, events: Vec<ChatEvent>) -> anyhow::Result<()> {
        let mut conn = self.db.pool().acquire().await?;
        let mut tx = conn.begin().await?;
        self.record(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A frame for some users, on every node.
    pub async fn to_users(&self, users: Vec<UserId>, event: ServerEvent) {
        self.hub.send_to_users(&users, &event, None);
        let signal = Signal::ToUsers {
            from: self.node.clone(),
            users,
            event: Box::new(event),
        };
        self.broadcast(&signal).await;
    }

    /// Closes a user's connections on every node.
    pub async fn kick(&self, user: UserId, code: u16, reason: &'static str) {
        self.hub.disconnect_user(user, code, reason);
        let signal = Signal::Kick {
            from: self.node.clone(),
            user,
            code,
            reason: reason.to_owned(),
        };
        self.broadcast(&signal).await;
    }

    /// Queues the announcement of a local presence change.
    pub fn queue_presence(&self, user: UserId, org: OrgId, online: bool) {
        let _ = self.presence.send(PresenceChange {
            user,
            org,
            online,
            at: now_ms(),
        });
    }

    /// Users' first or last connections on this node: recorded for nodes
    /// that start later, and told to the running ones, in one statement and
    /// one signal however many there are (a thousand clients reconnecting
    /// at once would otherwise queue a thousand round trips ahead of the
    /// messages on the bus).
    async fn local_presence(&self, changes: Vec<PresenceChange>) {
        if changes.is_empty() {
            return;
        }
        let engine = self.db.engine();
        let (came, went): (Vec<&PresenceChange>, Vec<&PresenceChange>) =
            changes.iter().partition(|c| c.online);
        if !came.is_empty() {
            // The changes' own JSON: `u` is the user, `o` the organisation.
            let columns = [Column::Int("u"), Column::Int("o")];
            let recorded = sqlx::query(&format!(
                "INSERT INTO node_presence (node_id, user_id, org_id)
                 SELECT $1, v.u, v.o FROM {}
                 ON CONFLICT DO NOTHING",
                sql::records(engine, 2, "v", &columns)
            ))
            .bind(&self.node)
            .bind(sql::json(&came))
            .execute(self.db.pool())
            .await;
            if let Err(error) = recorded {
                tracing::warn!(%error, "presence was not recorded");
            }
        }
        if !went.is_empty() {
            let users: Vec<UserId> = went.iter().map(|c| c.user).collect();
            let recorded = sqlx::query(&format!(
                "DELETE FROM node_presence WHERE node_id = $1 AND user_id IN {}",
                sql::ids(engine, 2)
            ))
            .bind(&self.node)
            .bind(sql::json(&users))
            .execute(self.db.pool())
            .await;
            if let Err(error) = recorded {
                tracing::warn!(%error, "presence was not recorded");
            }
        }
        let signal = Signal::Presence {
            from: self.node.clone(),
            changes,
        };
        self.broadcast(&signal).await;
    }

    /// Leaves the cluster (graceful shutdown): the others take this node's
    /// users' presence away at once instead of after the timeout.
    pub async fn leave(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(&self.node)
            .execute(self.db.pool())
            .await;
        let signal = Signal::Heartbeat {
            from: self.node.clone(),
            alive: false,
        };
        self.broadcast(&signal).await;
    }

    async fn broadcast(&self, signal: &Signal) {
        let sent = match self.db.pool().acquire().await {
            Ok(mut conn) => notify(&mut conn, signal).await,
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            tracing::warn!(%error, "a signal could not be put on the bus");
        }
    }

    /// Acts on a signal from the bus.
    async fn receive(&self, payload: &str, seen: &mut Seen) {
        let Ok(signal) = serde_json::from_str::<Signal>(payload) else {
            tracing::warn!(payload, "a bus signal was not understood");
            return;
        };
        match signal {
            Signal::Events { id } => {
                if seen.insert(id) {
                    self.dispatch_rows(id, id).await;
                }
            }
            Signal::ToUsers { from, users, event } => {
                self.heard(&from);
                if from != self.node {
                    self.hub.send_to_users(&users, &event, None);
                }
            }
            Signal::Kick {
                from,
                user,
                code,
                reason,
            } => {
                self.heard(&from);
                if from != self.node {
                    // The reason of a close frame is a static string here.
                    let reason = if reason == "signed out" {
                        "signed out"
                    } else {
                        "session ended"
                    };
                    self.hub.disconnect_user(user, code, reason);
                }
            }
            Signal::Presence { from, changes } => {
                self.heard(&from);
                if from != self.node && !self.has_departed(&from) {
                    for change in changes {
                        self.remote_presence(&from, change);
                    }
                }
            }
            Signal::Heartbeat { from, alive } => {
                if from == self.node {
                    return;
                }
                if alive {
                    self.heard(&from);
                } else {
                    self.said_goodbye(&from);
                    self.node_gone(&from).await;
                }
            }
        }
    }

    fn heard(&self, node: &str) {
        if node != self.node && !self.has_departed(node) {
            self.peers().insert(node.to_owned(), now_ms());
        }
    }

    /// A node said it is leaving: its process is ending, and its id will
    /// not come back. (One that went silent may come back, and is not
    /// remembered here.)
    fn said_goodbye(&self, node: &str) {
        let now = now_ms();
        let mut departed = self.departed.lock().unwrap_or_else(|p| p.into_inner());
        departed.retain(|_, at| now - *at < DEPARTED_FOR_MS);
        departed.insert(node.to_owned(), now);
    }

    fn has_departed(&self, node: &str) -> bool {
        self.departed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(node)
    }

    /// Another node's user came or went: tell this node's connections when
    /// that changes whether the user is online anywhere.
    fn remote_presence(&self, node: &str, change: PresenceChange) {
        let PresenceChange {
            user,
            org,
            online,
            at,
        } = change;
        let was_online = self.hub.is_online(user);
        self.hub.set_remote_presence(user, org, node, online);
        let is_online = self.hub.is_online(user);
        if was_online != is_online {
            let event = ServerEvent::UserStatusChanged {
                user_id: user,
                is_online,
                last_seen: (!is_online).then_some(at),
                timestamp: at,
            };
            self.hub.send_to_org(org, user, &event);
        }
    }

    /// A node left or died: its users are offline unless connected elsewhere.
    async fn node_gone(&self, node: &str) {
        self.peers().remove(node);
        let now = now_ms();
        let gone = self.hub.forget_node(node);
        // Whoever deletes the node's row (and with it, its presence rows)
        // records when its users were last seen, before anyone is told.
        let deleted = sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node)
            .execute(self.db.pool())
            .await
            .map(|r| r.rows_affected() > 0)
            .unwrap_or(false);
        if deleted && !gone.is_empty() {
            let ids: Vec<UserId> = gone.iter().map(|(u, _)| *u).collect();
            let _ = sqlx::query(&format!(
                "UPDATE users SET last_seen_at = $1 WHERE id IN {}",
                sql::ids(self.db.engine(), 2)
            ))
            .bind(now)
            .bind(sql::json(&ids))
            .execute(self.db.pool())
            .await;
        }
        for (user, org) in &gone {
            let event = ServerEvent::UserStatusChanged {
                user_id: *user,
                is_online: false,
                last_seen: Some(now),
                timestamp: now,
            };
            self.hub.send_to_org(*org, *user, &event);
        }
        tracing::info!(node, users = gone.len(), "a node left the cluster");
    }

    /// Reads event rows `from..=to` and dispatches those not seen before.
    async fn dispatch_rows(&self, from: i64, to: i64) {
        let rows: Result<Vec<(i64, String, i64)>, _> = sqlx::query_as(
            "SELECT id, payload, created_at FROM bus_events WHERE id BETWEEN $1 AND $2 ORDER BY id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.db.pool())
        .await;
        match rows {
            Ok(rows) => {
                for (_, payload, created_at) in rows {
                    self.dispatch_payload(&payload, created_at);
                }
            }
            Err(error) => tracing::warn!(%error, "bus events could not be read"),
        }
    }

    fn dispatch_payload(&self, payload: &str, created_at: i64) {
        match serde_json::from_str::<Vec<ChatEvent>>(payload) {
            Ok(events) => {
                metrics::histogram!("crm_chat_bus_lag_seconds")
                    .record((now_ms() - created_at).max(0) as f64 / 1000.0);
                self.hub.publish_local(events);
            }
            Err(error) => tracing::error!(%error, "bus events could not be decoded"),
        }
    }

    /// After (re)connecting: rows that may have been committed while the
    /// listener was away.
    async fn catch_up(&self, seen: &mut Seen) {
        let low = seen.highest().map_or(0, |h| (h - CATCH_UP_WINDOW).max(0));
        let rows: Result<Vec<(i64, String, i64)>, _> = sqlx::query_as(
            "SELECT id, payload, created_at FROM bus_events WHERE id > $1 ORDER BY id",
        )
        .bind(low)
        .fetch_all(self.db.pool())
        .await;
        match rows {
            Ok(rows) => {
                let fresh_start = seen.highest().is_none();
                for (id, payload, created_at) in rows {
                    if seen.insert(id) && !fresh_start {
                        self.dispatch_payload(&payload, created_at);
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "the bus could not catch up"),
        }
    }
}

async fn notify(conn: &mut AnyConnection, signal: &Signal) -> sqlx::Result<()> {
    let payload = serde_json::to_string(signal).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the queued changes, keeping each user's latest only, in the order
/// those happened: what other nodes must learn is where each user ended up.
fn latest_per_user(queued: &mut Vec<PresenceChange>) -> Vec<PresenceChange> {
    let mut latest: Vec<PresenceChange> = Vec::with_capacity(queued.len());
    for change in queued.drain(..).rev() {
        if !latest.iter().any(|c| c.user == change.user) {
            latest.push(change);
        }
    }
    latest.reverse();
    latest
}

/// Event rows already dispatched, within the window a catch-up looks at.
#[derive(Default)]
struct Seen(BTreeSet<i64>);

impl Seen {
    /// Whether the id is new.
    fn insert(&mut self, id: i64) -> bool {
        let new = self.0.insert(id);
        if let Some(&highest) = self.0.last() {
            while self
                .0
                .first()
                .is_some_and(|&low| low < highest - 2 * CATCH_UP_WINDOW)
            {
                self.0.pop_first();
            }
        }
        new
    }

    fn highest(&self) -> Option<i64> {
        self.0.last().copied()
    }
}

/// The LISTEN loop, reconnecting and catching up as needed.
async fn listen(cluster: std::sync::Weak<Cluster>) {
    let mut seen = Seen::default();
    let mut first = true;
    loop {
        let Some(this) = cluster.upgrade() else {
            return;
        };
        if this.stopping.load(Ordering::Relaxed) {
            return;
        }
        // Named, so that operators (and tests) can find it in pg_stat_activity.
        let url = with_application_name(this.db.url(), &format!("crm-chat-bus-{}", this.node));
        drop(this);
        let mut listener = match PgListener::connect(&url).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "the bus cannot connect; retrying");
                lost(&cluster);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "the bus cannot listen; retrying");
            lost(&cluster);
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        {
            let Some(this) = cluster.upgrade() else {
                return;
            };
            // Listening now: whatever commits from here on is heard; what
            // committed meanwhile is read back.
            this.catch_up(&mut seen).await;
            if this.lost_since.swap(0, Ordering::Relaxed) != 0 {
                tracing::info!("the bus is back");
            }
            if first {
                first = false;
                this.ready.send_replace(true);
            }
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(this) = cluster.upgrade() else {
                        return;
                    };
                    this.receive(notification.payload(), &mut seen).await;
                }
                // The connection was lost; a new one catches up.
                Ok(None) | Err(_) => {
                    tracing::warn!("the bus connection was lost; reconnecting");
                    lost(&cluster);
                    break;
                }
            }
        }
    }
}

fn lost(cluster: &std::sync::Weak<Cluster>) {
    if let Some(this) = cluster.upgrade() {
        let _ = this
            .lost_since
            .compare_exchange(0, now_ms(), Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Heartbeats, the sweep of dead nodes and old event rows, and the rule that
/// a node cut off from the bus sends its clients elsewhere.
async fn beat(cluster: std::sync::Weak<Cluster>) {
    let Some(timing) = cluster.upgrade().map(|c| c.timing) else {
        return;
    };
    let mut tick = tokio::time::interval(timing.node_timeout / 4);
    let mut beats: u64 = 0;
    loop {
        tick.tick().await;
        let Some(this) = cluster.upgrade() else {
            return;
        };
        if this.stopping.load(Ordering::Relaxed) {
            return;
        }
        beats += 1;
        let now = now_ms();
        let alive = sqlx::query(
            "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(&this.node)
        .bind(now)
        .execute(this.db.pool())
        .await;
        if let Err(error) = alive {
            tracing::warn!(%error, "the heartbeat was not recorded");
        }
        let signal = Signal::Heartbeat {
            from: this.node.clone(),
            alive: true,
        };
        this.broadcast(&signal).await;

        let timeout = timing_ms(timing.node_timeout);
        let dead: Vec<String> = this
            .peers()
            .iter()
            .filter(|(_, heard)| now - **heard > timeout)
            .map(|(node, _)| node.clone())
            .collect();
        for node in dead {
            tracing::info!(node, "a node went silent");
            this.node_gone(&node).await;
        }
        // Nodes that died before this one ever heard of them.
        let stale: Vec<String> =
            sqlx::query_scalar("SELECT id FROM nodes WHERE heartbeat_at < $1 AND id <> $2")
                .bind(now - timeout)
                .bind(&this.node)
                .fetch_all(this.db.pool())
                .await
                .unwrap_or_default();
        for node in stale {
            tracing::info!(node, "a node's heartbeat is old");
            this.node_gone(&node).await;
        }
        if beats.is_multiple_of(12) {
            let _ = sqlx::query("DELETE FROM bus_events WHERE created_at < $1")
                .bind(now - EVENT_RETENTION_MS)
                .execute(this.db.pool())
                .await;
        }
        let lost_since = this.lost_since.load(Ordering::Relaxed);
        if lost_since != 0 && now - lost_since > timing_ms(timing.bus_loss_limit) {
            tracing::error!("cut off from the bus; sending clients to other nodes");
            this.hub.close_all(1001, "going away");
        }
    }
}

fn timing_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The URL with `application_name` set.
fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// Whether a local presence change is also a change for the cluster.
pub fn announce(presence: Presence) -> Option<bool> {
    match presence {
        Presence::CameOnline => Some(true),
        Presence::WentOffline => Some(false),
        Presence::Unchanged => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(user: i64, online: bool, at: i64) -> PresenceChange {
        PresenceChange {
            user: UserId(user),
            org: OrgId(1),
            online,
            at,
        }
    }

    #[test]
    fn queued_presence_keeps_each_users_latest_change_in_the_order_they_happened() {
        let mut queued = vec![
            change(1, true, 10),
            change(2, true, 11),
            change(1, false, 12),
            change(3, true, 13),
            change(2, false, 14),
        ];
        let latest: Vec<(i64, bool, i64)> = latest_per_user(&mut queued)
            .into_iter()
            .map(|c| (c.user.0, c.online, c.at))
            .collect();
        assert_eq!(latest, vec![(1, false, 12), (3, true, 13), (2, false, 14)]);
        assert!(queued.is_empty(), "the queue is taken");
    }

    #[test]
    fn the_events_signal_reads_as_the_sql_that_records_a_batch_writes_it() {
        // `Cluster::record` builds this JSON in SQL with json_build_object.
        let signal: Signal =
            serde_json::from_str(r#"{"t" : "e", "id" : 42}"#).expect("the signal parses");
        assert!(matches!(signal, Signal::Events { id: 42 }), "{signal:?}");
    }

    #[test]
    fn a_full_presence_signal_fits_in_a_notify_payload() {
        let signal = Signal::Presence {
            from: "0123456789abcdef0123456789abcdef".into(),
            changes: (0..PRESENCE_PER_SIGNAL as i64)
                .map(|i| change(i64::MAX - i, true, 1_800_000_000_000))
                .collect(),
        };
        let payload = serde_json::to_string(&signal).expect("a signal serialises");
        assert!(payload.len() < 8000, "{} bytes", payload.len());
    }
}
