#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! Durable before acknowledged: the server binary on SQLite, killed with
//! SIGKILL while eight clients send, then restarted. Every message any client
//! got `messageDelivered` for is there, once; retries of the sends that were
//! in flight create no duplicates.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::backend::{Backend, Config, Db};
use app::protocol::{ClientEvent, ConversationId, MessageId, OrgRole, ServerEvent};
use common::WsClient;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SECRET: &str = "kill-test-secret-kill-test-secret-0123456789";

/// The server binary, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_server(data_dir: &std::path::Path, port: u16) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_remove("DATABASE_URL")
        .env("CRM_CHAT_DATA_DIR", data_dir)
        .env("CRM_CHAT_ADDR", format!("127.0.0.1:{port}"))
        .env("CRM_CHAT_SEED_DEMO", "false")
        .env("CRM_CHAT_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let process = Process(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && response.status().is_success()
        {
            return process;
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn connect(port: u16, token: &str) -> WsClient {
    WsClient::open(&format!("127.0.0.1:{port}"), token, BTreeMap::new())
        .await
        .0
}

/// What one client knows: the sends it got an acknowledgement for, and the
/// one it sent last without hearing back.
#[derive(Default)]
struct Ledger {
    acked: HashMap<String, MessageId>,
    in_flight: Vec<String>,
}

/// Sends one message at a time until the socket breaks.
async fn send_until_killed(
    mut client: WsClient,
    conversation_id: ConversationId,
    ledger: Arc<Mutex<Ledger>>,
) {
    for i in 0.. {
        let client_msg_id = uuid::Uuid::new_v4().to_string();
        ledger.lock().unwrap().in_flight.push(client_msg_id.clone());
        let event = ClientEvent::SendMessage {
            conversation_id,
            client_msg_id: client_msg_id.clone(),
            content: format!("message {i}"),
            message_type: None,
            reply_to: None,
            attachment_id: None,
        };
        let json = serde_json::to_string(&event).unwrap();
        if client
            .stream
            .send(WsMessage::Text(json.into()))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let Some(frame) = client.stream.next().await else {
                return;
            };
            let Ok(WsMessage::Text(text)) = frame else {
                if frame.is_err() {
                    return;
                }
                continue;
            };
            if let Ok(ServerEvent::MessageDelivered {
                client_msg_id: id,
                message_id,
                ..
            }) = serde_json::from_str(&text)
                && id == client_msg_id
            {
                let mut ledger = ledger.lock().unwrap();
                ledger.in_flight.retain(|c| *c != id);
                ledger.acked.insert(id, message_id);
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_sigkill_and_retries_do_not_duplicate() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start_server(data.path(), port).await;

    // Alice and Bob, and their direct conversation, created on the same file.
    let url = app::backend::config::default_sqlite_url(data.path());
    let db = Db::connect(&url, 2).await.unwrap();
    let mut config = Config::for_tests(url, data.path().to_owned());
    config.jwt_secret = SECRET.as_bytes().to_vec();
    let backend = Backend::with_db(config, db);
    let org = backend.create_org("Acme", "acme").await.unwrap();
    let alice = backend
        .create_user(org, "alice@acme.test", "Alice", "pw", OrgRole::Member)
        .await
        .unwrap();
    let bob = backend
        .create_user(org, "bob@acme.test", "Bob", "pw", OrgRole::Member)
        .await
        .unwrap();
    let alice_token = backend.issue_session(alice).await.unwrap().token;
    let bob_token = backend.issue_session(bob).await.unwrap().token;
    let alice_me = backend.authenticate(&alice_token).await.unwrap();
    let conversation = backend.direct_conversation(&alice_me, bob).await.unwrap();

    // Eight senders, then SIGKILL while they are busy.
    let ledgers: Vec<Arc<Mutex<Ledger>>> = (0..8).map(|_| Arc::default()).collect();
    let mut tasks = Vec::new();
    for (i, ledger) in ledgers.iter().enumerate() {
        let token = if i % 2 == 0 { &alice_token } else { &bob_token };
        let client = connect(port, token).await;
        tasks.push(tokio::spawn(send_until_killed(
            client,
            conversation,
            ledger.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("senders notice the kill")
            .unwrap();
    }
    let acked_before: usize = ledgers.iter().map(|l| l.lock().unwrap().acked.len()).sum();
    assert!(
        acked_before > 50,
        "only {acked_before} sends were acknowledged before the kill"
    );

    // Restart; each client retries what it did not hear back about, and some
    // of what it did, with the same client ids.
    let _server = start_server(data.path(), port).await;
    for (i, ledger) in ledgers.iter().enumerate() {
        let token = if i % 2 == 0 { &alice_token } else { &bob_token };
        let mut client = connect(port, token).await;
        let (retries, originals): (Vec<String>, HashMap<String, MessageId>) = {
            let ledger = ledger.lock().unwrap();
            let mut retries = ledger.in_flight.clone();
            retries.extend(ledger.acked.keys().take(5).cloned());
            (retries, ledger.acked.clone())
        };
        for client_msg_id in retries {
            let event = ClientEvent::SendMessage {
                conversation_id: conversation,
                client_msg_id: client_msg_id.clone(),
                content: "retried".into(),
                message_type: None,
                reply_to: None,
                attachment_id: None,
            };
            client.send(&event).await;
            let message_id = client
                .expect("the retry's acknowledgement", |e| match e {
                    ServerEvent::MessageDelivered {
                        client_msg_id: id,
                        message_id,
                        ..
                    } if *id == client_msg_id => Some(*message_id),
                    _ => None,
                })
                .await;
            if let Some(original) = originals.get(&client_msg_id) {
                assert_eq!(
                    message_id, *original,
                    "a retry of an acknowledged send returns the stored message"
                );
            }
            ledger
                .lock()
                .unwrap()
                .acked
                .insert(client_msg_id, message_id);
        }
    }

    // Every acknowledged message is stored, once; positions have no gaps.
    let rows: Vec<(String, MessageId, i64)> = sqlx::query_as(
        "SELECT client_msg_id, id, seq FROM messages WHERE conversation_id = $1 ORDER BY seq",
    )
    .bind(conversation)
    .fetch_all(backend.db.pool())
    .await
    .unwrap();
    let stored: HashMap<String, MessageId> =
        rows.iter().map(|(c, id, _)| (c.clone(), *id)).collect();
    assert_eq!(stored.len(), rows.len(), "no client id is stored twice");
    let mut acked_total = 0;
    for ledger in &ledgers {
        for (client_msg_id, message_id) in &ledger.lock().unwrap().acked {
            assert_eq!(
                stored.get(client_msg_id),
                Some(message_id),
                "acknowledged {client_msg_id} is stored"
            );
            acked_total += 1;
        }
    }
    assert_eq!(
        rows.len(),
        acked_total,
        "every stored message was acknowledged to someone"
    );
    let seqs: Vec<i64> = rows.iter().map(|(_, _, seq)| *seq).collect();
    assert_eq!(seqs, (1..=rows.len() as i64).collect::<Vec<_>>());
}
