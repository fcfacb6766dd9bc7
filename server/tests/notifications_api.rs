#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! The notifications REST API against the real server, on both engines: the
//! feed, ingestion with organisation API keys, live pushes to every tab, and
//! the OpenAPI document of the whole REST API.

mod common;

use std::collections::BTreeSet;

use app::protocol::{OrgRole, ServerEvent};
use common::{TestApp, TestUser, status_and_json, test_both_dbs};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Acme (Alice the admin, Bob, Carol) and Globex (Grace), with session
/// tokens, and an Acme API key.
struct World {
    app: TestApp,
    alice: (TestUser, String),
    bob: (TestUser, String),
    carol: (TestUser, String),
    grace: (TestUser, String),
    acme_key: String,
}

async fn world(engine: app::backend::Engine) -> World {
    let app = TestApp::spawn(engine).await;
    let acme = app.create_org("Acme").await;
    let globex = app.create_org("Globex").await;
    let mut people = Vec::new();
    for (org, name, role) in [
        (acme, "Alice", OrgRole::Admin),
        (acme, "Bob", OrgRole::Member),
        (acme, "Carol", OrgRole::Member),
        (globex, "Grace", OrgRole::Admin),
    ] {
        let user = app.create_user(org, name, role).await;
        let token = app.token_for(&user).await;
        people.push((user, token));
    }
    let alice_me = app.backend().authenticate(&people[0].1).await.unwrap();
    let acme_key = app
        .backend()
        .create_api_key(&alice_me, "Lead router")
        .await
        .unwrap()
        .key;
    let mut people = people.into_iter();
    let mut next = || people.next().unwrap();
    World {
        alice: next(),
        bob: next(),
        carol: next(),
        grace: next(),
        acme_key,
        app,
    }
}

fn lead(recipients: &[&TestUser]) -> Value {
    json!({
        "type": "LEAD_ASSIGNED",
        "title": "Lead assigned: Initech",
        "body": "50 seats, renewal in March",
        "recipientIds": recipients.iter().map(|u| u.id).collect::<Vec<_>>(),
        "metadata": {"leadId": 7, "stage": "qualified"},
        "link": "https://crm.example.com/leads/7",
    })
}

impl World {
    async fn ingest(
        &self,
        key: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .post("/api/notifications")
            .bearer_auth(key)
            .json(body);
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        request.send().await.unwrap()
    }
}

async fn rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications")
        .fetch_one(app.backend().db.pool())
        .await
        .unwrap()
}

test_both_dbs! {
    async fn a_crm_creates_a_notification_and_its_recipient_reads_and_deletes_it(engine) {
        let w = world(engine).await;
        let (status, created) = status_and_json(w.ingest(&w.acme_key, &lead(&[&w.bob.0]), None).await).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["notifications"][0]["id"].as_i64().unwrap();
        assert_eq!(created["notifications"][0]["type"], "LEAD_ASSIGNED");

        let bob = &w.bob.1;
        let (status, page) = status_and_json(w.app.get("/api/notifications").bearer_auth(bob).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["unreadCount"], 1);
        assert_eq!(page["hasMore"], false);
        let n = &page["notifications"][0];
        assert_eq!((n["id"].as_i64(), &n["title"], &n["metadata"]["stage"]), (Some(id), &json!("Lead assigned: Initech"), &json!("qualified")));
        assert_eq!(n["readAt"], Value::Null);

        let (_, count) = status_and_json(w.app.get("/api/notifications/unread-count").bearer_auth(bob).send().await.unwrap()).await;
        assert_eq!(count, json!({"unreadCount": 1}));
        let filtered = w.app.get("/api/notifications?type=REMINDER&unreadOnly=true").bearer_auth(bob).send().await.unwrap();
        let (_, filtered) = status_and_json(filtered).await;
        assert_eq!(filtered["notifications"], json!([]));
        let bad = w.app.get("/api/notifications?type=NOPE").bearer_auth(bob).send().await.unwrap();
        let (status, bad) = status_and_json(bad).await;
        assert_eq!((status, &bad["error"]), (StatusCode::BAD_REQUEST, &json!("invalid_notification_type")));

        let (status, read) = status_and_json(w.app.post(&format!("/api/notifications/{id}/read")).bearer_auth(bob).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(read["readAt"].is_i64());
        let response = w.app.delete(&format!("/api/notifications/{id}")).bearer_auth(bob).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let (_, page) = status_and_json(w.app.get("/api/notifications").bearer_auth(bob).send().await.unwrap()).await;
        assert_eq!(page["notifications"], json!([]));
    }

    async fn another_user_s_or_organisation_s_notification_is_404(engine) {
        let w = world(engine).await;
        let (_, created) = status_and_json(w.ingest(&w.acme_key, &lead(&[&w.bob.0]), None).await).await;
        let id = created["notifications"][0]["id"].as_i64().unwrap();
        for outsider in [&w.carol.1, &w.grace.1, &w.alice.1] {
            let read = w.app.post(&format!("/api/notifications/{id}/read")).bearer_auth(outsider).send().await.unwrap();
            let (status, body) = status_and_json(read).await;
            assert_eq!((status, &body["error"]), (StatusCode::NOT_FOUND, &json!("not_found")));
            let delete = w.app.delete(&format!("/api/notifications/{id}")).bearer_auth(outsider).send().await.unwrap();
            assert_eq!(delete.status(), StatusCode::NOT_FOUND);
        }
        let (_, page) = status_and_json(w.app.get("/api/notifications").bearer_auth(&w.grace.1).send().await.unwrap()).await;
        assert_eq!(page["notifications"], json!([]));
        let (_, count) = status_and_json(w.app.get("/api/notifications/unread-count").bearer_auth(&w.bob.1).send().await.unwrap()).await;
        assert_eq!(count["unreadCount"], 1, "nothing an outsider did changed Bob's feed");
    }

    async fn ingestion_is_idempotent_with_the_same_key(engine) {
        let w = world(engine).await;
        let body = lead(&[&w.bob.0, &w.carol.0]);
        let first = w.ingest(&w.acme_key, &body, Some("lead-7-assigned")).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        let retry = w.ingest(&w.acme_key, &body, Some("lead-7-assigned")).await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(retry.json::<Value>().await.unwrap(), first);
        assert_eq!(rows(&w.app).await, 2);

        let other = json!({"type": "REMINDER", "title": "Call back", "recipientId": w.bob.0.id});
        let (status, error) = status_and_json(w.ingest(&w.acme_key, &other, Some("lead-7-assigned")).await).await;
        assert_eq!((status, &error["error"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("idempotency_key_reused")));
        assert_eq!(rows(&w.app).await, 2);
    }

    async fn bad_ingestion_requests_get_a_4xx_with_a_code_and_store_nothing(engine) {
        let w = world(engine).await;
        let bob = &w.bob.0;
        let cases = [
            (json!({"type": "LEAD_EATEN", "title": "x", "recipientId": bob.id}), StatusCode::BAD_REQUEST, "invalid_notification_type"),
            (json!({"type": "REMINDER", "title": "x", "recipientId": bob.id, "metadata": {"blob": "x".repeat(9000)}}), StatusCode::PAYLOAD_TOO_LARGE, "metadata_too_large"),
            (json!({"type": "REMINDER", "title": "x", "recipientId": w.grace.0.id}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"type": "REMINDER", "title": "x", "recipientIds": [bob.id, w.grace.0.id]}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"type": "REMINDER", "title": "x", "recipientId": 999_999}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"type": "REMINDER", "title": "", "recipientId": bob.id}), StatusCode::BAD_REQUEST, "invalid_input"),
            (json!({"type": "REMINDER", "title": "x", "recipientId": bob.id, "link": "javascript:alert(1)"}), StatusCode::BAD_REQUEST, "invalid_input"),
            (json!({"type": "REMINDER", "title": "x"}), StatusCode::BAD_REQUEST, "invalid_input"),
            (json!({"type": "REMINDER", "title": "x", "recipientId": bob.id, "surprise": 1}), StatusCode::BAD_REQUEST, "bad_request"),
            (json!("not an object"), StatusCode::BAD_REQUEST, "bad_request"),
        ];
        for (body, want_status, want_code) in cases {
            let (status, error) = status_and_json(w.ingest(&w.acme_key, &body, None).await).await;
            assert_eq!((status, error["error"].as_str()), (want_status, Some(want_code)), "{body}: {error}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        assert_eq!(rows(&w.app).await, 0);
    }

    async fn an_api_key_is_no_user_session_and_a_user_session_is_no_api_key(engine) {
        let w = world(engine).await;
        let body = lead(&[&w.bob.0]);
        // A user's token, even an admin's, cannot ingest.
        let response = w.ingest(&w.alice.1, &body, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = w.app.post("/api/notifications").json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        // The key cannot act as a user: not as a bearer, not as a cookie,
        // and it is no password either.
        for path in ["/api/auth/me", "/api/notifications", "/api/chat/conversations"] {
            let response = w.app.get(path).bearer_auth(&w.acme_key).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
            let response = w.app.get(path)
                .header("cookie", format!("crm_chat_session={}", w.acme_key))
                .send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
        let login = w.app.login(&w.alice.0.email, &w.acme_key).await;
        assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
        // A revoked key stops working.
        let alice = w.app.backend().authenticate(&w.alice.1).await.unwrap();
        let keys = w.app.backend().api_keys(&alice).await.unwrap();
        w.app.backend().revoke_api_key(&alice, keys[0].id).await.unwrap();
        assert_eq!(w.ingest(&w.acme_key, &body, None).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(rows(&w.app).await, 0);
    }

    async fn notifications_are_pushed_live_to_every_tab_of_the_recipient(engine) {
        let w = world(engine).await;
        let mut first_tab = w.app.ws(&w.bob.1).await;
        let mut second_tab = w.app.ws(&w.bob.1).await;
        let mut carol = w.app.ws(&w.carol.1).await;
        let (_, created) = status_and_json(w.ingest(&w.acme_key, &lead(&[&w.bob.0]), None).await).await;
        let id = created["notifications"][0]["id"].as_i64().unwrap();
        for tab in [&mut first_tab, &mut second_tab] {
            let (pushed, unread) = tab
                .expect("newNotification", |e| match e {
                    ServerEvent::NewNotification { notification, unread_count } => Some((notification.id.0, *unread_count)),
                    _ => None,
                })
                .await;
            assert_eq!((pushed, unread), (id, 1));
        }
        let response = w.app.post("/api/notifications/read-all").bearer_auth(&w.bob.1).send().await.unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"updated": 1, "unreadCount": 0})));
        for tab in [&mut first_tab, &mut second_tab] {
            let (unread, all_read) = tab
                .expect("notificationsUpdated", |e| match e {
                    ServerEvent::NotificationsUpdated { unread_count, all_read, .. } => Some((*unread_count, *all_read)),
                    _ => None,
                })
                .await;
            assert_eq!((unread, all_read), (0, true));
        }
        let others = carol.drain(std::time::Duration::from_millis(300)).await;
        assert!(
            !others.iter().any(|e| matches!(e, ServerEvent::NewNotification { .. } | ServerEvent::NotificationsUpdated { .. })),
            "{others:?}"
        );
    }

    async fn a_conversation_is_muted_pinned_and_marked_unread_for_the_caller_over_rest(engine) {
        let w = world(engine).await;
        let id = alice_and_bob(&w).await;
        let (status, muted) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1)
                .json(&json!({"muted": true})).send().await.unwrap(),
        ).await;
        assert_eq!((status, &muted["muted"]), (StatusCode::OK, &json!(true)));
        let (status, _) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.grace.1)
                .json(&json!({"muted": true})).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, pinned) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1)
                .json(&json!({"pinned": true})).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::OK);
        assert!(pinned["pinnedAt"].as_i64().is_some(), "{pinned}");
        assert_eq!(pinned["muted"], json!(true), "muting and pinning are separate");
        let (_, alices) = status_and_json(
            w.app.get(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.alice.1).send().await.unwrap(),
        ).await;
        assert_eq!(alices["pinnedAt"], Value::Null, "a pin is the caller's own");
        let (status, unpinned) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1)
                .json(&json!({"pinned": false})).send().await.unwrap(),
        ).await;
        assert_eq!((status, &unpinned["pinnedAt"]), (StatusCode::OK, &Value::Null));
        let (status, marked) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1)
                .json(&json!({"markedUnread": true})).send().await.unwrap(),
        ).await;
        assert_eq!((status, &marked["markedUnread"]), (StatusCode::OK, &json!(true)));
        let (status, cleared) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1)
                .json(&json!({"markedUnread": false})).send().await.unwrap(),
        ).await;
        assert_eq!((status, &cleared["markedUnread"]), (StatusCode::OK, &json!(false)));
        let (status, _) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.grace.1)
                .json(&json!({"pinned": true})).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    async fn a_message_is_marked_unread_from_over_rest_for_the_caller_alone(engine) {
        let w = world(engine).await;
        let id = alice_and_bob(&w).await;
        let mut sent = Vec::new();
        for words in ["the Initech quote", "and the invoice"] {
            let (status, message) = status_and_json(
                w.app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(&w.alice.1)
                    .json(&json!({"content": words, "clientMsgId": uuid::Uuid::new_v4().to_string()})).send().await.unwrap(),
            ).await;
            assert_eq!(status, StatusCode::CREATED, "{message}");
            sent.push(message);
        }
        let (status, _) = status_and_json(
            w.app.patch(&format!("/api/chat/conversations/{id}/read")).bearer_auth(&w.bob.1).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::OK);

        let first = sent[0]["id"].as_i64().unwrap();
        let (status, marked) = status_and_json(
            w.app.post(&format!("/api/chat/messages/{first}/mark-unread")).bearer_auth(&w.bob.1).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::OK, "{marked}");
        assert_eq!(
            (&marked["unreadCount"], &marked["markedUnread"], &marked["markedUnreadFromSeq"]),
            (&json!(2), &json!(true), &sent[0]["seq"])
        );
        let (_, alices) = status_and_json(
            w.app.get(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.alice.1).send().await.unwrap(),
        ).await;
        assert!(alices.get("markedUnreadFromSeq").is_none(), "Bob's own: {alices}");
        let bob_there = alices["participants"].as_array().unwrap().iter().find(|p| p["userId"] == json!(w.bob.0.id)).unwrap();
        assert_eq!(bob_there["lastReadSeq"], sent[1]["seq"], "Alice still sees that Bob read both");

        // Another organisation's caller, a message that is not there, a deleted one.
        let (status, body) = status_and_json(
            w.app.post(&format!("/api/chat/messages/{first}/mark-unread")).bearer_auth(&w.grace.1).send().await.unwrap(),
        ).await;
        assert_eq!((status, &body["error"]), (StatusCode::NOT_FOUND, &json!("not_found")));
        let (status, _) = status_and_json(
            w.app.post("/api/chat/messages/999999/mark-unread").bearer_auth(&w.bob.1).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = status_and_json(
            w.app.delete(&format!("/api/chat/messages/{first}")).bearer_auth(&w.alice.1).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = status_and_json(
            w.app.post(&format!("/api/chat/messages/{first}/mark-unread")).bearer_auth(&w.bob.1).send().await.unwrap(),
        ).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
    }
}

/// Alice's direct conversation with Bob, as she opens it: its id.
async fn alice_and_bob(w: &World) -> i64 {
    let (status, conversation) = status_and_json(
        w.app
            .post("/api/chat/conversations")
            .bearer_auth(&w.alice.1)
            .json(&json!({"targetUserId": w.bob.0.id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status.is_success(), "{status}: {conversation}");
    conversation["id"].as_i64().unwrap()
}

/// Every operation of the REST API, as `METHOD /path`.
const API: &[&str] = &[
    "POST /api/auth/login",
    "POST /api/auth/logout",
    "GET /api/auth/me",
    "GET /api/users/{id}",
    "GET /api/chat/conversations",
    "POST /api/chat/conversations",
    "GET /api/chat/conversations/{id}",
    "PATCH /api/chat/conversations/{id}",
    "POST /api/chat/conversations/{id}/participants",
    "DELETE /api/chat/conversations/{id}/participants/{user_id}",
    "PATCH /api/chat/conversations/{id}/participants/{user_id}",
    "GET /api/chat/conversations/{id}/messages",
    "POST /api/chat/conversations/{id}/messages",
    "GET /api/chat/conversations/{id}/changes",
    "PATCH /api/chat/conversations/{id}/read",
    "PATCH /api/chat/messages/{id}",
    "DELETE /api/chat/messages/{id}",
    "POST /api/chat/messages/{id}/reactions",
    "POST /api/chat/messages/{id}/forward",
    "POST /api/chat/messages/{id}/mark-unread",
    "PUT /api/chat/messages/{id}/pin",
    "DELETE /api/chat/messages/{id}/pin",
    "GET /api/chat/conversations/{id}/pins",
    "GET /api/chat/emoji",
    "GET /api/chat/emoji/shortcodes",
    "GET /api/chat/contacts",
    "GET /api/chat/search",
    "POST /api/chat/uploads",
    "GET /api/chat/uploads/{id}",
    "GET /api/notifications",
    "POST /api/notifications",
    "GET /api/notifications/unread-count",
    "POST /api/notifications/read-all",
    "POST /api/notifications/{id}/read",
    "DELETE /api/notifications/{id}",
    "GET /api/openapi.json",
];

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_the_router_serves() {
    let app = TestApp::spawn(app::backend::Engine::Sqlite).await;
    let (status, document) =
        status_and_json(app.get("/api/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = API.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, expected);

    // Each documented operation reaches a handler: without credentials it
    // is refused by the handler (401) or its input parsing (400), never by
    // routing (404 from the page fallback, 405 for a wrong method).
    for operation in &documented {
        let (method, path) = operation.split_once(' ').unwrap();
        let url = path.replace("{id}", "1").replace("{user_id}", "2");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let status = app.request(method, &url).send().await.unwrap().status();
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
            "{operation} answered {status}"
        );
    }
    // Schemas of the bodies are in the document too.
    for schema in [
        "Message",
        "ConversationSummary",
        "Notification",
        "IngestNotification",
        "AppError",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}

/// The router registers REST routes only through `api_router`, whose
/// `OpenApiRouter` documents each one; a plain `.route("/api…")` beside it
/// would serve an undocumented route.
#[test]
fn no_rest_route_bypasses_the_documented_router() {
    let source = include_str!("../src/lib.rs");
    assert!(
        !source.contains(".route(\"/api"),
        "register /api routes in api_router"
    );
}
