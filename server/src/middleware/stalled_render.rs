//! A page whose server render has not started after a while is rendered
//! again beside it, and the first to start is sent.
//!
//! leptos 0.8 renders a page's resources and its `Suspense` checks as tasks
//! on the tokio workers, and a wake-up between them can be lost when they
//! run on two workers at once: the render then waits forever, with every
//! thread idle (upstream: leptos-rs/leptos#4647 and #4673; 0.8.23 mended two
//! such races, #4851). Here it stopped about one run in forty-five of the
//! page tests on two busy cores, always before the response's head, which
//! waits for the page's data. A page is a plain GET that changes nothing, so
//! a second render is safe; the first keeps running, so a render that is
//! only slow still counts.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::page_guard::is_public;

/// How long a page may take to start before another render is started. A
/// page starts in milliseconds; its data is a few indexed queries.
const STALL: Duration = Duration::from_secs(4);
/// Renders started, `STALL` apart, before the visitor is asked to reload
/// (after `ATTEMPTS × STALL`).
const ATTEMPTS: u32 = 3;

pub async fn rerender_stalled_pages(request: Request, next: Next) -> Response {
    if request.method() != Method::GET || is_public(request.uri().path()) {
        return next.run(request).await;
    }
    // A GET's body is empty: the head is all there is to render again.
    let (parts, _) = request.into_parts();
    let mut renders = FuturesUnordered::new();
    for attempt in 1..=ATTEMPTS {
        renders.push(
            next.clone()
                .run(Request::from_parts(parts.clone(), Body::empty())),
        );
        tokio::select! {
            Some(response) = renders.next() => return response,
            () = tokio::time::sleep(STALL) => {
                tracing::warn!(
                    path = parts.uri.path(),
                    attempt,
                    "the page's render has not started after {:?}",
                    STALL * attempt
                );
                metrics::counter!("crm_chat_page_renders_stalled_total").increment(1);
            }
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

    /// A page and a send whose `n`th answer (from 0) comes after
    /// `answer(n)`, or never, as a render that lost its wake-up; and how
    /// often they were asked.
    fn app(answer: fn(u32) -> Option<Duration>) -> (Router, Arc<AtomicU32>) {
        let asked = Arc::new(AtomicU32::new(0));
        let handler = {
            let asked = asked.clone();
            move || async move {
                let n = asked.fetch_add(1, Ordering::SeqCst);
                match answer(n) {
                    Some(after) => tokio::time::sleep(after).await,
                    None => std::future::pending().await,
                }
                format!("render {}", n + 1)
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
        let (app, asked) = app(|n| (n > 0).then_some(Duration::ZERO));
        let response = app.oneshot(request(Method::GET, "/c/1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body(response).await, "render 2");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_render_that_is_only_slow_is_kept_while_another_is_tried() {
        let (app, asked) = app(|n| (n == 0).then_some(STALL + Duration::from_secs(1)));
        let response = app.oneshot(request(Method::GET, "/c/1")).await.unwrap();
        assert_eq!(body(response).await, "render 1");
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_never_renders_asks_the_visitor_to_reload() {
        let (app, asked) = app(|_| None);
        let started = tokio::time::Instant::now();
        let response = app.oneshot(request(Method::GET, "/c/1")).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert!(body(response).await.contains("Reload"));
        assert_eq!(asked.load(Ordering::SeqCst), ATTEMPTS);
        assert_eq!(started.elapsed(), STALL * ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_changes_something_is_never_sent_twice() {
        let (app, asked) = app(|n| (n > 0).then_some(Duration::ZERO));
        let answer =
            tokio::time::timeout(STALL * 10, app.oneshot(request(Method::POST, "/api/send"))).await;
        assert!(
            answer.is_err(),
            "the stalled send is left to its own timeout"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }
}
