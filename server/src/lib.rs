//! The crm-chat server: configuration, the router (Leptos pages, server
//! functions, the REST API, health checks), startup and graceful shutdown.

#![recursion_limit = "512"]

pub mod gateway;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod rest;
pub mod site;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use app::api::state::AppState;
use app::backend::{Backend, Config};
use app::{App, shell};

/// The name cargo-leptos gives the WASM, JS and CSS bundles.
pub const OUTPUT_NAME: &str = "crm-chat";

/// Leptos' settings: where the built site is, from `LEPTOS_SITE_ROOT`
/// (default `target/site`, as cargo-leptos builds it), and the path its code
/// is served under ([`site::pkg_url_dir`]).
pub fn leptos_options(site_addr: SocketAddr) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".to_owned());
    let pkg_dir = site::pkg_url_dir(&site_root);
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root)
        .site_pkg_dir(pkg_dir)
        .site_addr(site_addr)
        .build()
}

/// The REST API under `/api/`, and its OpenAPI document. Every route is
/// registered through [`OpenApiRouter`], which takes its path and method from
/// the handler's `#[utoipa::path]`: so the document cannot miss a route, and
/// no route can be added to the API any other way.
pub fn api_router(upload_limit: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use rest::{auth, chat, notifications, openapi, users};
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(users::get))
        .routes(routes!(chat::list_conversations, chat::create_conversation))
        .routes(routes!(chat::get_conversation, chat::update_conversation))
        .routes(routes!(chat::add_participants))
        .routes(routes!(chat::remove_participant, chat::change_role))
        .routes(routes!(chat::list_messages, chat::send_message))
        .routes(routes!(chat::changes))
        .routes(routes!(chat::mark_read))
        .routes(routes!(chat::edit_message, chat::delete_message))
        .routes(routes!(chat::toggle_reaction))
        .routes(routes!(chat::pin_message, chat::unpin_message))
        .routes(routes!(chat::pinned_messages))
        .routes(routes!(chat::forward_message))
        .routes(routes!(chat::mark_unread_from))
        .routes(routes!(chat::emoji))
        .routes(routes!(chat::emoji_shortcodes))
        .routes(routes!(chat::contacts))
        .routes(routes!(chat::search))
        .routes(routes!(chat::upload).layer(DefaultBodyLimit::max(upload_limit)))
        .routes(routes!(chat::download))
        .routes(routes!(notifications::list, notifications::ingest))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::read_all))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::delete))
        .routes(routes!(openapi::serve))
        .split_for_parts();
    let shared = openapi::Document(std::sync::Arc::new(document.clone()));
    (router.layer(axum::Extension(shared)), document)
}

/// Every route of the app.
pub fn router(state: AppState, limits: gateway::Limits) -> Router {
    // The multipart envelope around a file needs a little room of its own.
    let upload_limit = usize::try_from(state.backend.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let (api, _) = api_router(upload_limit);

    let leptos_context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            leptos::nonce::provide_nonce();
        }
    };
    let shell_options = state.leptos_options.clone();
    let build = gateway::Build(app::build_id(&state.leptos_options).map(Into::into));

    // Pages, the API and the site's files go out compressed to browsers
    // that accept it; the files the build precompressed (`--precompress`)
    // are sent as they are. The socket and the probes are left alone.
    let compressed = Router::new()
        .merge(api)
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            leptos_context,
            move || shell(shell_options.clone()),
        )
        .merge(site::routes(&state.leptos_options))
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new());

    Router::new()
        .merge(
            Router::new()
                .route("/ws", get(gateway::upgrade))
                .layer(axum::Extension(limits))
                .layer(axum::Extension(build)),
        )
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::serve))
        .route("/readyz", get(health::readyz))
        .merge(compressed)
        .layer(axum::middleware::from_fn(
            middleware::stalled_render::rerender_stalled_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::page_guard::guard_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::cross_site::reject_cross_site,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Starts the backend (database, migrations, demo data) and serves on `listener`.
    pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<Server> {
        let backend = Backend::start(config).await?;
        Server::start_with_backend(backend, listener).await
    }

    pub async fn start_with_backend(
        backend: Backend,
        listener: TcpListener,
    ) -> anyhow::Result<Server> {
        Server::start_with(backend, listener, gateway::Limits::default()).await
    }

    /// Starts with gateway limits of one's own (tests shorten the timings).
    pub async fn start_with(
        backend: Backend,
        listener: TcpListener,
        limits: gateway::Limits,
    ) -> anyhow::Result<Server> {
        let state = AppState {
            backend,
            leptos_options: leptos_options(local_addr(&listener)?),
        };
        Server::start_with_state(state, listener, limits).await
    }

    /// Starts with Leptos' settings of one's own (tests name a build).
    pub async fn start_with_state(
        state: AppState,
        listener: TcpListener,
        limits: gateway::Limits,
    ) -> anyhow::Result<Server> {
        let addr = local_addr(&listener)?;
        let backend = state.backend.clone();
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(state, listener, limits, async move {
            let _ = shutdown_signal.await;
        }));
        Ok(Server {
            addr,
            backend,
            shutdown: Some(shutdown),
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await.context("The server task panicked")?
    }
}

fn local_addr(listener: &TcpListener) -> anyhow::Result<SocketAddr> {
    listener
        .local_addr()
        .context("Failed to read the listening address")
}

/// Serves until `shutdown` resolves, then hands over within 10 seconds:
/// stops accepting connections, closes every socket with 1001 "going away"
/// (clients resume on another node), lets requests in flight finish, leaves
/// the cluster, and closes the database once the writer has committed what
/// was queued.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    limits: gateway::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    metrics::handle();
    let backend = state.backend.clone();
    let app = router(state, limits).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let hub = backend.hub.clone();
    let graceful = async move {
        shutdown.await;
        // Upgraded sockets are not the HTTP server's to wait for: close them.
        hub.close_all(1001, "going away");
        let _ = stopping_tx.send(true);
    };
    // Chat frames are small and latency matters: no Nagle delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    tokio::select! {
        served = server => served.context("The HTTP server failed")?,
        () = async {
            let _ = stopping.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => tracing::warn!("requests were still running after 5 s; stopping anyway"),
    }
    // Sockets say goodbye within a second.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while backend.hub.total_connections() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let app::backend::realtime::Fanout::Cluster(cluster) = backend.fanout.as_ref() {
        cluster.leave().await;
    }
    // Queued sends were answered by now; give the pool a moment to finish
    // statements that requests started.
    tokio::time::timeout(Duration::from_secs(2), backend.db.close())
        .await
        .ok();
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
