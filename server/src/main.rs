//! `server`: runs crm-chat. Configuration comes from the environment; see the README.

use std::process::ExitCode;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use app::backend::{Backend, Config};

/// mimalloc rather than the system's allocator: the writer and the gateway
/// allocate and free many small buffers across threads, and glibc spent a
/// good part of that time consolidating its free lists. Real-time direct
/// chat at 25,000 sends/s: p50 7-10 ms against 13-22 ms (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let limits = server::gateway::Limits::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("Failed to listen on {}", config.bind_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %redact(&config.database_url), "starting");
    let backend = Backend::start(config).await?;
    let state = app::api::state::AppState {
        backend,
        leptos_options: server::leptos_options(addr),
    };
    tracing::info!("crm-chat is listening on http://{addr}");
    server::serve(state, listener, limits, server::shutdown_signal()).await
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
