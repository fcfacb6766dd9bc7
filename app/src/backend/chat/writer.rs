//! The writer: every change to a conversation goes through this one task.
//!
//! It takes whatever commands are queued (up to [`MAX_BATCH`]), applies them
//! in one transaction and commits once (group commit: SQLite has one writer
//! anyway, and one fsync for many sends is what makes durable sends fast).
//! On SQLite, sends and delivery marks run on a connection the writer drives
//! itself ([`sends`]); a batch that also holds other commands commits those
//! in a second transaction right after. Only after a commit does it answer
//! the commands and hand the events to the hub, in commit order, so that:
//!
//! - an acknowledged message is durable ("durable before acknowledged");
//! - events of one conversation are published in `event_seq` order;
//! - a retried send finds the first attempt, because the two are never in
//!   flight in two transactions of this process at once.
//!
//! A command that is invalid fails alone: validation happens before any of
//! its writes. If the database fails a batch, the batch is rolled back and
//! every command is retried in a transaction of its own, so one bad command
//! cannot take others down with it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use sqlx::{AnyConnection, Connection};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::{Duration, Instant};

mod sends;

use super::events::{ChatEvent, ConnectionId, MessageChange, UnreadState};
use super::input::{ClientMsgId, Emoji, MessageBody, Title};
use super::views::message_from_row;
use crate::backend::db::messages::{MessageRow, NewMessage};
use crate::backend::db::participants::ParticipantRow;
use crate::backend::db::sqlite_writer::WriterConnection;
use crate::backend::db::{Db, Engine, conversations, messages, notifications, participants, users};
use crate::backend::{Error, Result, now_ms};
use crate::protocol::{
    AttachmentId, Author, ConversationId, ConversationKind, EDIT_WINDOW_MS, MAX_PINNED_MESSAGES,
    Me, Message, MessageId, MessageKind, ParticipantRole, ReadState, UserId,
};

/// The most commands applied in one transaction.
pub const MAX_BATCH: usize = 256;
/// Commands waiting beyond this make senders wait (backpressure).
const QUEUE_CAPACITY: usize = 8192;
/// How long after new messages the search index catches up (SQLite).
const INDEX_DELAY: Duration = Duration::from_millis(500);
/// How long the writer waits before reaching for the database again.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);
/// Distinct emoji allowed on one message.
const MAX_DISTINCT_REACTIONS: i64 = 20;
/// Delivery marks recorded along with one batch of commands: few enough that
/// the sends in that batch hardly wait for them (with 256, the batches that
/// carried marks set the writer's p99 at 2,000 sends/s: 5 ms against 3), and
/// enough that a round of a thousand members is recorded within 16 batches.
const MARKS_PER_BATCH: usize = 64;
/// How long delivery marks gather before they ride along with a batch. A
/// member's marks within it collapse into one (in a busy group of 50 that is
/// most of them), and each recording costs statements of its own (three on
/// SQLite, one on PostgreSQL), so they do not go with every batch.
const MARKS_GATHER: Duration = Duration::from_millis(300);
/// How long delivery marks wait for a batch to ride along with before the
/// writer records them on their own.
const MARKS_FLUSH: Duration = Duration::from_millis(500);

/// Receives the events of each commit, in commit order, and knows who is
/// connected (members who are not get NEW_MESSAGE notifications).
pub trait EventSink: Send + Sync + 'static {
    fn publish(&self, events: Vec<ChatEvent>);
    fn is_connected(&self, user_id: UserId) -> bool;
    /// With several nodes: the bus that records each batch's events in its
    /// transaction.
    fn cluster(&self) -> Option<&crate::backend::realtime::bus::Cluster> {
        None
    }
}

/// A send, parsed and ready.
#[derive(Clone, Debug)]
pub struct SendCommand {
    pub sender: Me,
    pub conversation_id: ConversationId,
    pub client_msg_id: ClientMsgId,
    pub body: MessageBody,
    pub reply_to: Option<MessageId>,
    pub attachment_id: Option<AttachmentId>,
    /// A forwarded copy: who wrote the original.
    pub forwarded_from: Option<Author>,
    pub origin: Option<ConnectionId>,
}

#[derive(Clone, Debug)]
pub enum MembershipChange {
    Add(Vec<UserId>),
    Remove(UserId),
    Leave,
    Rename(Title),
    SetRole(UserId, ParticipantRole),
}

/// A member's mark as unread: theirs alone, to come back to a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnreadMark {
    /// The whole conversation: a dot in their list while nothing is unread.
    /// A mark from a message stays as it is.
    Conversation(ConversationId),
    /// From this message on: it and the others' messages after it count as
    /// unread again (their read receipts stay where they were).
    From(MessageId),
    /// No mark (opening the conversation, or reading it all).
    Cleared(ConversationId),
}

#[derive(Clone, Debug)]
pub enum Command {
    Send(SendCommand),
    Edit {
        actor: Me,
        message_id: MessageId,
        body: MessageBody,
    },
    Delete {
        actor: Me,
        message_id: MessageId,
    },
    React {
        actor: Me,
        message_id: MessageId,
        emoji: Emoji,
    },
    /// Pins a message to the top of its conversation, or unpins it.
    Pin {
        actor: Me,
        message_id: MessageId,
        pinned: bool,
    },
    MarkRead {
        actor: Me,
        conversation_id: ConversationId,
        up_to_seq: Option<i64>,
    },
    /// Marks a conversation unread for the actor, or clears their mark.
    SetUnreadMark {
        actor: Me,
        mark: UnreadMark,
    },
    /// Brings the search index up to date now (see [`Writer::index_search`]).
    IndexSearch,
    /// Records what reached members' devices: `(conversation, user, seq)`.
    MarkDelivered {
        marks: Vec<(ConversationId, UserId, i64)>,
    },
    Membership {
        actor: Me,
        conversation_id: ConversationId,
        change: MembershipChange,
    },
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Message(Box<Message>),
    /// A retried send: the message stored by the first attempt. No event
    /// announces it again, so the caller acknowledges it itself.
    Replayed(Box<Message>),
    Read(ReadState),
    /// The conversation a command changed (or found unchanged).
    Conversation(ConversationId),
    Done,
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Outcome>>,
    queued_at: Instant,
}

/// The handle through which commands reach the writer task.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    marks: Arc<DeliveryMarks>,
    stats: Arc<Stats>,
}

/// Delivery marks not yet recorded: the highest seq that reached each
/// member's devices, per conversation. They are not commands of their own:
/// once they have gathered for [`MARKS_GATHER`], the writer takes them all
/// as one round and the following batches carry them, [`MARKS_PER_BATCH`]
/// each (a batch of hundreds at once would hold up the sends queued behind
/// it); when no batch comes, it records them on its own after
/// [`MARKS_FLUSH`].
#[derive(Default)]
struct DeliveryMarks {
    pending: Mutex<HashMap<(ConversationId, UserId), i64>>,
    /// Wakes an idle writer when marks start to wait.
    arrived: Notify,
}

impl DeliveryMarks {
    fn add(&self, conversation_id: ConversationId, user_id: UserId, seq: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let was_empty = pending.is_empty();
        let highest = pending.entry((conversation_id, user_id)).or_insert(seq);
        *highest = (*highest).max(seq);
        drop(pending);
        if was_empty {
            self.arrived.notify_one();
        }
    }

    /// Every pending mark, taken out of the pending set.
    fn take_all(&self) -> Vec<(ConversationId, UserId, i64)> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending
            .drain()
            .map(|((conversation_id, user_id), seq)| (conversation_id, user_id, seq))
            .collect()
    }
}

/// Counters for benchmarks and metrics.
#[derive(Default)]
struct Stats {
    batches: AtomicU64,
    commands: AtomicU64,
}

impl Writer {
    /// Starts the writer on a thread of its own, with a single-threaded
    /// runtime and a connection of its own: its statements never wait for a
    /// worker busy with requests, and it never waits for the pool. It runs
    /// until every handle is dropped, then finishes the commands already queued.
    pub fn start(db: Db, sink: Arc<dyn EventSink>) -> Writer {
        let (queue, jobs) = mpsc::channel(QUEUE_CAPACITY);
        let stats = Arc::new(Stats::default());
        let marks = Arc::new(DeliveryMarks::default());
        let thread_stats = stats.clone();
        let thread_marks = marks.clone();
        let (committed, publishing) = std::sync::mpsc::sync_channel(PUBLISH_QUEUE);
        let publisher_sink = sink.clone();
        let writer = move || match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => {
                // The checkpointer lives as long as the writer's runtime.
                runtime.spawn(db.clone().checkpoint_continuously());
                runtime.block_on(run(db, sink, jobs, committed, thread_marks, thread_stats));
            }
            Err(error) => tracing::error!(%error, "the writer could not start its runtime"),
        };
        let spawned = std::thread::Builder::new()
            .name("crm-chat-publisher".into())
            .spawn(move || publish_continuously(publishing, publisher_sink.as_ref()))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("crm-chat-writer".into())
                    .spawn(writer)
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "the writer's threads could not start");
        }
        Writer {
            queue,
            marks,
            stats,
        }
    }

    /// Notes that messages of a conversation up to `seq` reached one of the
    /// member's devices. It is recorded with one of the next batches, or
    /// within [`MARKS_FLUSH`] when there is none; it never waits.
    pub fn delivered(&self, conversation_id: ConversationId, user_id: UserId, seq: i64) {
        self.marks.add(conversation_id, user_id, seq);
    }

    /// Makes every message committed so far findable by search. Search
    /// catches up on its own within about a second; this is for callers that
    /// need to read their own writes.
    pub async fn index_search(&self) -> Result<()> {
        self.submit(Command::IndexSearch).await.map(|_| ())
    }

    /// Batches committed and commands applied so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.stats.batches.load(Ordering::Relaxed),
            self.stats.commands.load(Ordering::Relaxed),
        )
    }

    pub async fn submit(&self, command: Command) -> Result<Outcome> {
        self.enqueue(command).await?.await
    }

    /// Queues a command and returns its answer to await later. Commands are
    /// applied in the order they were queued, so a caller that queues several
    /// before awaiting any keeps their order and pipelines them.
    pub async fn enqueue(
        &self,
        command: Command,
    ) -> Result<impl Future<Output = Result<Outcome>> + use<>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job {
                command,
                reply,
                queued_at: Instant::now(),
            })
            .await
            .map_err(|_| anyhow::anyhow!("The writer has stopped"))?;
        Ok(async move {
            answer
                .await
                .map_err(|_| anyhow::anyhow!("The writer dropped a command"))?
        })
    }
}

async fn run(
    db: Db,
    sink: Arc<dyn EventSink>,
    mut jobs: mpsc::Receiver<Job>,
    committed: std::sync::mpsc::SyncSender<Committed>,
    marks: Arc<DeliveryMarks>,
    stats: Arc<Stats>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH + 1);
    let mut connections = Connections::default();
    // When the search index should next catch up (SQLite): soon after start,
    // in case the last run stopped before indexing, then after each batch of
    // new messages.
    let mut index_due = (db.engine() == Engine::Sqlite).then(Instant::now);
    // Since when delivery marks wait.
    let mut marks_since: Option<Instant> = None;
    // Marks gathered in one round, recorded a batch's worth at a time: each
    // member's marks are collapsed into one per round, however busy.
    let mut draining: Vec<(ConversationId, UserId, i64)> = Vec::new();
    loop {
        let marks_due = if draining.is_empty() {
            marks_since.map(|since| since + MARKS_FLUSH)
        } else {
            Some(Instant::now())
        };
        let due = [index_due, marks_due].into_iter().flatten().min();
        let wake = tokio::select! {
            biased;
            // `recv_many` is cancel safe: losing the race to a timer loses no job.
            received = jobs.recv_many(&mut batch, MAX_BATCH) => Wake::Jobs(received),
            () = marks.arrived.notified(), if marks_since.is_none() => Wake::MarksArrived,
            () = sleep_until(due), if due.is_some() => Wake::Due,
        };
        if let Wake::MarksArrived = wake {
            marks_since = Some(Instant::now());
            continue;
        }
        // Every handle is gone: record the waiting marks, then stop.
        let closing = matches!(wake, Wake::Jobs(0));
        if !connections.open(&db).await {
            for job in batch.drain(..) {
                let _ = job
                    .reply
                    .send(Err(anyhow::anyhow!("The database is unavailable").into()));
            }
            if closing {
                break;
            }
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        // One registry lookup per batch, not per job.
        let queue_wait = metrics::histogram!("crm_chat_writer_queue_seconds");
        let now = Instant::now();
        for job in &batch {
            queue_wait.record(now.duration_since(job.queued_at).as_secs_f64());
        }
        // Delivery marks that have gathered ride along with the batch; when
        // no batch came for them, as many as a batch may hold go on their own.
        let waited = marks_since.map(|since| since.elapsed());
        let round_due =
            waited.is_some_and(|w| w >= MARKS_FLUSH || (w >= MARKS_GATHER && !batch.is_empty()));
        if closing || (draining.is_empty() && round_due) {
            draining.extend(marks.take_all());
            marks_since = None;
        }
        if !draining.is_empty() {
            let keep = if closing {
                0
            } else {
                draining.len().saturating_sub(MARKS_PER_BATCH)
            };
            let taken = draining.split_off(keep);
            // Nobody awaits the answer: a mark that fails is carried again by
            // the member's next delivery.
            let (reply, _) = oneshot::channel();
            batch.push(Job {
                command: Command::MarkDelivered { marks: taken },
                reply,
                queued_at: Instant::now(),
            });
        }
        if !batch.is_empty() {
            stats.batches.fetch_add(1, Ordering::Relaxed);
            stats
                .commands
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            let started = Instant::now();
            let (results, events) = process(&db, &mut connections, &batch, sink.as_ref()).await;
            metrics::histogram!("crm_chat_writer_batch_seconds")
                .record(started.elapsed().as_secs_f64());
            metrics::histogram!("crm_chat_writer_batch_size").record(batch.len() as f64);
            if results.iter().any(Result::is_err) {
                connections.close_if_broken().await;
            }
            let inserted = events
                .iter()
                .any(|e| matches!(e, ChatEvent::MessageCreated { .. }));
            let answers = batch
                .drain(..)
                .zip(results)
                .map(|(job, result)| (job.reply, result))
                .collect();
            // Waits only when the publisher is a whole queue behind.
            let _ = committed.send(Committed { events, answers });
            if inserted && index_due.is_none() && db.engine() == Engine::Sqlite {
                index_due = Some(Instant::now() + INDEX_DELAY);
            }
        }
        if closing {
            break;
        }
        let conn = connections
            .any
            .as_mut()
            .filter(|_| index_due.is_some_and(|due| due <= Instant::now()));
        if let Some(conn) = conn {
            // One chunk per turn: sends waiting behind the index wait one
            // chunk at most, and a backlog is worked off between batches.
            let started = Instant::now();
            let indexed = index_one_chunk(&db, conn).await;
            metrics::histogram!("crm_chat_search_index_seconds")
                .record(started.elapsed().as_secs_f64());
            index_due = match indexed {
                Ok(true) => Some(Instant::now()),
                Ok(false) => None,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "the search index could not catch up");
                    Some(Instant::now() + INDEX_DELAY)
                }
            };
        }
    }
}

/// Sleeps until `due`; never returns without one.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Indexes one chunk of new messages in a transaction of its own. Whether
/// more remain.
async fn index_one_chunk(db: &Db, conn: &mut AnyConnection) -> anyhow::Result<bool> {
    let mut tx = db.begin_write_on(conn).await?;
    let indexed = super::search::index_pending(&mut tx, db.engine()).await?;
    tx.commit().await?;
    Ok(indexed >= super::search::INDEX_CHUNK)
}

enum Wake {
    /// How many jobs arrived; none means every handle is gone.
    Jobs(usize),
    /// Delivery marks began to wait.
    MarksArrived,
    /// The search index or waiting delivery marks are due.
    Due,
}

/// The writer's connections, opened again after they broke: sqlx's, for
/// every command on either engine, and on SQLite its own, driven on the
/// writer's thread, for sends and delivery marks (see [`sends::SendStore`]).
#[derive(Default)]
struct Connections {
    any: Option<AnyConnection>,
    sqlite: Option<WriterConnection>,
}

impl Connections {
    /// Whether every connection the engine needs is open.
    async fn open(&mut self, db: &Db) -> bool {
        if self.any.is_none() {
            match db.writer_connection().await {
                Ok(conn) => self.any = Some(conn),
                Err(error) => tracing::error!(%error, "the writer cannot reach the database"),
            }
        }
        if db.engine() == Engine::Sqlite && self.sqlite.is_none() {
            match db.sqlite_writer_connection() {
                Ok(conn) => self.sqlite = Some(conn),
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "the writer cannot open the database");
                }
            }
        }
        self.any.is_some() && (db.engine() != Engine::Sqlite || self.sqlite.is_some())
    }

    /// After a failure: drops the sqlx connection if it no longer answers.
    /// (The SQLite one is a file handle of this thread; its failures are
    /// the statements', not the connection's.)
    async fn close_if_broken(&mut self) {
        if let Some(conn) = self.any.as_mut()
            && conn.ping().await.is_err()
        {
            self.any = None;
        }
    }
}

/// Where one transaction of a batch runs.
enum Unit<'a> {
    /// Any command, through sqlx, on either engine.
    Any(&'a Db, &'a mut AnyConnection),
    /// Sends and delivery marks, on SQLite, on the writer's own connection.
    Sqlite(&'a mut WriterConnection),
}

/// Whether a command takes the hot path (see [`sends`]).
fn is_hot(command: &Command) -> bool {
    matches!(command, Command::Send(_) | Command::MarkDelivered { .. })
}

/// Applies a batch. On SQLite, its sends and delivery marks commit in one
/// transaction on the writer's own connection and anything else in a
/// second one through sqlx, in that order (sends come first within a batch
/// on either engine). Returns the results in order, and the events of what
/// was committed, in commit order.
async fn process(
    db: &Db,
    connections: &mut Connections,
    batch: &[Job],
    sink: &dyn EventSink,
) -> (Vec<Result<Outcome>>, Vec<ChatEvent>) {
    let pick = |indexes: &[usize]| -> Vec<Command> {
        indexes.iter().map(|&i| batch[i].command.clone()).collect()
    };
    let everything: Vec<usize> = (0..batch.len()).collect();
    let Some(any) = connections.any.as_mut() else {
        let unavailable = || Err(anyhow::anyhow!("The database is unavailable").into());
        return (batch.iter().map(|_| unavailable()).collect(), Vec::new());
    };
    let Some(sqlite) = connections.sqlite.as_mut() else {
        return apply(&mut Unit::Any(db, any), &pick(&everything), sink).await;
    };
    let (hot, rest): (Vec<usize>, Vec<usize>) = everything
        .into_iter()
        .partition(|&i| is_hot(&batch[i].command));
    let mut results: Vec<Option<Result<Outcome>>> = batch.iter().map(|_| None).collect();
    let mut events = Vec::new();
    for (indexes, mut unit) in [(hot, Unit::Sqlite(sqlite)), (rest, Unit::Any(db, any))] {
        if indexes.is_empty() {
            continue;
        }
        let (outcomes, committed) = apply(&mut unit, &pick(&indexes), sink).await;
        events.extend(committed);
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            results[index] = Some(outcome);
        }
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a command was not applied").into())))
        .collect();
    (results, events)
}

/// Applies commands in one transaction. When the database fails the
/// transaction, each command is tried alone, so one bad command fails
/// alone. Returns the results, and the events of what was committed.
async fn apply(
    unit: &mut Unit<'_>,
    commands: &[Command],
    sink: &dyn EventSink,
) -> (Vec<Result<Outcome>>, Vec<ChatEvent>) {
    match apply_batch(unit, commands, sink).await {
        Ok(applied) => applied,
        Err(error) if commands.len() > 1 => {
            tracing::warn!(error = %format!("{error:#}"), size = commands.len(), "a batch failed; retrying its commands one by one");
            let mut results = Vec::with_capacity(commands.len());
            let mut events = Vec::new();
            for command in commands {
                match apply_batch(unit, std::slice::from_ref(command), sink).await {
                    Ok((mut one, committed)) => {
                        events.extend(committed);
                        results.push(
                            one.pop()
                                .unwrap_or_else(|| Err(anyhow::anyhow!("no result").into())),
                        );
                    }
                    Err(error) => results.push(Err(Error::Unexpected(error))),
                }
            }
            (results, events)
        }
        Err(error) => (vec![Err(Error::Unexpected(error))], Vec::new()),
    }
}

/// What a batch left to do once committed: hand its events to the hub, in
/// commit order, then answer its commands.
struct Committed {
    events: Vec<ChatEvent>,
    answers: Vec<(oneshot::Sender<Result<Outcome>>, Result<Outcome>)>,
}

/// Batches committed and not yet announced that may wait before the writer
/// waits for the publisher.
const PUBLISH_QUEUE: usize = 64;

/// The publisher's thread: turning events into frames for every connection
/// concerned, and waking the tasks that wait for answers. On a thread of its
/// own it overlaps with the writer's next batch instead of delaying it
/// (measured at 25,000 sends/s over WebSockets, six alternating runs:
/// median p50 35 ms against 137 ms). One thread, in order, so
/// events still reach the hub in commit order, and each batch's answers
/// still come after its events (a sender sees its message in the hub's feed
/// once it has the answer). Runs until the writer is gone.
fn publish_continuously(committed: std::sync::mpsc::Receiver<Committed>, sink: &dyn EventSink) {
    for Committed { events, answers } in committed {
        count_sent(&events);
        let publishing = Instant::now();
        sink.publish(events);
        metrics::histogram!("crm_chat_writer_publish_seconds")
            .record(publishing.elapsed().as_secs_f64());
        for (reply, result) in answers {
            let _ = reply.send(result);
        }
    }
}

fn count_sent(events: &[ChatEvent]) {
    let sent = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::MessageCreated { .. }))
        .count();
    metrics::counter!("crm_chat_messages_sent_total").increment(sent as u64);
}

/// Applies commands in one transaction. Domain errors fail their command
/// only; a database error fails the batch.
async fn apply_batch(
    unit: &mut Unit<'_>,
    commands: &[Command],
    sink: &dyn EventSink,
) -> anyhow::Result<(Vec<Result<Outcome>>, Vec<ChatEvent>)> {
    let now = now_ms();
    let mut results: Vec<Option<Result<Outcome>>> = commands.iter().map(|_| None).collect();
    let mut events = Vec::new();
    let sends: Vec<(usize, &SendCommand)> = commands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Command::Send(send) => Some((i, send)),
            _ => None,
        })
        .collect();
    let is_connected = |user| sink.is_connected(user);
    let committing = match unit {
        Unit::Sqlite(conn) => {
            let mut tx = conn.begin()?;
            let applied =
                sends::apply_sends(&mut tx, &sends, now, &is_connected, &mut events).await?;
            for (index, result) in applied {
                results[index] = Some(result);
            }
            for (index, command) in commands.iter().enumerate() {
                match command {
                    Command::Send(_) => {}
                    Command::MarkDelivered { marks } => {
                        sends::mark_delivered(&mut tx, marks, &mut events).await?;
                        results[index] = Some(Ok(Outcome::Done));
                    }
                    _ => anyhow::bail!("only sends and delivery marks take the SQLite hot path"),
                }
            }
            let committing = Instant::now();
            tx.commit()?;
            committing
        }
        Unit::Any(db, conn) => {
            let engine = db.engine();
            let mut tx = db
                .begin_write_on(conn)
                .await
                .context("Failed to begin a write transaction")?;
            let applied =
                sends::apply_sends(&mut *tx, &sends, now, &is_connected, &mut events).await?;
            for (index, result) in applied {
                results[index] = Some(result);
            }
            for (index, command) in commands.iter().enumerate() {
                if matches!(command, Command::Send(_)) {
                    continue;
                }
                let result = apply_one(&mut tx, engine, command, now, &mut events).await;
                match result {
                    Err(Error::Unexpected(error)) => return Err(error),
                    other => results[index] = Some(other),
                }
            }
            if let Some(cluster) = sink.cluster() {
                cluster
                    .record(&mut tx, &events)
                    .await
                    .context("Failed to record a batch's events for the bus")?;
            }
            let committing = Instant::now();
            tx.commit().await.context("Failed to commit a batch")?;
            committing
        }
    };
    metrics::histogram!("crm_chat_writer_commit_seconds")
        .record(committing.elapsed().as_secs_f64());
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a command was not applied").into())))
        .collect();
    Ok((results, events))
}

// ---------------------------------------------------------------------------
// Everything else: one command at a time, inside the batch's transaction.
// ---------------------------------------------------------------------------

async fn apply_one(
    conn: &mut AnyConnection,
    engine: Engine,
    command: &Command,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    match command {
        Command::Send(_) => Err(anyhow::anyhow!("sends are applied in bulk").into()),
        Command::Edit {
            actor,
            message_id,
            body,
        } => edit(conn, engine, actor, *message_id, body, now, events).await,
        Command::Delete { actor, message_id } => {
            delete(conn, engine, actor, *message_id, now, events).await
        }
        Command::React {
            actor,
            message_id,
            emoji,
        } => react(conn, engine, actor, *message_id, emoji, now, events).await,
        Command::Pin {
            actor,
            message_id,
            pinned,
        } => pin(conn, engine, actor, *message_id, *pinned, now, events).await,
        Command::MarkRead {
            actor,
            conversation_id,
            up_to_seq,
        } => mark_read(conn, engine, actor, *conversation_id, *up_to_seq, events).await,
        Command::SetUnreadMark { actor, mark } => {
            set_unread_mark(conn, engine, actor, *mark, events).await
        }
        Command::Membership {
            actor,
            conversation_id,
            change,
        } => membership(conn, engine, actor, *conversation_id, change, now, events).await,
        Command::IndexSearch => {
            while super::search::index_pending(conn, engine).await? > 0 {}
            Ok(Outcome::Done)
        }
        Command::MarkDelivered { marks } => {
            sends::mark_delivered(conn, marks, events).await?;
            Ok(Outcome::Done)
        }
    }
}

/// A message the actor can see: it exists, and they are in its conversation.
async fn visible_message(
    conn: &mut AnyConnection,
    actor: &Me,
    message_id: MessageId,
) -> Result<(MessageRow, ParticipantRow, conversations::ConversationRow)> {
    let row = messages::by_id(conn, message_id)
        .await?
        .ok_or(Error::NotFound)?;
    let participant = participants::get(conn, row.conversation_id, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    let conversation = conversation_in_org(conn, actor, row.conversation_id).await?;
    Ok((row, participant, conversation))
}

/// A conversation of the actor's organisation; any other is `NotFound`, as
/// if it did not exist.
async fn conversation_in_org(
    conn: &mut AnyConnection,
    actor: &Me,
    id: ConversationId,
) -> Result<conversations::ConversationRow> {
    conversations::get(conn, id)
        .await?
        .filter(|c| c.org_id == actor.org_id)
        .ok_or(Error::NotFound)
}

async fn member_ids(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
) -> Result<Arc<[UserId]>> {
    Ok(participants::of_conversations(conn, &[conversation_id])
        .await?
        .into_iter()
        .map(|p| p.user_id)
        .collect())
}

/// Advances one conversation's counters; returns the new `(event_seq, message_seq)`.
async fn advance_one(
    conn: &mut AnyConnection,
    engine: Engine,
    conversation_id: ConversationId,
    new_messages: i64,
    now: i64,
) -> Result<(i64, i64)> {
    conversations::lock(conn, engine, &[conversation_id]).await?;
    let advanced = conversations::advance(conn, &[(conversation_id, 1, new_messages)], now).await?;
    let (_, event_seq, message_seq) = advanced.first().copied().ok_or(Error::NotFound)?;
    Ok((event_seq, message_seq))
}

async fn changed_message(
    conn: &mut AnyConnection,
    message_id: MessageId,
    viewer: UserId,
) -> Result<Message> {
    let row = messages::by_id(conn, message_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(message_from_row(row, viewer))
}

async fn edit(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    message_id: MessageId,
    body: &MessageBody,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let (row, _, _) = visible_message(conn, actor, message_id).await?;
    if row.sender_id != actor.id || row.kind() == MessageKind::System {
        return Err(Error::Forbidden("Only the sender can edit a message."));
    }
    if row.forwarded_from.is_some() {
        return Err(Error::Forbidden("A forwarded message cannot be edited."));
    }
    if row.deleted_at.is_some() {
        return Err(Error::MessageDeleted);
    }
    if now - row.created_at > EDIT_WINDOW_MS {
        return Err(Error::EditWindowClosed);
    }
    if body.as_str().is_empty() && row.kind() == MessageKind::Text {
        return Err(Error::EmptyMessage);
    }
    if row.body == body.as_str() {
        // A retried edit: nothing changes, nothing is announced.
        return Ok(Outcome::Message(Box::new(message_from_row(row, actor.id))));
    }
    let (event_seq, _) = advance_one(conn, engine, row.conversation_id, 0, now).await?;
    messages::set_body(conn, message_id, body.as_str(), event_seq, now).await?;
    let message = changed_message(conn, message_id, actor.id).await?;
    events.push(ChatEvent::MessageChanged {
        message: Arc::new(message.clone()),
        change: MessageChange::Edited,
        members: member_ids(conn, row.conversation_id).await?,
        unread: Vec::new(),
    });
    Ok(Outcome::Message(Box::new(message)))
}

async fn delete(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    message_id: MessageId,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let (row, participant, conversation) = visible_message(conn, actor, message_id).await?;
    let moderates = match conversation.kind() {
        ConversationKind::Direct => false,
        ConversationKind::Group => matches!(
            participant.role(),
            ParticipantRole::Admin | ParticipantRole::Moderator
        ),
        ConversationKind::Broadcast => participant.role() == ParticipantRole::Admin,
    };
    if row.kind() == MessageKind::System || (row.sender_id != actor.id && !moderates) {
        return Err(Error::Forbidden(
            "Only the sender or a moderator can delete a message.",
        ));
    }
    if row.deleted_at.is_some() {
        // Deleting twice is deleting once.
        return Ok(Outcome::Message(Box::new(message_from_row(row, actor.id))));
    }
    let (event_seq, _) = advance_one(conn, engine, row.conversation_id, 0, now).await?;
    messages::tombstone(conn, message_id, actor.id, event_seq, now).await?;
    let unread =
        participants::forget_unread_message(conn, row.conversation_id, row.seq, row.sender_id)
            .await?
            .into_iter()
            .map(|u| UnreadState {
                user_id: u.user_id,
                unread_count: u.unread_count,
                last_read_seq: u.last_read_seq,
            })
            .collect();
    let message = changed_message(conn, message_id, actor.id).await?;
    events.push(ChatEvent::MessageChanged {
        message: Arc::new(message.clone()),
        change: MessageChange::Deleted,
        members: member_ids(conn, row.conversation_id).await?,
        unread,
    });
    Ok(Outcome::Message(Box::new(message)))
}

async fn react(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    message_id: MessageId,
    emoji: &Emoji,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let (row, _, _) = visible_message(conn, actor, message_id).await?;
    if row.deleted_at.is_some() {
        return Err(Error::MessageDeleted);
    }
    if row.kind() == MessageKind::System {
        return Err(Error::Forbidden("System messages take no reactions."));
    }
    let existing = super::views::parse_reactions(row.reaction_list.as_deref(), actor.id);
    let emoji_is_new = !existing.iter().any(|r| r.emoji == emoji.as_str());
    if emoji_is_new
        && messages::distinct_emoji_count(conn, message_id).await? >= MAX_DISTINCT_REACTIONS
    {
        return Err(Error::InvalidInput(format!(
            "A message can carry at most {MAX_DISTINCT_REACTIONS} different reactions."
        )));
    }
    let (event_seq, _) = advance_one(conn, engine, row.conversation_id, 0, now).await?;
    messages::toggle_reaction(conn, message_id, actor.id, emoji.as_str(), now).await?;
    messages::stamp(conn, message_id, event_seq).await?;
    let message = changed_message(conn, message_id, actor.id).await?;
    events.push(ChatEvent::MessageChanged {
        message: Arc::new(message.clone()),
        change: MessageChange::Reactions,
        members: member_ids(conn, row.conversation_id).await?,
        unread: Vec::new(),
    });
    Ok(Outcome::Message(Box::new(message)))
}

/// Pins or unpins a message: anyone who may post in the conversation may,
/// as in Slack. Pinning what is pinned (or unpinning what is not) changes
/// nothing and announces nothing.
async fn pin(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    message_id: MessageId,
    pinned: bool,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let (row, participant, conversation) = visible_message(conn, actor, message_id).await?;
    if !super::views::can_post(conversation.kind(), participant.role()) {
        return Err(Error::Forbidden("Only admins pin messages in a broadcast."));
    }
    if row.deleted_at.is_some() {
        return Err(Error::MessageDeleted);
    }
    if row.kind() == MessageKind::System {
        return Err(Error::Forbidden("System messages cannot be pinned."));
    }
    if row.pinned_at.is_some() == pinned {
        return Ok(Outcome::Message(Box::new(message_from_row(row, actor.id))));
    }
    if pinned && messages::pinned_count(conn, row.conversation_id).await? >= MAX_PINNED_MESSAGES {
        return Err(Error::InvalidInput(format!(
            "A conversation can have at most {MAX_PINNED_MESSAGES} pinned messages; unpin one first."
        )));
    }
    let (event_seq, _) = advance_one(conn, engine, row.conversation_id, 0, now).await?;
    messages::set_pin(
        conn,
        message_id,
        pinned.then_some((actor.id, now)),
        event_seq,
    )
    .await?;
    let message = changed_message(conn, message_id, actor.id).await?;
    events.push(ChatEvent::MessageChanged {
        message: Arc::new(message.clone()),
        change: MessageChange::Pinned,
        members: member_ids(conn, row.conversation_id).await?,
        unread: Vec::new(),
    });
    Ok(Outcome::Message(Box::new(message)))
}

async fn mark_read(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    conversation_id: ConversationId,
    up_to_seq: Option<i64>,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let conversation = conversation_in_org(conn, actor, conversation_id).await?;
    participants::lock_row(conn, engine, conversation_id, actor.id).await?;
    let participant = participants::get(conn, conversation_id, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    let target = match up_to_seq {
        Some(seq) if seq < 0 => {
            return Err(Error::InvalidInput("upToSeq cannot be negative.".into()));
        }
        // Reading past the newest message reads up to it.
        Some(seq) => seq.min(conversation.last_message_seq),
        None => conversation.last_message_seq,
    };
    let changed = if target > participant.last_read_seq {
        participants::mark_read(
            conn,
            conversation_id,
            actor.id,
            target,
            participant.unread_from_seq,
        )
        .await?
    } else {
        None
    };
    let state = read_state(conn, conversation_id, actor.id).await?;
    if let Some(row) = changed {
        let members: Vec<ParticipantRow> =
            participants::of_conversations(conn, &[conversation_id]).await?;
        let kind = conversation.kind();
        let receipt_audience: Arc<[UserId]> = members
            .iter()
            .filter(|m| kind != ConversationKind::Broadcast || m.role() == ParticipantRole::Admin)
            .map(|m| m.user_id)
            .collect();
        events.push(ChatEvent::Read {
            conversation_id,
            kind,
            reader: actor.id,
            up_to_seq: row.last_read_seq,
            unread_count: row.unread_count,
            members: members.iter().map(|m| m.user_id).collect(),
            receipt_audience,
        });
        // Everything read: the conversation's NEW_MESSAGE notification is too.
        if row.unread_count == 0
            && let Some(id) =
                notifications::mark_chat_read(conn, actor.id, conversation_id, now_ms()).await?
        {
            events.push(ChatEvent::NotificationsChanged {
                user_id: actor.id,
                unread_count: notifications::unread_count(conn, actor.id).await?,
                read: vec![id],
                deleted: Vec::new(),
                all_read: false,
                kind: None,
            });
        }
    }
    Ok(Outcome::Read(state))
}

async fn set_unread_mark(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    mark: UnreadMark,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    // What the mark becomes: set or not, and from which message (`None`:
    // a mark from a message stays as it is).
    let (conversation_id, marked, from_seq) = match mark {
        UnreadMark::From(message_id) => {
            let (row, _, _) = visible_message(conn, actor, message_id).await?;
            if row.kind() == MessageKind::System {
                return Err(Error::InvalidInput(
                    "A system message cannot be marked unread.".into(),
                ));
            }
            if row.deleted_at.is_some() {
                return Err(Error::MessageDeleted);
            }
            (row.conversation_id, true, Some(row.seq))
        }
        UnreadMark::Conversation(id) | UnreadMark::Cleared(id) => {
            conversation_in_org(conn, actor, id).await?;
            match mark {
                UnreadMark::Conversation(_) => (id, true, None),
                _ => (id, false, Some(0)),
            }
        }
    };
    participants::lock_row(conn, engine, conversation_id, actor.id).await?;
    let member = participants::get(conn, conversation_id, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    let unread_from_seq = from_seq.unwrap_or(member.unread_from_seq);
    if (member.marked_unread != 0, member.unread_from_seq) != (marked, unread_from_seq) {
        participants::set_unread_mark(conn, &member, marked, unread_from_seq).await?;
        // Their tabs fetch the row anew: the mark and the count.
        events.push(ChatEvent::ConversationChanged {
            conversation_id,
            members: Arc::from([actor.id]),
            removed: Vec::new(),
        });
    }
    Ok(Outcome::Conversation(conversation_id))
}

async fn read_state(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
) -> Result<ReadState> {
    let (last_read_seq, last_delivered_seq, unread_count): (i64, i64, i64) = sqlx::query_as(
        "SELECT last_read_seq, last_delivered_seq, unread_count FROM participants
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(ReadState {
        conversation_id,
        user_id,
        last_read_seq,
        last_delivered_seq,
        unread_count,
    })
}

/// Records a membership change as a system message ("Alice added Bob").
async fn system_message(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    conversation: &conversations::ConversationRow,
    text: String,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Message> {
    let (event_seq, seq) = advance_one(conn, engine, conversation.id, 1, now).await?;
    let new = NewMessage {
        conversation_id: conversation.id,
        org_id: conversation.org_id,
        seq,
        event_seq,
        sender_id: actor.id,
        client_msg_id: None,
        kind: MessageKind::System,
        body: &text,
        reply_to_id: None,
        attachment_id: None,
        forwarded_from: None,
        created_at: now,
    };
    let inserted = messages::insert_many(conn, &[new]).await?;
    let (_, _, id) = inserted.first().copied().ok_or(Error::NotFound)?;
    let message = changed_message(conn, id, actor.id).await?;
    events.push(ChatEvent::MessageCreated {
        message: Arc::new(message.clone()),
        origin: None,
        kind: conversation.kind(),
        members: member_ids(conn, conversation.id).await?,
        unread: Vec::new(),
    });
    Ok(message)
}

async fn membership(
    conn: &mut AnyConnection,
    engine: Engine,
    actor: &Me,
    conversation_id: ConversationId,
    change: &MembershipChange,
    now: i64,
    events: &mut Vec<ChatEvent>,
) -> Result<Outcome> {
    let conversation = conversation_in_org(conn, actor, conversation_id).await?;
    let me = participants::get(conn, conversation_id, actor.id)
        .await?
        .ok_or(Error::NotFound)?;
    if conversation.kind() != ConversationKind::Group {
        return Err(Error::Forbidden(
            "Only groups have members, titles and roles to manage.",
        ));
    }
    let is_admin = me.role() == ParticipantRole::Admin;
    let require_admin = || {
        if is_admin {
            Ok(())
        } else {
            Err(Error::Forbidden("Only group admins can do that."))
        }
    };
    let mut removed = Vec::new();

    match change {
        MembershipChange::Add(user_ids) => {
            require_admin()?;
            let wanted: HashSet<UserId> = user_ids
                .iter()
                .copied()
                .filter(|id| *id != actor.id)
                .collect();
            let found = users::names_in_org(
                conn,
                actor.org_id,
                &wanted.iter().copied().collect::<Vec<_>>(),
            )
            .await?;
            if found.len() != wanted.len() {
                return Err(Error::NotFound);
            }
            let current: HashSet<UserId> = member_ids(conn, conversation_id)
                .await?
                .iter()
                .copied()
                .collect();
            let joining: Vec<(UserId, String)> = found
                .into_iter()
                .filter(|(id, _)| !current.contains(id))
                .collect();
            if joining.is_empty() {
                return Ok(Outcome::Done);
            }
            let rows: Vec<(UserId, ParticipantRole)> = joining
                .iter()
                .map(|(id, _)| (*id, ParticipantRole::Member))
                .collect();
            participants::insert_many(
                conn,
                conversation_id,
                &rows,
                conversation.last_message_seq,
                now,
            )
            .await?;
            let names: Vec<&str> = joining.iter().map(|(_, name)| name.as_str()).collect();
            system_message(
                conn,
                engine,
                actor,
                &conversation,
                format!("{} added {}", actor.display_name, join_names(&names)),
                now,
                events,
            )
            .await?;
        }
        MembershipChange::Remove(user_id) => {
            require_admin()?;
            if *user_id == actor.id {
                return Err(Error::InvalidInput("Use leave to leave a group.".into()));
            }
            let target = participants::get(conn, conversation_id, *user_id)
                .await?
                .ok_or(Error::NotFound)?;
            participants::remove(conn, conversation_id, *user_id).await?;
            removed.push(*user_id);
            system_message(
                conn,
                engine,
                actor,
                &conversation,
                format!("{} removed {}", actor.display_name, target.display_name),
                now,
                events,
            )
            .await?;
        }
        MembershipChange::Leave => {
            participants::remove(conn, conversation_id, actor.id).await?;
            removed.push(actor.id);
            system_message(
                conn,
                engine,
                actor,
                &conversation,
                format!("{} left", actor.display_name),
                now,
                events,
            )
            .await?;
            let remaining = participants::of_conversations(conn, &[conversation_id]).await?;
            let no_admin_left = !remaining.iter().any(|p| p.role() == ParticipantRole::Admin);
            // The last admin leaving promotes the longest-standing member.
            if let (true, Some(oldest)) = (
                no_admin_left,
                remaining.iter().min_by_key(|p| (p.joined_at, p.user_id)),
            ) {
                participants::set_role(
                    conn,
                    conversation_id,
                    oldest.user_id,
                    ParticipantRole::Admin,
                )
                .await?;
                system_message(
                    conn,
                    engine,
                    actor,
                    &conversation,
                    format!("{} is now an admin", oldest.display_name),
                    now,
                    events,
                )
                .await?;
            }
        }
        MembershipChange::Rename(title) => {
            require_admin()?;
            if conversation.title.as_deref() == Some(title.as_str()) {
                return Ok(Outcome::Done);
            }
            conversations::set_title(conn, conversation_id, title.as_str()).await?;
            system_message(
                conn,
                engine,
                actor,
                &conversation,
                format!(
                    "{} renamed the group to “{}”",
                    actor.display_name,
                    title.as_str()
                ),
                now,
                events,
            )
            .await?;
        }
        MembershipChange::SetRole(user_id, role) => {
            require_admin()?;
            let target = participants::get(conn, conversation_id, *user_id)
                .await?
                .ok_or(Error::NotFound)?;
            if target.role() == *role {
                return Ok(Outcome::Done);
            }
            let admins = participants::of_conversations(conn, &[conversation_id])
                .await?
                .iter()
                .filter(|p| p.role() == ParticipantRole::Admin)
                .count();
            if target.role() == ParticipantRole::Admin && admins == 1 {
                return Err(Error::Forbidden("A group needs at least one admin."));
            }
            participants::set_role(conn, conversation_id, *user_id, *role).await?;
            let what = match role {
                ParticipantRole::Admin => "an admin",
                ParticipantRole::Moderator => "a moderator",
                ParticipantRole::Member => "a member",
            };
            system_message(
                conn,
                engine,
                actor,
                &conversation,
                format!(
                    "{} made {} {}",
                    actor.display_name, target.display_name, what
                ),
                now,
                events,
            )
            .await?;
        }
    }
    events.push(ChatEvent::ConversationChanged {
        conversation_id,
        members: member_ids(conn, conversation_id).await?,
        removed,
    });
    Ok(Outcome::Done)
}

/// "Bob", "Bob and Carol", "Bob, Carol and Dave".
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

#[cfg(test)]
mod tests {
    use super::join_names;

    #[test]
    fn names_are_joined_as_a_person_would() {
        assert_eq!(join_names(&["Bob"]), "Bob");
        assert_eq!(join_names(&["Bob", "Carol"]), "Bob and Carol");
        assert_eq!(join_names(&["Bob", "Carol", "Dave"]), "Bob, Carol and Dave");
    }
}
