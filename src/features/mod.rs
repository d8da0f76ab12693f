//! OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) under `/api`.

pub mod download;
mod openapi;
pub mod output;
pub mod query;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value as Json, json};

use crate::catalog::Layer;
use crate::error::ApiError;
use crate::params::Path;
use crate::server::{AppState, accepts_gzip, base_url, now_rfc3339, query_params, reject_query};
use crate::work::WorkClass;
use query::{CRS84, ItemsFormat, ItemsQuery};

const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/openapi.json", get(openapi))
        .route("/vocabulary", get(vocabulary))
        .route("/search", get(search))
        .route("/collections", get(collections))
        .route(
            "/collections/{id}",
            get(collection)
                .put(crate::upload::upload)
                .delete(crate::upload::retire),
        )
        .route("/collections/{id}/versions", get(crate::upload::versions))
        .route(
            "/collections/{id}/versions/{version}/restore",
            axum::routing::post(crate::upload::restore),
        )
        .route("/collections/{id}/queryables", get(queryables))
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{feature}", get(item))
}

/// Landing, conformance and collection documents only know `f=json`.
fn json_only(query: Option<&str>) -> Result<(), ApiError> {
    reject_query(query, &["f"])?;
    match query_params(query).iter().find(|(n, _)| n == "f") {
        Some((_, f)) if f != "json" => Err(ApiError::invalid(
            "f",
            format!("{f:?} is not supported here; use json"),
        )),
        _ => Ok(()),
    }
}

fn json_response(content_type: &'static str, body: Json) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

fn link(href: String, rel: &str, ty: &str, title: &str) -> Json {
    json!({ "href": href, "rel": rel, "type": ty, "title": title })
}

fn layer<'a>(
    snapshot: &'a crate::catalog::Snapshot,
    id: &str,
) -> Result<&'a std::sync::Arc<Layer>, ApiError> {
    snapshot
        .get(id)
        .ok_or_else(|| ApiError::UnknownLayer(id.to_string()))
}

pub async fn landing(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_only(q.as_deref())?;
    let api = format!("{}/api", base_url(&state, &headers));
    Ok(json_response(
        JSON,
        json!({
            "title": "AMIS WebGIS",
            "description": "Pre-competitive geoscience and mineral occurrence data of the ASEAN Minerals Information System, as OGC API - Features and vector tiles.",
            "links": [
                link(api.clone(), "self", JSON, "This document"),
                link(format!("{api}/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition"),
                link(format!("{api}/conformance"), "conformance", JSON, "Conformance classes"),
                link(format!("{api}/collections"), "data", JSON, "The collections"),
            ],
        }),
    ))
}

/// `GET /api/vocabulary`: the one definition of commodity names, synonyms, families, colour
/// groups, the critical-minerals list and country codes, as the web map and clients use it.
async fn vocabulary(RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    json_only(q.as_deref())?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        json_response(JSON, crate::vocab::document()),
    )
        .into_response())
}

/// `GET /api/search?q=…`: the best matches across every occurrence layer (or the layers
/// `collections=a,b` names), by the same matcher as `items?q=`, best first. Each feature says
/// which collection it is from.
async fn search(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_query(q.as_deref(), &["q", "limit", "collections"])?;
    let params = query_params(q.as_deref());
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let text = get("q").ok_or_else(|| ApiError::invalid("q", "give words to search for"))?;
    let limit = match get("limit") {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| ApiError::invalid("limit", "must be an integer from 1 to 100"))?,
    };
    let snapshot = state.catalog.snapshot();
    let layers: Vec<std::sync::Arc<Layer>> = match get("collections") {
        Some(list) => list
            .split(',')
            .map(|id| layer(&snapshot, id.trim()).cloned())
            .collect::<Result<_, _>>()?,
        None => snapshot
            .layers
            .iter()
            .filter(|l| l.meta.kind == "occurrences")
            .cloned()
            .collect(),
    };
    let base = base_url(&state, &headers);
    // A query with no letter or digit has no words to find: an empty result, not an error.
    let query = crate::search::Query::parse(text);
    let body = state
        .work
        .run(WorkClass::Items, move || {
            search_results(&layers, query.as_ref(), limit, &base)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, GEOJSON)], body).into_response())
}

/// The best `limit` matches of `query` across `layers`, as GeoJSON text.
fn search_results(
    layers: &[std::sync::Arc<Layer>],
    query: Option<&crate::search::Query>,
    limit: usize,
    base: &str,
) -> String {
    let mut hits = Vec::new();
    for (order, layer) in layers.iter().enumerate() {
        let Some(query) = query else { break };
        let index = layer.search_index();
        for (pos, feature) in layer.features.iter().enumerate() {
            if let Some(rank) = index.rank(query, pos, feature) {
                hits.push((rank, order, pos));
            }
        }
    }
    hits.sort_unstable();
    let features: Vec<Json> = hits
        .iter()
        .take(limit)
        .map(|&(_, order, pos)| {
            let layer = &layers[order];
            let mut f = output::feature_json(layer, &layer.features[pos]);
            f["collection"] = json!(layer.meta.id);
            f["links"] = json!([link(
                format!(
                    "{base}/api/collections/{}/items/{}",
                    layer.meta.id, layer.features[pos].id
                ),
                "self",
                GEOJSON,
                "This feature"
            )]);
            f
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "numberMatched": hits.len(),
        "numberReturned": features.len(),
        "timeStamp": now_rfc3339(),
        "features": features,
    })
    .to_string()
}

async fn conformance(RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    json_only(q.as_deref())?;
    Ok(json_response(
        JSON,
        json!({ "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        ]}),
    ))
}

async fn openapi(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_only(q.as_deref())?;
    let base = base_url(&state, &headers);
    let snapshot = state.catalog.snapshot();
    let doc = state
        .documents
        .get_or_build(snapshot.generation, "openapi", &base, || {
            let production = state.production.load();
            Ok(openapi::document(&base, &snapshot, &production)
                .to_string()
                .into())
        })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/vnd.oai.openapi+json;version=3.0",
        )],
        doc,
    )
        .into_response())
}

fn collection_json(layer: &Layer, base: &str) -> Json {
    let id = &layer.meta.id;
    let items = format!("{base}/api/collections/{id}/items");
    let bbox = layer
        .bbox
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    json!({
        "id": id,
        "title": layer.meta.title,
        "description": layer.meta.description,
        "keywords": layer.meta.keywords,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": { "spatial": { "bbox": bbox.map_or_else(Vec::new, |b| vec![b]), "crs": CRS84 } },
        "kind": layer.meta.kind,
        "classify": layer.meta.classify,
        "source": layer.meta.source,
        "license": layer.meta.license,
        "attribution": layer.meta.attribution,
        "featureCount": layer.features.len(),
        "geometryTypes": layer.facts.geometry_types,
        "properties": layer.fields,
        "links": [
            link(format!("{base}/api/collections/{id}"), "self", JSON, "This collection"),
            link(items.clone(), "items", GEOJSON, "Features as GeoJSON"),
            link(format!("{items}?f=fgb"), "enclosure", "application/flatgeobuf", "All features as FlatGeobuf"),
            link(format!("{items}?f=csv"), "enclosure", "text/csv", "All features as CSV"),
            link(format!("{base}/api/collections/{id}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Properties usable as filters"),
            link(format!("{base}/tiles/{id}.json"), "tiles", JSON, "Vector tiles (TileJSON 3.0)"),
        ],
    })
}

/// `GET /api/collections`, with an ETag, so the web map can poll it cheaply for new uploads.
async fn collections(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    json_only(q.as_deref())?;
    let base = base_url(&state, &headers);
    let snapshot = state.catalog.snapshot();
    let body = state
        .documents
        .get_or_build(snapshot.generation, "collections", &base, || {
            let list: Vec<Json> = snapshot
                .layers
                .iter()
                .map(|l| collection_json(l, &base))
                .collect();
            Ok(json!({
                "links": [link(format!("{base}/api/collections"), "self", JSON, "The collections")],
                "collections": list,
            })
            .to_string()
            .into())
        })?;
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
    if crate::server::etag_matches(&headers, &etag) {
        return Ok((axum::http::StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, JSON.to_string()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response())
}

async fn collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.catalog.snapshot();
    let layer = layer(&snapshot, &id)?;
    json_only(q.as_deref())?;
    Ok(json_response(
        JSON,
        collection_json(layer, &base_url(&state, &headers)),
    ))
}

/// `GET /api/collections/{id}/queryables` (OGC API Features Part 3): the properties that can
/// be used as filters, as JSON Schema.
async fn queryables(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.catalog.snapshot();
    let layer = layer(&snapshot, &id)?;
    json_only(q.as_deref())?;
    let mut properties = serde_json::Map::new();
    for (idx, field) in layer.fields.iter().enumerate() {
        let ty = field.field_type.json_schema_type();
        let mut schema = json!({ "title": field.name, "type": ty });
        if let Some(values) = &layer.facts.enums[idx] {
            schema["enum"] = json!(values);
        }
        if layer.meta.lists.contains(&field.name) {
            schema["description"] =
                json!("a list separated by \", \"; a filter matches any element");
        }
        properties.insert(field.name.clone(), schema);
    }
    let base = base_url(&state, &headers);
    Ok(json_response(
        "application/schema+json",
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("{base}/api/collections/{id}/queryables"),
            "type": "object",
            "title": layer.meta.title,
            "properties": properties,
            "additionalProperties": false,
        }),
    ))
}

fn page_link(items_url: &str, query: &ItemsQuery, offset: usize, rel: &str) -> Json {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &query.params {
        if name != "offset" && name != "limit" {
            ser.append_pair(name, value);
        }
    }
    ser.append_pair("limit", &query.page_size().to_string());
    ser.append_pair("offset", &offset.to_string());
    link(format!("{items_url}?{}", ser.finish()), rel, GEOJSON, rel)
}

async fn items(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.catalog.snapshot();
    let layer = layer(&snapshot, &id)?.clone();
    let query = query::parse_items_query(&layer, query_params(q.as_deref()))?;

    if query.format != ItemsFormat::GeoJson {
        if download::wants_ranges(query.format, &method, &headers) {
            return download::ranged(&state, layer, query, &headers).await;
        }
        return download::streamed(&state, layer, query).await;
    }

    // Selecting, serialising and compressing up to 10,000 features is CPU work for the items
    // pool. Compressed here, with the thread's reused compressor, rather than by the
    // compression layer, which sets up a new one per response (a third of a 100-feature page).
    let base = base_url(&state, &headers);
    let gzip = method == Method::GET && accepts_gzip(&headers);
    let body = state
        .work
        .run(WorkClass::Items, move || {
            let text = items_page(&layer, &query, &base);
            if gzip {
                crate::gzip::compress_fast(text.as_bytes())
            } else {
                text.into_bytes()
            }
        })
        .await?;
    let mut response = (
        [
            (header::CONTENT_TYPE, GEOJSON),
            (CONTENT_CRS, CONTENT_CRS_CRS84),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// OGC API Features Part 2: the CRS of the coordinates in a response.
const CONTENT_CRS: header::HeaderName = header::HeaderName::from_static("content-crs");
const CONTENT_CRS_CRS84: &str = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>";

/// One page of `items` as GeoJSON text.
fn items_page(layer: &Layer, query: &ItemsQuery, base: &str) -> String {
    let matched = query::select(layer, &query.selection());
    let id = &layer.meta.id;
    let items_url = format!("{base}/api/collections/{id}/items");
    let limit = query.page_size();
    let start = query.offset.min(matched.len());
    let page = &matched[start..start.saturating_add(limit).min(matched.len())];
    let features: Vec<output::FeatureOut> = page
        .iter()
        .map(|p| output::FeatureOut {
            layer,
            feature: &layer.features[*p as usize],
        })
        .collect();
    let mut links = vec![
        page_link(&items_url, query, query.offset, "self"),
        link(
            format!("{base}/api/collections/{id}"),
            "collection",
            JSON,
            "The collection",
        ),
    ];
    if start + page.len() < matched.len() {
        links.push(page_link(&items_url, query, start + page.len(), "next"));
    }
    if query.offset > 0 {
        links.push(page_link(
            &items_url,
            query,
            query.offset.saturating_sub(limit),
            "prev",
        ));
    }
    /// The page, serialised as it is (the features are never built as JSON trees).
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        number_matched: usize,
        number_returned: usize,
        time_stamp: String,
        links: Vec<Json>,
        features: Vec<output::FeatureOut<'a>>,
    }
    let page = Page {
        kind: "FeatureCollection",
        number_matched: matched.len(),
        number_returned: features.len(),
        time_stamp: now_rfc3339(),
        links,
        features,
    };
    // Serialising values of these types to a String cannot fail.
    serde_json::to_string(&page).unwrap_or_default()
}

async fn item(
    State(state): State<AppState>,
    Path((id, feature_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snapshot = state.catalog.snapshot();
    let layer = layer(&snapshot, &id)?;
    let unknown = || ApiError::UnknownFeature {
        layer: id.clone(),
        feature: feature_id.clone(),
    };
    let fid: u64 = feature_id.parse().map_err(|_| unknown())?;
    let feature = layer.feature(fid).ok_or_else(unknown)?;
    reject_query(q.as_deref(), &["f", "crs"])?;
    for (name, value) in query_params(q.as_deref()) {
        match name.as_str() {
            "f" if value != "json" && value != "geojson" => {
                return Err(ApiError::invalid(
                    "f",
                    format!("{value:?} is not supported here; use json"),
                ));
            }
            "crs" => query::check_crs(&name, &value)?,
            _ => {}
        }
    }
    let base = base_url(&state, &headers);
    let mut doc = output::feature_json(layer, feature);
    doc["links"] = json!([
        link(
            format!("{base}/api/collections/{id}/items/{fid}"),
            "self",
            GEOJSON,
            "This feature"
        ),
        link(
            format!("{base}/api/collections/{id}"),
            "collection",
            JSON,
            "The collection"
        ),
    ]);
    Ok((
        [
            (header::CONTENT_TYPE, GEOJSON),
            (CONTENT_CRS, CONTENT_CRS_CRS84),
        ],
        doc.to_string(),
    )
        .into_response())
}
