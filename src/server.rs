//! The HTTP server: shared state, the router, cross-cutting middleware and start-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::catalog::Catalog;
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::tiles::cache::TileCache;
use crate::work::Work;
use crate::{features, observe, tiles};

#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
    pub tiles: TileCache,
    /// Configured public base URL without a trailing slash.
    pub public_url: Option<String>,
    /// Whether `X-Forwarded-Proto/Host` are believed (the server is behind a proxy that
    /// sets them); otherwise links are made from `Host` alone.
    pub trust_proxy: bool,
    /// Swapped in once loaded (the server answers probes while it loads).
    pub production: Arc<arc_swap::ArcSwap<crate::production::ProductionTable>>,
    pub uploads: Arc<crate::publish::Uploads>,
    pub downloads: crate::features::download::DownloadCache,
    /// Documents built from the whole catalog (styles, the collection list), per catalog
    /// generation and base URL.
    pub documents: DocumentCache,
    pub work: Work,
    /// Requests being answered (bodies still streaming excluded); past the limit, `503`.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Longest a read request may take to its response head.
    pub request_timeout: Duration,
    /// Set once the data directory and the store are loaded.
    pub ready: Arc<AtomicBool>,
}

impl AppState {
    /// State for a server whose layers are all in `catalog` already (ready at once).
    pub fn new(catalog: Catalog, args: &ServeArgs) -> AppState {
        let state = AppState::loading(catalog, args);
        state.ready.store(true, Ordering::Release);
        state
    }

    /// State for a server that is still loading its layers: `/ready` answers `503`.
    pub fn loading(catalog: Catalog, args: &ServeArgs) -> AppState {
        // Metrics recorded before the recorder exists are lost: install it first.
        observe::prometheus();
        AppState {
            catalog: Arc::new(catalog),
            tiles: TileCache::new(args.cache_mb.saturating_mul(1 << 20)),
            public_url: args
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            trust_proxy: args.trust_proxy,
            production: Arc::default(),
            uploads: Arc::new(crate::publish::Uploads::new(args)),
            downloads: crate::features::download::DownloadCache::new(
                args.cache_mb.saturating_mul(1 << 20),
            ),
            documents: DocumentCache::default(),
            work: Work::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(args.max_in_flight.max(1))),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            ready: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// Built documents keyed by what they depend on: the catalog generation, which document,
/// and the base URL its links use. A handful of entries; a new generation makes new keys.
#[derive(Clone)]
pub struct DocumentCache(moka::sync::Cache<(u64, &'static str, String), bytes::Bytes>);

impl Default for DocumentCache {
    fn default() -> DocumentCache {
        DocumentCache(moka::sync::Cache::new(64))
    }
}

impl DocumentCache {
    /// The document, built by `build` the first time it is asked for in this generation.
    pub fn get_or_build(
        &self,
        generation: u64,
        name: &'static str,
        base: &str,
        build: impl FnOnce() -> Result<bytes::Bytes, ApiError>,
    ) -> Result<bytes::Bytes, ApiError> {
        let key = (generation, name, base.to_string());
        self.0
            .try_get_with(key, build)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(crate::web::index))
        .route("/assets/{*path}", get(crate::web::asset))
        .route("/upload", get(crate::web::upload_page))
        .route("/styles/{style}", get(crate::web::style))
        .route("/fonts/{fontstack}/{range}", get(crate::fonts::glyphs))
        .route("/health", get(observe::health))
        .route("/ready", get(observe::ready))
        .route("/metrics", get(observe::metrics))
        .route("/tiles", get(tiles::http::index))
        .route("/tiles/{tileset}", get(tiles::http::tilejson))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::http::tile))
        .route("/api/production", get(crate::production::production))
        .nest("/api", features::router())
        .route("/api/", get(features::landing))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), limit))
        .layer(from_fn(observe::record_request))
        .layer(from_fn(mark_uncompressed))
        // Tiles arrive already gzipped and carry Content-Encoding, which this layer skips.
        // FlatGeobuf is left alone (GDAL reads it in byte ranges, which need the real
        // length), and so is any answer to HEAD or to a Range request.
        .layer(
            CompressionLayer::new().gzip(true).compress_when(
                DefaultPredicate::new()
                    .and(NotForContentType::const_new("application/flatgeobuf"))
                    .and(|_, _, _: &HeaderMap, ext: &axum::http::Extensions| {
                        ext.get::<Uncompressed>().is_none()
                    }),
            ),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
                .allow_headers(Any)
                .expose_headers([header::ETAG, header::CONTENT_DISPOSITION]),
        )
        .layer(from_fn_with_state(state.clone(), vary_on_forwarded))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri())
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

use axum::Router;

/// Paths an orchestrator probes: answered even when the server is saturated.
const PROBES: [&str; 3] = ["/health", "/ready", "/metrics"];

/// Middleware: the global limit on requests in flight (`503` with `Retry-After` past it, so
/// a flood is refused quickly instead of queueing without bound) and the timeout on read
/// requests. Uploads carry their own time limit on the body.
async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if PROBES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        metrics::counter!("amis_overloaded_total").increment(1);
        return ApiError::Overloaded.into_response();
    };
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    if !reads.contains(request.method()) {
        return next.run(request).await;
    }
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("amis_timeouts_total").increment(1);
            ApiError::Timeout(state.request_timeout.as_secs()).into_response()
        }
    }
}

/// Marks a response that must not be compressed (see the compression predicate).
#[derive(Clone, Copy)]
struct Uncompressed;

/// Middleware: answers to HEAD and to Range requests are never compressed: compression
/// would drop `Content-Length` and change what the byte ranges count.
async fn mark_uncompressed(request: Request, next: Next) -> Response {
    let exempt = request.method() == Method::HEAD || request.headers().contains_key(header::RANGE);
    let mut response = next.run(request).await;
    if exempt {
        response.extensions_mut().insert(Uncompressed);
    }
    response
}

/// Middleware: behind a trusted proxy without a configured public URL, documents embed the
/// forwarded host and scheme, so shared caches must key on them.
async fn vary_on_forwarded(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if state.trust_proxy && state.public_url.is_none() {
        response.headers_mut().append(
            header::VARY,
            HeaderValue::from_static("X-Forwarded-Host, X-Forwarded-Proto"),
        );
    }
    response
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NoRoute(req.uri().path().to_string())
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(req.method().to_string())
}

/// The base URL clients should use to reach this server: the configured public URL, or
/// one rebuilt from `Host` (and `X-Forwarded-Proto/Host` with `--trust-proxy`). Header values that are not a
/// plausible host are ignored rather than echoed into documents.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.clone();
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_string())
    };
    let plausible_host = |h: &String| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    };
    // Forwarded headers can be sent by anyone: believed only behind a proxy that sets them.
    let forwarded = |name: &str| header(name).filter(|_| state.trust_proxy);
    let proto = forwarded("x-forwarded-proto")
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".into());
    let host = forwarded("x-forwarded-host")
        .filter(plausible_host)
        .or_else(|| header("host").filter(plausible_host))
        .unwrap_or_else(|| "localhost".into());
    format!("{proto}://{host}")
}

/// The decoded `name=value` pairs of a query string, in order.
pub fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// RFC 3339 UTC time to the second: audit entries, version records, `timeStamp`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Whether the client takes `Content-Encoding: gzip` (`Accept-Encoding`, with q-values), for
/// what is stored compressed already (tiles, glyphs).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let quality = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && quality > 0.0
        })
}

/// Whether `If-None-Match` names `etag` (or `*`), so the answer can be 304.
pub fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// Refuses query parameters an endpoint does not define, naming the first one.
pub fn reject_query(query: Option<&str>, allowed: &[&str]) -> Result<(), ApiError> {
    for (name, _) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if !allowed.contains(&name.as_ref()) {
            let hint = if allowed.is_empty() {
                "this endpoint takes no query parameters".to_string()
            } else {
                format!("allowed: {}", allowed.join(", "))
            };
            return Err(ApiError::UnknownParameter(name.into_owned(), hint));
        }
    }
    Ok(())
}

/// Loads the data directory, logs what was skipped, and serves until SIGTERM or ctrl-c.
pub async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    // Listen first: probes and `/metrics` answer while the layers load (`/ready` says 503).
    let state = AppState::loading(Catalog::new(Vec::new()), &args);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    let loader = tokio::spawn(load(args, state.clone()));
    let served = axum::serve(
        crate::connection::JsonErrorsListener(listener),
        router(state),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    loader.abort();
    served?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Loads the data directory, then the store's published layers over it, into the serving
/// state, and marks it ready. What cannot be loaded is logged and skipped.
async fn load(args: ServeArgs, state: AppState) {
    let started = std::time::Instant::now();
    let data = args.data.clone();
    let mut report =
        match tokio::task::spawn_blocking(move || crate::catalog::load_data_dir(&data)).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => {
                tracing::error!("not serving the data directory: {e}");
                crate::catalog::LoadReport::default()
            }
            Err(e) => {
                tracing::error!("loading the data directory failed: {e}");
                crate::catalog::LoadReport::default()
            }
        };
    // Uploaded layers come after data/: an upload replaces a bundled layer of the same id.
    let store = crate::store::LayerStore::new(&args.store, args.keep_versions);
    match store.discard_incoming() {
        Ok(0) => {}
        Ok(n) => tracing::warn!("discarded {n} upload(s) left half-received by the last run"),
        Err(e) => tracing::error!("could not clear the store's incoming directory: {e}"),
    }
    match tokio::task::spawn_blocking(move || crate::publish::load_published(&store)).await {
        Ok(Ok(published)) => {
            for layer in published {
                report.layers.retain(|l| l.meta.id != layer.meta.id);
                report.layers.push(layer);
            }
        }
        Ok(Err(e)) => tracing::error!("not serving uploaded layers: {e}"),
        Err(e) => tracing::error!("loading uploaded layers failed: {e}"),
    }
    for error in &report.errors {
        tracing::error!("skipped: {error}");
    }
    if let Some(path) = &report.production {
        match crate::production::ProductionTable::load(path) {
            Ok(table) => state.production.store(Arc::new(table)),
            Err(e) => tracing::error!("skipped production table: {e}"),
        }
    }
    let features: usize = report.layers.iter().map(|l| l.features.len()).sum();
    let layers = report.layers.len();
    state.catalog.replace_all(report.layers);
    state.ready.store(true, Ordering::Release);
    tracing::info!(
        layers,
        features,
        skipped = report.errors.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "data loaded from {}; ready",
        args.data.display()
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn gzip_negotiation() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(!accepts_gzip(&h));
    }
}
