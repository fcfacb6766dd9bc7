//! The WebSocket gateway at `/ws`: one socket per browser tab or API client.
//!
//! The edge only authenticates, checks the origin and the per-user limit,
//! and moves frames: what they mean is the backend's business
//! (`backend::realtime`). Each connection runs two tasks: the reader parses
//! client frames and calls the backend; the writer drains the connection's
//! queues onto the socket, so a slow socket never blocks the reader or the hub.

mod connection;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use app::api::session::request_token;
use app::api::state::AppState;
use app::api::{AppError, ErrorCode};

use crate::middleware::cross_site::origin_is_allowed;

/// Limits and timings of the gateway. Tests shorten the timings.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Frames larger than this close the socket with 1009.
    pub max_frame_bytes: usize,
    /// `sendMessage` frames per second, and the burst allowed above it.
    pub sends_per_second: u32,
    pub send_burst: u32,
    pub max_sockets_per_user: usize,
    /// Malformed frames tolerated per minute before closing with 1008.
    pub max_bad_frames: u32,
    pub ping_interval: Duration,
    /// Pings a peer may leave unanswered before it is dropped.
    pub missed_pongs: u32,
    /// How long the server waits for `resume` before going live without it.
    pub resume_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_bytes: 64 * 1024,
            sends_per_second: 20,
            send_burst: 40,
            max_sockets_per_user: 20,
            max_bad_frames: 10,
            ping_interval: Duration::from_secs(20),
            missed_pongs: 2,
            resume_wait: Duration::from_secs(1),
        }
    }
}

impl Limits {
    /// The defaults, with `CRM_CHAT_WS_SENDS_PER_SECOND`, `CRM_CHAT_WS_SEND_BURST`
    /// and `CRM_CHAT_WS_MAX_SOCKETS_PER_USER` applied when set.
    pub fn from_env() -> anyhow::Result<Limits> {
        let read = |name: &str| -> anyhow::Result<Option<u32>> {
            match std::env::var(name) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("{name} must be a number"))?,
                )),
                _ => Ok(None),
            }
        };
        let defaults = Limits::default();
        Ok(Limits {
            sends_per_second: read("CRM_CHAT_WS_SENDS_PER_SECOND")?
                .unwrap_or(defaults.sends_per_second),
            send_burst: read("CRM_CHAT_WS_SEND_BURST")?.unwrap_or(defaults.send_burst),
            max_sockets_per_user: read("CRM_CHAT_WS_MAX_SOCKETS_PER_USER")?
                .map_or(defaults.max_sockets_per_user, |n| n as usize),
            ..defaults
        })
    }
}

/// The build of the web app this server serves ([`app::build_id`]), which
/// `resumed` announces so that pages of another build offer to reload.
#[derive(Clone, Debug, Default)]
pub struct Build(pub Option<Arc<str>>);

/// # GET /ws
///
/// Upgrades to a WebSocket. Browsers authenticate with the session cookie and
/// must come from an allowed origin (cross-site WebSocket hijacking is
/// otherwise possible, since cookies ride along); other clients send
/// `Authorization: Bearer`.
pub async fn upgrade(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<Limits>,
    axum::Extension(Build(build)): axum::Extension<Build>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if origin.is_some_and(|origin| {
        !origin_is_allowed(origin, &headers, &state.backend.config.allowed_origins)
    }) {
        tracing::warn!(origin, "refused a WebSocket from a foreign origin");
        return AppError::new(
            ErrorCode::CrossSiteRequest,
            "This origin may not open a WebSocket.",
        )
        .into_response();
    }
    let Some(token) = request_token(&headers) else {
        return AppError::unauthenticated().into_response();
    };
    let (me, expires_at) = match state.backend.authenticate_until(&token).await {
        Ok(session) => session,
        Err(error) => return AppError::from(error).into_response(),
    };
    if state.backend.hub.connection_count(me.id) >= limits.max_sockets_per_user {
        let error = AppError::new(
            ErrorCode::TooManyConnections,
            format!(
                "At most {} connections per user; close another tab first.",
                limits.max_sockets_per_user
            ),
        );
        return (StatusCode::TOO_MANY_REQUESTS, axum::Json(error)).into_response();
    }
    // Chat frames are a few hundred bytes; a larger one grows the buffer.
    // Frames queued together (a message, its acknowledgement, the list's
    // counts) gather in the write buffer until the connection flushes them
    // as one write; a buffer that has held them keeps up to about twice its
    // size allocated, so it stays small. An idle connection never grows it.
    ws.read_buffer_size(512)
        .write_buffer_size(4096)
        .max_write_buffer_size(1024 * 1024)
        // Twice the limit: frames between the two are refused with a clear 1009.
        .max_message_size(limits.max_frame_bytes * 2)
        .max_frame_size(limits.max_frame_bytes * 2)
        .on_upgrade(move |socket| {
            connection::run(socket, state.backend, me, expires_at, limits, build)
        })
}
