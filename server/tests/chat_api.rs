#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! The chat REST API against the real server, on both engines: the flow a CRM
//! integration follows, who may touch what, and uploads.

mod common;

use app::protocol::OrgRole;
use common::{TestApp, TestUser, status_and_json, test_both_dbs};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn json_ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn upload_form(conversation_id: i64, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("conversationId", conversation_id.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE,
    0x42, 0x60, 0x82,
];

/// Acme (Alice, Bob, Carol) and Globex (Grace), with tokens.
struct World {
    app: TestApp,
    alice: (TestUser, String),
    bob: (TestUser, String),
    carol: (TestUser, String),
    grace: (TestUser, String),
}

async fn world(engine: app::backend::Engine) -> World {
    let app = TestApp::spawn(engine).await;
    let acme = app.create_org("Acme").await;
    let globex = app.create_org("Globex").await;
    let mut users = Vec::new();
    for (org, name, role) in [
        (acme, "Alice", OrgRole::Admin),
        (acme, "Bob", OrgRole::Member),
        (acme, "Carol", OrgRole::Member),
        (globex, "Grace", OrgRole::Admin),
    ] {
        let user = app.create_user(org, name, role).await;
        let token = app.token_for(&user).await;
        users.push((user, token));
    }
    let mut users = users.into_iter();
    let mut next = || users.next().unwrap();
    World {
        alice: next(),
        bob: next(),
        carol: next(),
        grace: next(),
        app,
    }
}

test_both_dbs! {
    async fn a_conversation_over_rest_from_first_message_to_deletion(engine) {
        let w = world(engine).await;
        let (app, (alice, at), (bob, bt)) = (&w.app, &w.alice, &w.bob);

        let conversation = json_ok(app.post("/api/chat/conversations").bearer_auth(at).json(&json!({"targetUserId": bob.id})).send().await.unwrap()).await;
        let id = conversation["id"].as_i64().unwrap();
        assert_eq!(conversation["title"], "Bob");
        assert_eq!(conversation["kind"], "direct");
        let again = json_ok(app.post("/api/chat/conversations").bearer_auth(bt).json(&json!({"targetUserId": alice.id})).send().await.unwrap()).await;
        assert_eq!(again["id"].as_i64(), Some(id), "get-or-create");

        let client_msg_id = uuid();
        let send = json!({"clientMsgId": client_msg_id, "content": "Hi Bob, the Acme lead is yours"});
        let response = app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&send).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let message = response.json::<Value>().await.unwrap();
        assert_eq!((message["seq"].as_i64(), message["messageType"].as_str()), (Some(1), Some("text")));
        let retry = json_ok(app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&send).send().await.unwrap()).await;
        assert_eq!(retry["id"], message["id"]);

        let list = json_ok(app.get("/api/chat/conversations").bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(list["conversations"][0]["unreadCount"], 1);
        assert_eq!(list["conversations"][0]["lastMessage"]["text"], "Hi Bob, the Acme lead is yours");

        let page = json_ok(app.get(&format!("/api/chat/conversations/{id}/messages?limit=10")).bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(page["messages"].as_array().unwrap().len(), 1);
        assert_eq!(page["hasMore"], false);

        let read = json_ok(app.patch(&format!("/api/chat/conversations/{id}/read")).bearer_auth(bt).json(&json!({"upToSeq": 1})).send().await.unwrap()).await;
        assert_eq!((read["lastReadSeq"].as_i64(), read["unreadCount"].as_i64()), (Some(1), Some(0)));
        let read_all = json_ok(app.patch(&format!("/api/chat/conversations/{id}/read")).bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(read_all["lastReadSeq"], 1);

        let message_id = message["id"].as_i64().unwrap();
        let edited = json_ok(app.patch(&format!("/api/chat/messages/{message_id}")).bearer_auth(at).json(&json!({"content": "Hi Bob, the Acme lead is yours now"})).send().await.unwrap()).await;
        assert!(edited["editedAt"].is_i64());
        let reacted = json_ok(app.post(&format!("/api/chat/messages/{message_id}/reactions")).bearer_auth(bt).json(&json!({"emoji": "👍"})).send().await.unwrap()).await;
        assert_eq!(reacted["reactions"][0], json!({"emoji": "👍", "count": 1, "me": true, "userIds": [bob.id]}));
        // A heart typed without its variation selector is the picker's heart.
        let hearted = json_ok(app.post(&format!("/api/chat/messages/{message_id}/reactions")).bearer_auth(at).json(&json!({"emoji": "\u{2764}"})).send().await.unwrap()).await;
        assert_eq!(hearted["reactions"][1]["emoji"], "\u{2764}\u{fe0f}");
        let (status, error) = status_and_json(app.post(&format!("/api/chat/messages/{message_id}/reactions")).bearer_auth(at).json(&json!({"emoji": "中"})).send().await.unwrap()).await;
        assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{error}");
        app.backend().writer.index_search().await.unwrap();
        let hits = json_ok(app.get("/api/chat/search?q=acme%20lea").bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(hits["results"].as_array().unwrap().len(), 1);

        // Bob forwards it to Carol, who was not there: she sees who wrote it.
        let to_carol = json_ok(app.post("/api/chat/conversations").bearer_auth(bt).json(&json!({"targetUserId": w.carol.0.id})).send().await.unwrap()).await;
        let forward = json!({"conversationId": to_carol["id"], "clientMsgId": uuid()});
        let response = app.post(&format!("/api/chat/messages/{message_id}/forward")).bearer_auth(bt).json(&forward).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let copy = response.json::<Value>().await.unwrap();
        assert_eq!(copy["forwardedFrom"], json!({"userId": alice.id, "name": "Alice"}));
        assert_eq!((copy["senderId"].as_i64(), copy["content"].as_str()), (Some(bob.id.0), Some("Hi Bob, the Acme lead is yours now")));
        let carol_sees = json_ok(app.get(&format!("/api/chat/conversations/{}/messages", to_carol["id"])).bearer_auth(&w.carol.1).send().await.unwrap()).await;
        assert_eq!(carol_sees["messages"][0]["forwardedFrom"]["name"], "Alice");
        assert!(message.get("forwardedFrom").is_none(), "only a forwarded copy carries the field");

        let changes = json_ok(app.get(&format!("/api/chat/conversations/{id}/changes?since=1")).bearer_auth(bt).send().await.unwrap()).await;
        // The message, its edit and two reactions; the refused one is no event.
        assert_eq!(changes["lastEventSeq"], 4);

        // Bob pins it for both of them; a second pin changes nothing.
        let pinned = json_ok(app.put(&format!("/api/chat/messages/{message_id}/pin")).bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(pinned["pinned"]["by"], json!({"userId": bob.id, "name": "Bob"}));
        let again = json_ok(app.put(&format!("/api/chat/messages/{message_id}/pin")).bearer_auth(at).send().await.unwrap()).await;
        assert_eq!(again["eventSeq"], pinned["eventSeq"]);
        let pins = json_ok(app.get(&format!("/api/chat/conversations/{id}/pins")).bearer_auth(at).send().await.unwrap()).await;
        assert_eq!(pins["messages"][0]["id"].as_i64(), Some(message_id));
        let unpinned = json_ok(app.delete(&format!("/api/chat/messages/{message_id}/pin")).bearer_auth(at).send().await.unwrap()).await;
        assert!(unpinned.get("pinned").is_none(), "{unpinned}");
        let pins = json_ok(app.get(&format!("/api/chat/conversations/{id}/pins")).bearer_auth(bt).send().await.unwrap()).await;
        assert_eq!(pins["messages"], json!([]));
        let ahead = app.get(&format!("/api/chat/conversations/{id}/changes?since=99")).bearer_auth(bt).send().await.unwrap();
        assert_eq!(status_and_json(ahead).await.0, StatusCode::CONFLICT);

        let deleted = json_ok(app.delete(&format!("/api/chat/messages/{message_id}")).bearer_auth(at).send().await.unwrap()).await;
        assert_eq!(deleted["content"], "");
        assert!(deleted["deletedAt"].is_i64());
        let contacts = json_ok(app.get("/api/chat/contacts?q=car").bearer_auth(at).send().await.unwrap()).await;
        assert_eq!(contacts["contacts"].as_array().unwrap().len(), 1);
    }

    async fn outsiders_and_other_organisations_get_404_and_no_data(engine) {
        let w = world(engine).await;
        let (app, (_alice, at), (bob, _bt)) = (&w.app, &w.alice, &w.bob);
        let group = json_ok(app.post("/api/chat/conversations").bearer_auth(at).json(&json!({"title": "Secret deals", "memberIds": [bob.id]})).send().await.unwrap()).await;
        let id = group["id"].as_i64().unwrap();
        let message = json_ok(app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&json!({"clientMsgId": uuid(), "content": "topsecret pricing"})).send().await.unwrap()).await;
        let message_id = message["id"].as_i64().unwrap();
        let upload = app.post("/api/chat/uploads").bearer_auth(at).multipart(upload_form(id, "pricing.txt", b"topsecret".to_vec())).send().await.unwrap();
        let attachment = json_ok(upload).await;
        let attachment_id = attachment["id"].as_i64().unwrap();
        json_ok(app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&json!({"clientMsgId": uuid(), "content": "", "attachmentId": attachment_id})).send().await.unwrap()).await;
        let bob_id = bob.id;

        for (who, token) in [("Carol, of Acme but not in the group", &w.carol.1), ("Grace, of Globex", &w.grace.1)] {
            let attempts: Vec<(&str, reqwest::RequestBuilder)> = vec![
                ("get conversation", app.get(&format!("/api/chat/conversations/{id}"))),
                ("rename", app.patch(&format!("/api/chat/conversations/{id}")).json(&json!({"title": "mine"}))),
                ("add participant", app.post(&format!("/api/chat/conversations/{id}/participants")).json(&json!({"userIds": [bob_id]}))),
                ("remove participant", app.delete(&format!("/api/chat/conversations/{id}/participants/{bob_id}"))),
                ("change role", app.patch(&format!("/api/chat/conversations/{id}/participants/{bob_id}")).json(&json!({"role": "admin"}))),
                ("history", app.get(&format!("/api/chat/conversations/{id}/messages"))),
                ("send", app.post(&format!("/api/chat/conversations/{id}/messages")).json(&json!({"clientMsgId": uuid(), "content": "hi"}))),
                ("changes", app.get(&format!("/api/chat/conversations/{id}/changes?since=0"))),
                ("mark read", app.patch(&format!("/api/chat/conversations/{id}/read"))),
                ("edit", app.patch(&format!("/api/chat/messages/{message_id}")).json(&json!({"content": "x"}))),
                ("delete", app.delete(&format!("/api/chat/messages/{message_id}"))),
                ("react", app.post(&format!("/api/chat/messages/{message_id}/reactions")).json(&json!({"emoji": "👍"}))),
                ("forward", app.post(&format!("/api/chat/messages/{message_id}/forward")).json(&json!({"conversationId": id, "clientMsgId": uuid()}))),
                ("pin", app.put(&format!("/api/chat/messages/{message_id}/pin"))),
                ("unpin", app.delete(&format!("/api/chat/messages/{message_id}/pin"))),
                ("pins", app.get(&format!("/api/chat/conversations/{id}/pins"))),
                ("upload", app.post("/api/chat/uploads").multipart(upload_form(id, "x.txt", b"x".to_vec()))),
                ("download", app.get(&format!("/api/chat/uploads/{attachment_id}"))),
            ];
            for (what, request) in attempts {
                let response = request.bearer_auth(token).send().await.unwrap();
                let status = response.status();
                let body = response.text().await.unwrap();
                assert_eq!(status, StatusCode::NOT_FOUND, "{who}: {what}: {body}");
                assert!(!body.contains("topsecret") && !body.contains("Secret deals"), "{who}: {what} leaked: {body}");
            }
            let list = json_ok(app.get("/api/chat/conversations").bearer_auth(token).send().await.unwrap()).await;
            assert!(list["conversations"].as_array().unwrap().is_empty(), "{who}");
            app.backend().writer.index_search().await.unwrap();
            let hits = json_ok(app.get("/api/chat/search?q=topsecret").bearer_auth(token).send().await.unwrap()).await;
            assert!(hits["results"].as_array().unwrap().is_empty(), "{who}");
        }
        // Globex cannot reach Acme people at all.
        let grace = &w.grace.1;
        let direct = app.post("/api/chat/conversations").bearer_auth(grace).json(&json!({"targetUserId": bob_id})).send().await.unwrap();
        assert_eq!(direct.status(), StatusCode::NOT_FOUND);
        let contacts = json_ok(app.get("/api/chat/contacts").bearer_auth(grace).send().await.unwrap()).await;
        assert!(contacts["contacts"].as_array().unwrap().is_empty());
        // And a participant without the right role gets 403, not 404.
        let bob_renames = app.patch(&format!("/api/chat/conversations/{id}")).bearer_auth(&w.bob.1).json(&json!({"title": "mine"})).send().await.unwrap();
        assert_eq!(status_and_json(bob_renames).await.0, StatusCode::FORBIDDEN);
    }

    async fn every_chat_endpoint_needs_a_session(engine) {
        let app = TestApp::spawn(engine).await;
        for (method, path) in [
            ("GET", "/api/chat/conversations"),
            ("POST", "/api/chat/conversations"),
            ("GET", "/api/chat/conversations/1/messages"),
            ("POST", "/api/chat/conversations/1/messages"),
            ("PATCH", "/api/chat/conversations/1/read"),
            ("PATCH", "/api/chat/messages/1"),
            ("DELETE", "/api/chat/messages/1"),
            ("POST", "/api/chat/messages/1/reactions"),
            ("POST", "/api/chat/messages/1/forward"),
            ("POST", "/api/chat/messages/1/mark-unread"),
            ("PUT", "/api/chat/messages/1/pin"),
            ("DELETE", "/api/chat/messages/1/pin"),
            ("GET", "/api/chat/conversations/1/pins"),
            ("GET", "/api/chat/contacts"),
            ("GET", "/api/chat/search?q=x"),
            ("POST", "/api/chat/uploads"),
            ("GET", "/api/chat/uploads/1"),
        ] {
            let response = app.request(method.parse().unwrap(), path).send().await.unwrap();
            let (status, body) = status_and_json(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(body["error"], "unauthenticated", "{method} {path}");
        }
    }

    async fn malformed_requests_get_a_clear_400(engine) {
        let w = world(engine).await;
        let (app, at) = (&w.app, &w.alice.1);
        for (what, request) in [
            ("a non-numeric id", app.get("/api/chat/conversations/abc/messages")),
            ("a body that is not JSON", app.post("/api/chat/conversations").header("content-type", "application/json").body("{nope")),
            ("a missing cursor", app.get("/api/chat/conversations/1/changes")),
        ] {
            let (status, body) = status_and_json(request.bearer_auth(at).send().await.unwrap()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
            assert_eq!(body["error"], "bad_request", "{what}");
        }
        let conversation = json_ok(app.post("/api/chat/conversations").bearer_auth(at).json(&json!({"targetUserId": w.bob.0.id})).send().await.unwrap()).await;
        let id = conversation["id"].as_i64().unwrap();
        let too_long = "x".repeat(4001);
        let (status, body) = status_and_json(app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&json!({"content": too_long})).send().await.unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("message_too_long")));
    }

    async fn uploads_are_typed_by_their_bytes_and_served_safely(engine) {
        let w = world(engine).await;
        let (app, at, bt) = (&w.app, &w.alice.1, &w.bob.1);
        let conversation = json_ok(app.post("/api/chat/conversations").bearer_auth(at).json(&json!({"targetUserId": w.bob.0.id})).send().await.unwrap()).await;
        let id = conversation["id"].as_i64().unwrap();

        let html = app.post("/api/chat/uploads").bearer_auth(at).multipart(upload_form(id, "cat.png", b"<html><script>alert(document.cookie)</script></html>".to_vec())).send().await.unwrap();
        let (status, body) = status_and_json(html).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));

        let traversal = json_ok(app.post("/api/chat/uploads").bearer_auth(at).multipart(upload_form(id, "../../../etc/passwd", b"%PDF-1.4 fake".to_vec())).send().await.unwrap()).await;
        assert_eq!(traversal["fileName"], "passwd");
        assert_eq!(traversal["contentType"], "application/pdf");

        let image = json_ok(app.post("/api/chat/uploads").bearer_auth(at).multipart(upload_form(id, "dot.png", PNG_1X1.to_vec())).send().await.unwrap()).await;
        assert_eq!((image["width"].as_i64(), image["height"].as_i64()), (Some(1), Some(1)));
        for attachment in [&traversal, &image] {
            json_ok(app.post(&format!("/api/chat/conversations/{id}/messages")).bearer_auth(at).json(&json!({"clientMsgId": uuid(), "attachmentId": attachment["id"]})).send().await.unwrap()).await;
        }

        let pdf = app.get(traversal["url"].as_str().unwrap()).bearer_auth(bt).send().await.unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        let headers = pdf.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
        assert!(headers["content-security-policy"].to_str().unwrap().contains("sandbox"));
        assert_eq!(pdf.bytes().await.unwrap().as_ref(), b"%PDF-1.4 fake");
        let png = app.get(image["url"].as_str().unwrap()).bearer_auth(bt).send().await.unwrap();
        assert!(png.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
        assert_eq!(png.headers()["content-type"], "image/png");
    }

    async fn an_upload_over_the_limit_gets_413_before_it_is_all_read(engine) {
        let app = TestApp::spawn_with(engine, |config| config.max_upload_bytes = 64 * 1024).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Member).await;
        let bob = app.create_user(org, "Bob", OrgRole::Member).await;
        let token = app.token_for(&alice).await;
        let conversation = json_ok(app.post("/api/chat/conversations").bearer_auth(&token).json(&json!({"targetUserId": bob.id})).send().await.unwrap()).await;
        let id = conversation["id"].as_i64().unwrap();

        // Declared too large: refused from the headers alone.
        let declared = app.post("/api/chat/uploads").bearer_auth(&token).multipart(upload_form(id, "big.txt", vec![b'a'; 200 * 1024])).send().await.unwrap();
        let (status, body) = status_and_json(declared).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));

        // Streamed without a length and never finished, on a raw socket so we
        // read the answer while still sending: refused once past the limit.
        let mut socket = tokio::net::TcpStream::connect(app.server.addr).await.unwrap();
        let boundary = "crmchatboundary";
        let request_head = format!(
            "POST /api/chat/uploads HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n",
            app.server.addr
        );
        let form_head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"conversationId\"\r\n\r\n{id}\r\n--{boundary}\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"endless.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        );
        socket.write_all(request_head.as_bytes()).await.unwrap();
        let chunk = |data: &[u8]| [format!("{:x}\r\n", data.len()).into_bytes(), data.to_vec(), b"\r\n".to_vec()].concat();
        socket.write_all(&chunk(form_head.as_bytes())).await.unwrap();
        for _ in 0..8 {
            // 128 KiB in all, twice the limit; the server may stop reading at any point.
            if socket.write_all(&chunk(&[b'a'; 16 * 1024])).await.is_err() {
                break;
            }
        }
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buffer = [0u8; 4096];
            while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                }
            }
        })
        .await;
        assert!(read.is_ok(), "the server answered without waiting for the rest of the body");
        let status_line = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned();
        assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line:?}");
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attachments").fetch_one(app.test_db.db.pool()).await.unwrap();
        assert_eq!(stored, 0);
    }
}

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn the_emoji_catalogue_is_served_to_anyone_and_cached_for_a_day() {
    let app = TestApp::spawn(app::backend::Engine::Sqlite).await;
    let response = app.get("/api/chat/emoji").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("cache-control"), "public, max-age=86400");
    assert_eq!(header("content-type"), "application/json");
    let groups: Vec<app::protocol::EmojiGroup> = response.json().await.unwrap();
    assert_eq!(groups.len(), 9);
    let thumbs = groups[1]
        .emoji
        .iter()
        .find(|e| e.name == "thumbs up")
        .unwrap();
    assert_eq!((thumbs.emoji.as_str(), thumbs.tones.len()), ("👍", 5));
}

#[tokio::test]
async fn the_emoji_for_a_shortcode_being_typed_are_served_to_anyone_and_cached_for_a_day() {
    let app = TestApp::spawn(app::backend::Engine::Sqlite).await;
    let ask = |query: &str| {
        app.get(&format!("/api/chat/emoji/shortcodes?{query}"))
            .send()
    };
    let offered = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "public, max-age=86400");
        let matches: Vec<app::protocol::ShortcodeMatch> = response.json().await.unwrap();
        matches
            .into_iter()
            .map(|m| format!("{} {}", m.emoji, m.shortcode))
            .collect::<Vec<_>>()
    };
    let rocket = offered(ask("prefix=rocke").await.unwrap()).await;
    assert_eq!(rocket[0], "🚀 rocket");
    assert!(
        offered(ask("prefix=no%20such").await.unwrap())
            .await
            .is_empty()
    );
    let toned = offered(ask("prefix=%2B1&tone=mediumDark").await.unwrap()).await;
    assert_eq!(toned, ["👍🏾 +1"], "in the skin tone asked for");

    let (status, error) = status_and_json(ask("prefix=%2B1&tone=purple").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("purple"),
        "{error}"
    );
}
