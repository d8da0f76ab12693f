//! The HTTP server: shared state, the router, cross-cutting middleware and start-up.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::catalog::Catalog;
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::tiles::cache::TileCache;
use crate::{features, tiles};

#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<Catalog>,
    pub tiles: TileCache,
    /// Configured public base URL without a trailing slash.
    pub public_url: Option<String>,
    pub glyphs: crate::fonts::GlyphCache,
    pub production: Arc<crate::production::ProductionTable>,
    pub uploads: Arc<crate::publish::Uploads>,
    pub downloads: crate::features::download::DownloadCache,
}

impl AppState {
    pub fn new(catalog: Catalog, args: &ServeArgs) -> AppState {
        AppState {
            catalog: Arc::new(catalog),
            tiles: TileCache::new(args.cache_mb.saturating_mul(1 << 20)),
            public_url: args
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            glyphs: crate::fonts::GlyphCache::default(),
            production: Arc::default(),
            uploads: Arc::new(crate::publish::Uploads::new(args)),
            downloads: crate::features::download::DownloadCache::new(
                args.cache_mb.saturating_mul(1 << 20),
            ),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(crate::web::index))
        .route("/assets/{*path}", get(crate::web::asset))
        .route("/upload", get(crate::web::upload_page))
        .route("/styles/{style}", get(crate::web::style))
        .route("/fonts/{fontstack}/{range}", get(crate::fonts::glyphs))
        .route("/health", get(health))
        .route("/tiles", get(tiles::http::index))
        .route("/tiles/{tileset}", get(tiles::http::tilejson))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::http::tile))
        .route("/api/production", get(crate::production::production))
        .nest("/api", features::router())
        .route("/api/", get(features::landing))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
                .allow_headers(Any)
                .expose_headers([header::ETAG, header::CONTENT_DISPOSITION]),
        )
        // Tiles arrive already gzipped and carry Content-Encoding, which this layer skips.
        .layer(CompressionLayer::new().gzip(true))
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

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let snapshot = state.catalog.snapshot();
    let features: usize = snapshot.layers.iter().map(|l| l.features.len()).sum();
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "layers": snapshot.layers.len(),
        "features": features,
    }))
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NoRoute(req.uri().path().to_string())
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(req.method().to_string())
}

/// The base URL clients should use to reach this server: the configured public URL, or
/// one rebuilt from `X-Forwarded-Proto/Host` and `Host`. Header values that are not a
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
    let proto = header("x-forwarded-proto")
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".into());
    let host = header("x-forwarded-host")
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
    let started = std::time::Instant::now();
    let data = args.data.clone();
    let mut report =
        tokio::task::spawn_blocking(move || crate::catalog::load_data_dir(&data)).await??;
    // Uploaded layers come after data/: an upload replaces a bundled layer of the same id.
    let store = crate::store::LayerStore::new(&args.store, args.keep_versions);
    match store.discard_incoming() {
        Ok(0) => {}
        Ok(n) => tracing::warn!("discarded {n} upload(s) left half-received by the last run"),
        Err(e) => tracing::error!("could not clear the store's incoming directory: {e}"),
    }
    for layer in
        tokio::task::spawn_blocking(move || crate::publish::load_published(&store)).await??
    {
        report.layers.retain(|l| l.meta.id != layer.meta.id);
        report.layers.push(layer);
    }
    for error in &report.errors {
        tracing::error!("skipped: {error}");
    }
    let features: usize = report.layers.iter().map(|l| l.features.len()).sum();
    tracing::info!(
        layers = report.layers.len(),
        features,
        skipped = report.errors.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "data loaded from {}",
        args.data.display()
    );
    let mut state = AppState::new(Catalog::new(report.layers), &args);
    if let Some(path) = report.production {
        match crate::production::ProductionTable::load(&path) {
            Ok(table) => state.production = Arc::new(table),
            Err(e) => tracing::error!("skipped production table: {e}"),
        }
    }
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("shut down cleanly");
    Ok(())
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
