//! The real-time load generator: N WebSocket clients over loopback against
//! the real server binary, measuring latency from send to delivery in the
//! receiving client.
//!
//! Profiles (`--profile direct|fanout|idle|all`):
//! - `direct`: 1,000 clients in 500 direct conversations, both sides sending,
//!   at stepped offered rates; p50/p99/max latency and delivered messages/s.
//! - `fanout`: 20 groups of 50 members; deliveries/s as the rate rises.
//! - `idle`: 15,000 idle connections; server memory per connection.
//!
//! The server runs as its own process on a fresh SQLite database, seeded
//! here; tokens are signed here with the server's secret. With
//! `--postgres <url> --nodes N`, N server processes share a fresh PostgreSQL
//! database (a cluster over LISTEN/NOTIFY) and clients are spread over them. Both share the two
//! cores, so the client side is kept lean: frames are not parsed beyond what
//! the measurement needs.

#![allow(clippy::print_stdout)] // A report for people, on stdout.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::{Percentiles, row, write_report};
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use app::backend::auth::tokens::Tokens;
use app::backend::{Backend, Config, Db, now_ms};
use app::protocol::{ConversationId, OrgId, UserId};

const SECRET: &str = "loadgen-secret-loadgen-secret-0123456789abcdef";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[derive(Serialize, Default)]
struct Report {
    /// `sqlite`, or `postgres-<n>nodes`.
    label: String,
    direct: Option<DirectReport>,
    fanout: Option<FanoutReport>,
    idle: Option<IdleReport>,
}

#[derive(Serialize)]
struct Step {
    offered_per_second: u64,
    sent_per_second: f64,
    delivered_per_second: f64,
    latency: Percentiles,
    errors: u64,
    /// CPU the server processes used over this step, in cores (1.0 is one
    /// core busy for the whole step), and per send delivered. Far steadier
    /// than latency on a shared machine: compare builds by this.
    server_cpu_cores: f64,
    server_cpu_us_per_send: f64,
    /// CPU this load generator used, in cores: it shares the machine.
    loadgen_cpu_cores: f64,
    /// The servers' own histograms over this step, all nodes together.
    server_side: Vec<ServerHistogram>,
}

#[derive(Serialize)]
struct DirectReport {
    clients: usize,
    conversations: usize,
    steps: Vec<Step>,
    /// The highest offered rate whose p99 stayed within 25 ms.
    highest_rate_within_25ms_p99: Option<u64>,
}

/// A latency histogram from the servers' `/metrics`: the mean, and the
/// bucket bounds that hold half and 99% of the samples (coarse: Prometheus
/// buckets).
#[derive(Serialize)]
struct ServerHistogram {
    metric: &'static str,
    count: f64,
    mean_ms: f64,
    p50_at_most_ms: f64,
    p99_at_most_ms: f64,
}

const SERVER_HISTOGRAMS: [&str; 6] = [
    "crm_chat_writer_queue_seconds",
    "crm_chat_writer_batch_seconds",
    "crm_chat_writer_commit_seconds",
    // The SQLite search index catches up on the writer's thread, between batches.
    "crm_chat_search_index_seconds",
    "crm_chat_delivery_latency_seconds",
    "crm_chat_bus_lag_seconds",
];

/// A histogram as the servers expose it, summed over the nodes.
#[derive(Default)]
struct RawHistogram {
    /// Cumulative counts by upper bound (seconds), in order.
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

/// Reads the servers' `/metrics`: each of [`SERVER_HISTOGRAMS`], summed over the nodes.
async fn scrape(ports: &[u16]) -> anyhow::Result<Vec<RawHistogram>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut texts = Vec::new();
    for port in ports {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", *port)).await?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut text = String::new();
        stream.read_to_string(&mut text).await?;
        texts.push(text);
    }
    let mut histograms = Vec::new();
    for metric in SERVER_HISTOGRAMS {
        let mut raw = RawHistogram::default();
        for line in texts.iter().flat_map(|t| t.lines()) {
            let Some(rest) = line.strip_prefix(metric) else {
                continue;
            };
            let Some((key, value)) = rest.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            if let Some(bound) = key
                .strip_prefix("_bucket{le=\"")
                .and_then(|b| b.strip_suffix("\"}"))
            {
                let bound = bound.parse::<f64>().unwrap_or(f64::INFINITY);
                match raw.buckets.iter_mut().find(|(b, _)| *b == bound) {
                    Some((_, total)) => *total += value,
                    None => raw.buckets.push((bound, value)),
                }
            } else if key == "_sum" {
                raw.sum += value;
            } else if key == "_count" {
                raw.count += value;
            }
        }
        raw.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        histograms.push(raw);
    }
    Ok(histograms)
}

/// What the servers recorded between two scrapes.
fn server_side(before: &[RawHistogram], after: &[RawHistogram]) -> Vec<ServerHistogram> {
    let mut histograms = Vec::new();
    for ((metric, before), after) in SERVER_HISTOGRAMS.into_iter().zip(before).zip(after) {
        let count = after.count - before.count;
        if count <= 0.0 {
            continue;
        }
        let earlier = |bound: f64| {
            before
                .buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .map_or(0.0, |(_, c)| *c)
        };
        let at_most = |share: f64| {
            after
                .buckets
                .iter()
                .find(|(bound, c)| c - earlier(*bound) >= share * count)
                .map_or(f64::INFINITY, |(bound, _)| bound * 1000.0)
        };
        histograms.push(ServerHistogram {
            metric,
            count,
            mean_ms: (after.sum - before.sum) / count * 1000.0,
            p50_at_most_ms: at_most(0.5),
            p99_at_most_ms: at_most(0.99),
        });
    }
    histograms
}

#[derive(Serialize)]
struct FanoutReport {
    groups: usize,
    members_per_group: usize,
    steps: Vec<Step>,
    deliveries_per_second_at_saturation: f64,
}

#[derive(Serialize)]
struct IdleReport {
    connections: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
    kib_per_connection: f64,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let profile = arg("--profile").unwrap_or_else(|| "all".into());
        let server_bin = arg("--server").unwrap_or_else(|| {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            format!("{target}/release/server")
        });
        let step_seconds: u64 = arg("--step-seconds")
            .and_then(|s| s.parse().ok())
            .unwrap_or(5);
        let target = Target {
            server_bin,
            postgres: arg("--postgres"),
            nodes: arg("--nodes")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
                .max(1),
        };
        let rates: Vec<u64> = arg("--rates")
            .map(|r| r.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![2_000, 5_000, 10_000, 20_000, 40_000]);
        let mut report = Report {
            label: target.label(),
            ..Report::default()
        };
        if profile == "direct" || profile == "all" {
            report.direct = Some(direct(&target, &rates, step_seconds).await?);
        }
        if profile == "fanout" || profile == "all" {
            report.fanout = Some(fanout(&target, step_seconds).await?);
        }
        if profile == "idle" || profile == "all" {
            report.idle = Some(idle(&target).await?);
        }
        print_report(&report);
        let path = write_report(&format!("realtime-{}", report.label), &report)?;
        println!("\nJSON: {}", path.display());
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// The server and its data
// ---------------------------------------------------------------------------

/// Where the servers run: SQLite (one process), or N processes on a fresh
/// PostgreSQL database.
struct Target {
    server_bin: String,
    postgres: Option<String>,
    nodes: usize,
}

impl Target {
    fn label(&self) -> String {
        match &self.postgres {
            None => "sqlite".to_owned(),
            Some(_) => format!("postgres-{}nodes", self.nodes),
        }
    }
}

/// A fresh PostgreSQL database for one profile, dropped afterwards.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> anyhow::Result<PgDatabase> {
        use sqlx::{Connection, Executor};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "crm_chat_bench_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await?;
        Ok(PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    fn url(&self) -> String {
        let base = self.admin_url.split('?').next().unwrap_or(&self.admin_url);
        let host_end = base
            .rfind('/')
            .filter(|&i| i > base.find("//").map_or(0, |j| j + 1));
        let base = host_end.map_or(base, |i| &base[..i]);
        format!("{base}/{}", self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                use sqlx::{Connection, Executor};
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// The data a profile runs on: a SQLite file's directory, or a PostgreSQL database.
struct Data {
    dir: tempfile::TempDir,
    postgres: Option<PgDatabase>,
}

impl Data {
    async fn new(target: &Target) -> anyhow::Result<Data> {
        let postgres = match &target.postgres {
            Some(admin_url) => Some(PgDatabase::create(admin_url).await?),
            None => None,
        };
        Ok(Data {
            dir: tempfile::tempdir()?,
            postgres,
        })
    }

    fn url(&self) -> String {
        match &self.postgres {
            Some(db) => db.url(),
            None => app::backend::config::default_sqlite_url(self.dir.path()),
        }
    }
}

/// The server processes of a profile, and the data they share.
struct Servers {
    nodes: Vec<Server>,
    _data: Data,
}

impl Servers {
    fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    fn rss_kib(&self) -> u64 {
        self.nodes.iter().map(Server::rss_kib).sum()
    }

    fn cpu_seconds(&self) -> f64 {
        self.nodes.iter().map(Server::cpu_seconds).sum()
    }
}

/// One server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }
}

/// User and system CPU time of a process, all its threads, from its
/// `/proc/…/stat` (in USER_HZ ticks, 100 per second on Linux).
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    cpu_ticks(&stat) as f64 / 100.0
}

/// utime + stime, fields 14 and 15 of a `/proc/…/stat` line.
fn cpu_ticks(stat: &str) -> u64 {
    // The command name (field 2) may hold spaces and parentheses: count
    // the fields after its closing parenthesis, the last one on the line.
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Field 3 of the file is index 0 here.
    ticks(11) + ticks(12)
}

/// What a profile seeds: users (with tokens) and conversations.
struct World {
    tokens: Vec<String>,
    users: Vec<UserId>,
}

async fn seed(data: &Data, users: usize) -> anyhow::Result<(Backend, World, OrgId)> {
    let url = data.url();
    let db = Db::connect(&url, 2).await?;
    db.migrate().await?;
    let mut config = Config::for_tests(url, data.dir.path().to_owned());
    config.jwt_secret = SECRET.as_bytes().to_vec();
    let backend = Backend::with_db(config, db);
    let org = backend.create_org("Load", "load").await?;
    let hash = backend.passwords.hash("load").await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO users (org_id, email, display_name, password_hash, org_role, created_at)
         SELECT $2, 'user' || i || '@load.test', 'User ' || i, $3, 'member', $4 FROM n",
    )
    .bind(users as i64 - 1)
    .bind(org)
    .bind(&hash)
    .bind(now_ms())
    .execute(backend.db.pool())
    .await?;
    let ids: Vec<UserId> = sqlx::query_scalar("SELECT id FROM users ORDER BY id")
        .fetch_all(backend.db.pool())
        .await?;
    let tokens = Tokens::new(SECRET.as_bytes());
    let now = now_ms() / 1000;
    let tokens = ids
        .iter()
        .map(|id| {
            tokens
                .issue(*id, org, 0, now, 24 * 3600)
                .map(|(token, _)| token)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((backend, World { tokens, users: ids }, org))
}

async fn start(target: &Target, data: Data) -> anyhow::Result<Servers> {
    let mut nodes = Vec::new();
    for node in 0..target.nodes {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let node_dir = data.dir.path().join(format!("node-{node}"));
        let mut command = Command::new(&target.server_bin);
        command
            .env("CRM_CHAT_DATA_DIR", &node_dir)
            .env("CRM_CHAT_ADDR", format!("127.0.0.1:{port}"))
            .env("CRM_CHAT_SEED_DEMO", "false")
            .env("CRM_CHAT_JWT_SECRET", SECRET)
            .env("CRM_CHAT_WS_SENDS_PER_SECOND", "1000")
            .env("CRM_CHAT_WS_SEND_BURST", "1000")
            .env("CRM_CHAT_WS_MAX_SOCKETS_PER_USER", "100")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null());
        match &data.postgres {
            Some(_) => command.env("DATABASE_URL", data.url()),
            None => command
                .env_remove("DATABASE_URL")
                .env("CRM_CHAT_DATA_DIR", data.dir.path()),
        };
        let child = command.spawn().with_context(|| {
            format!(
                "Failed to start {}; build it with `cargo leptos build --release`",
                target.server_bin
            )
        })?;
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            anyhow::ensure!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        nodes.push(server);
    }
    Ok(Servers { nodes, _data: data })
}

async fn connect(port: u16, token: &str) -> anyhow::Result<Socket> {
    let mut request = format!("ws://127.0.0.1:{port}/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    // tungstenite zero-fills its whole read buffer (128 KiB by default)
    // before every read: with that, 38 % of this program's CPU was `memset`.
    // Frames here are small, as they are on the server (`read_buffer_size`).
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    socket
        .send(Message::Text(r#"{"type":"resume","cursors":{}}"#.into()))
        .await?;
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame?
            && text.starts_with(r#"{"type":"resumed""#)
        {
            return Ok(socket);
        }
    }
    anyhow::bail!("the socket closed before resuming")
}

/// Connects every token, 64 at a time; token `i` goes to node `i % nodes`,
/// so the two sides of a direct conversation sit on different nodes.
async fn connect_all(ports: &[u16], tokens: &[String]) -> anyhow::Result<Vec<Socket>> {
    let mut sockets = Vec::with_capacity(tokens.len());
    for (c, chunk) in tokens.chunks(64).enumerate() {
        let connected = futures::future::join_all(
            chunk
                .iter()
                .enumerate()
                .map(|(i, t)| connect(ports[(c * 64 + i) % ports.len()], t)),
        )
        .await;
        for socket in connected {
            sockets.push(socket?);
        }
    }
    Ok(sockets)
}

// ---------------------------------------------------------------------------
// Clients under load
// ---------------------------------------------------------------------------

/// Counters and samples one step gathers.
#[derive(Default)]
struct Tally {
    measuring: AtomicBool,
    sent: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
    /// Every sample goes straight in: a per-client buffer flushed only now
    /// and then would leave a step's samples behind.
    latencies: std::sync::Mutex<Vec<Duration>>,
}

/// Reads everything a client receives, timing each `newMessage` from the
/// moment in its content to now.
fn spawn_reader(
    mut stream: futures::stream::SplitStream<Socket>,
    epoch: Instant,
    tally: Arc<Tally>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let Message::Text(text) = frame else { continue };
            if text.starts_with(r#"{"type":"newMessage""#) {
                if let Some(sent_at) = sent_micros(&text) {
                    let now = epoch.elapsed().as_micros() as u64;
                    if tally.measuring.load(Ordering::Relaxed) {
                        tally.delivered.fetch_add(1, Ordering::Relaxed);
                        tally
                            .latencies
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(Duration::from_micros(now.saturating_sub(sent_at)));
                    }
                }
            } else if text.starts_with(r#"{"type":"error""#) {
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}

/// The sending half of a client.
struct Sender {
    sink: futures::stream::SplitSink<Socket, Message>,
    conversation: ConversationId,
    /// Where in each period it sends (0 to 1), so that the clients together
    /// send at an even rate rather than in bursts.
    phase: f64,
    /// When it sends next; `None` while paused.
    next: Option<Instant>,
    /// Its socket failed: it sends no more.
    failed: bool,
}

/// How many tasks send for the clients.
const PACERS: usize = 2;

/// Sends for its clients, each into its conversation once every `period`
/// (open loop: the schedule does not wait for the server). It wakes every
/// millisecond (the resolution of tokio's timers anyway) and sends for every
/// client whose time has come: a timer per client would cost the load
/// generator a wake-up per send, CPU taken from the server it measures.
fn spawn_pacer(
    mut senders: Vec<Sender>,
    period: Arc<std::sync::Mutex<Option<Duration>>>,
    epoch: Instant,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut rate: Option<Duration> = None;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let wait = *period.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if wait != rate {
                // A new rate, or a pause: spread the clients over the period.
                rate = wait;
                for sender in &mut senders {
                    sender.next = wait.map(|wait| now + wait.mul_f64(sender.phase));
                }
            }
            let Some(wait) = wait else { continue };
            for sender in &mut senders {
                let Some(due) = sender.next.filter(|due| *due <= now && !sender.failed) else {
                    continue;
                };
                sender.next = Some(next_send(due, now, wait));
                let sent_at = epoch.elapsed().as_micros() as u64;
                let frame = format!(
                    r#"{{"type":"sendMessage","conversationId":{},"clientMsgId":"{}","content":"t{:016}"}}"#,
                    sender.conversation.0,
                    // Version 7, as the web client sends.
                    uuid::Uuid::now_v7(),
                    sent_at
                );
                if sender.sink.send(Message::Text(frame.into())).await.is_err() {
                    sender.failed = true;
                    continue;
                }
                if tally.measuring.load(Ordering::Relaxed) {
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        for sender in &mut senders {
            let _ = sender.sink.close().await;
        }
    })
}

/// When a client that was due at `due` and sends at `now` sends next: one
/// period after `due`, so that a tick's lateness does not lower the rate
/// (a schedule kept from the moment of sending drifts later by it every
/// time); but more than a period behind (a slow socket), one period from
/// now, rather than catching up in a burst.
fn next_send(due: Instant, now: Instant, wait: Duration) -> Instant {
    if now.saturating_duration_since(due) > wait {
        now + wait
    } else {
        due + wait
    }
}

/// The send time a load message carries in its content (`"content":"t…"`).
fn sent_micros(frame: &str) -> Option<u64> {
    let at = frame.find(r#""content":"t"#)? + r#""content":"t"#.len();
    frame.get(at..at + 16)?.parse().ok()
}

/// How long each step runs at its rate before measuring.
const WARM_UP: Duration = Duration::from_secs(1);

/// Steps through offered rates with every client sending into its
/// conversation; returns what each step measured.
async fn run_steps(
    sockets: Vec<(Socket, ConversationId)>,
    servers: &Servers,
    rates: &[u64],
    step_seconds: u64,
    per_send_deliveries: u64,
) -> anyhow::Result<Vec<Step>> {
    let clients = sockets.len() as u64;
    let ports = &servers.ports();
    let epoch = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let period = Arc::new(std::sync::Mutex::new(None));
    let tally = Arc::new(Tally::default());
    let mut readers = Vec::new();
    let mut pacers: Vec<Vec<Sender>> = (0..PACERS).map(|_| Vec::new()).collect();
    for (index, (socket, conversation)) in sockets.into_iter().enumerate() {
        let (sink, stream) = socket.split();
        readers.push(spawn_reader(stream, epoch, tally.clone()));
        pacers[index % PACERS].push(Sender {
            sink,
            conversation,
            phase: index as f64 / clients as f64,
            next: None,
            failed: false,
        });
    }
    let pacers: Vec<_> = pacers
        .into_iter()
        .map(|senders| spawn_pacer(senders, period.clone(), epoch, tally.clone(), stop.clone()))
        .collect();
    let mut steps = Vec::new();
    for &rate in rates {
        *period.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Duration::from_secs_f64(clients as f64 / rate as f64));
        tokio::time::sleep(WARM_UP).await;
        tally
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        for counter in [&tally.sent, &tally.delivered, &tally.errors] {
            counter.store(0, Ordering::Relaxed);
        }
        let scraped = scrape(ports).await?;
        let server_cpu = servers.cpu_seconds();
        let own_cpu = cpu_seconds("/proc/self/stat");
        tally.measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(step_seconds)).await;
        tally.measuring.store(false, Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        let server_cpu = servers.cpu_seconds() - server_cpu;
        let own_cpu = cpu_seconds("/proc/self/stat") - own_cpu;
        let delivered = tally.delivered.load(Ordering::Relaxed);
        // Sends carried all the way through: when saturated, sent frames
        // pile up in queues and would flatter the CPU per send.
        let completed = delivered / per_send_deliveries.max(1);
        let server_side = server_side(&scraped, &scrape(ports).await?);
        let mut samples =
            std::mem::take(&mut *tally.latencies.lock().unwrap_or_else(|e| e.into_inner()));
        let step = Step {
            offered_per_second: rate,
            sent_per_second: tally.sent.load(Ordering::Relaxed) as f64 / elapsed,
            delivered_per_second: delivered as f64 / elapsed,
            latency: Percentiles::of(&mut samples),
            errors: tally.errors.load(Ordering::Relaxed),
            server_cpu_cores: server_cpu / elapsed,
            server_cpu_us_per_send: server_cpu * 1e6 / completed.max(1) as f64,
            loadgen_cpu_cores: own_cpu / elapsed,
            server_side,
        };
        println!(
            "  offered {:>6}/s: sent {:>8.0}/s, delivered {:>8.0}/s (expected {:>8}/s), p50 {:>7.2} ms, p99 {:>8.2} ms, max {:>8.1} ms, errors {}, server {:.2} cores ({:.0} µs/send), loadgen {:.2} cores",
            rate,
            step.sent_per_second,
            step.delivered_per_second,
            rate * per_send_deliveries,
            step.latency.p50_ms,
            step.latency.p99_ms,
            step.latency.max_ms,
            step.errors,
            step.server_cpu_cores,
            step.server_cpu_us_per_send,
            step.loadgen_cpu_cores
        );
        let saturated = step.delivered_per_second < 0.8 * (rate * per_send_deliveries) as f64;
        steps.push(step);
        // Pause between steps so a backlog does not spill into the next.
        *period.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tokio::time::sleep(Duration::from_secs(2)).await;
        if saturated {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for pacer in pacers {
        let _ = tokio::time::timeout(Duration::from_secs(2), pacer).await;
    }
    for reader in readers {
        reader.abort();
    }
    Ok(steps)
}

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------

async fn direct(target: &Target, rates: &[u64], step_seconds: u64) -> anyhow::Result<DirectReport> {
    println!(
        "direct ({}): 1,000 clients in 500 direct conversations",
        target.label()
    );
    let data = Data::new(target).await?;
    let (backend, world, _) = seed(&data, 1000).await?;
    let mut conversations = Vec::new();
    for pair in world.users.chunks(2) {
        let me = backend
            .authenticate(
                &world.tokens[world.users.iter().position(|u| *u == pair[0]).unwrap_or(0)],
            )
            .await?;
        conversations.push(backend.direct_conversation(&me, pair[1]).await?);
    }
    drop(backend);
    let servers = start(target, data).await?;
    let sockets = connect_all(&servers.ports(), &world.tokens).await?;
    let with_conversation = sockets
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, conversations[i / 2]))
        .collect();
    let steps = run_steps(with_conversation, &servers, rates, step_seconds, 1).await?;
    let highest = steps
        .iter()
        .filter(|s| {
            s.latency.p99_ms <= 25.0 && s.delivered_per_second >= 0.95 * s.offered_per_second as f64
        })
        .map(|s| s.offered_per_second)
        .max();
    Ok(DirectReport {
        clients: 1000,
        conversations: 500,
        steps,
        highest_rate_within_25ms_p99: highest,
    })
}

async fn fanout(target: &Target, step_seconds: u64) -> anyhow::Result<FanoutReport> {
    const GROUPS: usize = 20;
    const MEMBERS: usize = 50;
    println!("fanout ({}): {GROUPS} groups of {MEMBERS}", target.label());
    let data = Data::new(target).await?;
    let (backend, world, _) = seed(&data, GROUPS * MEMBERS).await?;
    let mut groups = Vec::new();
    for (g, members) in world.users.chunks(MEMBERS).enumerate() {
        let owner = backend.authenticate(&world.tokens[g * MEMBERS]).await?;
        let request = app::protocol::CreateConversation {
            title: Some(format!("Team {g}")),
            member_ids: members[1..].to_vec(),
            ..Default::default()
        };
        groups.push(backend.create_conversation(&owner, request).await?.id);
    }
    drop(backend);
    let servers = start(target, data).await?;
    let sockets = connect_all(&servers.ports(), &world.tokens).await?;
    // Every member reads; five per group send.
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let group = groups[i / MEMBERS];
        if i % MEMBERS < 5 {
            senders.push((socket, group))
        } else {
            readers.push(socket)
        }
    }
    let keep_reading: Vec<_> = readers
        .into_iter()
        .map(|socket| tokio::spawn(async move { socket.for_each(|_| async {}).await }))
        .collect();
    // Only the senders measure: each send reaches the 4 other senders of
    // its group (and 45 readers who do not measure).
    const MEASURED_PER_SEND: u64 = 4;
    let steps = run_steps(
        senders,
        &servers,
        &[100, 200, 500, 1_000, 2_000, 4_000],
        step_seconds,
        MEASURED_PER_SEND,
    )
    .await?;
    for task in keep_reading {
        task.abort();
    }
    // Deliveries measured are those to the sending members; every member gets the same.
    let scale = (MEMBERS - 1) as f64 / MEASURED_PER_SEND as f64;
    let saturation = steps
        .iter()
        .map(|s| s.delivered_per_second * scale)
        .fold(0.0, f64::max);
    Ok(FanoutReport {
        groups: GROUPS,
        members_per_group: MEMBERS,
        steps,
        deliveries_per_second_at_saturation: saturation,
    })
}

async fn idle(target: &Target) -> anyhow::Result<IdleReport> {
    const CONNECTIONS: usize = 15_000;
    const WARM: usize = 1_000;
    println!("idle ({}): {CONNECTIONS} connections", target.label());
    let data = Data::new(target).await?;
    let (backend, world, _) = seed(&data, 1000).await?;
    drop(backend);
    let server = start(target, data).await?;
    let ports = server.ports();
    let tokens: Vec<String> = (0..CONNECTIONS)
        .map(|i| world.tokens[i % world.tokens.len()].clone())
        .collect();
    // The first thousand warm the server up (pools, allocator); the rest are measured.
    let mut sockets = connect_all(&ports, &tokens[..WARM]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server.rss_kib();
    sockets.extend(connect_all(&ports, &tokens[WARM..]).await?);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = server.rss_kib();
    let added = (CONNECTIONS - WARM) as f64;
    let kib_per_connection = (rss_after_kib.saturating_sub(rss_before_kib)) as f64 / added;
    drop(sockets);
    Ok(IdleReport {
        connections: CONNECTIONS,
        rss_before_kib,
        rss_after_kib,
        kib_per_connection,
    })
}

fn print_report(report: &Report) {
    println!();
    println!(
        "{}",
        row(
            &format!("real time, {}", report.label),
            "measured".into(),
            "target"
        )
    );
    println!("{}", row("---", "---".into(), "---"));
    if let Some(direct) = &report.direct {
        for step in &direct.steps {
            println!(
                "{}",
                row(
                    &format!(
                        "direct, offered {}/s (delivered {:.0}/s)",
                        step.offered_per_second, step.delivered_per_second
                    ),
                    format!(
                        "p50 {:.2} / p99 {:.2} ms",
                        step.latency.p50_ms, step.latency.p99_ms
                    ),
                    if step.offered_per_second == 2000 {
                        "p99 ≤ 2 ms"
                    } else {
                        ""
                    },
                )
            );
        }
        println!(
            "{}",
            row(
                "direct, highest rate with p99 ≤ 25 ms",
                direct
                    .highest_rate_within_25ms_p99
                    .map_or("none".into(), |r| format!("{r}/s")),
                "≥ 25,000/s"
            )
        );
        for step in &direct.steps {
            println!(
                "{}",
                row(
                    &format!("  server CPU, {}/s", step.offered_per_second),
                    format!(
                        "{:.0} µs/send ({:.2} cores)",
                        step.server_cpu_us_per_send, step.server_cpu_cores
                    ),
                    ""
                )
            );
            for h in &step.server_side {
                println!(
                    "{}",
                    row(
                        &format!("  server, {}/s: {}", step.offered_per_second, h.metric),
                        format!(
                            "mean {:.2} / p50 ≤ {} / p99 ≤ {} ms",
                            h.mean_ms, h.p50_at_most_ms, h.p99_at_most_ms
                        ),
                        if h.metric == "crm_chat_bus_lag_seconds" {
                            "p99 ≤ 10 ms over 1 node"
                        } else {
                            ""
                        }
                    )
                );
            }
        }
    }
    if let Some(fanout) = &report.fanout {
        println!(
            "{}",
            row(
                "fan-out, 20 groups of 50, deliveries/s",
                format!("{:.0}/s", fanout.deliveries_per_second_at_saturation),
                ""
            )
        );
    }
    if let Some(idle) = &report.idle {
        println!(
            "{}",
            row(
                &format!("idle, {} connections, RSS per connection", idle.connections),
                format!("{:.1} KiB", idle.kib_per_connection),
                "≤ 8 KiB"
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (crm (chat) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 75 0 0 20 0 7 0 12345 987654321 4321";
        assert_eq!(cpu_ticks(stat), 325);
    }

    #[test]
    fn a_late_tick_does_not_lower_the_rate() {
        let due = Instant::now();
        let wait = Duration::from_millis(40);
        let sent = due + Duration::from_millis(3);
        assert_eq!(next_send(due, sent, wait), due + wait);
    }

    #[test]
    fn a_client_more_than_a_period_behind_does_not_catch_up_in_a_burst() {
        let due = Instant::now();
        let wait = Duration::from_millis(40);
        let sent = due + Duration::from_millis(100);
        assert_eq!(next_send(due, sent, wait), sent + wait);
    }

    #[test]
    fn this_process_has_used_some_cpu_by_the_time_it_asks() {
        let spin: u64 = (0..50_000_000u64).fold(0, |a, x| a.wrapping_add(x.wrapping_mul(x)));
        std::hint::black_box(spin);
        assert!(cpu_seconds("/proc/self/stat") > 0.0);
    }
}
