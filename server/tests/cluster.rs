#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! Several nodes on one PostgreSQL behave as one: messages, typing, read
//! receipts, presence and notifications cross between them in both
//! directions; a node killed with SIGKILL loses nothing for clients that
//! resume elsewhere, and its users go offline; a lost LISTEN connection
//! loses no event; SIGTERM hands clients over with 1001.
//!
//! PostgreSQL only: SQLite deployments are one process.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::backend::Engine;
use app::protocol::{ClientEvent, ConversationId, OrgRole, ServerEvent};
use common::{TestApp, TestUser, WsClient, status_and_json};
use serde_json::json;

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn send(conversation_id: ConversationId, content: &str) -> (String, ClientEvent) {
    let client_msg_id = uuid();
    let event = ClientEvent::SendMessage {
        conversation_id,
        client_msg_id: client_msg_id.clone(),
        content: content.into(),
        message_type: None,
        reply_to: None,
        attachment_id: None,
    };
    (client_msg_id, event)
}

fn new_message(event: &ServerEvent) -> Option<app::protocol::Message> {
    match event {
        ServerEvent::NewMessage(m) => Some(m.clone()),
        _ => None,
    }
}

/// Acme: Alice, Bob; Globex: Grace. Alice and Bob share a direct conversation.
struct World {
    app: TestApp,
    alice: (TestUser, String),
    bob: (TestUser, String),
    dave: (TestUser, String),
    grace: (TestUser, String),
    direct: ConversationId,
}

/// Shared by the nodes; printable, so it can travel in an environment variable.
const SECRET: &str = "cluster-test-secret-cluster-test-secret-0123";

/// How long nodes here take to give up on a silent peer (20 s in production):
/// short, so that the dead-node test is quick.
const NODE_TIMEOUT: Duration = Duration::from_secs(2);

async fn world() -> Option<World> {
    world_with(NODE_TIMEOUT).await
}

async fn world_with(node_timeout: Duration) -> Option<World> {
    if app::backend::db::testing::skip_postgres("cluster") {
        return None;
    }
    let app = TestApp::spawn_with(Engine::Postgres, |config| {
        config.cluster.node_timeout = node_timeout;
        config.jwt_secret = SECRET.as_bytes().to_vec();
    })
    .await;
    let acme = app.create_org("Acme").await;
    let globex = app.create_org("Globex").await;
    let mut people = Vec::new();
    for (org, name, role) in [
        (acme, "Alice", OrgRole::Admin),
        (acme, "Bob", OrgRole::Member),
        (acme, "Dave", OrgRole::Member),
        (globex, "Grace", OrgRole::Member),
    ] {
        let user = app.create_user(org, name, role).await;
        let token = app.token_for(&user).await;
        people.push((user, token));
    }
    let (_, body) = status_and_json(
        app.post("/api/chat/conversations")
            .bearer_auth(&people[0].1)
            .json(&json!({"targetUserId": people[1].0.id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let direct = ConversationId(body["id"].as_i64().unwrap());
    let mut people = people.into_iter();
    let mut next = || people.next().unwrap();
    Some(World {
        alice: next(),
        bob: next(),
        dave: next(),
        grace: next(),
        direct,
        app,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_live_crosses_between_two_nodes_in_both_directions() {
    let Some(w) = world().await else { return };
    let node_b = w.app.spawn_node().await;
    let mut alice = w.app.ws(&w.alice.1).await; // node A
    let mut grace = w.app.ws(&w.grace.1).await; // node A, another organisation
    let mut bob = w.app.ws_at(&node_b, &w.bob.1).await; // node B

    // Presence: Bob came online on B; Alice on A hears it, Grace does not.
    alice
        .expect_presence(common::EVENT_WAIT, w.bob.0.id, true)
        .await;

    // A message from A reaches B, and one from B reaches A.
    let (id, frame) = send(w.direct, "from node A");
    alice.send(&frame).await;
    alice
        .expect("the acknowledgement", |e| match e {
            ServerEvent::MessageDelivered { client_msg_id, .. } if *client_msg_id == id => Some(()),
            _ => None,
        })
        .await;
    let got = bob.expect("Alice's message on B", new_message).await;
    assert_eq!(got.content, "from node A");
    // Bob's socket on B received Alice's message: the delivered tick crosses back.
    alice
        .expect("the delivered tick", |e| match e {
            ServerEvent::MessagesDelivered { delivered_to, .. } if *delivered_to == w.bob.0.id => {
                Some(())
            }
            _ => None,
        })
        .await;
    bob.send(&ClientEvent::MarkMessagesAsRead {
        conversation_id: w.direct,
        up_to_seq: None,
    })
    .await;
    alice
        .expect("Bob's read receipt", |e| match e {
            ServerEvent::MessagesRead {
                read_by, up_to_seq, ..
            } if *read_by == w.bob.0.id => Some(*up_to_seq),
            _ => None,
        })
        .await;
    let (_, frame) = send(w.direct, "from node B");
    bob.send(&frame).await;
    let got = alice.expect("Bob's message on A", new_message).await;
    assert_eq!(got.content, "from node B");

    // Typing and read receipts cross too.
    bob.send(&ClientEvent::Typing {
        conversation_id: w.direct,
        is_typing: true,
    })
    .await;
    alice
        .expect("Bob typing", |e| match e {
            ServerEvent::UserTyping {
                user_id,
                is_typing: true,
                ..
            } if *user_id == w.bob.0.id => Some(()),
            _ => None,
        })
        .await;

    // A notification ingested on B reaches Alice on A.
    let alice_me = w.app.backend().authenticate(&w.alice.1).await.unwrap();
    let key = w
        .app
        .backend()
        .create_api_key(&alice_me, "CRM")
        .await
        .unwrap()
        .key;
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/notifications", node_b.addr))
        .bearer_auth(&key)
        .json(
            &json!({"type": "TASK_ASSIGNED", "title": "Call Initech", "recipientId": w.alice.0.id}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    alice
        .expect("the notification on A", |e| match e {
            ServerEvent::NewNotification { notification, .. } => Some(notification.title.clone()),
            _ => None,
        })
        .await;

    // Alice's second tab, on B, sees what her first tab sends on A.
    let mut alice_on_b = w.app.ws_at(&node_b, &w.alice.1).await;
    let (_, frame) = send(w.direct, "seen by my other tab");
    alice.send(&frame).await;
    let got = alice_on_b
        .expect("the message in Alice's other tab", new_message)
        .await;
    assert_eq!(got.content, "seen by my other tab");

    // Nothing of it reached the other organisation.
    let leaked = grace.drain(Duration::from_millis(300)).await;
    assert!(
        leaked.iter().all(|e| matches!(e, ServerEvent::Pong)),
        "Grace saw {leaked:?}"
    );

    // Bob leaves B: Alice on A sees him go offline.
    drop(bob);
    alice
        .expect_presence(common::EVENT_WAIT, w.bob.0.id, false)
        .await;
    node_b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_tabs_on_two_nodes_is_online_until_both_are_gone() {
    let Some(w) = world().await else { return };
    let node_b = w.app.spawn_node().await;
    let mut alice = w.app.ws(&w.alice.1).await;
    let bob_on_a = w.app.ws(&w.bob.1).await;
    alice
        .expect_presence(common::EVENT_WAIT, w.bob.0.id, true)
        .await;
    let bob_on_b = w.app.ws_at(&node_b, &w.bob.1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(bob_on_a);
    let events = alice.drain(Duration::from_millis(700)).await;
    assert!(
        !events.iter().any(|e| matches!(
            e,
            ServerEvent::UserStatusChanged {
                is_online: false,
                ..
            }
        )),
        "Bob still has a tab on B: {events:?}"
    );
    assert!(w.app.backend().hub.is_online(w.bob.0.id));
    drop(bob_on_b);
    alice
        .expect_presence(common::EVENT_WAIT, w.bob.0.id, false)
        .await;
    node_b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_the_listen_connection_loses_no_event() {
    let Some(w) = world().await else { return };
    let node_b = w.app.spawn_node().await;
    let mut alice = w.app.ws(&w.alice.1).await;
    let mut bob = w.app.ws_at(&node_b, &w.bob.1).await;
    let node_b_id = match node_b.backend.fanout.as_ref() {
        app::backend::realtime::Fanout::Cluster(cluster) => cluster.node.clone(),
        app::backend::realtime::Fanout::Local(_) => panic!("node B is not on the bus"),
    };

    // Send while node B's LISTEN connection is terminated under it.
    let sender = tokio::spawn(async move {
        for i in 0..40 {
            let (_, frame) = send(w.direct, &format!("burst {i}"));
            alice.send(&frame).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        alice
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(format!("crm-chat-bus-{node_b_id}"))
    .fetch_all(w.app.backend().db.pool())
    .await
    .unwrap();
    assert_eq!(
        terminated,
        vec![true],
        "node B's LISTEN connection was found and ended"
    );
    let _alice = sender.await.unwrap();

    let mut contents = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while contents.len() < 40 && Instant::now() < deadline {
        if let Some(event) = bob.next_within(Duration::from_secs(5)).await
            && let Some(message) = new_message(&event)
        {
            contents.push(message.content);
        }
    }
    let expected: Vec<String> = (0..40).map(|i| format!("burst {i}")).collect();
    assert_eq!(contents, expected, "every message, once, in order");
    node_b.stop().await.unwrap();
}

/// A node as a process of its own, so it can be killed.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    async fn start(database_url: &str) -> (Process, u16) {
        Self::start_with(database_url, NODE_TIMEOUT).await
    }

    async fn start_with(database_url: &str, node_timeout: Duration) -> (Process, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = std::env::temp_dir().join(format!("crm-chat-node-{}", uuid()));
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("DATABASE_URL", database_url)
            .env("CRM_CHAT_DATA_DIR", &data)
            .env("CRM_CHAT_ADDR", format!("127.0.0.1:{port}"))
            .env("CRM_CHAT_SEED_DEMO", "false")
            .env("CRM_CHAT_JWT_SECRET", SECRET)
            .env(
                "CRM_CHAT_NODE_TIMEOUT_SECS",
                node_timeout.as_secs().to_string(),
            )
            .env(
                "RUST_LOG",
                std::env::var("NODE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(if std::env::var("NODE_LOG").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("the server binary starts");
        let process = Process(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
                && response.status().is_success()
            {
                return (process, port);
            }
            assert!(Instant::now() < deadline, "the node did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn ws_to_port(
    port: u16,
    token: &str,
    cursors: BTreeMap<ConversationId, i64>,
) -> (WsClient, Vec<ServerEvent>) {
    WsClient::open(&format!("127.0.0.1:{port}"), token, cursors).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_loses_nothing_for_clients_that_resume_elsewhere() {
    let Some(w) = world().await else { return };
    let (node_b, port_b) = Process::start(&w.app.test_db.url).await;
    let mut alice = w.app.ws(&w.alice.1).await;
    let (mut bob, _) = ws_to_port(port_b, &w.bob.1, BTreeMap::from([(w.direct, 0)])).await;
    // Dave is on B only, and will not come back.
    let (_dave, _) = ws_to_port(port_b, &w.dave.1, BTreeMap::new()).await;
    for who in [w.bob.0.id, w.dave.0.id] {
        alice.expect_presence(common::EVENT_WAIT, who, true).await;
    }

    // Bob reads some of the conversation on B.
    for i in 0..5 {
        let (_, frame) = send(w.direct, &format!("before {i}"));
        alice.send(&frame).await;
    }
    let mut cursor = 0;
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let message = bob.expect("a message on B", new_message).await;
        cursor = cursor.max(message.event_seq);
        seen.push(message.content);
    }

    // B dies; Alice goes on writing, edits and deletes.
    drop(node_b);
    drop(bob);
    let mut ids = Vec::new();
    for i in 0..10 {
        let (client_msg_id, frame) = send(w.direct, &format!("after {i}"));
        alice.send(&frame).await;
        let id = alice
            .expect("the acknowledgement", |e| match e {
                ServerEvent::MessageDelivered {
                    client_msg_id: c,
                    message_id,
                    ..
                } if *c == client_msg_id => Some(*message_id),
                _ => None,
            })
            .await;
        ids.push(id);
    }
    alice
        .send(&ClientEvent::EditMessage {
            reference: None,
            message_id: ids[0],
            content: "after 0, edited".into(),
        })
        .await;
    alice
        .send(&ClientEvent::DeleteMessage {
            reference: None,
            message_id: ids[1],
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Bob resumes on A from his cursor: everything he missed, once, in order.
    let (_bob_on_a, replay) = ws_to_port(
        w.app.server.addr.port(),
        &w.bob.1,
        BTreeMap::from([(w.direct, cursor)]),
    )
    .await;
    let mut event_seqs = Vec::new();
    let mut contents = Vec::new();
    for event in &replay {
        match event {
            ServerEvent::NewMessage(m) | ServerEvent::MessageUpdated(m) => {
                event_seqs.push(m.event_seq);
                contents.push(m.content.clone());
            }
            _ => {}
        }
    }
    let unique: HashSet<i64> = event_seqs.iter().copied().collect();
    assert_eq!(
        unique.len(),
        event_seqs.len(),
        "no change twice: {event_seqs:?}"
    );
    assert!(
        event_seqs.windows(2).all(|w| w[0] < w[1]),
        "in order: {event_seqs:?}"
    );
    assert!(event_seqs.iter().all(|seq| *seq > cursor));
    assert_eq!(
        contents.len(),
        10,
        "ten messages after the cursor: {contents:?}"
    );
    assert!(contents.contains(&"after 0, edited".to_owned()));
    assert!(
        contents.contains(&String::new()),
        "the deleted one is a tombstone"
    );

    // B's users go offline within the node timeout (2 s here, 20 s by
    // default), unless, like Bob, they came back elsewhere.
    let started = Instant::now();
    alice
        .expect_presence(Duration::from_secs(10), w.dave.0.id, false)
        .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let hub = &w.app.backend().hub;
    assert!(hub.is_online(w.bob.0.id) && !hub.is_online_elsewhere(w.bob.0.id));
    assert!(!hub.is_online(w.dave.0.id));
    let on_dead_node: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM node_presence WHERE user_id = $1")
            .bind(w.dave.0.id)
            .fetch_one(w.app.backend().db.pool())
            .await
            .unwrap();
    assert_eq!(on_dead_node, 0, "the dead node's presence rows are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_with_1001_and_exits_within_10_seconds() {
    // Nodes with the production timeout: a user going offline within a few
    // seconds can then only be node B's goodbye, never its missed heartbeats.
    let node_timeout = Duration::from_secs(20);
    let Some(w) = world_with(node_timeout).await else {
        return;
    };
    let (mut node_b, port_b) = Process::start_with(&w.app.test_db.url, node_timeout).await;
    let (mut bob, _) = ws_to_port(port_b, &w.bob.1, BTreeMap::new()).await;
    let started = Instant::now();
    let terminated = Command::new("kill")
        .args(["-TERM", &node_b.0.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert_eq!(bob.closed_with(Duration::from_secs(5)).await, Some(1001));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = node_b.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not exit within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a graceful exit: {status:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The node said it was leaving: Bob is offline for node A well within
    // the node timeout, so not because node B's heartbeats stopped.
    let deadline = Instant::now() + Duration::from_secs(5);
    while w.app.backend().hub.is_online(w.bob.0.id) {
        assert!(
            Instant::now() < deadline,
            "node A still shows Bob online 5 s after node B left"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presence_signal_that_arrives_after_its_node_said_goodbye_brings_nobody_back() {
    // A node's presence announcements and its goodbye go out on different
    // connections, so a user who connected just before it shut down can be
    // announced after the goodbye. Signals from node "ghost", by hand.
    let Some(w) = world_with(Duration::from_secs(20)).await else {
        return;
    };
    let pool = w.app.backend().db.pool().clone();
    let signal = |payload: serde_json::Value| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT pg_notify('crm_chat', $1)")
                .bind(payload.to_string())
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let (bob, org) = (w.bob.0.id.0, w.bob.0.org_id.0);
    let presence =
        json!({"t": "p", "from": "ghost", "changes": [{"u": bob, "o": org, "on": true, "at": 1}]});
    let goodbye = json!({"t": "h", "from": "ghost", "alive": false});
    let hub = &w.app.backend().hub;
    let within = |deadline: Duration, wanted: bool| async move {
        let until = Instant::now() + deadline;
        while hub.is_online(w.bob.0.id) != wanted && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        hub.is_online(w.bob.0.id) == wanted
    };

    signal(presence.clone()).await;
    assert!(
        within(Duration::from_secs(5), true).await,
        "announced: online"
    );
    signal(goodbye).await;
    assert!(
        within(Duration::from_secs(5), false).await,
        "its node left: offline"
    );
    signal(presence).await;
    assert!(
        !within(Duration::from_millis(500), true).await,
        "a late announcement from a node that left is ignored"
    );
}
