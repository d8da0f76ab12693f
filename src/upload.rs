//! Agency uploads: `PUT /api/collections/{id}` publishes a layer, `DELETE` retires it,
//! `GET .../versions` lists what was stored. A file is read through the guarded readers,
//! checked against the data protocol, indexed off to the side, stored durably, and only then
//! swapped in; any failure leaves the served layer exactly as it was.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio_stream::StreamExt;

use crate::auth::{TokenRecord, TokenStore};
use crate::catalog::{Layer, LayerMeta, is_valid_layer_id};
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::feature::geometry_name;
use crate::protocol::{self, Kind};
use crate::server::{AppState, now_rfc3339, query_params, reject_query};
use crate::source::{self, Budget, Format};
use crate::store::{Incoming, LayerStore, VersionRecord};

/// Metadata an upload may set, as query parameters (so `curl -T file.fgb` works).
const UPLOAD_PARAMS: [&str; 7] = [
    "kind",
    "title",
    "description",
    "license",
    "attribution",
    "keywords",
    "classify",
];

pub struct Uploads {
    /// Also where the token file is.
    pub store: LayerStore,
    pub max_bytes: u64,
    /// The most memory one uploaded layer may take once decoded.
    pub max_layer_bytes: u64,
    /// A body that has not fully arrived by then is refused, so a stalled client cannot hold
    /// the layer's write slot forever.
    pub timeout: std::time::Duration,
    /// Layers with a write in progress: a second concurrent write gets 409.
    busy: Mutex<HashSet<String>>,
}

impl Uploads {
    pub fn new(args: &ServeArgs) -> Uploads {
        Uploads {
            store: LayerStore::new(&args.store, args.keep_versions),
            max_bytes: args.max_upload_mb.saturating_mul(1 << 20),
            max_layer_bytes: args.max_layer_mb.saturating_mul(1 << 20),
            timeout: std::time::Duration::from_secs(args.upload_timeout_secs),
            busy: Mutex::new(HashSet::new()),
        }
    }

    /// What a file of `len` bytes may decode to: generous for real data (100k points take
    /// 1.8× their FlatGeobuf, a dense CSV up to ~12×), small for a file built to explode.
    pub fn memory_budget(&self, len: u64) -> Budget {
        let proportional = (64u64 << 20).saturating_add(len.saturating_mul(32));
        Budget::bytes(proportional.min(self.max_layer_bytes))
    }
}

/// Holds a layer's write slot until dropped.
struct WriteSlot {
    uploads: Arc<Uploads>,
    id: String,
}

impl WriteSlot {
    fn take(uploads: &Arc<Uploads>, id: &str) -> Result<WriteSlot, ApiError> {
        let mut busy = uploads
            .busy
            .lock()
            .map_err(|_| ApiError::Internal("write lock poisoned".into()))?;
        if !busy.insert(id.to_string()) {
            return Err(ApiError::Conflict(format!(
                "another write to layer {id:?} is in progress; retry when it ends"
            )));
        }
        Ok(WriteSlot {
            uploads: uploads.clone(),
            id: id.to_string(),
        })
    }
}

impl Drop for WriteSlot {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.uploads.busy.lock() {
            busy.remove(&self.id);
        }
    }
}

/// The token's record if the request carries a valid bearer token allowed to write `id`.
fn authorize(state: &AppState, headers: &HeaderMap, id: &str) -> Result<TokenRecord, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "writes need an agency token: Authorization: Bearer <token>".into(),
            )
        })?;
    // Re-read on each write, so `amis-webgis token create/revoke` takes effect at once.
    let tokens = TokenStore::open(state.uploads.store.root())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let record = tokens
        .authenticate(token)
        .cloned()
        .ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".into()))?;
    if !record.may_write(id) {
        return Err(ApiError::Forbidden(format!(
            "the token of {} may write layers matching {}, not {id:?}",
            record.agency,
            record.scopes.join(", ")
        )));
    }
    Ok(record)
}

/// [`authorize`], with a refusal written to the audit log.
fn authorize_audited(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    action: &str,
) -> Result<TokenRecord, ApiError> {
    authorize(state, headers, id).inspect_err(|e| {
        audit(
            state,
            "-",
            id,
            action,
            "refused",
            json!({ "error": e.to_string() }),
        );
    })
}

fn audit(
    state: &AppState,
    agency: &str,
    id: &str,
    action: &str,
    outcome: &str,
    detail: serde_json::Value,
) {
    let entry = json!({
        "time": now_rfc3339(),
        "agency": agency, "layer": id, "action": action, "outcome": outcome, "detail": detail,
    });
    if let Err(e) = state.uploads.store.audit(&entry) {
        tracing::error!("audit log write failed: {e}");
    }
}

fn format_of(headers: &HeaderMap) -> Result<Format, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Format::from_media_type(content_type)
        .ok_or_else(|| ApiError::UnsupportedMediaType(content_type.to_string()))
}

fn meta_from_params(id: &str, params: &[(String, String)]) -> Result<(LayerMeta, Kind), ApiError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let kind_text = get("kind").unwrap_or_else(|| "other".into());
    let kind = Kind::parse(&kind_text).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!("{kind_text:?} is not one of occurrences, geology, other"),
        )
    })?;
    let meta = LayerMeta {
        id: id.to_string(),
        file: PathBuf::new(),
        title: get("title")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| id.to_string()),
        description: get("description").unwrap_or_default(),
        kind: kind_text,
        source: String::new(),
        license: get("license").unwrap_or_default(),
        attribution: get("attribution").unwrap_or_default(),
        keywords: get("keywords")
            .map(|k| {
                k.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        classify: get("classify").or_else(|| match kind {
            Kind::Occurrences => Some("commodities".into()),
            Kind::Geology => Some("lithology".into()),
            Kind::Other => None,
        }),
        lists: if kind == Kind::Occurrences {
            vec!["commodities".into()]
        } else {
            Vec::new()
        },
    };
    Ok((meta, kind))
}

/// `PUT /api/collections/{id}`
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !is_valid_layer_id(&id) {
        return Err(ApiError::invalid(
            "id",
            "layer ids are 1-64 characters of a-z, 0-9, '-' or '_'",
        ));
    }
    let token = authorize_audited(&state, &headers, &id, "upload")?;
    let mut received = None;
    let result = publish(
        &state,
        &id,
        query.as_deref(),
        &headers,
        body,
        &token,
        &mut received,
    )
    .await;
    match &result {
        Ok((_, report)) => audit(
            &state,
            &token.agency,
            &id,
            "upload",
            "published",
            report.clone(),
        ),
        Err(e) => {
            let mut detail = json!({ "error": e.to_string() });
            if let Some((bytes, sha256)) = received {
                detail["bytes"] = bytes.into();
                detail["sha256"] = sha256.into();
            }
            audit(&state, &token.agency, &id, "upload", "refused", detail);
        }
    }
    let (status, report) = result?;
    Ok((status, axum::Json(report)).into_response())
}

/// ENOSPC and EDQUOT are the client's business (507: nothing was published); anything else
/// is the server's.
fn storage_error(e: std::io::Error) -> ApiError {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    if matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT)) {
        ApiError::InsufficientStorage
    } else {
        ApiError::Internal(format!("storing the upload failed: {e}"))
    }
}

/// Streams the request body into `incoming`, enforcing the size limit as bytes arrive and
/// the time limit on the whole body.
async fn receive(body: Body, incoming: &mut Incoming, uploads: &Uploads) -> Result<(), ApiError> {
    let max = uploads.max_bytes;
    let copy = async {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::BadUpload(format!("the upload was interrupted: {e}")))?;
            if incoming.bytes() + chunk.len() as u64 > max {
                return Err(ApiError::PayloadTooLarge(max));
            }
            incoming.write(&chunk).map_err(storage_error)?;
        }
        Ok(())
    };
    tokio::time::timeout(uploads.timeout, copy)
        .await
        .map_err(|_| ApiError::UploadTimeout(uploads.timeout.as_secs()))?
}

/// Receives, reads, checks, stores and swaps in one upload. `received` gets the body's size
/// and checksum once it has fully arrived, for the audit log whatever happens next.
async fn publish(
    state: &AppState,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    token: &TokenRecord,
    received: &mut Option<(u64, String)>,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    reject_query(query, &UPLOAD_PARAMS)?;
    let (mut meta, kind) = meta_from_params(id, &query_params(query))?;
    meta.source = token.agency.clone();
    let format = format_of(headers)?;
    let max = state.uploads.max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(ApiError::PayloadTooLarge(max));
    }
    let _slot = WriteSlot::take(&state.uploads, id)?;
    let mut incoming = state.uploads.store.incoming().map_err(storage_error)?;
    receive(body, &mut incoming, &state.uploads).await?;
    *received = Some((incoming.bytes(), incoming.sha256_hex()));

    let existed = state.catalog.snapshot().get(id).is_some();
    let uploads = state.uploads.clone();
    let agency = token.agency.clone();
    let (layer, record, warnings) = tokio::task::spawn_blocking(move || {
        let file = incoming.finish().map_err(storage_error)?;
        let len = incoming.bytes();
        let budget = uploads.memory_budget(len);
        let set = source::read_stream(
            std::io::BufReader::with_capacity(1 << 16, file),
            len,
            format,
            budget,
        )
        .map_err(|e| match e {
            source::SourceError::OverBudget(limit) => ApiError::LayerTooLarge(limit),
            e => ApiError::BadUpload(e.to_string()),
        })?;
        let report = protocol::check(&set, kind);
        if !report.is_valid() {
            return Err(ApiError::ProtocolViolation {
                kind: meta.kind.clone(),
                total: report.total,
                report,
            });
        }
        if let Some(classify) = &meta.classify
            && set.field_index(classify).is_none()
        {
            return Err(ApiError::invalid(
                "classify",
                format!("the file has no property {classify:?}"),
            ));
        }
        let warnings = set.warnings.clone();
        let features = set.features.len();
        let layer = Layer::build(meta.clone(), set, incoming.content_hash());
        let record = uploads
            .store
            .save(&meta, incoming, format.extension(), &agency, features)
            .map_err(storage_error)?;
        Ok((layer, record, warnings))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("upload task failed: {e}")))??;

    let geometry_types: std::collections::BTreeSet<&str> = layer
        .features
        .iter()
        .map(|f| geometry_name(&f.geometry))
        .collect();
    let report = json!({
        "id": id,
        "version": record.version,
        "features": record.features,
        "bytes": record.bytes,
        "sha256": record.sha256,
        "bbox": layer.bbox.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
        "geometryTypes": geometry_types,
        "properties": layer.fields,
        "warnings": warnings,
    });
    state.catalog.publish(Arc::new(layer));
    Ok((
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        report,
    ))
}

/// `DELETE /api/collections/{id}`: withdraws the layer; stored versions stay on disk.
pub async fn retire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = authorize_audited(&state, &headers, &id, "delete")?;
    reject_query(query.as_deref(), &[])?;
    let _slot = WriteSlot::take(&state.uploads, &id)?;
    if state.catalog.snapshot().get(&id).is_none() {
        return Err(ApiError::UnknownLayer(id));
    }
    state
        .uploads
        .store
        .retire(&id)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.catalog.retire(&id);
    audit(&state, &token.agency, &id, "delete", "retired", json!({}));
    Ok(axum::Json(json!({ "id": id, "retired": true })).into_response())
}

/// `POST /api/collections/{id}/versions/{version}/restore`: publishes a kept version again.
pub async fn restore(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = authorize_audited(&state, &headers, &id, "restore")?;
    reject_query(query.as_deref(), &[])?;
    let unknown = || ApiError::UnknownFeature {
        layer: id.clone(),
        feature: format!("version {version}"),
    };
    let number: u64 = version.parse().map_err(|_| unknown())?;
    let _slot = WriteSlot::take(&state.uploads, &id)?;
    let uploads = state.uploads.clone();
    let layer_id = id.clone();
    let layer = tokio::task::spawn_blocking(move || -> Result<Option<Layer>, ApiError> {
        // Read and index first: the manifest only moves once the version is known to load.
        let Some((record, path)) = uploads
            .store
            .kept(&layer_id, number)
            .map_err(|e| ApiError::Internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let layer = load_stored(record, &path)
            .map_err(|e| ApiError::Internal(format!("stored version unreadable: {e}")))?;
        uploads
            .store
            .restore(&layer_id, number)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Some(layer))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("restore task failed: {e}")))??
    .ok_or_else(unknown)?;
    let features = layer.features.len();
    state.catalog.publish(Arc::new(layer));
    audit(
        &state,
        &token.agency,
        &id,
        "restore",
        "published",
        json!({ "version": number, "features": features }),
    );
    Ok(axum::Json(json!({ "id": id, "version": number, "features": features })).into_response())
}

/// `GET /api/collections/{id}/versions`
pub async fn versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    if !is_valid_layer_id(&id) {
        return Err(ApiError::UnknownLayer(id));
    }
    let versions = state
        .uploads
        .store
        .versions(&id)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if versions.is_empty() && state.catalog.snapshot().get(&id).is_none() {
        return Err(ApiError::UnknownLayer(id));
    }
    let list: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| json!({ "version": v.version, "agency": v.agency, "created": v.created, "features": v.features, "bytes": v.bytes, "sha256": v.sha256 }))
        .collect();
    Ok(axum::Json(json!({ "id": id, "versions": list })).into_response())
}

/// The store's published layers, for start-up; a layer whose file fails to load is skipped
/// with an error in the log, like a bad file in `data/`.
pub fn load_published(store: &LayerStore) -> std::io::Result<Vec<Arc<Layer>>> {
    let mut layers = Vec::new();
    for (record, path) in store.published()? {
        let id = record.meta.id.clone();
        match load_stored(record, &path) {
            Ok(layer) => layers.push(Arc::new(layer)),
            Err(e) => tracing::error!("skipped stored layer {id} ({}): {e}", path.display()),
        }
    }
    Ok(layers)
}

/// A stored version, read and indexed with the metadata it was uploaded with.
fn load_stored(
    record: VersionRecord,
    path: &std::path::Path,
) -> Result<Layer, source::SourceError> {
    let contents = source::read_path(path)?;
    Ok(Layer::build(
        record.meta,
        contents.features,
        contents.content_hash,
    ))
}
