//! Whole-selection downloads: `items?f=csv` and `items?f=fgb`.
//!
//! A plain GET builds the file into an unnamed temporary file, within the download pool
//! (bounded, off the async workers), then sends it from there asynchronously: however slowly
//! the client reads, it holds no thread and no permit, and memory stays flat. Clients that
//! read FlatGeobuf over HTTP (GDAL's `/vsicurl/`, QGIS, flatgeobuf.js) first ask for the size
//! (HEAD) and then for byte ranges; those get the file built once, cached per layer version
//! and normalised query (parameter order, repeats and spellings do not make new entries),
//! with an ETag from its content, and answered with `Content-Length`, `206 Partial Content`
//! and `Content-Range` (RFC 9110 §14).

use std::io::{Seek, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::output;
use super::query::{self, ItemsFormat, ItemsQuery};
use crate::catalog::Layer;
use crate::error::ApiError;
use crate::server::AppState;
use crate::work::WorkClass;

/// A built FlatGeobuf file and its strong validator.
pub struct BuiltFile {
    pub bytes: Bytes,
    pub etag: String,
}

/// Built FlatGeobuf files by layer, version and normalised query, weighed by size.
#[derive(Clone)]
pub struct DownloadCache(moka::sync::Cache<String, Arc<BuiltFile>>);

impl DownloadCache {
    pub fn new(max_bytes: u64) -> DownloadCache {
        DownloadCache(
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, file: &Arc<BuiltFile>| {
                    u32::try_from(file.bytes.len()).unwrap_or(u32::MAX)
                })
                .build(),
        )
    }
}

/// The features a download holds: the selection, then `offset`/`limit` if given.
fn positions(layer: &Layer, query: &ItemsQuery) -> Vec<u32> {
    let matched = query::select(layer, &query.selection());
    let start = query.offset.min(matched.len());
    let end = query.limit.map_or(matched.len(), |l| {
        start.saturating_add(l).min(matched.len())
    });
    matched[start..end].to_vec()
}

fn write(layer: &Layer, query: &ItemsQuery, out: impl Write) -> Result<(), String> {
    let positions = positions(layer, query);
    match query.format {
        ItemsFormat::Csv => output::write_csv(layer, &positions, out),
        _ => output::write_fgb(layer, &positions, out),
    }
}

fn storage_error(e: std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        ApiError::InsufficientStorage
    } else {
        ApiError::Internal(format!("writing the download failed: {e}"))
    }
}

/// Builds the selection as CSV or FlatGeobuf and sends it.
pub async fn streamed(
    state: &AppState,
    layer: Arc<Layer>,
    query: ItemsQuery,
) -> Result<Response, ApiError> {
    let format = query.format;
    let filename = filename(&layer, format);
    let file = state
        .work
        .run(WorkClass::Download, move || {
            let mut file = tempfile::tempfile().map_err(storage_error)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut file);
            write(&layer, &query, &mut out).map_err(ApiError::Internal)?;
            out.flush().map_err(storage_error)?;
            drop(out);
            file.rewind().map_err(storage_error)?;
            Ok::<_, ApiError>(file)
        })
        .await??;
    let length = file.metadata().map_err(storage_error)?.len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        tokio::fs::File::from_std(file),
        1 << 16,
    ));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(format)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if format == ItemsFormat::FlatGeobuf {
        // Tells HTTP readers they may ask for ranges, which take the cached path below.
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    Ok(response)
}

/// Whether a FlatGeobuf request needs the whole file's size: a HEAD or a Range request.
pub fn wants_ranges(format: ItemsFormat, method: &Method, headers: &HeaderMap) -> bool {
    format == ItemsFormat::FlatGeobuf
        && (method == Method::HEAD || headers.contains_key(header::RANGE))
}

/// Answers a HEAD or Range request for `items?f=fgb` from the built, cached file.
pub async fn ranged(
    state: &AppState,
    layer: Arc<Layer>,
    query: ItemsQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let key = format!(
        "{}\n{:016x}\n{}",
        layer.meta.id,
        layer.version,
        query.cache_key()
    );
    let cache = state.downloads.0.clone();
    let filename = filename(&layer, ItemsFormat::FlatGeobuf);
    let built = state
        .work
        .run(WorkClass::Download, move || {
            // `try_get_with` builds each file once, however many ranges ask for it at once.
            cache.try_get_with(key, || {
                let mut bytes = Vec::new();
                write(&layer, &query, &mut bytes)?;
                let etag = format!("\"fgb-{:016x}\"", xxhash_rust::xxh3::xxh3_64(&bytes));
                Ok::<_, String>(Arc::new(BuiltFile {
                    bytes: Bytes::from(bytes),
                    etag,
                }))
            })
        })
        .await?
        .map_err(|e| ApiError::Internal(format!("writing FlatGeobuf failed: {e}")))?;
    let (file, etag) = (built.bytes.clone(), built.etag.clone());

    let total = file.len() as u64;
    let if_range_matches = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.as_bytes() == etag.as_bytes());
    let range = headers
        .get(header::RANGE)
        .filter(|_| if_range_matches)
        .and_then(|v| v.to_str().ok())
        // A Range header that does not parse is ignored (RFC 9110 §14.2): the whole file.
        .and_then(|v| http_range_header::parse_range_header(v).ok())
        .map(|ranges| ranges.validate(total));
    let (status, body, content_range) = match range {
        Some(Err(_)) => return Err(ApiError::RangeNotSatisfiable(total)),
        Some(Ok(ranges)) if ranges.len() == 1 => {
            let (start, end) = (*ranges[0].start(), *ranges[0].end());
            (
                StatusCode::PARTIAL_CONTENT,
                file.slice(start as usize..=end as usize),
                Some(format!("bytes {start}-{end}/{total}")),
            )
        }
        // Several ranges: the whole file is a valid answer, and simpler than multipart.
        _ => (StatusCode::OK, file, None),
    };
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(ItemsFormat::FlatGeobuf)),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    for (name, value) in [
        (header::ETAG, Some(etag)),
        (header::CONTENT_RANGE, content_range),
        (
            header::CONTENT_DISPOSITION,
            Some(format!("attachment; filename=\"{filename}\"")),
        ),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            out.insert(name, value);
        }
    }
    Ok(response)
}

fn content_type(format: ItemsFormat) -> &'static str {
    match format {
        ItemsFormat::Csv => "text/csv; charset=utf-8",
        _ => "application/flatgeobuf",
    }
}

fn filename(layer: &Layer, format: ItemsFormat) -> String {
    let ext = match format {
        ItemsFormat::Csv => "csv",
        _ => "fgb",
    };
    format!("{}.{ext}", layer.meta.id)
}
