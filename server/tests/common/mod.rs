//! Test support: the real server on port 0 with a fresh database, and typed helpers.
#![allow(dead_code)]

use std::sync::Once;

use app::backend::db::testing::TestDb;
use app::backend::{Backend, Engine};
use app::protocol::{LoginResponse, OrgId, OrgRole, UserId};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use server::Server;
use tokio::sync::OnceCell;

#[allow(unused_imports)] // Not every test file runs on both engines.
pub use app::test_both_dbs;

pub const PASSWORD: &str = "correct horse battery staple";

/// A server for one test, on its own database.
pub struct TestApp {
    pub server: Server,
    pub url: String,
    pub http: Client,
    pub engine: Engine,
    // Kept alive for the test: dropping it drops the database.
    pub test_db: TestDb,
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        TestApp::spawn_with(engine, |_| {}).await
    }

    /// A server whose configuration the test adjusts first.
    pub async fn spawn_with(
        engine: Engine,
        configure: impl FnOnce(&mut app::backend::Config),
    ) -> TestApp {
        TestApp::start(engine, configure, server::gateway::Limits::default(), None).await
    }

    /// A server whose WebSocket limits and timings the test sets.
    pub async fn spawn_with_limits(engine: Engine, limits: server::gateway::Limits) -> TestApp {
        TestApp::start(engine, |_| {}, limits, None).await
    }

    /// A server that serves its web app's code as build `build`, as a
    /// release server does (a debug one serves it unversioned).
    pub async fn spawn_serving_build(engine: Engine, build: &str) -> TestApp {
        TestApp::start(
            engine,
            |_| {},
            server::gateway::Limits::default(),
            Some(build),
        )
        .await
    }

    async fn start(
        engine: Engine,
        configure: impl FnOnce(&mut app::backend::Config),
        limits: server::gateway::Limits,
        build: Option<&str>,
    ) -> TestApp {
        init_tracing();
        let test_db = TestDb::new(engine).await;
        let mut config = test_db.config();
        configure(&mut config);
        // On PostgreSQL the server is a node of a cluster: events travel
        // over the bus even with one node, as in production.
        let backend = Backend::assemble(config, test_db.db.clone())
            .await
            .expect("the backend starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let mut leptos_options = server::leptos_options(listener.local_addr().expect("an address"));
        if let Some(build) = build {
            leptos_options.site_pkg_dir = app::versioned_pkg_dir(build).into();
        }
        let state = app::api::state::AppState {
            backend,
            leptos_options,
        };
        let server = Server::start_with_state(state, listener, limits)
            .await
            .expect("the server starts");
        let url = server.url();
        // No answer here takes more than a second or two: one that never
        // ends fails its test within a minute instead of holding up CI.
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        TestApp {
            server,
            url,
            http,
            engine,
            test_db,
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.server.backend
    }

    /// Another node on the same database (PostgreSQL), with the same secret:
    /// a process of its own in all but name, with its own hub, writer and
    /// bus connection, on a port of its own.
    pub async fn spawn_node(&self) -> Server {
        let config = self.backend().config.as_ref().clone();
        let backend = Backend::assemble(config, self.test_db.db.clone())
            .await
            .expect("the second node starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        Server::start_with(backend, listener, server::gateway::Limits::default())
            .await
            .expect("the second node serves")
    }

    pub async fn create_org(&self, name: &str) -> OrgId {
        let slug = name.to_lowercase().replace(' ', "-");
        self.backend()
            .create_org(name, &slug)
            .await
            .expect("an organisation")
    }

    /// A user with [`PASSWORD`]. The argon2id hash is computed once per test process.
    pub async fn create_user(&self, org_id: OrgId, name: &str, role: OrgRole) -> TestUser {
        static HASH: OnceCell<String> = OnceCell::const_new();
        let hash = HASH
            .get_or_init(|| async {
                self.backend()
                    .passwords
                    .hash(PASSWORD)
                    .await
                    .expect("a hash")
            })
            .await;
        let email = format!(
            "{}.{}@example.test",
            name.to_lowercase().replace(' ', "."),
            org_id
        );
        let id = self
            .backend()
            .create_user_with_hash(org_id, &email, name, hash, role)
            .await
            .expect("a user");
        TestUser {
            id,
            org_id,
            email,
            name: name.to_owned(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{}", self.url, path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("the server answers")
    }

    /// A bearer token for the user.
    pub async fn token_for(&self, user: &TestUser) -> String {
        let response = self.login(&user.email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: LoginResponse = response.json().await.expect("a login response");
        body.token
    }
}

/// The status and JSON body of a response.
pub async fn status_and_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Tracing is silent unless TEST_LOG is set.
fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .init();
        }
    });
}

// ---------------------------------------------------------------------------
// WebSocket clients
// ---------------------------------------------------------------------------

use std::collections::BTreeMap;
use std::time::Duration;

use app::protocol::{ClientEvent, ConversationId, ServerEvent};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for an event it expects.
pub const EVENT_WAIT: Duration = Duration::from_secs(5);

/// A WebSocket client speaking the protocol.
pub struct WsClient {
    pub stream: WsStream,
}

impl TestApp {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.server.addr)
    }

    /// Opens a socket to another node and resumes with no cursors.
    pub async fn ws_at(&self, node: &Server, token: &str) -> WsClient {
        WsClient::open(&node.addr.to_string(), token, BTreeMap::new())
            .await
            .0
    }

    /// Opens a socket with a bearer token and resumes with no cursors.
    pub async fn ws(&self, token: &str) -> WsClient {
        let mut client = self.ws_raw(token, &[]).await.expect("the socket opens");
        client.resume(BTreeMap::new()).await;
        client
    }

    /// Opens a socket with a bearer token and extra headers, without resuming.
    pub async fn ws_raw(
        &self,
        token: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, tungstenite::Error> {
        let mut request = self.ws_url().into_client_request()?;
        if !token.is_empty() {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("a header"),
            );
        }
        for (name, value) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                value.parse().expect("a header value"),
            );
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(WsClient { stream })
    }
}

impl WsClient {
    /// Opens a socket to `address` (host:port) with a bearer token and
    /// resumes from `cursors`; returns the client and the replay.
    pub async fn open(
        address: &str,
        token: &str,
        cursors: BTreeMap<ConversationId, i64>,
    ) -> (WsClient, Vec<ServerEvent>) {
        let mut request = format!("ws://{address}/ws")
            .into_client_request()
            .expect("a request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header"),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the socket opens");
        let mut client = WsClient { stream };
        let replay = client.resume(cursors).await;
        (client, replay)
    }

    /// Waits for `user` to be announced online or offline.
    pub async fn expect_presence(&mut self, wait: Duration, user: UserId, online: bool) {
        let what = format!("user {user} {}", if online { "online" } else { "offline" });
        self.expect_within(wait, &what, |e| match e {
            ServerEvent::UserStatusChanged {
                user_id, is_online, ..
            } if *user_id == user && *is_online == online => Some(()),
            _ => None,
        })
        .await
    }

    pub async fn send(&mut self, event: &ClientEvent) {
        let json = serde_json::to_string(event).expect("an event serialises");
        self.stream
            .send(WsMessage::Text(json.into()))
            .await
            .expect("the frame is sent");
    }

    pub async fn send_raw(&mut self, message: WsMessage) -> Result<(), tungstenite::Error> {
        self.stream.send(message).await
    }

    /// Sends `resume` and returns the events up to and including `resumed`.
    pub async fn resume(&mut self, cursors: BTreeMap<ConversationId, i64>) -> Vec<ServerEvent> {
        self.send(&ClientEvent::Resume { cursors }).await;
        let mut replay = Vec::new();
        loop {
            let event = self.next().await.expect("the replay arrives");
            let done = matches!(event, ServerEvent::Resumed { .. });
            replay.push(event);
            if done {
                return replay;
            }
        }
    }

    /// The next event, or `None` when nothing arrives within `EVENT_WAIT`
    /// or the socket closed.
    pub async fn next(&mut self) -> Option<ServerEvent> {
        self.next_within(EVENT_WAIT).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??;
            match frame {
                Ok(WsMessage::Text(text)) => {
                    // The browser's decoder, checked against serde's on every
                    // frame the tests receive.
                    let event = ServerEvent::from_json(&text)
                        .unwrap_or_else(|e| panic!("not an event: {text}: {e}"));
                    let by_serde = serde_json::from_str::<ServerEvent>(&text)
                        .unwrap_or_else(|e| panic!("serde cannot decode {text}: {e}"));
                    assert_eq!(event, by_serde, "the two decoders disagree on {text}");
                    return Some(event);
                }
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Waits for the first event that `want` accepts, skipping others.
    pub async fn expect<T>(
        &mut self,
        what: &str,
        want: impl FnMut(&ServerEvent) -> Option<T>,
    ) -> T {
        self.expect_within(EVENT_WAIT, what, want).await
    }

    pub async fn expect_within<T>(
        &mut self,
        wait: Duration,
        what: &str,
        mut want: impl FnMut(&ServerEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(event) = self.next_within(left).await else {
                panic!("no {what} within {wait:?}; saw {seen:#?}");
            };
            if let Some(found) = want(&event) {
                return found;
            }
            seen.push(event);
        }
    }

    /// Collects every event that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<ServerEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.next_within(wait).await {
            events.push(event);
        }
        events
    }

    /// Reads until the server closes the socket; the close code, if any.
    pub async fn closed_with(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => panic!("the socket was not closed within {wait:?}"),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(WsMessage::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
