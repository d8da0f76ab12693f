//! The HTTP server: shared state, the router, cross-cutting middleware and start-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::cors::{Any, CorsLayer};

use crate::catalog::Catalog;
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::tiles::cache::TileCache;
use crate::work::Work;
use crate::{features, observe, tiles};

/// What every handler shares, behind one reference count: a request clones it (for each
/// `State` extractor) with one atomic increment, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Changing a field (tests and start-up do, before serving) copies the fields if the state is
/// already shared, so no running request sees it change.
impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct Shared {
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
    /// Longest a read may wait for its work (queueing included).
    pub request_timeout: Duration,
    /// Every request logged at INFO, not only slow ones.
    pub access_log: bool,
    /// Set once the data directory and the store are loaded.
    pub ready: Arc<AtomicBool>,
    /// Stored layers that could not be loaded at start-up (a damaged manifest, an
    /// unreadable file), with why: `/ready` lists them.
    pub degraded: Arc<std::sync::Mutex<Vec<(String, String)>>>,
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
        AppState(Arc::new(Shared {
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
            work: Work::new(
                crate::work::WorkLimits::for_this_machine(),
                Duration::from_secs(args.request_timeout_secs.max(1)),
            ),
            in_flight: Arc::new(tokio::sync::Semaphore::new(args.max_in_flight.max(1))),
            request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
            access_log: args.access_log,
            ready: Arc::new(AtomicBool::new(false)),
            degraded: Arc::default(),
        }))
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
    // Tiles are stored gzipped and carry Content-Encoding, which the compression layer would
    // skip: it would only wrap their bodies (0.6 µs of a cached tile's 3.8 µs in process,
    // `benches/cached.rs`). They get the front middleware and the CORS headers of `cors()`
    // set directly (tower-http's layer builds and merges a header map per request: 0.8 µs);
    // their preflights are answered by that layer itself.
    let precompressed = Router::new()
        .route(
            "/tiles/{layers}/{z}/{x}/{y}",
            get(tiles::http::tile).merge(axum::routing::options(|| async {}).layer(cors())),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), front))
        .layer(axum::middleware::map_response(simple_cors));
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
        .route("/api/production", get(crate::production::production))
        .nest("/api", features::router())
        .route("/api/", get(features::landing))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), front))
        // Glyphs arrive already gzipped and carry Content-Encoding, which this layer skips.
        // FlatGeobuf is left alone (GDAL reads it in byte ranges, which need the
        // real length), and so is any answer to HEAD or to a Range request.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/flatgeobuf"))
                        .and(|_, _, _: &HeaderMap, ext: &axum::http::Extensions| {
                            ext.get::<Uncompressed>().is_none()
                        }),
                ),
        )
        .layer(cors())
        .merge(precompressed)
        .with_state(state)
}

/// Response headers exposed to cross-origin scripts (`cors()`), as that layer writes them.
const CORS_EXPOSED: &str = "etag,content-disposition";

/// The one CORS policy: public data, read by any web page. Every answer is the same whatever
/// the Origin or preflight headers (`*` throughout), so nothing to vary on (the default list
/// is also a vector cloned per request); `Access-Control-Allow-Origin` goes on every answer,
/// Origin or not, so a shared cache never hands a browser a copy without it.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers([header::ETAG, header::CONTENT_DISPOSITION])
        .vary([])
}

/// What `cors()` adds to an answer that is not a preflight, for the tile route: two static
/// headers (kept when a preflight's answer has them already).
async fn simple_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSED),
        );
    }
    response
}

use axum::Router;

/// Paths an orchestrator probes: answered even when the server is saturated.
const PROBES: [&str; 3] = ["/health", "/ready", "/metrics"];

/// Marks a response that must not be compressed (see the compression predicate).
#[derive(Clone, Copy)]
struct Uncompressed;

/// Requests slower than this to their response head are logged at INFO.
const SLOW: Duration = Duration::from_secs(1);

/// The one middleware in front of every route, doing in one pass (one layer is cheaper than
/// four on the cached-tile path, where it is most of the work):
/// - until the layers are loaded, `503 Starting` with `Retry-After` (probes excepted): an
///   empty catalog would answer "no such layer" (404s a CDN or client may cache) and an empty
///   collection list, and an upload published during the load would be left out of the
///   catalog the load then installs;
/// - the global limit on requests in flight: past it `503` with `Retry-After`, at once,
///   instead of a queue without bound (probes excepted);
/// - answers to HEAD and to Range requests marked not to be compressed (compression would
///   drop `Content-Length` and change what the byte ranges count);
/// - behind a trusted proxy without a public URL, `Vary` on the forwarded headers documents
///   depend on;
/// - metrics per route, method and status, and the access log: every request at DEBUG (or
///   INFO with `--access-log`), slow ones at INFO always.
async fn front(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let exempt = method == Method::HEAD || request.headers().contains_key(header::RANGE);
    // An answer given here, before any handler: counted like the others.
    let refuse = |error: ApiError| {
        let response = error.into_response();
        let seconds = started.elapsed().as_secs_f64();
        observe::record_request(route.as_ref(), &method, 503, seconds);
        response
    };
    let permit = if PROBES.contains(&uri.path()) {
        None
    } else if !state.is_ready() {
        return refuse(ApiError::Starting);
    } else {
        match state.in_flight.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                metrics::counter!("amis_overloaded_total").increment(1);
                return refuse(ApiError::Overloaded);
            }
        }
    };
    let mut response = next.run(request).await;
    drop(permit);
    if exempt {
        response.extensions_mut().insert(Uncompressed);
    }
    if state.trust_proxy && state.public_url.is_none() {
        response.headers_mut().append(
            header::VARY,
            HeaderValue::from_static("X-Forwarded-Host, X-Forwarded-Proto"),
        );
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    observe::record_request(route.as_ref(), &method, status, elapsed.as_secs_f64());
    let ms = elapsed.as_secs_f64() * 1000.0;
    if state.access_log || elapsed >= SLOW {
        tracing::info!(%method, %uri, status, ms, "request");
    } else {
        tracing::debug!(%method, %uri, status, ms, "request");
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
        router(state).into_make_service_with_connect_info::<crate::connection::ClientAddr>(),
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
    let uploads = state.uploads.clone();
    let store = &uploads.store;
    match store.discard_incoming() {
        Ok(0) => {}
        Ok(n) => tracing::warn!("discarded {n} upload(s) left half-received by the last run"),
        Err(e) => tracing::error!("could not clear the store's incoming directory: {e}"),
    }
    // Zip members are unpacked on the store's disk, not the system's temporary directory.
    let scratch = store.root().join("scratch");
    match crate::source::clear_scratch(&scratch) {
        Ok(0) => {}
        Ok(n) => tracing::warn!("removed {n} unpacked file set(s) left by the last run"),
        Err(e) => tracing::error!("could not clear the store's scratch directory: {e}"),
    }
    crate::source::use_scratch_root(scratch);
    match tokio::task::spawn_blocking(move || crate::publish::load_published(&uploads)).await {
        Ok(Ok(published)) => {
            for layer in published.layers {
                report.layers.retain(|l| l.meta.id != layer.meta.id);
                report.layers.push(layer);
            }
            for (id, reason) in &published.degraded {
                tracing::error!(layer = %id, "stored layer not served: {reason}");
            }
            metrics::gauge!("amis_layers_degraded").set(published.degraded.len() as f64);
            if let Ok(mut degraded) = state.degraded.lock() {
                *degraded = published.degraded;
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
