//! Tile and TileJSON endpoints: parse the request, render or fetch from cache, set headers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::cache::{EncodedTile, TileKey};
use super::{TileCost, TileId, render};
use crate::catalog::{Layer, Snapshot};
use crate::error::ApiError;
use crate::params::Path;
use crate::server::{AppState, accepts_gzip, base_url, etag_matches, reject_query};
use crate::tilejson;
use crate::work::WorkClass;

const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// Short enough that an agency's upload shows within a minute; ETags make revalidation cheap.
const TILE_CACHE_CONTROL: &str = "public, max-age=60";
/// At most this many layers in one composite tile.
pub const MAX_COMPOSITE_LAYERS: usize = 16;

/// Resolves `a,b,c` to layers, in the order given.
pub fn resolve_layers(snapshot: &Snapshot, spec: &str) -> Result<Vec<Arc<Layer>>, ApiError> {
    let ids: Vec<&str> = spec.split(',').collect();
    if ids.len() > MAX_COMPOSITE_LAYERS {
        return Err(ApiError::invalid(
            "layers",
            format!("at most {MAX_COMPOSITE_LAYERS} layers per tile"),
        ));
    }
    let mut layers: Vec<Arc<Layer>> = Vec::with_capacity(ids.len());
    for id in ids {
        let layer = snapshot
            .get(id)
            .ok_or_else(|| ApiError::UnknownLayer(id.to_string()))?;
        if layers.iter().any(|l| l.meta.id == id) {
            return Err(ApiError::invalid(
                "layers",
                format!("layer {id:?} is listed twice"),
            ));
        }
        layers.push(layer.clone());
    }
    Ok(layers)
}

/// The path of a tile, `/tiles/{layers}/{z}/{x}/{y}.mvt` (or `.pbf`), checked: the layer
/// list as written and a tile that exists at its zoom.
pub struct TileAddress {
    pub layers: String,
    pub tile: TileId,
}

impl<S: Send + Sync> FromRequestParts<S> for TileAddress {
    type Rejection = ApiError;

    /// Reads the route's parameters where the router left them (borrowed, already
    /// percent-decoded), so a cached tile's request copies one string rather than four.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = crate::params::raw_path_params(parts, state).await?;
        let (mut layers, mut z, mut x, mut y) = ("", "", "", "");
        for (name, value) in &params {
            match name {
                "layers" => layers = value,
                "z" => z = value,
                "x" => x = value,
                "y" => y = value,
                _ => {}
            }
        }
        let Some(y) = y.strip_suffix(".mvt").or_else(|| y.strip_suffix(".pbf")) else {
            return Err(ApiError::NoRoute(format!(
                "/tiles/{layers}/{z}/{x}/{y} (tiles end in .mvt)"
            )));
        };
        Ok(TileAddress {
            tile: TileId::parse(z, x, y)?,
            layers: layers.to_string(),
        })
    }
}

pub async fn tile(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    TileAddress { layers: spec, tile }: TileAddress,
    // The request itself rather than a `HeaderMap`, which would be a copy of its headers.
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let layers = resolve_layers(&state.catalog.snapshot(), &spec)?;
    let key = TileKey::new(&spec, layers.iter().map(|l| l.version), tile);
    let encoded = match state.tiles.get(&key) {
        Some(hit) => hit,
        None => {
            let encoded = match super::tile_cost(&layers, tile) {
                TileCost::Empty => EncodedTile::empty(),
                // Made here, on the async worker: less work than handing it to a thread.
                TileCost::Small => Arc::new(
                    state
                        .work
                        .run_here(WorkClass::Render, || make(&layers, tile))??,
                ),
                // Cutting a dense low-zoom tile takes milliseconds of CPU: keep it off the
                // async workers, within the render pool.
                TileCost::Large => Arc::new(
                    state
                        .work
                        .run(WorkClass::Render, move || make(&layers, tile))
                        .await??,
                ),
            };
            state.tiles.insert(key, encoded.clone());
            encoded
        }
    };
    Ok(tile_response(&encoded, request.headers()))
}

/// Cuts, encodes and compresses a tile, timing it for `/metrics`.
fn make(layers: &[Arc<Layer>], tile: TileId) -> Result<EncodedTile, ApiError> {
    let started = std::time::Instant::now();
    let encoded = render(layers, tile)
        .map(EncodedTile::new)
        .map_err(|e| ApiError::Internal(format!("tile encoding failed: {e}")))?;
    crate::observe::record_render(tile.z, started.elapsed().as_secs_f64());
    Ok(encoded)
}

fn tile_response(tile: &EncodedTile, headers: &HeaderMap) -> Response {
    let (status, body, encoding) = if etag_matches(headers, tile.etag.to_str().unwrap_or_default())
    {
        (StatusCode::NOT_MODIFIED, Body::empty(), None)
    } else if tile.is_empty() {
        (StatusCode::NO_CONTENT, Body::empty(), None)
    } else if accepts_gzip(headers) {
        (StatusCode::OK, Body::from(tile.gzip.clone()), Some("gzip"))
    } else {
        (StatusCode::OK, Body::from(tile.raw.clone()), None)
    };
    // Built by hand from ready values: this is the whole of a cache hit's own work.
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(header::ETAG, tile.etag.clone());
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TILE_CACHE_CONTROL),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if status == StatusCode::OK {
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
    }
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// `GET /tiles/{layers}.json`
pub async fn tilejson(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let spec = name
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NoRoute(format!("/tiles/{name} (TileJSON ends in .json)")))?;
    let layers = resolve_layers(&state.catalog.snapshot(), spec)?;
    let doc = tilejson::build(&layers, spec, &base_url(&state, &headers));
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(doc),
    )
        .into_response())
}

/// `GET /tiles`: every layer's TileJSON URL, like martin's catalog.
pub async fn index(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let base = base_url(&state, &headers);
    let snapshot = state.catalog.snapshot();
    let tilesets: Vec<serde_json::Value> = snapshot
        .layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "id": l.meta.id,
                "title": l.meta.title,
                "kind": l.meta.kind,
                "tilejson": format!("{base}/tiles/{}.json", l.meta.id),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "tilesets": tilesets })).into_response())
}
