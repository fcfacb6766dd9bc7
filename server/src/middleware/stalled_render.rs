//! A page whose server render stalls before its first byte is rendered
//! again.
//!
//! leptos 0.8 renders a page's resources and its `Suspense` checks as tasks
//! on the tokio workers, and a wake-up between them can be lost when they
//! run on two workers at once: the render then waits forever, with every
//! thread idle (upstream: leptos-rs/leptos#4647 and #4673; 0.8.23 mended two
//! such races, #4851). Here it stopped about one run in forty-five of the
//! page tests on two busy cores, always before the response's head, which
//! waits for the page's data. A page is a plain GET that changes nothing, so rendering it
//! again is safe; a render that is merely slow gets the same time again.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::page_guard::is_public;

/// How long a page may take to start before it is rendered again. A page
/// starts in milliseconds; its data is a few indexed queries.
const STALL: Duration = Duration::from_secs(4);
/// Renders tried before the visitor is asked to reload.
const ATTEMPTS: u32 = 3;

pub async fn rerender_stalled_pages(request: Request, next: Next) -> Response {
    if request.method() != Method::GET || is_public(request.uri().path()) {
        return next.run(request).await;
    }
    // A GET's body is empty: the head is all there is to send again.
    let (parts, _) = request.into_parts();
    for attempt in 1..=ATTEMPTS {
        let request = Request::from_parts(parts.clone(), Body::empty());
        match tokio::time::timeout(STALL, next.clone().run(request)).await {
            Ok(response) => return response,
            Err(_) => tracing::warn!(
                path = parts.uri.path(),
                attempt,
                "the page's render did not start within {STALL:?}; rendering it again"
            ),
        }
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "The page could not be rendered just now. Reload to try again.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::Router;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    use super::*;

    /// A route whose first `stalls` answers never come, as a render that
    /// lost its wake-up, and that counts how often it was asked.
    fn app(stalls: u32) -> (Router, Arc<AtomicU32>) {
        let asked = Arc::new(AtomicU32::new(0));
        let handler = {
            let asked = asked.clone();
            move || async move {
                if asked.fetch_add(1, Ordering::SeqCst) < stalls {
                    std::future::pending::<()>().await;
                }
                "the page"
            }
        };
        let router = Router::new()
            .route("/c/1", get(handler.clone()))
            .route("/api/send", post(handler))
            .layer(axum::middleware::from_fn(rerender_stalled_pages));
        (router, asked)
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn request(method: Method, path: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_whose_render_stalls_is_rendered_again() {
        let (app, asked) = app(1);
        let response = app.oneshot(request(Method::GET, "/c/1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await, "the page");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_never_renders_asks_the_visitor_to_reload() {
        let (app, asked) = app(u32::MAX);
        let response = app.oneshot(request(Method::GET, "/c/1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert!(body(response).await.contains("Reload"));
        assert_eq!(asked.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_changes_something_is_never_sent_twice() {
        let (app, asked) = app(1);
        let answer =
            tokio::time::timeout(STALL * 10, app.oneshot(request(Method::POST, "/api/send"))).await;
        assert!(
            answer.is_err(),
            "the stalled send is left to its own timeout"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }
}
