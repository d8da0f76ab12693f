//! The bundled web map: `web/` (rust-embed) and the `styles/` templates embedded in the binary, so a
//! single executable serves the whole product with no files beside it and no Node.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;
use crate::params::Path;
use crate::server::{AppState, base_url, etag_matches, reject_query};
use crate::styles;

#[derive(Embed)]
#[folder = "web/"]
struct WebFiles;

/// The style templates (`styles/*.json`), compiled in.
const STYLE_TEMPLATES: [(&str, &str); 2] = [
    ("default", include_str!("../styles/default.json")),
    ("qgis", include_str!("../styles/qgis.json")),
];

fn embedded(
    file: rust_embed::EmbeddedFile,
    cache_control: &'static str,
    headers: &HeaderMap,
) -> Response {
    let etag = format!(
        "\"{}\"",
        crate::auth::hex(&file.metadata.sha256_hash()[..8])
    );
    if etag_matches(headers, &etag) {
        return (axum::http::StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
            (header::CACHE_CONTROL, cache_control.to_string()),
            (header::ETAG, etag),
        ],
        Body::from(file.data.into_owned()),
    )
        .into_response()
}

/// `GET /`: the app itself; revalidated on every load so a new release shows at once. Any
/// query string is accepted and ignored (links arrive with `?utm_source=`, `?fbclid=`, …):
/// the app keeps its view in the URL fragment.
pub async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    let file = WebFiles::get("index.html")
        .ok_or_else(|| ApiError::Internal("index.html not embedded".into()))?;
    Ok(embedded(file, "no-cache", &headers))
}

/// `GET /upload`: the agencies' upload page (any query string, as for `/`).
pub async fn upload_page(headers: HeaderMap) -> Result<Response, ApiError> {
    let file = WebFiles::get("upload.html")
        .ok_or_else(|| ApiError::Internal("upload.html not embedded".into()))?;
    Ok(embedded(file, "no-cache", &headers))
}

/// `GET /assets/{*path}`: scripts, styles and the vendored MapLibre.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let file = WebFiles::get(&format!("assets/{path}"))
        .ok_or_else(|| ApiError::NoRoute(format!("/assets/{path}")))?;
    Ok(embedded(file, "public, max-age=3600", &headers))
}

/// `GET /styles/{id}.json`: a MapLibre style whose sources are this server's own TileJSON.
pub async fn style(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let unknown = || ApiError::NoRoute(format!("/styles/{name} (no such style)"));
    // The styles there are: each is cached under its own name.
    let (id, key, flavour) = match name.as_str() {
        "default.json" => ("default", "style-default", styles::Flavour::MapLibre),
        "qgis.json" => ("qgis", "style-qgis", styles::Flavour::Qgis),
        _ => return Err(unknown()),
    };
    let template = STYLE_TEMPLATES
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, template)| *template)
        .ok_or_else(unknown)?;
    let base = base_url(&state, &headers);
    let snapshot = state.catalog.snapshot();
    let style = state
        .documents
        .get_or_build(snapshot.generation, key, &base, || {
            let style = styles::build(template, &base, &snapshot, flavour)
                .map_err(|e| ApiError::Internal(format!("style {id}: {e}")))?;
            Ok(style.to_string().into())
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        style,
    )
        .into_response())
}
