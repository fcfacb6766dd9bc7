#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! Server-rendered pages, the cookie session and the health checks.

mod common;

use app::protocol::OrgRole;
use common::{PASSWORD, TestApp, test_both_dbs};
use reqwest::StatusCode;

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crm_chat_session="))
        .map(str::to_owned)
}

/// Posts the login form, as a browser without JavaScript does.
async fn post_login_form(app: &TestApp, email: &str) -> reqwest::Response {
    app.post("/api/fn/login")
        .header("accept", "text/html")
        .header("origin", app.url.clone())
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
}

/// Signs in through the HTML form and returns the `name=value` of the
/// session cookie.
async fn sign_in_with_form(app: &TestApp, email: &str) -> String {
    let response = post_login_form(app, email).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    session_cookie(&response)
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

test_both_dbs! {
    async fn a_signed_out_visitor_is_redirected_to_login(engine) {
        let app = TestApp::spawn(engine).await;
        let home = app.get("/").send().await.unwrap();
        assert_eq!(home.status(), StatusCode::SEE_OTHER);
        assert_eq!(home.headers()["location"], "/login");

        let login = app.get("/login").send().await.unwrap();
        assert_eq!(login.status(), StatusCode::OK);
        let csp = login.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'nonce-"), "{csp}");
        let html = login.text().await.unwrap();
        assert!(html.contains("Sign in"), "the login form is rendered on the server");
    }

    async fn the_login_form_sets_an_http_only_cookie_that_renders_the_shell(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice Admin", OrgRole::Admin).await;

        // A plain HTML form post, as a browser without JavaScript sends it.
        let response = post_login_form(&app, &alice.email).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "/");
        let cookie = session_cookie(&response).expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let cookie = cookie.split(';').next().unwrap().to_owned();

        let home = app.get("/").header("cookie", &cookie).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let html = home.text().await.unwrap();
        assert!(html.contains("Alice Admin") && html.contains("Acme"), "the shell names the user and organisation");

        let login_again = app.get("/login").header("cookie", &cookie).send().await.unwrap();
        assert_eq!(login_again.status(), StatusCode::SEE_OTHER, "signed in, /login leads to the app");

        let logout = app
            .post("/api/fn/logout")
            .header("accept", "text/html")
            .header("origin", app.url.clone())
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), StatusCode::FOUND);
        assert!(session_cookie(&logout).unwrap().contains("Max-Age=0"));
        let after = app.get("/").header("cookie", &cookie).send().await.unwrap();
        assert_eq!(after.status(), StatusCode::SEE_OTHER, "the old cookie is revoked");
    }

    async fn the_list_and_a_thread_page_are_in_place_for_a_browser_without_script(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice Admin", OrgRole::Admin).await;
        let bob = app.create_user(org, "Bob Baker", OrgRole::Member).await;
        let token = app.token_for(&alice).await;
        let conversation: serde_json::Value = app
            .post("/api/chat/conversations")
            .bearer_auth(&token)
            .json(&serde_json::json!({"targetUserId": bob.id}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = conversation["id"].as_i64().unwrap();
        let sent = app
            .post(&format!("/api/chat/conversations/{id}/messages"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "clientMsgId": uuid::Uuid::new_v4().to_string(),
                "content": "The Acme renewal is signed",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::CREATED);

        let cookie = sign_in_with_form(&app, &alice.email).await;
        let page = app.get(&format!("/c/{id}")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        // Streamed fragments arrive as <template>s that only a script moves
        // into place: the thread must be in the document before any of them.
        let in_place = html.split("<template").next().unwrap();
        let main = in_place.split("<main").nth(1).expect("the thread pane");
        assert!(main.contains("The Acme renewal is signed"), "the newest message is in the pane: {html}");
        assert!(main.contains("id=\"thread-title\""), "the thread's header is in the pane");
        assert!(in_place.contains("Bob Baker"), "the conversation list is in place");

        let list = app.get("/").header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let in_place = list.split("<template").next().unwrap();
        assert!(in_place.contains("The Acme renewal is signed"), "the list's preview is in place: {list}");
    }

    async fn pages_go_out_compressed_to_clients_that_accept_it_and_probes_do_not(engine) {
        let app = TestApp::spawn(engine).await;
        let plain = app.get("/login").send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "nothing asked, nothing encoded");
        let size = plain.bytes().await.unwrap().len();

        for encoding in ["br", "gzip"] {
            let page = app.get("/login").header("accept-encoding", encoding).send().await.unwrap();
            assert_eq!(page.status(), StatusCode::OK);
            assert_eq!(page.headers()["content-encoding"], encoding);
            let compressed = page.bytes().await.unwrap().len();
            assert!(compressed < size / 2, "{encoding}: {compressed} of {size} bytes");
        }
        let health = app.get("/healthz").header("accept-encoding", "br").send().await.unwrap();
        assert!(health.headers().get("content-encoding").is_none());
    }

    async fn health_and_readiness_answer(engine) {
        let app = TestApp::spawn(engine).await;
        assert_eq!(app.get("/healthz").send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.get("/readyz").send().await.unwrap().status(), StatusCode::OK);
        app.test_db.db.close().await;
        assert_eq!(app.get("/readyz").send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
