//! The chat core on SQLite with a million messages: history and list
//! latency, and durable sends through the group-commit writer.
//!
//! Data is loaded with SQL (the writer would take minutes for a million
//! rows, and what is measured is reading it); the sends measured go through
//! the real path: `Backend::send_message`, acknowledged after the commit,
//! with `synchronous=FULL`.
//!
//! `cargo run --release -p bench --bin chat-core [-- --messages N --send-seconds S]`
//! (`RUST_LOG=sqlx::query=debug` logs each statement with its duration)

#![allow(clippy::print_stdout)] // A report for people, on stdout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::{Percentiles, row, write_report};
use serde::Serialize;

use app::backend::db::users;
use app::backend::{Backend, Config};
use app::protocol::{
    ConversationId, ConversationKind, CreateConversation, Me, SendMessage, UserId,
};

/// The server's allocator, so that the backend runs here as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONVERSATIONS: usize = 1000;
const DIRECT_OF_MAIN_USER: usize = 200;
const USERS: usize = 1000;
const SENDERS: usize = 64;

#[derive(Serialize)]
struct Report {
    engine: &'static str,
    messages: i64,
    conversations: usize,
    load_seconds: f64,
    history_newest_page: Percentiles,
    conversation_list_200: Percentiles,
    sends_per_second: f64,
    send_latency: Percentiles,
    senders: usize,
    send_seconds: f64,
    writer_batches: u64,
    mean_batch_size: f64,
    /// "Mark all read" for a user with this many unread notifications: one
    /// UPDATE, timed over several rounds (each round makes them unread again).
    unread_notifications: i64,
    mark_all_read: Percentiles,
    /// The disk's own fsync, next to the database: the floor under every
    /// durable acknowledgement (a commit fsyncs the WAL once).
    disk_fsync: Percentiles,
}

enum KeepOrDrop {
    Keep(std::path::PathBuf),
    Drop(tempfile::TempDir),
}

impl KeepOrDrop {
    fn path(&self) -> &std::path::Path {
        match self {
            KeepOrDrop::Keep(path) => path,
            KeepOrDrop::Drop(dir) => dir.path(),
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `RUST_LOG=sqlx::query=debug` times every statement (on stderr).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let total_messages = arg("--messages", 1_000_000) as i64;
    let send_seconds = arg("--send-seconds", 10);
    let data = tempfile::Builder::new()
        .prefix("crm-chat-bench-")
        .tempdir()
        .context("a temporary directory")?;
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("Keeping the database in {}", data.path().display());
    }
    let data = if std::env::var_os("BENCH_KEEP").is_some() {
        KeepOrDrop::Keep(data.keep())
    } else {
        KeepOrDrop::Drop(data)
    };
    let mut config = Config::for_tests(
        format!("sqlite://{}/bench.db", data.path().display()),
        data.path().join("data"),
    );
    config.db_max_connections = 8;
    let backend = Backend::start(config).await?;

    println!("Loading {total_messages} messages over {CONVERSATIONS} conversations into SQLite…");
    let started = Instant::now();
    let (main_user, conversations, partners) = load(&backend, total_messages).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    println!("  loaded in {load_seconds:.1} s");

    let mine: Vec<ConversationId> = conversations[..DIRECT_OF_MAIN_USER].to_vec();
    // `--skip-reads 1` leaves out the read measurements (for profiling sends).
    let (warmup, runs) = if arg("--skip-reads", 0) == 1 {
        (0, 1)
    } else {
        (2_000, 20_000)
    };
    let history = measure(warmup, runs, |i| {
        let (backend, me, id) = (backend.clone(), main_user.clone(), mine[i % mine.len()]);
        async move {
            let page = backend.messages(&me, id, None, Some(50)).await?;
            anyhow::ensure!(page.messages.len() == 50);
            Ok(())
        }
    })
    .await?;
    let list = measure(warmup / 10, runs / 10 + 1, |_| {
        let (backend, me) = (backend.clone(), main_user.clone());
        async move {
            let list = backend.conversations(&me).await?;
            anyhow::ensure!(list.len() == DIRECT_OF_MAIN_USER);
            Ok(())
        }
    })
    .await?;

    let (sends_per_second, send_latency, batches, commands) =
        sends(&backend, &conversations, &partners, send_seconds).await?;
    let mark_all_read = mark_all_read(&backend, &main_user).await?;
    let dir = data.path().to_owned();
    let disk_fsync = tokio::task::spawn_blocking(move || fsync_latency(&dir)).await??;

    let report = Report {
        engine: "sqlite (WAL, synchronous=FULL)",
        messages: total_messages,
        conversations: CONVERSATIONS,
        load_seconds,
        history_newest_page: history,
        conversation_list_200: list,
        sends_per_second,
        send_latency,
        senders: SENDERS,
        send_seconds: send_seconds as f64,
        writer_batches: batches,
        mean_batch_size: if batches == 0 {
            0.0
        } else {
            commands as f64 / batches as f64
        },
        unread_notifications: UNREAD_NOTIFICATIONS,
        mark_all_read,
        disk_fsync,
    };
    print_table(&report);
    let path = write_report("chat-core", &report)?;
    println!("\nJSON: {}", path.display());
    Ok(())
}

const UNREAD_NOTIFICATIONS: i64 = 100_000;

/// Appends 8 KiB (about what a commit of a small batch adds to the WAL) and
/// fsyncs, 1,000 times, in the database's directory.
fn fsync_latency(dir: &std::path::Path) -> anyhow::Result<Percentiles> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let page = [0x5a_u8; 8192];
    let mut samples = Vec::with_capacity(1000);
    for _ in 0..1000 {
        file.write_all(&page)?;
        let started = Instant::now();
        file.sync_data()?;
        samples.push(started.elapsed());
    }
    std::fs::remove_file(path)?;
    Ok(Percentiles::of(&mut samples))
}

/// A user with 100,000 unread notifications marks them all read, five times.
async fn mark_all_read(backend: &Backend, me: &Me) -> anyhow::Result<Percentiles> {
    // The sends above left chat notifications behind: start from none.
    sqlx::query("DELETE FROM notifications WHERE user_id = $1")
        .bind(me.id)
        .execute(backend.db.pool())
        .await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO notifications (org_id, user_id, kind, title, body, created_at, activity_at)
         SELECT $2, $3, 'TASK_ASSIGNED', 'Task ' || i, '', i, i FROM n",
    )
    .bind(UNREAD_NOTIFICATIONS)
    .bind(me.org_id)
    .bind(me.id)
    .execute(backend.db.pool())
    .await?;
    let mut samples = Vec::new();
    for _ in 0..5 {
        sqlx::query("UPDATE notifications SET read_at = NULL WHERE user_id = $1")
            .bind(me.id)
            .execute(backend.db.pool())
            .await?;
        let started = Instant::now();
        let changed = backend.mark_all_notifications_read(me, None).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(
            changed == UNREAD_NOTIFICATIONS as u64,
            "{changed} marked read"
        );
    }
    Ok(Percentiles::of(&mut samples))
}

/// Runs `work` `warmup` times unmeasured, then `runs` times one after another.
async fn measure<F, Fut>(warmup: usize, runs: usize, mut work: F) -> anyhow::Result<Percentiles>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for i in 0..warmup {
        work(i).await?;
    }
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        work(i).await?;
        samples.push(started.elapsed());
    }
    Ok(Percentiles::of(&mut samples))
}

/// 64 senders, each waiting for its acknowledgement before sending again,
/// for `seconds` after a one-second warm-up.
async fn sends(
    backend: &Backend,
    conversations: &[ConversationId],
    partners: &[UserId],
    seconds: u64,
) -> anyhow::Result<(f64, Percentiles, u64, u64)> {
    let mut senders = Vec::new();
    // Each sender writes into a direct conversation of its own with the main user.
    for (id, partner) in conversations.iter().zip(partners).take(SENDERS) {
        let me = users::me(&backend.db, *partner)
            .await?
            .context("a sender")?
            .0;
        senders.push((me, *id));
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (me, id) in senders {
        let (backend, measuring, stop, sent) = (
            backend.clone(),
            measuring.clone(),
            stop.clone(),
            sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let send = SendMessage {
                    // Version 7, as the web client sends.
                    client_msg_id: Some(uuid::Uuid::now_v7().to_string()),
                    content: format!("Follow-up {n} on the proposal"),
                    ..Default::default()
                };
                let started = Instant::now();
                backend.send_message(&me, id, send, None).await?;
                if measuring.load(Ordering::Relaxed) {
                    latencies.push(started.elapsed());
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (batches_before, commands_before) = backend.writer.stats();
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let (batches_after, commands_after) = backend.writer.stats();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let rate = sent.load(Ordering::Relaxed) as f64 / elapsed;
    Ok((
        rate,
        Percentiles::of(&mut latencies),
        batches_after - batches_before,
        commands_after - commands_before,
    ))
}

/// 1,000 users; the main user in 200 direct conversations; 800 groups of
/// three; `total` messages spread evenly, with unread counts consistent.
/// Returns the main user, the conversations (the main user's direct ones
/// first) and the other person of each of those direct conversations.
async fn load(
    backend: &Backend,
    total: i64,
) -> anyhow::Result<(Me, Vec<ConversationId>, Vec<UserId>)> {
    let pool = backend.db.pool();
    let org = backend.create_org("Bench", "bench").await?;
    let hash = backend.passwords.hash("bench").await?;
    let now = app::backend::now_ms();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO users (org_id, email, display_name, password_hash, org_role, created_at)
         SELECT $2, 'user' || i || '@bench.test', 'User ' || i, $3, CASE WHEN i = 0 THEN 'admin' ELSE 'member' END, $4 FROM n",
    )
    .bind(USERS as i64 - 1)
    .bind(org)
    .bind(&hash)
    .bind(now)
    .execute(pool)
    .await?;
    let ids: Vec<UserId> = sqlx::query_scalar("SELECT id FROM users ORDER BY id")
        .fetch_all(pool)
        .await?;
    let me_of = |id: UserId| async move {
        anyhow::Ok(users::me(&backend.db, id).await?.context("a user")?.0)
    };
    let main_user = me_of(ids[0]).await?;

    let mut conversations = Vec::with_capacity(CONVERSATIONS);
    for other in &ids[1..=DIRECT_OF_MAIN_USER] {
        conversations.push(backend.direct_conversation(&main_user, *other).await?);
    }
    for g in 0..CONVERSATIONS - DIRECT_OF_MAIN_USER {
        let owner = me_of(ids[1 + (g * 3) % (USERS - 1)]).await?;
        let members = vec![
            ids[1 + (g * 3 + 1) % (USERS - 1)],
            ids[1 + (g * 3 + 2) % (USERS - 1)],
        ];
        let request = CreateConversation {
            kind: Some(ConversationKind::Group),
            title: Some(format!("Account team {g}")),
            member_ids: members,
            ..Default::default()
        };
        conversations.push(backend.create_conversation(&owner, request).await?.id);
    }

    let per_conversation = total / CONVERSATIONS as i64;
    let mut tx = backend.db.begin_write().await?;
    for (index, id) in conversations.iter().enumerate() {
        let senders: Vec<UserId> = sqlx::query_scalar(
            "SELECT user_id FROM participants WHERE conversation_id = $1 ORDER BY user_id",
        )
        .bind(*id)
        .fetch_all(&mut *tx)
        .await?;
        let third = senders.get(2).copied().unwrap_or(senders[0]);
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1)
             INSERT INTO messages (conversation_id, org_id, seq, event_seq, created_event_seq, sender_id, kind, body, created_at)
             SELECT c.id, c.org_id, c.last_message_seq + 1 + i, c.last_event_seq + 1 + i, c.last_event_seq + 1 + i,
                    CASE i % 3 WHEN 0 THEN $3 WHEN 1 THEN $4 ELSE $5 END, 'text',
                    'Deal ' || (i % 97) || ' for account ' || ((i * 7 + $6) % 389) || ': follow up on the proposal, pricing and next steps',
                    $7 - ($1 - i) * 60000
             FROM n, conversations c WHERE c.id = $2",
        )
        .bind(per_conversation)
        .bind(*id)
        .bind(senders[0])
        .bind(senders[1])
        .bind(third)
        .bind(index as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE conversations SET last_message_seq = last_message_seq + $1, last_event_seq = last_event_seq + $1,
                 last_message_at = $2 - ($3 * 1000) WHERE id = $4",
        )
        .bind(per_conversation)
        .bind(now)
        .bind(CONVERSATIONS as i64 - index as i64)
        .bind(*id)
        .execute(&mut *tx)
        .await?;
    }
    // Everyone has read all but the last 5 messages of each conversation.
    sqlx::query(
        "UPDATE participants SET last_read_seq = (SELECT c.last_message_seq - 5 FROM conversations c WHERE c.id = participants.conversation_id)",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE participants SET unread_count = (SELECT COUNT(*) FROM messages m
             WHERE m.conversation_id = participants.conversation_id AND m.seq > participants.last_read_seq
               AND m.sender_id <> participants.user_id AND m.deleted_at IS NULL AND m.kind <> 'system')",
    )
    .execute(&mut *tx)
    .await?;
    // Index everything loaded in one bulk rebuild, as if the writer had kept
    // up all along: what is measured below is the steady state.
    sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE search_progress SET indexed_up_to = (SELECT MAX(id) FROM messages)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("PRAGMA optimize").execute(pool).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE kind <> 'system'")
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(
        stored == per_conversation * CONVERSATIONS as i64,
        "loaded {stored} messages"
    );
    Ok((
        main_user,
        conversations,
        ids[1..=DIRECT_OF_MAIN_USER].to_vec(),
    ))
}

fn print_table(r: &Report) {
    let ms = |p: &Percentiles| format!("p50 {:.3} / p99 {:.3} ms", p.p50_ms, p.p99_ms);
    println!();
    println!(
        "{}",
        row(
            "chat core, SQLite, 1M messages",
            "measured".into(),
            "target"
        )
    );
    println!("{}", row("---", "---".into(), "---"));
    println!(
        "{}",
        row(
            "newest history page (50 messages)",
            ms(&r.history_newest_page),
            "p99 ≤ 2 ms"
        )
    );
    println!(
        "{}",
        row(
            "conversation list, user in 200 conversations",
            ms(&r.conversation_list_200),
            "p99 ≤ 5 ms"
        )
    );
    println!(
        "{}",
        row(
            &format!("durable sends, {} concurrent senders", r.senders),
            format!("{:.0} msg/s", r.sends_per_second),
            "≥ 20,000 msg/s"
        )
    );
    println!(
        "{}",
        row(
            "send latency (submit to durable ack)",
            ms(&r.send_latency),
            ""
        )
    );
    println!(
        "{}",
        row(
            "writer batches / mean batch size",
            format!("{} / {:.1}", r.writer_batches, r.mean_batch_size),
            ""
        )
    );
    println!(
        "{}",
        row(
            &format!(
                "mark all read, {} unread notifications",
                r.unread_notifications
            ),
            ms(&r.mark_all_read),
            "one statement"
        )
    );
    println!(
        "{}",
        row("disk fsync (8 KiB appended)", ms(&r.disk_fsync), "")
    );
}
