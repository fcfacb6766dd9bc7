#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

//! Sign-in, tokens, revocation, throttling and cross-site protection, against
//! the real server on both engines.

mod common;

use app::backend::auth::tokens::Claims;
use app::backend::config::{JWT_AUDIENCE, JWT_ISSUER};
use app::protocol::OrgRole;
use common::{PASSWORD, TestApp, status_and_json, test_both_dbs};
use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

fn now_secs() -> i64 {
    app::backend::now_ms() / 1000
}

fn forge(claims: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

test_both_dbs! {
    async fn login_succeeds_and_a_wrong_password_gets_401(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Admin).await;

        let (status, body) = status_and_json(app.login(&alice.email, PASSWORD).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["displayName"], "Alice");
        assert_eq!(body["user"]["orgName"], "Acme");
        let token = body["token"].as_str().unwrap();
        let me = app.get("/api/auth/me").bearer_auth(token).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);

        let (status, body) = status_and_json(app.login(&alice.email, "not the password").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_credentials");
    }

    async fn an_unknown_account_looks_exactly_like_a_wrong_password(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Member).await;

        let wrong_password = status_and_json(app.login(&alice.email, "nope").await).await;
        let no_such_user = status_and_json(app.login("nobody@example.test", "nope").await).await;
        assert_eq!(wrong_password, no_such_user);
    }

    async fn the_sixth_failed_login_gets_429_with_retry_after(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let bob = app.create_user(org, "Bob", OrgRole::Member).await;

        for attempt in 1..=5 {
            let response = app.login(&bob.email, "wrong").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
        }
        let sixth = app.login(&bob.email, "wrong").await;
        assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = sixth.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
        let (_, body) = status_and_json(sixth).await;
        assert_eq!(body["error"], "login_throttled");

        // Even the right password waits out the window.
        assert_eq!(app.login(&bob.email, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
        // Other accounts are unaffected.
        let carol = app.create_user(org, "Carol", OrgRole::Member).await;
        assert_eq!(app.login(&carol.email, PASSWORD).await.status(), StatusCode::OK);
    }

    async fn a_successful_login_forgets_earlier_failures(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let bob = app.create_user(org, "Bob", OrgRole::Member).await;
        for _ in 0..4 {
            app.login(&bob.email, "wrong").await;
        }
        assert_eq!(app.login(&bob.email, PASSWORD).await.status(), StatusCode::OK);
        for _ in 0..4 {
            assert_eq!(app.login(&bob.email, "wrong").await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.login(&bob.email, PASSWORD).await.status(), StatusCode::OK);
    }

    async fn bad_tokens_get_401(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Member).await;
        let secret = app.backend().config.jwt_secret.clone();
        let valid = Claims {
            sub: alice.id.to_string(),
            org,
            ver: 0,
            iat: now_secs(),
            exp: now_secs() + 3600,
            iss: JWT_ISSUER.into(),
            aud: JWT_AUDIENCE.into(),
        };
        // The forging works: a well-formed token with the right key is accepted.
        let me = app.get("/api/auth/me").bearer_auth(forge(&valid, &secret)).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);

        let expired = Claims { iat: now_secs() - 7200, exp: now_secs() - 3600, ..valid.clone() };
        let other_key = forge(&valid, b"another key, another key, another key!");
        let payload = forge(&valid, &secret).split('.').nth(1).unwrap().to_owned();
        let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        let wrong_audience = Claims { aud: "someone-else".into(), ..valid.clone() };
        let wrong_issuer = Claims { iss: "someone-else".into(), ..valid.clone() };
        let bumped_version = Claims { ver: 1, ..valid.clone() };

        for (what, token) in [
            ("expired", forge(&expired, &secret)),
            ("signed with another key", other_key),
            ("alg none", alg_none),
            ("wrong audience", forge(&wrong_audience, &secret)),
            ("wrong issuer", forge(&wrong_issuer, &secret)),
            ("a token version the user does not have", forge(&bumped_version, &secret)),
            ("garbage", "not.a.token".to_owned()),
        ] {
            let (status, body) = status_and_json(app.get("/api/auth/me").bearer_auth(&token).send().await.unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert_eq!(body["error"], "unauthenticated", "{what}");
        }
    }

    async fn logout_revokes_every_token_of_the_user(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Member).await;
        let laptop = app.token_for(&alice).await;
        let phone = app.token_for(&alice).await;

        let logout = app.post("/api/auth/logout").bearer_auth(&laptop).send().await.unwrap();
        assert_eq!(logout.status(), StatusCode::NO_CONTENT);

        for token in [&laptop, &phone] {
            let me = app.get("/api/auth/me").bearer_auth(token).send().await.unwrap();
            assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        }
        let fresh = app.token_for(&alice).await;
        assert_eq!(app.get("/api/auth/me").bearer_auth(&fresh).send().await.unwrap().status(), StatusCode::OK);
    }

    async fn a_cross_site_post_gets_403(engine) {
        let app = TestApp::spawn(engine).await;
        let org = app.create_org("Acme").await;
        let alice = app.create_user(org, "Alice", OrgRole::Member).await;
        let token = app.token_for(&alice).await;

        let forged_login = app
            .post("/api/auth/login")
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .json(&json!({"email": alice.email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(forged_login).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"], "cross_site_request");

        // A forged form aimed at a server function, riding the victim's cookie.
        let forged_logout = app
            .post("/api/fn/logout")
            .header("origin", "https://evil.example")
            .header("cookie", format!("crm_chat_session={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap();
        assert_eq!(forged_logout.status(), StatusCode::FORBIDDEN);
        // ...and the session survived.
        assert_eq!(app.get("/api/auth/me").bearer_auth(&token).send().await.unwrap().status(), StatusCode::OK);

        // The same request from the site itself passes.
        let own_origin = app
            .post("/api/auth/login")
            .header("origin", app.url.clone())
            .json(&json!({"email": alice.email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(own_origin.status(), StatusCode::OK);
    }

    async fn a_user_of_one_organisation_cannot_read_a_user_of_the_other(engine) {
        let app = TestApp::spawn(engine).await;
        let acme = app.create_org("Acme").await;
        let globex = app.create_org("Globex").await;
        let alice = app.create_user(acme, "Alice", OrgRole::Member).await;
        let bob = app.create_user(acme, "Bob", OrgRole::Member).await;
        let carol = app.create_user(globex, "Carol", OrgRole::Admin).await;
        let carol_token = app.token_for(&carol).await;
        let alice_token = app.token_for(&alice).await;

        let (status, body) = status_and_json(
            app.get(&format!("/api/users/{}", alice.id)).bearer_auth(&carol_token).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");
        let missing = app.get("/api/users/999999").bearer_auth(&carol_token).send().await.unwrap();
        assert_eq!(status_and_json(missing).await, (StatusCode::NOT_FOUND, body), "foreign looks like missing");

        let (status, body) = status_and_json(
            app.get(&format!("/api/users/{}", bob.id)).bearer_auth(&alice_token).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["displayName"], "Bob");
    }
}
