//! One WebSocket connection: a reader task and a writer task.
//!
//! The writer owns the socket's sending half and two queues: the live queue
//! the hub fills in commit order, and a control queue for the reader's
//! replies. Live events wait until the client has resumed (or said it does
//! not want to); then the replay goes out, then `resumed`, then live events,
//! skipping any the replay already covered. So nothing is lost or doubled at
//! the boundary.

use std::collections::BTreeMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use governor::{Quota, RateLimiter};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use app::api::{AppError, ErrorCode};
use app::backend::chat::events::ConnectionId;
use app::backend::chat::writer::Outcome;
use app::backend::realtime::session::LiveConnection;
use app::backend::realtime::{Delivery, Frame, Live, to_json};
use app::backend::{Backend, now_ms};
use app::protocol::{ClientEvent, ConversationId, Me, SendMessage, ServerEvent, close_code};

use super::Limits;

/// Frames the reader may queue for the writer before the connection counts
/// as stuck.
const CONTROL_QUEUE: usize = 256;
/// How long a closing writer may take to say goodbye.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Frames written before one flush (see [`Writer::send`]).
const COALESCE: usize = 32;

/// What the reader hands the writer, ahead of live events.
enum Control {
    Frame(Bytes),
    /// The replay is ready: send it, then live events after these cursors.
    Resume {
        frames: Vec<Bytes>,
        cursors: BTreeMap<ConversationId, i64>,
    },
    /// No resume: go live as things are.
    GoLive,
    Close(u16, &'static str),
}

/// Serves one upgraded socket until it closes. The setup runs before the
/// returned future: an async fn would keep its arguments (the socket among
/// them) in the connection's state for as long as it lives.
pub fn run(
    socket: WebSocket,
    backend: Backend,
    me: Me,
    expires_at: i64,
    limits: Limits,
    build: Option<Arc<str>>,
) -> impl Future<Output = ()> {
    let LiveConnection { id, live, kill } = backend.connect(&me);
    // One copy for both halves.
    let me = Arc::new(me);
    let (sink, stream) = socket.split();
    // Boxed items: every connection holds a block of queue slots, so they
    // are one pointer each.
    let (control_tx, control_rx) = mpsc::channel::<Box<Control>>(CONTROL_QUEUE);
    let last_pong = Arc::new(AtomicI64::new(now_ms()));
    let writer = Writer {
        sink,
        live,
        control: control_rx,
        backend: backend.clone(),
        me: me.clone(),
        limits: limits.clone(),
        last_pong: last_pong.clone(),
        expires_at,
        build,
        on_the_wire: Vec::new(),
    };
    let writer = tokio::spawn(writer.run(kill));
    let reader = Reader {
        control: control_tx,
        backend,
        me,
        id,
        limits,
        last_pong,
    };
    reader.run(stream, writer)
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

type Sends = FuturesUnordered<
    std::pin::Pin<Box<dyn Future<Output = (String, app::backend::Result<Outcome>)> + Send>>,
>;

struct Reader {
    control: mpsc::Sender<Box<Control>>,
    backend: Backend,
    me: Arc<Me>,
    id: ConnectionId,
    limits: Limits,
    last_pong: Arc<AtomicI64>,
}

/// Why the reader stops.
enum Stop {
    Close(u16, &'static str),
    Gone,
}

impl Reader {
    /// Not an async fn, for the reason given at [`Writer::run`].
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn stores its arguments twice"
    )]
    fn run(
        self,
        stream: SplitStream<WebSocket>,
        writer: JoinHandle<()>,
    ) -> impl Future<Output = ()> {
        async move {
            self.serve(stream, writer).await;
            // Boxed: this future would otherwise live in every connection's state.
            Box::pin(self.backend.disconnect(&self.me, self.id)).await;
        }
    }

    async fn serve(&self, mut stream: SplitStream<WebSocket>, mut writer: JoinHandle<()>) {
        let sends_per_second =
            NonZeroU32::new(self.limits.sends_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.limits.send_burst).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::direct(Quota::per_second(sends_per_second).allow_burst(burst));
        let mut bad_frames = BadFrames::default();
        let mut sends: Sends = FuturesUnordered::new();
        // Until the client resumes (or the wait runs out). Boxed and dropped
        // then: an idle connection keeps no timer.
        let mut resume_deadline = Some(Box::pin(tokio::time::sleep(self.limits.resume_wait)));

        let mut writer_done = false;
        let stop = loop {
            tokio::select! {
                biased;
                _ = &mut writer => {
                    writer_done = true;
                    break Stop::Gone;
                }
                Some((client_msg_id, result)) = sends.next() => Box::pin(self.acknowledge(client_msg_id, result)).await,
                () = async {
                    match resume_deadline.as_mut() {
                        Some(deadline) => deadline.await,
                        None => std::future::pending().await,
                    }
                }, if resume_deadline.is_some() => {
                    resume_deadline = None;
                    // Boxed, like every rare step below: inline, its future
                    // would take room in every idle connection's state.
                    Box::pin(self.to_writer(Control::GoLive)).await;
                }
                frame = stream.next() => {
                    let text = match frame {
                        None | Some(Ok(Message::Close(_))) => break Stop::Gone,
                        Some(Err(error)) => break close_for(&error),
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Pong(_))) => {
                            self.last_pong.store(now_ms(), Ordering::Relaxed);
                            continue;
                        }
                        Some(Ok(Message::Ping(_))) => continue,
                        Some(Ok(Message::Binary(_))) => {
                            Box::pin(self.error(ErrorCode::BadFrame, "Frames are JSON text; binary frames are not understood.", None)).await;
                            if bad_frames.one_more(self.limits.max_bad_frames) {
                                break Stop::Close(1008, "too many malformed frames");
                            }
                            continue;
                        }
                    };
                    if text.len() > self.limits.max_frame_bytes {
                        break Stop::Close(1009, "frame too large");
                    }
                    let event = match serde_json::from_str::<ClientEvent>(&text) {
                        Ok(event) => event,
                        Err(error) => {
                            let message = format!("The frame is not a known event: {error}");
                            Box::pin(self.error(ErrorCode::BadFrame, &message, None)).await;
                            if bad_frames.one_more(self.limits.max_bad_frames) {
                                break Stop::Close(1008, "too many malformed frames");
                            }
                            continue;
                        }
                    };
                    if resume_deadline.take().is_some() {
                        if let ClientEvent::Resume { cursors } = event {
                            // Boxed, here and below: the futures of rare or
                            // large steps would otherwise live inline in every
                            // idle connection's state.
                            Box::pin(self.resume(cursors)).await;
                            continue;
                        }
                        Box::pin(self.to_writer(Control::GoLive)).await;
                    }
                    if let Err(stop) = Box::pin(self.handle(event, &limiter, &mut sends)).await {
                        break stop;
                    }
                }
            }
        };
        if writer_done {
            return;
        }
        let (code, reason) = match stop {
            Stop::Close(code, reason) => (code, reason),
            Stop::Gone => (1000, ""),
        };
        // The writer may be stuck on a socket that does not drain: do not wait for it.
        let _ = self
            .control
            .try_send(Box::new(Control::Close(code, reason)));
        if Box::pin(tokio::time::timeout(CLOSE_GRACE, &mut writer))
            .await
            .is_err()
        {
            writer.abort();
        }
    }

    async fn handle(
        &self,
        event: ClientEvent,
        limiter: &RateLimiter<
            governor::state::NotKeyed,
            governor::state::InMemoryState,
            governor::clock::DefaultClock,
        >,
        sends: &mut Sends,
    ) -> Result<(), Stop> {
        let me = &self.me;
        match event {
            ClientEvent::Resume { .. } => {
                self.error(
                    ErrorCode::BadFrame,
                    "resume is only understood as the first frame.",
                    None,
                )
                .await;
            }
            ClientEvent::SendMessage {
                conversation_id,
                client_msg_id,
                content,
                message_type,
                reply_to,
                attachment_id,
            } => {
                if limiter.check().is_err() {
                    let message = format!(
                        "At most {} messages per second; slow down.",
                        self.limits.sends_per_second
                    );
                    self.error(ErrorCode::RateLimited, &message, Some(client_msg_id))
                        .await;
                    return Ok(());
                }
                let request = SendMessage {
                    client_msg_id: Some(client_msg_id.clone()),
                    content,
                    message_type,
                    reply_to,
                    attachment_id,
                };
                // Queued in order now, answered whenever: this connection's
                // sends keep their order and need not wait for each other.
                match self
                    .backend
                    .enqueue_send(me, conversation_id, request, Some(self.id))
                    .await
                {
                    Ok(answer) => {
                        sends.push(Box::pin(async move { (client_msg_id, answer.await) }))
                    }
                    Err(error) => self.fail(error, Some(client_msg_id)).await,
                }
            }
            ClientEvent::EditMessage {
                reference,
                message_id,
                content,
            } => {
                if let Err(error) = self.backend.edit_message(me, message_id, &content).await {
                    self.fail(error, reference).await;
                }
            }
            ClientEvent::DeleteMessage {
                reference,
                message_id,
            } => {
                if let Err(error) = self.backend.delete_message(me, message_id).await {
                    self.fail(error, reference).await;
                }
            }
            ClientEvent::ToggleReaction {
                reference,
                message_id,
                emoji,
            } => {
                if let Err(error) = self.backend.toggle_reaction(me, message_id, &emoji).await {
                    self.fail(error, reference).await;
                }
            }
            ClientEvent::MarkMessagesAsRead {
                conversation_id,
                up_to_seq,
            } => {
                if let Err(error) = self.backend.mark_read(me, conversation_id, up_to_seq).await {
                    self.fail(error, None).await;
                }
            }
            ClientEvent::Typing {
                conversation_id,
                is_typing,
            } => {
                if let Err(error) = self.backend.typing(me, conversation_id, is_typing).await {
                    self.fail(error, None).await;
                }
            }
            ClientEvent::Ping => {
                if let Some(json) = to_json(&ServerEvent::Pong) {
                    self.to_writer(Control::Frame(json)).await;
                }
            }
        }
        Ok(())
    }

    async fn resume(&self, cursors: BTreeMap<ConversationId, i64>) {
        match self.backend.replay(&self.me, &cursors).await {
            Ok(replay) => {
                for error in &replay.errors {
                    if let Some(json) = to_json(error) {
                        self.to_writer(Control::Frame(json)).await;
                    }
                }
                self.to_writer(Control::Resume {
                    frames: replay.frames,
                    cursors: replay.cursors,
                })
                .await;
            }
            Err(error) => {
                self.fail(error, None).await;
                self.to_writer(Control::Close(1011, "the replay failed; try again"))
                    .await;
            }
        }
    }

    /// A send has its answer: a retry of a stored message is acknowledged
    /// here (no event announces it again); a new one was acknowledged by the
    /// hub, in order with everything else.
    async fn acknowledge(&self, client_msg_id: String, result: app::backend::Result<Outcome>) {
        match result {
            Ok(Outcome::Replayed(message)) => {
                let ack = ServerEvent::MessageDelivered {
                    client_msg_id,
                    message_id: message.id,
                    conversation_id: message.conversation_id,
                    timestamp: message.created_at,
                    message: *message,
                };
                if let Some(json) = to_json(&ack) {
                    self.to_writer(Control::Frame(json)).await;
                }
            }
            Ok(_) => {}
            Err(error) => self.fail(error, Some(client_msg_id)).await,
        }
    }

    async fn fail(&self, error: app::backend::Error, reference: Option<String>) {
        let error = AppError::from(error);
        self.error(error.code, &error.message, reference).await;
    }

    async fn error(&self, code: ErrorCode, message: &str, reference: Option<String>) {
        // The event is gone before the await: an event kept across it would
        // take its whole size in the state of every caller's future.
        let json = to_json(&ServerEvent::Error {
            code,
            message: message.to_owned(),
            reference,
            conversation_id: None,
        });
        if let Some(json) = json {
            self.to_writer(Control::Frame(json)).await;
        }
    }

    /// Hands the writer a frame, waiting for room: a client that sends
    /// faster than it reads the answers is slowed down, not answered less.
    async fn to_writer(&self, control: Control) {
        let _ = self.control.send(Box::new(control)).await;
    }
}

/// Malformed frames in the last minute.
#[derive(Default)]
struct BadFrames {
    window_started: Option<std::time::Instant>,
    count: u32,
}

impl BadFrames {
    /// Counts one; whether that is more than `max` within a minute.
    fn one_more(&mut self, max: u32) -> bool {
        let now = std::time::Instant::now();
        match self.window_started {
            Some(start) if now.duration_since(start) < Duration::from_secs(60) => self.count += 1,
            _ => {
                self.window_started = Some(now);
                self.count = 1;
            }
        }
        self.count > max
    }
}

/// The close code for a broken read: too large (1009), not UTF-8 (1007),
/// otherwise a protocol error (1002).
fn close_for(error: &axum::Error) -> Stop {
    let detail = error.to_string();
    if detail.contains("Space limit exceeded")
        || detail.contains("too long")
        || detail.contains("too big")
    {
        Stop::Close(1009, "frame too large")
    } else if detail.to_ascii_lowercase().contains("utf-8") || detail.contains("UTF8") {
        Stop::Close(1007, "frames must be valid UTF-8")
    } else {
        tracing::debug!(%detail, "a WebSocket read failed");
        Stop::Close(1002, "protocol error")
    }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

struct Writer {
    sink: SplitSink<WebSocket, Message>,
    live: mpsc::Receiver<Live>,
    control: mpsc::Receiver<Box<Control>>,
    backend: Backend,
    me: Arc<Me>,
    limits: Limits,
    last_pong: Arc<AtomicI64>,
    expires_at: i64,
    /// The web app's build, for `resumed`.
    build: Option<Arc<str>>,
    /// Messages in the frames being written: delivered once they are.
    on_the_wire: Vec<Delivery>,
}

/// Why the connection must close now, ahead of anything queued. Polled in
/// two places; whichever sees it resolve returns at once.
type KillSwitch = oneshot::Receiver<(u16, &'static str)>;

/// Why the writer stops.
struct Closed(u16, &'static str);

impl Writer {
    /// Not an async fn: its arguments would be stored twice in the future,
    /// once as they came and once as the locals the body moves them into
    /// (rust-lang/rust#62958), and this future lives as long as the
    /// connection.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn stores its arguments twice"
    )]
    fn run(mut self, mut kill: KillSwitch) -> impl Future<Output = ()> {
        async move {
            let Closed(code, reason) = self.serve(&mut kill).await;
            if code != 0 {
                let frame = Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                }));
                let _ = tokio::time::timeout(CLOSE_GRACE, self.sink.send(frame)).await;
            }
            let _ = tokio::time::timeout(CLOSE_GRACE, self.sink.close()).await;
        }
    }

    async fn serve(&mut self, kill: &mut KillSwitch) -> Closed {
        let mut live_enabled = false;
        // After a replay: the event each resumed conversation is at.
        let mut cursors: BTreeMap<ConversationId, i64> = BTreeMap::new();
        let mut ping = tokio::time::interval(self.limits.ping_interval);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.tick().await;
        let until_expiry =
            Duration::from_millis(u64::try_from(self.expires_at - now_ms()).unwrap_or(0));
        let expiry = tokio::time::sleep(until_expiry);
        tokio::pin!(expiry);

        loop {
            let outgoing = tokio::select! {
                biased;
                killed = &mut *kill => return killed_by(killed),
                () = &mut expiry => return Closed(close_code::SESSION_ENDED, "session expired"),
                _ = ping.tick() => {
                    let silent_for = now_ms() - self.last_pong.load(Ordering::Relaxed);
                    let allowed = self.limits.ping_interval.as_millis() as i64 * i64::from(self.limits.missed_pongs);
                    if silent_for > allowed {
                        tracing::info!(user = %self.me.id, "dropping a peer that stopped answering pings");
                        return Closed(0, "");
                    }
                    Outgoing::Message(Message::Ping(Bytes::new()))
                }
                control = self.control.recv() => match control.map(|c| *c) {
                    None => return Closed(1000, ""),
                    Some(Control::Close(code, reason)) => return Closed(code, reason),
                    Some(Control::Frame(json)) => Outgoing::Frame(json),
                    Some(Control::GoLive) => {
                        live_enabled = true;
                        continue;
                    }
                    Some(Control::Resume { frames, cursors: resumed }) => {
                        for frame in frames {
                            if let Err(closed) = self.send(kill, Outgoing::Frame(frame), None).await {
                                return closed;
                            }
                        }
                        let done = ServerEvent::Resumed {
                            cursors: resumed.clone(),
                            build: self.build.as_deref().map(str::to_owned),
                        };
                        cursors = resumed;
                        live_enabled = true;
                        match to_json(&done) {
                            Some(json) => Outgoing::Frame(json),
                            None => continue,
                        }
                    }
                },
                live = self.live.recv(), if live_enabled => match live {
                    None => return Closed(1001, "going away"),
                    Some(live) => match self.live_frame(live, &mut cursors).await {
                        Some(json) => Outgoing::Frame(json),
                        None => continue,
                    },
                },
            };
            let drain_live = if live_enabled {
                Some(&mut cursors)
            } else {
                None
            };
            if let Err(closed) = self.send(kill, outgoing, drain_live).await {
                return closed;
            }
        }
    }

    /// The frame a live event becomes for this connection, if any: an event
    /// the replay already covered is dropped, and a conversation's refresh
    /// is read now.
    async fn live_frame(
        &mut self,
        live: Live,
        cursors: &mut BTreeMap<ConversationId, i64>,
    ) -> Option<Bytes> {
        match live {
            Live::Frame(frame) => {
                let Frame {
                    sequence,
                    delivery,
                    ref json,
                } = *frame;
                let resumed_cursor = sequence.and_then(|(conversation_id, event_seq)| {
                    Some((cursors.get_mut(&conversation_id)?, event_seq))
                });
                if let Some((cursor, event_seq)) = resumed_cursor {
                    if event_seq <= *cursor {
                        // Already in the replay.
                        return None;
                    }
                    *cursor = event_seq;
                }
                if let Some(delivery) = delivery.filter(|d| d.sender_id != self.me.id) {
                    self.on_the_wire.push(delivery);
                }
                Some(json.clone())
            }
            Live::Refresh(conversation_id) => {
                match Box::pin(self.backend.conversation_event(&self.me, conversation_id)).await {
                    Ok(event) => to_json(&event),
                    Err(error) => {
                        tracing::warn!(%error, "could not refresh a conversation for a live connection");
                        None
                    }
                }
            }
        }
    }

    /// Sends a frame, and with it (when `drain_live` is given, with the
    /// resumed cursors) the live frames already queued, up to [`COALESCE`],
    /// in one write: a message, its acknowledgement and the list's new
    /// counts reach a connection together, and one write each cost a
    /// system call and a TCP segment apiece. Gives up if the connection is
    /// killed meanwhile (a slow client's socket may not drain: its send
    /// must not hold the writer). The messages in it count as delivered
    /// once written.
    async fn send(
        &mut self,
        kill: &mut KillSwitch,
        first: Outgoing,
        drain_live: Option<&mut BTreeMap<ConversationId, i64>>,
    ) -> Result<(), Closed> {
        // A peer that stops reading for as long as it may go without
        // answering pings is gone, whatever its TCP connection says.
        let patience = self.limits.ping_interval * self.limits.missed_pongs.max(1);
        let written = tokio::select! {
            biased;
            killed = kill => Err(killed_by(killed)),
            // Boxed: a timer per connection only while frames are in flight.
            written = Box::pin(tokio::time::timeout(patience, self.write(first, drain_live))) => match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) | Err(_) => Err(Closed(0, "")),
            },
        };
        let wrote = written.is_ok();
        for delivery in self.on_the_wire.drain(..).filter(|_| wrote) {
            self.backend
                .delivered(self.me.id, delivery.conversation_id, delivery.seq);
            metrics::counter!("crm_chat_messages_delivered_total").increment(1);
            metrics::histogram!("crm_chat_delivery_latency_seconds")
                .record((now_ms() - delivery.created_at).max(0) as f64 / 1000.0);
        }
        written
    }

    async fn write(
        &mut self,
        first: Outgoing,
        drain_live: Option<&mut BTreeMap<ConversationId, i64>>,
    ) -> Result<(), axum::Error> {
        if let Some(message) = first.into_message() {
            self.sink.feed(message).await?;
        }
        if let Some(cursors) = drain_live {
            for _ in 1..COALESCE {
                let Ok(live) = self.live.try_recv() else {
                    break;
                };
                let json = self.live_frame(live, cursors).await;
                if let Some(message) = json.and_then(|json| Outgoing::Frame(json).into_message()) {
                    self.sink.feed(message).await?;
                }
            }
        }
        self.sink.flush().await
    }
}

/// How a killed connection closes; a hub that forgot it means shutdown.
fn killed_by(killed: Result<(u16, &'static str), oneshot::error::RecvError>) -> Closed {
    match killed {
        Ok((code, reason)) => Closed(code, reason),
        Err(_) => Closed(1001, "going away"),
    }
}

enum Outgoing {
    Message(Message),
    Frame(Bytes),
}

impl Outgoing {
    /// The WebSocket message; none for a frame that is not UTF-8 (frames
    /// are serde_json's output, so that does not happen).
    fn into_message(self) -> Option<Message> {
        match self {
            Outgoing::Message(message) => Some(message),
            Outgoing::Frame(json) => Utf8Bytes::try_from(json).ok().map(Message::Text),
        }
    }
}
