//! Agency uploads over HTTP: `PUT /api/collections/{id}` publishes (or, with `dry_run`,
//! checks) a layer file, `DELETE` retires a layer, `POST …/versions/{n}/restore` publishes a
//! kept version again, `GET …/versions` lists what was stored. The work itself is in
//! [`crate::publish`]; this module parses requests, authenticates and audits.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio_stream::StreamExt;

use crate::auth::{Quota, TokenRecord, TokenStore};
use crate::catalog::{LayerMeta, is_valid_layer_id};
use crate::error::ApiError;
use crate::feature::abbreviate;
use crate::params::Path;
use crate::protocol::{FieldMapping, Kind};
use crate::publish::{self, Intake, Outcome, UploadRequest, Uploads, storage_error};
use crate::server::{AppState, now_rfc3339, query_params, reject_query};
use crate::source::{Deadline, Format, ReadOptions};
use crate::store::Incoming;
use crate::work::{SMALL_INTAKE_BYTES, WorkClass};

/// What an upload may set, as query parameters (so `curl -T file.fgb` works).
const UPLOAD_PARAMS: [&str; 12] = [
    "kind",
    "title",
    "description",
    "license",
    "attribution",
    "keywords",
    "classify",
    "crs",
    "layer",
    "encoding",
    "fields",
    "dry_run",
];

/// The layer id every write names, checked before anything else is looked at.
async fn layer_id(parts: &mut Parts, state: &AppState) -> Result<String, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
    let id = params.get("id").cloned().unwrap_or_default();
    if is_valid_layer_id(&id) {
        Ok(id)
    } else {
        Err(ApiError::invalid(
            "id",
            format!(
                "{:?} is not a layer id: layer ids are 1-64 characters of a-z, 0-9, '-' or '_'",
                abbreviate(&id, 80)
            ),
        ))
    }
}

/// An agency allowed to write the layer the request names. As an extractor, it validates the
/// layer id, the bearer token and its scope before a handler runs, and writes every refusal
/// to the audit log, so no write handler can forget any of it.
pub struct Agency {
    pub token: TokenRecord,
    pub layer: String,
}

impl FromRequestParts<AppState> for Agency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Agency, ApiError> {
        // An invalid id is refused before anything is read, logged or joined into a path.
        let layer = layer_id(parts, state).await?;
        let action = action(&parts.method, parts.uri.path());
        // The token file is read on each write (see `authorize`): a file read, so not here.
        let authorization = parts.headers.get(header::AUTHORIZATION).cloned();
        let (uploads, id) = (state.uploads.clone(), layer.clone());
        let authorized =
            tokio::task::spawn_blocking(move || authorize(&uploads, authorization.as_ref(), &id))
                .await
                .map_err(|e| ApiError::Internal(format!("authorisation failed: {e}")))?;
        match authorized {
            Ok(token) => Ok(Agency { token, layer }),
            // Anyone can send a request without a valid token: counted and logged (at most
            // once a minute per address), never a synced audit line each.
            Err(e @ ApiError::Unauthorized(_)) => {
                metrics::counter!("amis_uploads_total", "agency" => "-", "action" => action, "outcome" => "refused")
                    .increment(1);
                let client = parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<crate::connection::ClientAddr>>()
                    .map(|c| c.0.0.ip());
                if state.uploads.first_refusal_this_minute(client) {
                    tracing::warn!(
                        client = ?client,
                        layer = %layer,
                        action,
                        "write refused: {e} (refusals from this address are logged at most once a minute; /metrics counts them all as amis_uploads_total with agency \"-\")"
                    );
                }
                Err(e)
            }
            Err(e) => {
                audit(
                    state,
                    "-",
                    &layer,
                    action,
                    "refused",
                    json!({ "error": e.to_string() }),
                )
                .await;
                Err(e)
            }
        }
    }
}

fn action(method: &Method, path: &str) -> &'static str {
    match *method {
        Method::PUT => "upload",
        Method::DELETE => "delete",
        _ if path.ends_with("/restore") => "restore",
        _ => "write",
    }
}

/// The token's record if the request carries a valid bearer token allowed to write `id`.
fn authorize(
    uploads: &Uploads,
    authorization: Option<&axum::http::HeaderValue>,
    id: &str,
) -> Result<TokenRecord, ApiError> {
    let missing = || {
        ApiError::Unauthorized("writes need an agency token: Authorization: Bearer <token>".into())
    };
    let value = authorization
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    // RFC 9110 §11.1: the scheme is case-insensitive.
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    // Re-read on each write, so `amis-webgis token create/revoke` takes effect at once.
    let tokens =
        TokenStore::open(uploads.store.root()).map_err(|e| ApiError::Internal(e.to_string()))?;
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

/// Appends to the audit log (a synced file write, off the async workers) and counts the
/// outcome by agency for `/metrics`.
async fn audit(
    state: &AppState,
    agency: &str,
    id: &str,
    action: &'static str,
    outcome: &'static str,
    detail: serde_json::Value,
) {
    metrics::counter!("amis_uploads_total", "agency" => agency.to_string(), "action" => action, "outcome" => outcome)
        .increment(1);
    let entry = json!({
        "time": now_rfc3339(),
        "agency": agency, "layer": id, "action": action, "outcome": outcome, "detail": detail,
    });
    let uploads = state.uploads.clone();
    match tokio::task::spawn_blocking(move || uploads.store.audit(&entry)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("audit log write failed: {e}"),
        Err(e) => tracing::error!("audit log write failed: {e}"),
    }
}

fn format_of(headers: &HeaderMap) -> Result<Format, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Format::from_media_type(content_type)
        .ok_or_else(|| ApiError::UnsupportedMediaType(abbreviate(content_type, 100)))
}

/// The upload's metadata, reading options and column mapping from its query string.
fn request_from_params(
    id: &str,
    params: &[(String, String)],
    deadline: Deadline,
) -> Result<UploadRequest, ApiError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let kind = match get("kind").filter(|k| !k.is_empty()) {
        None => None,
        Some(text) => Some(Kind::parse(&text).ok_or_else(|| {
            ApiError::invalid(
                "kind",
                format!(
                    "{:?} is not one of occurrences, geology, other (or leave it out to infer it)",
                    abbreviate(&text, 40)
                ),
            )
        })?),
    };
    let crs = match get("crs").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => {
            let digits = text
                .strip_prefix("EPSG:")
                .or_else(|| text.strip_prefix("epsg:"))
                .unwrap_or(&text);
            Some(digits.parse::<u32>().map_err(|_| {
                ApiError::invalid(
                    "crs",
                    format!("{:?} is not EPSG:<code>", abbreviate(&text, 40)),
                )
            })?)
        }
    };
    let fields = match get("fields") {
        None => FieldMapping::default(),
        Some(text) => FieldMapping::parse(&text).map_err(|e| ApiError::invalid("fields", e))?,
    };
    let dry_run = match get("dry_run").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "dry_run",
                format!("{:?} is not true or false", abbreviate(other, 20)),
            ));
        }
    };
    let meta = LayerMeta {
        id: id.to_string(),
        file: PathBuf::new(),
        title: get("title")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| id.to_string()),
        description: get("description").unwrap_or_default(),
        kind: String::new(),
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
        classify: get("classify").filter(|c| !c.is_empty()),
        lists: Vec::new(),
        minzoom: None,
        maxzoom: None,
    };
    Ok(UploadRequest {
        meta,
        kind,
        intake: Intake {
            format: None,
            read: ReadOptions {
                crs,
                layer: get("layer").filter(|l| !l.is_empty()),
                encoding: get("encoding").filter(|e| !e.is_empty()),
            },
            fields,
            kind: kind.map(|k| k.name().to_string()),
        },
        dry_run,
        deadline,
        quota: Quota::default(),
    })
}

/// `PUT /api/collections/{id}`
pub async fn upload(
    State(state): State<AppState>,
    agency: Agency,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = agency.layer.clone();
    let mut received = None;
    let result = receive_and_publish(
        &state,
        &agency,
        query.as_deref(),
        &headers,
        body,
        &mut received,
    )
    .await;
    let (action_outcome, detail) = match &result {
        Ok((_, body)) if body["dryRun"] == true => ("checked", body["report"].clone()),
        Ok((_, body)) => ("published", body.clone()),
        Err(e) => {
            let mut detail = json!({ "error": e.to_string() });
            if let Some((bytes, sha256)) = &received {
                detail["bytes"] = (*bytes).into();
                detail["sha256"] = sha256.clone().into();
            }
            ("refused", detail)
        }
    };
    audit(
        &state,
        &agency.token.agency,
        &id,
        "upload",
        action_outcome,
        detail,
    )
    .await;
    let (status, body) = result?;
    Ok((status, axum::Json(body)).into_response())
}

/// Receives the body, then reads, checks, stores and swaps it in off the async workers.
/// `received` gets the body's size and checksum once it has fully arrived, for the audit log.
async fn receive_and_publish(
    state: &AppState,
    agency: &Agency,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    received: &mut Option<(u64, String)>,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let id = agency.layer.as_str();
    // One deadline for the whole upload, from here to the answer.
    let deadline = Deadline::after(state.uploads.timeout);
    reject_query(query, &UPLOAD_PARAMS)?;
    let mut request = request_from_params(id, &query_params(query), deadline)?;
    request.meta.source = agency.token.agency.clone();
    request.quota = agency.token.quota;
    let format = format_of(headers)?;
    let max = state.uploads.max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(ApiError::PayloadTooLarge(max));
    }
    let dry_run = request.dry_run;
    // A dry run changes nothing, so it needs no write slot.
    let slot = if dry_run {
        None
    } else {
        Some(state.uploads.write_slot(id)?)
    };
    let uploads = state.uploads.clone();
    let incoming = state
        .work
        .run(WorkClass::Store, move || uploads.store.incoming())
        .await?
        .map_err(storage_error)?;
    let incoming = receive(state, body, incoming, deadline).await?;
    *received = Some((incoming.bytes(), incoming.sha256_hex()));

    // One upload of an agency at a time; small files on their own workers. Waiting for
    // either counts against the deadline; a job once started runs to its answer.
    let out_of_time = || ApiError::DeadlineExceeded(deadline.allowed_secs());
    let turn = state.uploads.agency_turn(&agency.token.agency);
    let _turn = tokio::time::timeout(deadline.remaining(), turn.lock_owned())
        .await
        .map_err(|_| out_of_time())?;
    let class = if incoming.bytes() <= SMALL_INTAKE_BYTES {
        WorkClass::SmallIntake
    } else {
        WorkClass::Intake
    };
    let existed = state.catalog.snapshot().get(id).is_some();
    let uploads = state.uploads.clone();
    let catalog = state.catalog.clone();
    let agency_name = agency.token.agency.clone();
    let outcome = state
        .work
        .run_if_started_within(class, deadline.remaining(), move || {
            publish::publish(&uploads, &catalog, incoming, format, request, &agency_name)
        })
        .await?
        .ok_or_else(out_of_time)??;
    drop(slot);
    Ok(match outcome {
        Outcome::Checked(report) => (
            StatusCode::OK,
            json!({ "id": id, "dryRun": true, "published": false, "valid": report.valid, "report": report }),
        ),
        Outcome::Published {
            record,
            layer,
            report,
        } => {
            let body = json!({
                "id": id,
                "published": true,
                "version": record.version,
                "kind": layer.meta.kind,
                "kindInferred": report.kind_inferred,
                "features": record.features,
                "bytes": record.bytes,
                "sha256": record.sha256,
                "bbox": layer.bbox.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
                "geometryTypes": layer.facts.geometry_types,
                "properties": layer.fields,
                "crs": report.crs,
                "warnings": report.warnings,
                "report": report,
            });
            (
                if existed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                body,
            )
        }
    })
}

/// Receives the request body into `incoming`, enforcing the size limit as bytes arrive and
/// the upload's deadline on the whole body. Chunks are gathered in memory and written a MiB at a
/// time on the store's workers, so the file writes never run on the async workers.
async fn receive(
    state: &AppState,
    body: Body,
    incoming: Incoming,
    deadline: Deadline,
) -> Result<Incoming, ApiError> {
    const BATCH: usize = 1 << 20;
    let uploads = &state.uploads;
    let max = uploads.max_bytes;
    let write = |mut incoming: Incoming, batch: Vec<u8>| async move {
        state
            .work
            .run(WorkClass::Store, move || {
                incoming.write(&batch).map(|()| incoming)
            })
            .await?
            .map_err(storage_error)
    };
    let copy = async {
        let mut incoming = incoming;
        let mut batch = Vec::with_capacity(BATCH);
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::BadUpload(format!("the upload was interrupted: {e}")))?;
            if incoming.bytes() + (batch.len() + chunk.len()) as u64 > max {
                return Err(ApiError::PayloadTooLarge(max));
            }
            batch.extend_from_slice(&chunk);
            if batch.len() >= BATCH {
                incoming = write(
                    incoming,
                    std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                )
                .await?;
            }
        }
        if !batch.is_empty() {
            incoming = write(incoming, batch).await?;
        }
        Ok(incoming)
    };
    tokio::time::timeout(deadline.remaining(), copy)
        .await
        .map_err(|_| ApiError::UploadTimeout(deadline.allowed_secs()))?
}

/// `DELETE /api/collections/{id}`: withdraws the layer; stored versions stay on disk.
pub async fn retire(
    State(state): State<AppState>,
    agency: Agency,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = agency.layer;
    reject_query(query.as_deref(), &[])?;
    let _slot = state.uploads.write_slot(&id)?;
    if state.catalog.snapshot().get(&id).is_none() {
        return Err(ApiError::UnknownLayer(id));
    }
    let (uploads, layer_id) = (state.uploads.clone(), id.clone());
    state
        .work
        .run(WorkClass::Store, move || uploads.store.retire(&layer_id))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.catalog.retire(&id);
    audit(
        &state,
        &agency.token.agency,
        &id,
        "delete",
        "retired",
        json!({}),
    )
    .await;
    Ok(axum::Json(json!({ "id": id, "retired": true })).into_response())
}

/// `POST /api/collections/{id}/versions/{version}/restore`: publishes a kept version again.
pub async fn restore(
    State(state): State<AppState>,
    agency: Agency,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = agency.layer;
    reject_query(query.as_deref(), &[])?;
    let version = params.get("version").cloned().unwrap_or_default();
    let unknown = || ApiError::UnknownFeature {
        layer: id.clone(),
        feature: format!("version {}", abbreviate(&version, 40)),
    };
    let number: u64 = version.parse().map_err(|_| unknown())?;
    let _slot = state.uploads.write_slot(&id)?;
    let uploads = state.uploads.clone();
    let catalog = state.catalog.clone();
    let layer_id = id.clone();
    let layer = state
        .work
        .run(WorkClass::Intake, move || {
            publish::restore(&uploads, &catalog, &layer_id, number)
        })
        .await??
        .ok_or_else(unknown)?;
    let features = layer.features.len();
    audit(
        &state,
        &agency.token.agency,
        &id,
        "restore",
        "published",
        json!({ "version": number, "features": features }),
    )
    .await;
    Ok(axum::Json(json!({ "id": id, "version": number, "features": features })).into_response())
}

/// `GET /api/collections/{id}/versions`
pub async fn versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if !is_valid_layer_id(&id) {
        return Err(ApiError::UnknownLayer(abbreviate(&id, 80)));
    }
    reject_query(query.as_deref(), &[])?;
    let (uploads, layer_id) = (state.uploads.clone(), id.clone());
    let versions = state
        .work
        .run(WorkClass::Store, move || uploads.store.versions(&layer_id))
        .await?
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
