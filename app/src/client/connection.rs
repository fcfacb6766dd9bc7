//! The page's one WebSocket: connect, resume from the loaded threads'
//! cursors, apply what arrives, and reconnect with exponential backoff and
//! jitter when it drops. A lost connection is noticed by a heartbeat (mobile
//! networks drop silently), and a tab that comes back to the foreground or a
//! network that returns reconnects at once, which matters on mobile Safari.
//!
//! Close codes say what to do: 4401 (session ended) goes to sign-in, 4008
//! (fell behind) resumes at once, anything else backs off.

use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{is_online, now_ms, sleep};
use crate::model::{Followup, Link};
use crate::protocol::{ClientEvent, ServerEvent, close_code};
use crate::store::Store;

/// A ping goes out this often; with nothing heard for [`SILENCE_MS`], the
/// connection is taken for dead.
const HEARTBEAT_MS: u32 = 15_000;
const SILENCE_MS: i64 = 40_000;
const MAX_BACKOFF_MS: f64 = 30_000.0;
/// How long "Back online" shows.
const RESTORED_MS: u32 = 2_500;

/// Why the connection loop should look again now rather than after its
/// backoff: the network returned, or the tab became visible.
#[derive(Clone, Copy, Debug)]
enum Wake {
    Online,
    Offline,
    Visible,
}

/// Starts the connection for the page's lifetime.
pub fn start(store: Store) {
    let (wake_tx, wake_rx) = mpsc::unbounded::<Wake>();
    listen(&wake_tx);
    spawn_local(run(store, wake_rx));
}

/// Window events that wake the loop. The listeners live as long as the page.
fn listen(wake: &mpsc::UnboundedSender<Wake>) {
    use leptos::ev;
    let on_online = wake.clone();
    let online = window_event_listener(ev::online, move |_| {
        let _ = on_online.unbounded_send(Wake::Online);
    });
    let on_offline = wake.clone();
    let offline = window_event_listener(ev::offline, move |_| {
        let _ = on_offline.unbounded_send(Wake::Offline);
    });
    let on_visible = wake.clone();
    // Fired at the document; it bubbles to the window.
    let visible = window_event_listener_untyped("visibilitychange", move |_| {
        let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
        if visible {
            let _ = on_visible.unbounded_send(Wake::Visible);
        }
    });
    // The page never unmounts the chat without a full navigation.
    std::mem::forget((online, offline, visible));
}

async fn run(store: Store, mut wake: mpsc::UnboundedReceiver<Wake>) {
    let mut attempt: u32 = 0;
    loop {
        let code = if is_online() {
            session(store, &mut wake, &mut attempt).await
        } else {
            None
        };
        store.set_outbound(None);
        if code == Some(close_code::SESSION_ENDED) {
            super::go_to("/login");
            return;
        }
        store.model.update(|m| m.link = Link::Reconnecting);
        let delay = if code == Some(close_code::RESUME_REQUIRED) && attempt == 0 {
            0.0
        } else {
            backoff_ms(attempt)
        };
        attempt = attempt.saturating_add(1);
        // Wait out the backoff, or less when the network or the tab returns;
        // while offline, wait for the network.
        let mut pause = Box::pin(sleep(delay as u32).fuse());
        loop {
            futures::select_biased! {
                woke = wake.next() => match woke {
                    Some(Wake::Online | Wake::Visible) if is_online() => break,
                    Some(_) => continue,
                    None => return,
                },
                () = pause => if is_online() { break },
            }
        }
    }
}

/// Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … up to 30 s,
/// each scaled by a random factor in [0.5, 1.5).
fn backoff_ms(attempt: u32) -> f64 {
    let base = (500.0 * 2f64.powi(attempt.min(10) as i32)).min(MAX_BACKOFF_MS);
    base * (0.5 + js_sys::Math::random())
}

/// One connection, from opening to closing. Returns the close code, if any.
async fn session(
    store: Store,
    wake: &mut mpsc::UnboundedReceiver<Wake>,
    attempt: &mut u32,
) -> Option<u16> {
    let socket = match WebSocket::open(&socket_url()) {
        Ok(socket) => socket,
        Err(error) => {
            leptos::logging::debug_warn!("could not open the socket: {error}");
            return None;
        }
    };
    let (mut sink, stream) = socket.split();
    let mut stream = stream.fuse();
    let cursors = store.model.with_untracked(|m| m.cursors());
    if send(&mut sink, &ClientEvent::Resume { cursors })
        .await
        .is_err()
    {
        return None;
    }
    let (outbound, mut frames) = mpsc::unbounded::<ClientEvent>();
    let mut heard = now_ms();
    let mut heartbeat = Box::pin(sleep(HEARTBEAT_MS).fuse());
    loop {
        let step = futures::select_biased! {
            frame = stream.next() => Step::Frame(frame),
            event = frames.next() => Step::Out(event),
            woke = wake.next() => Step::Wake(woke),
            () = heartbeat => Step::Beat,
        };
        match step {
            Step::Frame(frame) => {
                heard = now_ms();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(event) = ServerEvent::from_json(&text) else {
                            leptos::logging::debug_warn!("an event was not understood: {text}");
                            continue;
                        };
                        let resumed = matches!(event, ServerEvent::Resumed { .. });
                        receive(store, event);
                        if resumed {
                            *attempt = 0;
                            store.set_outbound(Some(outbound.clone()));
                            after_resume(store, &mut sink).await;
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => {}
                    Some(Err(WebSocketError::ConnectionClose(close))) => return Some(close.code),
                    Some(Err(_)) | None => return None,
                }
            }
            Step::Out(event) => {
                if let Some(event) = event
                    && send(&mut sink, &event).await.is_err()
                {
                    return None;
                }
            }
            // The browser knows the network is gone: do not wait for the
            // heartbeat to find out.
            Step::Wake(Some(Wake::Offline) | None) => return None,
            Step::Wake(Some(_)) => {}
            Step::Beat => {
                if now_ms() - heard > SILENCE_MS
                    || send(&mut sink, &ClientEvent::Ping).await.is_err()
                {
                    return None;
                }
                heartbeat = Box::pin(sleep(HEARTBEAT_MS).fuse());
            }
        }
    }
}

enum Step {
    Frame(Option<Result<Message, WebSocketError>>),
    Out(Option<ClientEvent>),
    Wake(Option<Wake>),
    Beat,
}

async fn send(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    event: &ClientEvent,
) -> Result<(), ()> {
    let json = serde_json::to_string(event).map_err(|_| ())?;
    sink.send(Message::Text(json)).await.map_err(|_| ())
}

/// Applies a server event and does what it asks for.
fn receive(store: Store, event: ServerEvent) {
    let now = now_ms();
    let alert = store.model.with_untracked(|m| m.alert_for(&event));
    let mut followups = Vec::new();
    store.model.update(|m| followups = m.apply(event, now));
    if let Some(alert) = alert {
        super::alerts::show(alert);
    }
    for followup in followups {
        match followup {
            Followup::RefreshConversation(id) => {
                let mark = store.model.with_untracked(|m| m.mark());
                spawn_local(async move {
                    if let Ok(row) = crate::api::chat::get_conversation(id).await {
                        store
                            .model
                            .update(|m| m.merge_fetched_conversation(row, mark));
                    }
                });
            }
            Followup::ConversationGone(_) | Followup::SendFailed(_) => {}
        }
    }
}

/// After a resume: the outbox goes out again (the server keeps each message
/// once, whatever the number of tries), and the list and the bell catch up
/// on what happened in conversations whose threads are not loaded.
async fn after_resume(store: Store, sink: &mut futures::stream::SplitSink<WebSocket, Message>) {
    let mut due = Vec::new();
    store.model.update(|m| due = m.sends_to_retry());
    for outgoing in &due {
        if send(sink, &crate::store::send_frame(outgoing))
            .await
            .is_err()
        {
            return;
        }
    }
    spawn_local(async move {
        // Merged field by field with what the socket pushes meanwhile, so
        // one answer does, however busy the organisation.
        let mark = store.model.with_untracked(|m| m.mark());
        if let Ok(rows) = crate::api::chat::list_conversations().await {
            let missed = store.model.try_update(|m| {
                let missed = m.missed_alerts(&rows);
                m.merge_fetched_list(rows, mark);
                missed
            });
            for alert in missed.into_iter().flatten() {
                super::alerts::show(alert);
            }
        }
        let mark = store.model.with_untracked(|m| m.mark());
        store.model.update(|m| m.notifications_missed());
        if let Ok(count) = crate::api::notifications::notification_count().await {
            store
                .model
                .update(|m| m.fetched_notification_count(count, mark));
        }
    });
    if store.model.with_untracked(|m| m.link == Link::Restored) {
        spawn_local(async move {
            sleep(RESTORED_MS).await;
            store.model.update(|m| {
                if m.link == Link::Restored {
                    m.link = Link::Live;
                }
            });
        });
    }
}

/// `ws://` or `wss://` to this page's host.
fn socket_url() -> String {
    let location = window().location();
    let scheme = if location.protocol().as_deref() == Ok("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/ws")
}
