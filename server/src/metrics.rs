//! `/metrics` in Prometheus' text format: connections, messages sent and
//! delivered, delivery latency, the database pool, bus lag, outbound queue
//! drops, failed sign-ins and page renders that stalled. The recorder is
//! process-wide.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use app::api::state::AppState;

/// Latency buckets, in seconds: 0.5 ms to 2.5 s, finer where chat latency
/// lives (a p99 is read off these bounds).
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1,
    0.15, 0.25, 0.5, 1.0, 2.5,
];

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        builder().install_recorder().unwrap_or_else(|error| {
            tracing::warn!(%error, "metrics are not recorded: another recorder is installed");
            builder().build_recorder().handle()
        })
    })
}

/// # GET /metrics
pub async fn serve(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.backend.db.pool();
    let (size, idle) = (pool.size(), pool.num_idle() as u32);
    metrics::gauge!("crm_chat_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("crm_chat_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("crm_chat_connections").set(state.backend.hub.total_connections() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}
