#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! The WebSocket gateway against the real server, with real sockets, on both
//! engines: delivery, acknowledgements, other tabs, typing, presence,
//! receipts, resume without loss, and misbehaving clients.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use app::api::ErrorCode;
use app::protocol::{ClientEvent, ConversationId, MessageId, OrgRole, ServerEvent, close_code};
use common::{TestApp, TestUser, WsClient, test_both_dbs};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

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

struct Person {
    user: TestUser,
    token: String,
}

/// Acme: Alice, Bob, Dave; Globex: Grace. Alice and Bob share a direct conversation.
struct Office {
    app: TestApp,
    alice: Person,
    bob: Person,
    dave: Person,
    grace: Person,
    direct: ConversationId,
}

async fn office_with(engine: app::backend::Engine, limits: server::gateway::Limits) -> Office {
    let app = TestApp::spawn_with_limits(engine, limits).await;
    let acme = app.create_org("Acme").await;
    let globex = app.create_org("Globex").await;
    let mut people = Vec::new();
    for (org, name) in [
        (acme, "Alice"),
        (acme, "Bob"),
        (acme, "Dave"),
        (globex, "Grace"),
    ] {
        let role = if name == "Alice" {
            OrgRole::Admin
        } else {
            OrgRole::Member
        };
        let user = app.create_user(org, name, role).await;
        let token = app.token_for(&user).await;
        people.push(Person { user, token });
    }
    let mut people = people.into_iter();
    let (alice, bob, dave, grace) = (
        people.next().unwrap(),
        people.next().unwrap(),
        people.next().unwrap(),
        people.next().unwrap(),
    );
    let me = app.backend().authenticate(&alice.token).await.unwrap();
    let direct = app
        .backend()
        .direct_conversation(&me, bob.user.id)
        .await
        .unwrap();
    Office {
        app,
        alice,
        bob,
        dave,
        grace,
        direct,
    }
}

async fn office(engine: app::backend::Engine) -> Office {
    office_with(engine, server::gateway::Limits::default()).await
}

fn delivered(
    client_msg_id: &str,
) -> impl FnMut(&ServerEvent) -> Option<app::protocol::Message> + '_ {
    move |event| match event {
        ServerEvent::MessageDelivered {
            client_msg_id: id,
            message,
            ..
        } if id == client_msg_id => Some(message.clone()),
        _ => None,
    }
}

fn new_message(event: &ServerEvent) -> Option<app::protocol::Message> {
    match event {
        ServerEvent::NewMessage(message) => Some(message.clone()),
        _ => None,
    }
}

test_both_dbs! {
    async fn two_users_exchange_messages_in_order_with_acknowledgements(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;

        let mut sent = Vec::new();
        for i in 1..=5 {
            let (id, event) = send(o.direct, &format!("message {i}"));
            alice.send(&event).await;
            sent.push(id);
        }
        for (i, id) in sent.iter().enumerate() {
            let acked = alice.expect("the acknowledgement", delivered(id)).await;
            assert_eq!((acked.seq, acked.content.as_str()), (i as i64 + 1, format!("message {}", i + 1).as_str()));
        }
        for i in 1..=5 {
            let message = bob.expect("a new message", new_message).await;
            assert_eq!((message.seq, message.content), (i, format!("message {i}")));
            assert_eq!(message.sender_name, "Alice");
        }
        let unread = bob
            .expect("the unread count", |e| match e {
                ServerEvent::ConversationUpdated { unread_count: Some(5), .. } => Some(5),
                _ => None,
            })
            .await;
        assert_eq!(unread, 5);
    }

    async fn a_retried_send_is_acknowledged_with_the_stored_message_and_announced_once(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;
        let (id, event) = send(o.direct, "only once");
        alice.send(&event).await;
        let first = alice.expect("the acknowledgement", delivered(&id)).await;
        // The acknowledgement was lost, say: the client sends again.
        alice.send(&event).await;
        let again = alice.expect("the acknowledgement of the retry", delivered(&id)).await;
        assert_eq!((again.id, again.seq), (first.id, first.seq));
        bob.expect("the message", new_message).await;
        let more = bob.drain(Duration::from_millis(500)).await;
        assert!(!more.iter().any(|e| matches!(e, ServerEvent::NewMessage(_))), "announced twice: {more:?}");
    }

    async fn the_sender_s_other_tab_sees_its_message_and_read_state_follows_every_tab(engine) {
        let o = office(engine).await;
        let mut laptop = o.app.ws(&o.alice.token).await;
        let mut phone = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;

        let (id, event) = send(o.direct, "from the laptop");
        laptop.send(&event).await;
        laptop.expect("the acknowledgement", delivered(&id)).await;
        let mirrored = phone.expect("the message on the other tab", new_message).await;
        assert_eq!(mirrored.content, "from the laptop");

        let (_, reply) = send(o.direct, "got it");
        bob.send(&reply).await;
        for tab in [&mut laptop, &mut phone] {
            tab.expect("Bob's reply", new_message).await;
            tab.expect("one unread", |e| match e {
                ServerEvent::ConversationUpdated { unread_count: Some(1), .. } => Some(()),
                _ => None,
            })
            .await;
        }
        laptop.send(&ClientEvent::MarkMessagesAsRead { conversation_id: o.direct, up_to_seq: None }).await;
        phone
            .expect("the read on the other tab", |e| match e {
                ServerEvent::ConversationUpdated { unread_count: Some(0), last_read_seq: Some(2), .. } => Some(()),
                _ => None,
            })
            .await;
        let (read_by, up_to) = bob
            .expect("the read receipt", |e| match e {
                ServerEvent::MessagesRead { read_by, up_to_seq, .. } => Some((*read_by, *up_to_seq)),
                _ => None,
            })
            .await;
        assert_eq!((read_by, up_to), (o.alice.user.id, 2));
    }

    async fn a_recipient_s_socket_receiving_a_message_gives_the_sender_a_delivered_tick(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;
        let (id, event) = send(o.direct, "are you there?");
        alice.send(&event).await;
        let message = alice.expect("the acknowledgement", delivered(&id)).await;
        bob.expect("the message", new_message).await;
        let (to, up_to) = alice
            .expect("the delivered tick", |e| match e {
                ServerEvent::MessagesDelivered { delivered_to, up_to_seq, .. } => Some((*delivered_to, *up_to_seq)),
                _ => None,
            })
            .await;
        assert_eq!((to, up_to), (o.bob.user.id, message.seq));
    }

    async fn typing_reaches_only_the_other_participants_is_throttled_and_expires(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;
        let mut dave = o.app.ws(&o.dave.token).await;
        let mut grace = o.app.ws(&o.grace.token).await;
        // Presence of the others connecting is not what this test is about.
        for client in [&mut alice, &mut bob, &mut dave, &mut grace] {
            client.drain(Duration::from_millis(300)).await;
        }

        alice.send(&ClientEvent::Typing { conversation_id: o.direct, is_typing: true }).await;
        alice.send(&ClientEvent::Typing { conversation_id: o.direct, is_typing: true }).await;
        let started = Instant::now();
        let (user, name) = bob
            .expect("typing", |e| match e {
                ServerEvent::UserTyping { user_id, user_name, is_typing: true, .. } => Some((*user_id, user_name.clone())),
                _ => None,
            })
            .await;
        assert_eq!((user, name.as_str()), (o.alice.user.id, "Alice"));
        // The second "typing" within 2 s is not relayed; the indicator expires 6 s after the last.
        let stopped = bob
            .expect_within(Duration::from_secs(8), "typing to expire", |e| match e {
                ServerEvent::UserTyping { is_typing, .. } => Some(*is_typing),
                _ => None,
            })
            .await;
        assert!(!stopped, "the next typing event is the expiry, not a repeat");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(5500), "expired after {waited:?}");

        for outsider in [&mut dave, &mut grace] {
            let seen = outsider.drain(Duration::from_millis(300)).await;
            assert!(!seen.iter().any(|e| matches!(e, ServerEvent::UserTyping { .. })), "{seen:?}");
        }
        dave.send(&ClientEvent::Typing { conversation_id: o.direct, is_typing: true }).await;
        let code = dave
            .expect("an error", |e| match e {
                ServerEvent::Error { code, .. } => Some(*code),
                _ => None,
            })
            .await;
        assert_eq!(code, ErrorCode::NotFound);
    }

    async fn presence_reaches_the_organisation_only_and_last_seen_is_kept(engine) {
        let o = office(engine).await;
        let mut dave = o.app.ws(&o.dave.token).await;
        let mut grace = o.app.ws(&o.grace.token).await;

        let first_tab = o.app.ws(&o.bob.token).await;
        let online = dave
            .expect("Bob online", |e| match e {
                ServerEvent::UserStatusChanged { user_id, is_online, .. } if *user_id == o.bob.user.id => Some(*is_online),
                _ => None,
            })
            .await;
        assert!(online);
        let second_tab = o.app.ws(&o.bob.token).await;
        drop(first_tab);
        let quiet = dave.drain(Duration::from_millis(500)).await;
        assert!(!quiet.iter().any(|e| matches!(e, ServerEvent::UserStatusChanged { .. })), "one tab is still open: {quiet:?}");

        drop(second_tab);
        let last_seen = dave
            .expect("Bob offline", |e| match e {
                ServerEvent::UserStatusChanged { user_id, is_online: false, last_seen, .. } if *user_id == o.bob.user.id => *last_seen,
                _ => None,
            })
            .await;
        let stored: Option<i64> = sqlx::query_scalar("SELECT last_seen_at FROM users WHERE id = $1")
            .bind(o.bob.user.id)
            .fetch_one(o.app.test_db.db.pool())
            .await
            .unwrap();
        assert_eq!(stored, Some(last_seen));

        let seen = grace.drain(Duration::from_millis(300)).await;
        assert!(!seen.iter().any(|e| matches!(e, ServerEvent::UserStatusChanged { .. })), "Globex saw Acme presence: {seen:?}");
    }

    async fn resume_replays_exactly_the_changes_after_the_cursor_then_goes_live(engine) {
        let o = office(engine).await;
        let backend = o.app.backend();
        let alice_me = backend.authenticate(&o.alice.token).await.unwrap();
        let bob_me = backend.authenticate(&o.bob.token).await.unwrap();
        let text = |content: &str| app::protocol::SendMessage { client_msg_id: Some(uuid()), content: content.into(), ..Default::default() };

        let mut alice = o.app.ws(&o.alice.token).await;
        let mut early = Vec::new();
        for i in 0..3 {
            early.push(backend.send_message(&bob_me, o.direct, text(&format!("early {i}")), None).await.unwrap());
        }
        let mut cursor = 0;
        while cursor < 3 {
            if let Some(message) = new_message(&alice.next().await.expect("an event")) {
                cursor = message.event_seq;
            }
        }
        drop(alice);

        // While Alice is away: 50 messages, 3 edits, 2 deletes, reactions.
        let mut later = Vec::new();
        for i in 0..50 {
            later.push(backend.send_message(&bob_me, o.direct, text(&format!("later {i}")), None).await.unwrap());
        }
        backend.edit_message(&bob_me, early[0].id, "early 0, edited").await.unwrap();
        backend.edit_message(&bob_me, later[10].id, "later 10, edited").await.unwrap();
        backend.edit_message(&bob_me, later[20].id, "later 20, edited").await.unwrap();
        backend.delete_message(&bob_me, later[30].id).await.unwrap();
        backend.delete_message(&bob_me, early[1].id).await.unwrap();
        backend.toggle_reaction(&alice_me, later[40].id, "👍").await.unwrap();
        backend.toggle_reaction(&bob_me, later[41].id, "🎉").await.unwrap();
        let last_event_seq = backend.conversation(&alice_me, o.direct).await.unwrap().last_event_seq;
        assert_eq!(last_event_seq, 3 + 50 + 3 + 2 + 2);

        // Bob keeps sending while Alice resumes: the boundary must hold.
        let sender = {
            let backend = backend.clone();
            let bob_me = bob_me.clone();
            let direct = o.direct;
            tokio::spawn(async move {
                for i in 0..20 {
                    let send = app::protocol::SendMessage { client_msg_id: Some(uuid::Uuid::new_v4().to_string()), content: format!("during {i}"), ..Default::default() };
                    backend.send_message(&bob_me, direct, send, None).await.unwrap();
                }
            })
        };
        let mut alice = o.app.ws_raw(&o.alice.token, &[]).await.unwrap();
        let replay = alice.resume(BTreeMap::from([(o.direct, cursor)])).await;
        sender.await.unwrap();
        let live = alice.drain(Duration::from_millis(700)).await;

        let mut seen_events: Vec<i64> = Vec::new();
        let mut ids: HashSet<MessageId> = HashSet::new();
        let mut resumed_at = None;
        for event in replay.iter().chain(live.iter()) {
            match event {
                ServerEvent::NewMessage(m) | ServerEvent::MessageUpdated(m) => {
                    assert!(m.event_seq > cursor, "{} replayed at or before the cursor", m.event_seq);
                    assert!(ids.insert(m.id), "message {} came twice", m.id);
                    seen_events.push(m.event_seq);
                }
                ServerEvent::Resumed { cursors, .. } => resumed_at = cursors.get(&o.direct).copied(),
                ServerEvent::MessageDeleted { .. } | ServerEvent::ReactionsChanged { .. } => {
                    panic!("a change after the cursor arrived live, not in the replay: {event:?}")
                }
                _ => {}
            }
        }
        let resumed_at = resumed_at.expect("resumed carries the cursor");
        assert!(resumed_at >= last_event_seq);
        assert!(seen_events.windows(2).all(|w| w[0] < w[1]), "in event order: {seen_events:?}");
        // Every message that changed after the cursor, once: 50 later, 20 during,
        // and the edited and deleted early ones.
        assert_eq!(ids.len(), 50 + 20 + 2, "{} messages", ids.len());
        assert!(ids.contains(&early[0].id) && ids.contains(&early[1].id) && !ids.contains(&early[2].id));
        let replayed_edit = replay.iter().find_map(|e| match e {
            ServerEvent::MessageUpdated(m) if m.id == early[0].id => Some(m.content.clone()),
            _ => None,
        });
        assert_eq!(replayed_edit.as_deref(), Some("early 0, edited"));
        let final_seq = backend.conversation(&alice_me, o.direct).await.unwrap().last_event_seq;
        assert_eq!(*seen_events.last().unwrap(), final_seq, "nothing missing at the end");

        // And then live.
        let (_, event) = send(o.direct, "welcome back");
        let mut bob = o.app.ws(&o.bob.token).await;
        bob.send(&event).await;
        let live_message = alice.expect("a live message", new_message).await;
        assert_eq!(live_message.event_seq, final_seq + 1);
    }

    async fn a_pin_reaches_every_member_s_tabs_as_the_message_updated(engine) {
        let o = office(engine).await;
        let backend = o.app.backend();
        let bob_me = backend.authenticate(&o.bob.token).await.unwrap();
        let send = app::protocol::SendMessage { client_msg_id: Some(uuid()), content: "Terms: net 30".into(), ..Default::default() };
        let message = backend.send_message(&bob_me, o.direct, send, None).await.unwrap();
        let mut alice = o.app.ws(&o.alice.token).await;
        let mut bob = o.app.ws(&o.bob.token).await;
        let mut dave = o.app.ws(&o.dave.token).await;

        backend.pin_message(&bob_me, message.id, true).await.unwrap();
        for socket in [&mut alice, &mut bob] {
            let pinned = socket
                .expect("the pinned message", |e| match e {
                    ServerEvent::MessageUpdated(m) if m.id == message.id => m.pinned.clone(),
                    _ => None,
                })
                .await;
            assert_eq!((pinned.by.user_id, pinned.by.name.as_str()), (bob_me.id, "Bob"));
        }
        backend.pin_message(&bob_me, message.id, false).await.unwrap();
        let unpinned = alice
            .expect("the unpinned message", |e| match e {
                ServerEvent::MessageUpdated(m) if m.id == message.id => Some(m.clone()),
                _ => None,
            })
            .await;
        assert!(unpinned.pinned.is_none());
        let seen = dave.drain(Duration::from_millis(300)).await;
        assert!(!seen.iter().any(|e| matches!(e, ServerEvent::MessageUpdated(_))), "an outsider saw the pin: {seen:?}");
    }

    async fn a_cursor_ahead_or_for_someone_else_s_conversation_is_an_error_not_a_silent_replay(engine) {
        let o = office(engine).await;
        let bob_me = o.app.backend().authenticate(&o.bob.token).await.unwrap();
        let dave_me = o.app.backend().authenticate(&o.dave.token).await.unwrap();
        let theirs = o.app.backend().direct_conversation(&bob_me, dave_me.id).await.unwrap();
        let send = app::protocol::SendMessage { client_msg_id: Some(uuid()), content: "hi".into(), ..Default::default() };
        o.app.backend().send_message(&bob_me, o.direct, send, None).await.unwrap();

        let mut alice = o.app.ws_raw(&o.alice.token, &[]).await.unwrap();
        let replay = alice.resume(BTreeMap::from([(o.direct, 0), (theirs, 0), (ConversationId(987_654), 0)])).await;
        let errors: Vec<(ErrorCode, Option<ConversationId>)> = replay
            .iter()
            .filter_map(|e| match e {
                ServerEvent::Error { code, conversation_id, .. } => Some((*code, *conversation_id)),
                _ => None,
            })
            .collect();
        assert!(errors.contains(&(ErrorCode::NotFound, Some(theirs))), "{errors:?}");
        assert!(errors.contains(&(ErrorCode::NotFound, Some(ConversationId(987_654)))), "{errors:?}");
        assert!(replay.iter().any(|e| matches!(e, ServerEvent::NewMessage(m) if m.conversation_id == o.direct)));

        let mut again = o.app.ws_raw(&o.alice.token, &[]).await.unwrap();
        let replay = again.resume(BTreeMap::from([(o.direct, 99)])).await;
        assert!(replay.iter().any(|e| matches!(e, ServerEvent::Error { code: ErrorCode::CursorAhead, conversation_id: Some(id), .. } if *id == o.direct)));
    }

    async fn removal_from_a_group_stops_its_events_at_once(engine) {
        let o = office(engine).await;
        let backend = o.app.backend();
        let alice_me = backend.authenticate(&o.alice.token).await.unwrap();
        let group = backend
            .create_conversation(&alice_me, app::protocol::CreateConversation { title: Some("Deals".into()), member_ids: vec![o.bob.user.id, o.dave.user.id], ..Default::default() })
            .await
            .unwrap()
            .id;
        let mut dave = o.app.ws(&o.dave.token).await;
        backend.remove_participant(&alice_me, group, o.dave.user.id).await.unwrap();
        dave.expect("the removal", |e| match e {
            ServerEvent::ConversationRemoved { conversation_id } if *conversation_id == group => Some(()),
            _ => None,
        })
        .await;
        let send = app::protocol::SendMessage { client_msg_id: Some(uuid()), content: "after Dave left".into(), ..Default::default() };
        backend.send_message(&alice_me, group, send, None).await.unwrap();
        let seen = dave.drain(Duration::from_millis(500)).await;
        assert!(!seen.iter().any(|e| matches!(e, ServerEvent::NewMessage(_))), "{seen:?}");
    }

    async fn sign_out_closes_open_sockets_within_a_second(engine) {
        let o = office(engine).await;
        let mut tab = o.app.ws(&o.bob.token).await;
        let started = Instant::now();
        let response = o.app.post("/api/auth/logout").bearer_auth(&o.bob.token).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
        assert_eq!(tab.closed_with(Duration::from_secs(1)).await, Some(close_code::SESSION_ENDED));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(o.app.ws_raw(&o.bob.token, &[]).await.is_err(), "the old token no longer opens a socket");
    }

    async fn the_upgrade_refuses_foreign_origins_missing_or_bad_sessions_and_a_21st_socket(engine) {
        let o = office(engine).await;
        let refused = |result: Result<WsClient, tokio_tungstenite::tungstenite::Error>| match result {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("the socket opened"),
        };
        assert_eq!(refused(o.app.ws_raw(&o.alice.token, &[("origin", "https://evil.example")]).await), 403);
        assert_eq!(refused(o.app.ws_raw("", &[]).await), 401);
        assert_eq!(refused(o.app.ws_raw("not.a.token", &[]).await), 401);
        let secret = o.app.backend().config.jwt_secret.clone();
        let now = app::backend::now_ms() / 1000;
        let expired = app::backend::auth::tokens::Tokens::new(&secret).issue(o.alice.user.id, o.alice.user.org_id, 0, now - 7200, 60).unwrap().0;
        assert_eq!(refused(o.app.ws_raw(&expired, &[]).await), 401);
        // The site's own origin is fine.
        let own = format!("http://{}", o.app.server.addr);
        let mut sockets = vec![o.app.ws_raw(&o.alice.token, &[("origin", &own)]).await.expect("the site's own origin")];
        for _ in 0..19 {
            sockets.push(o.app.ws(&o.alice.token).await);
        }
        assert_eq!(refused(o.app.ws_raw(&o.alice.token, &[]).await), 429);
    }

    async fn malformed_frames_get_errors_and_the_socket_stays_open(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for garbage in ["not json".to_owned(), json!({"type": "launchRockets"}).to_string(), deep, json!({"type": "sendMessage"}).to_string()] {
            alice.send_raw(WsMessage::Text(garbage.clone().into())).await.unwrap();
            let code = alice
                .expect("an error", |e| match e {
                    ServerEvent::Error { code, .. } => Some(*code),
                    _ => None,
                })
                .await;
            assert_eq!(code, ErrorCode::BadFrame, "{}", &garbage[..garbage.len().min(40)]);
        }
        alice.send_raw(WsMessage::Binary(vec![1, 2, 3].into())).await.unwrap();
        alice.send(&ClientEvent::Ping).await;
        alice.expect("a pong", |e| matches!(e, ServerEvent::Pong).then_some(())).await;
    }

    async fn repeated_garbage_closes_the_socket_with_1008(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        for _ in 0..11 {
            if alice.send_raw(WsMessage::Text("garbage".into())).await.is_err() {
                break;
            }
        }
        assert_eq!(alice.closed_with(Duration::from_secs(2)).await, Some(1008));
    }

    async fn a_frame_over_64_kib_closes_with_1009(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let big = json!({"type": "ping", "padding": "x".repeat(65 * 1024)}).to_string();
        alice.send_raw(WsMessage::Text(big.into())).await.unwrap();
        assert_eq!(alice.closed_with(Duration::from_secs(2)).await, Some(1009));
    }

    async fn invalid_utf8_closes_with_1007(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
        alice.send_raw(WsMessage::Frame(frame)).await.unwrap();
        assert_eq!(alice.closed_with(Duration::from_secs(2)).await, Some(1007));
    }

    async fn a_flood_of_sends_is_rate_limited_and_nothing_is_lost_or_doubled(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws(&o.alice.token).await;
        let started = Instant::now();
        for i in 0..1000 {
            let (_, event) = send(o.direct, &format!("flood {i}"));
            alice.send(&event).await;
        }
        let elapsed = started.elapsed();
        let events = alice.drain(Duration::from_millis(1500)).await;
        let acked = events.iter().filter(|e| matches!(e, ServerEvent::MessageDelivered { .. })).count();
        let limited = events.iter().filter(|e| matches!(e, ServerEvent::Error { code: ErrorCode::RateLimited, .. })).count();
        assert_eq!(acked + limited, 1000, "every send is answered");
        let allowed = 40 + (elapsed.as_secs_f64() * 20.0).ceil() as usize + 20;
        assert!(acked >= 40 && acked <= allowed, "{acked} accepted in {elapsed:?}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE conversation_id = $1")
            .bind(o.direct)
            .fetch_one(o.app.test_db.db.pool())
            .await
            .unwrap();
        assert_eq!(stored as usize, acked);
        alice.send(&ClientEvent::Ping).await;
        alice.expect("a pong", |e| matches!(e, ServerEvent::Pong).then_some(())).await;
    }

    async fn a_client_that_never_reads_is_dropped_and_nobody_else_notices(engine) {
        let o = office(engine).await;
        let backend = o.app.backend();
        let alice_me = backend.authenticate(&o.alice.token).await.unwrap();
        let group = backend
            .create_conversation(&alice_me, app::protocol::CreateConversation { title: Some("Busy".into()), member_ids: vec![o.bob.user.id, o.dave.user.id], ..Default::default() })
            .await
            .unwrap()
            .id;
        // Dave connects and then never reads again.
        let _dave = o.app.ws(&o.dave.token).await;
        assert_eq!(backend.hub.connection_count(o.dave.user.id), 1);
        let mut bob = o.app.ws(&o.bob.token).await;

        let big = "x".repeat(3900);
        let mut worst = Duration::ZERO;
        for round in 0..40 {
            let mut pending = Vec::new();
            for _ in 0..50 {
                let send = app::protocol::SendMessage { client_msg_id: Some(uuid()), content: big.clone(), ..Default::default() };
                pending.push(backend.send_message(&alice_me, group, send, None));
            }
            let started = Instant::now();
            let sent = futures::future::join_all(pending).await;
            let last = sent.into_iter().last().unwrap().unwrap();
            // Bob, reading, gets everything promptly.
            loop {
                let message = bob.expect("a message", new_message).await;
                if message.id == last.id {
                    break;
                }
            }
            worst = worst.max(started.elapsed());
            if backend.hub.connection_count(o.dave.user.id) == 0 {
                assert!(round > 0, "dropped before falling behind");
                break;
            }
        }
        assert_eq!(backend.hub.connection_count(o.dave.user.id), 0, "the reader that never reads was dropped");
        assert!(worst < Duration::from_secs(2), "Bob waited {worst:?} for a round of 50 messages");
    }

    async fn a_client_that_stops_answering_pings_is_dropped(engine) {
        let limits = server::gateway::Limits { ping_interval: Duration::from_millis(150), ..Default::default() };
        let o = office_with(engine, limits).await;
        let backend = o.app.backend();
        let mut answering = o.app.ws(&o.alice.token).await;
        // Not reading means not answering pings.
        let _silent = o.app.ws(&o.dave.token).await;
        let deadline = Instant::now() + Duration::from_secs(3);
        while backend.hub.connection_count(o.dave.user.id) > 0 {
            assert!(Instant::now() < deadline, "the silent peer was not dropped");
            // Keep reading so this one answers its pings.
            answering.drain(Duration::from_millis(50)).await;
        }
        answering.drain(Duration::from_millis(600)).await;
        assert_eq!(backend.hub.connection_count(o.alice.user.id), 1, "a peer that answers stays");
    }
}

test_both_dbs! {
    async fn resumed_names_the_build_of_the_web_app_the_server_serves(engine) {
        let app = TestApp::spawn_serving_build(engine, "9c41f07e2b6d5a18").await;
        let org = app.create_org("Acme").await;
        let user = app.create_user(org, "Alice", OrgRole::Member).await;
        let token = app.token_for(&user).await;
        let mut socket = app.ws_raw(&token, &[]).await.unwrap();
        let replay = socket.resume(BTreeMap::new()).await;
        let Some(ServerEvent::Resumed { build, .. }) = replay.last() else {
            panic!("no resumed: {replay:?}");
        };
        assert_eq!(build.as_deref(), Some("9c41f07e2b6d5a18"));
    }

    async fn a_server_serving_its_code_unversioned_names_no_build(engine) {
        let o = office(engine).await;
        let mut alice = o.app.ws_raw(&o.alice.token, &[]).await.unwrap();
        let replay = alice.resume(BTreeMap::new()).await;
        let Some(ServerEvent::Resumed { build, .. }) = replay.last() else {
            panic!("no resumed: {replay:?}");
        };
        assert_eq!(*build, None);
    }
}
