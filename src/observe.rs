//! What an operator watches: Prometheus metrics at `/metrics`, liveness at `/health`,
//! readiness at `/ready`.
//!
//! Metrics go through the `metrics` facade (so the tile cache, the tiler and the upload path
//! record what they see without knowing who reads it) into `metrics-exporter-prometheus`,
//! which renders the Prometheus text format on each scrape. Gauges that are cheap to read
//! (cache size, layers, disk free, work queues) are read at scrape time instead of being kept
//! up to date.

use std::sync::OnceLock;

use axum::extract::{MatchedPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::server::AppState;
use crate::work::WorkClass;

/// Latency buckets in seconds: from a cached tile (~0.1 ms) to a large download build.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The process's Prometheus recorder, installed the first time it is asked for.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        builder().install_recorder().unwrap_or_else(|e| {
            // Another recorder is global already (an embedding program's): keep ours local.
            tracing::warn!("metrics recorder not installed globally: {e}");
            builder().build_recorder().handle()
        })
    })
}

/// Method names as metric labels: the standard ones, everything else as `OTHER`, so a client
/// inventing methods cannot invent time series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// A route template as a label, its parameters written `:name` (`/tiles/:layers/:z/:x/:y`):
/// braces in label values are valid, but some text-format readers stop at them.
fn route_label(template: &str) -> String {
    template
        .split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => format!(":{}", name.trim_start_matches('*')),
                None => part.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Counts one answered request by route template (not by URL, which is unbounded), method
/// and status, and records its time to the response head. The metric handles are made once
/// per label set and kept per thread: looking a metric up by its labels on every request
/// would cost more than the cached tile it counts.
pub fn record_request(
    route: Option<&MatchedPath>,
    method: &axum::http::Method,
    status: u16,
    seconds: f64,
) {
    use std::cell::RefCell;
    use std::collections::HashMap;
    /// Per route: its duration histogram, and a counter per (method, status) seen.
    type Handles = (
        metrics::Histogram,
        Vec<((&'static str, u16), metrics::Counter)>,
    );
    thread_local! {
        static HANDLES: RefCell<HashMap<String, Handles>> = RefCell::new(HashMap::new());
    }
    let route = route.map_or("unmatched", |p| p.as_str());
    let method = method_label(method);
    HANDLES.with(|handles| {
        let mut handles = handles.borrow_mut();
        if !handles.contains_key(route) {
            let histogram =
                histogram!("amis_http_request_duration_seconds", "route" => route_label(route));
            handles.insert(route.to_string(), (histogram, Vec::new()));
        }
        let Some((histogram, counters)) = handles.get_mut(route) else {
            return;
        };
        histogram.record(seconds);
        match counters.iter().find(|(key, _)| *key == (method, status)) {
            Some((_, counter)) => counter.increment(1),
            None => {
                let counter = counter!("amis_http_requests_total", "route" => route_label(route),
                    "method" => method, "status" => status.to_string());
                counter.increment(1);
                counters.push(((method, status), counter));
            }
        }
    });
}

/// Records one tile's cut-and-encode time under its zoom, through handles made once per zoom
/// (as for requests: no label lookup per tile).
pub fn record_render(zoom: u8, seconds: f64) {
    const ZOOMS: usize = crate::tiles::MAX_ZOOM as usize + 1;
    static BY_ZOOM: [OnceLock<metrics::Histogram>; ZOOMS] = [const { OnceLock::new() }; ZOOMS];
    if let Some(slot) = BY_ZOOM.get(usize::from(zoom)) {
        slot.get_or_init(|| histogram!("amis_tile_render_seconds", "zoom" => zoom.to_string()))
            .record(seconds);
    }
}

/// `GET /metrics`: the Prometheus text exposition format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = state.catalog.snapshot();
    gauge!("amis_layers").set(snapshot.layers.len() as f64);
    gauge!("amis_features").set(
        snapshot
            .layers
            .iter()
            .map(|l| l.features.len())
            .sum::<usize>() as f64,
    );
    let (entries, bytes) = state.tiles.usage();
    gauge!("amis_tile_cache_entries").set(entries as f64);
    gauge!("amis_tile_cache_bytes").set(bytes as f64);
    for class in WorkClass::ALL {
        let (running, waiting) = state.work.load(class);
        gauge!("amis_work_running", "class" => class.name()).set(running as f64);
        gauge!("amis_work_waiting", "class" => class.name()).set(waiting as f64);
    }
    if let Some(free) = disk_free(state.uploads.store.root()) {
        gauge!("amis_store_disk_free_bytes").set(free as f64);
    }
    gauge!("amis_ready").set(if state.is_ready() { 1.0 } else { 0.0 });
    let handle = prometheus();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Bytes an unprivileged process may still write on the file system holding `path`.
fn disk_free(path: &std::path::Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// `GET /health`: liveness. The process answers; whether it has its data is `/ready`.
pub async fn health(State(state): State<AppState>) -> Response {
    let snapshot = state.catalog.snapshot();
    let features: usize = snapshot.layers.iter().map(|l| l.features.len()).sum();
    axum::Json(serde_json::json!({
        "status": "ok",
        "ready": state.is_ready(),
        "version": env!("CARGO_PKG_VERSION"),
        "layers": snapshot.layers.len(),
        "features": features,
    }))
    .into_response()
}

/// `GET /ready`: readiness. `503` until the data directory and the store are loaded, so a
/// load balancer sends no traffic to a server that would answer "no such layer".
pub async fn ready(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        let snapshot = state.catalog.snapshot();
        let degraded: Vec<serde_json::Value> = state
            .degraded
            .lock()
            .map(|d| {
                d.iter()
                    .map(|(layer, reason)| serde_json::json!({ "layer": layer, "reason": reason }))
                    .collect()
            })
            .unwrap_or_default();
        // Still ready: every other layer is served. Operators see what is missing here, in
        // the log and as `amis_layers_degraded`.
        let status = if degraded.is_empty() {
            "ready"
        } else {
            "degraded"
        };
        let mut body = serde_json::json!({ "status": status, "layers": snapshot.layers.len() });
        if !degraded.is_empty() {
            body["degraded"] = degraded.into();
        }
        axum::Json(body).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            axum::Json(serde_json::json!({
                "code": "NotReady",
                "description": "the server is still loading its layers; try again in a moment",
            })),
        )
            .into_response()
    }
}
