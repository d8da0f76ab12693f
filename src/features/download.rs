//! Whole-selection downloads: `items?f=csv` and `items?f=fgb`.
//!
//! A plain GET streams the file while it is written, so a large layer starts arriving at once
//! and is never held whole. Clients that read FlatGeobuf over HTTP (GDAL's `/vsicurl/`, QGIS,
//! flatgeobuf.js) first ask for the size (HEAD) and then for byte ranges; those get the file
//! built once, cached per layer version and query, and answered with `Content-Length`,
//! `206 Partial Content` and `Content-Range` (RFC 9110 §14).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::output;
use super::query::ItemsFormat;
use crate::catalog::Layer;
use crate::error::ApiError;

/// Built FlatGeobuf files by layer, version and query, weighed by size.
#[derive(Clone)]
pub struct DownloadCache(moka::sync::Cache<String, Bytes>);

impl DownloadCache {
    pub fn new(max_bytes: u64) -> DownloadCache {
        DownloadCache(
            moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, bytes: &Bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX))
                .build(),
        )
    }
}

/// Streams the whole selection as CSV or FlatGeobuf from a blocking task.
pub fn streamed(layer: Arc<Layer>, positions: Vec<u32>, format: ItemsFormat) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let filename = filename(&layer, format);
    let content_type = content_type(format);
    tokio::task::spawn_blocking(move || {
        let mut writer = output::ChannelWriter::new(tx);
        let result = match format {
            ItemsFormat::Csv => output::write_csv(&layer, &positions, &mut writer),
            _ => output::write_fgb(&layer, &positions, &mut writer),
        };
        match result.and_then(|()| std::io::Write::flush(&mut writer).map_err(|e| e.to_string())) {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(layer = %layer.meta.id, "download aborted: {e}");
                writer.fail(e);
            }
        }
    });
    let mut response =
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if format == ItemsFormat::FlatGeobuf {
        // Tells HTTP readers they may ask for ranges, which take the cached path below.
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    response
}

/// Whether a FlatGeobuf request needs the whole file's size: a HEAD or a Range request.
pub fn wants_ranges(format: ItemsFormat, method: &Method, headers: &HeaderMap) -> bool {
    format == ItemsFormat::FlatGeobuf
        && (method == Method::HEAD || headers.contains_key(header::RANGE))
}

/// Answers a HEAD or Range request for `items?f=fgb` from the built, cached file.
pub async fn ranged(
    cache: &DownloadCache,
    layer: Arc<Layer>,
    positions: Vec<u32>,
    query: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let key = format!("{}\n{:016x}\n{query}", layer.meta.id, layer.version);
    let etag = format!(
        "\"fgb-{:016x}\"",
        xxhash_rust::xxh3::xxh3_64(key.as_bytes())
    );
    let cache = cache.0.clone();
    let filename = filename(&layer, ItemsFormat::FlatGeobuf);
    let file = tokio::task::spawn_blocking(move || {
        // `try_get_with` builds each file once, however many ranges ask for it at the same time.
        cache.try_get_with(key, || {
            let mut bytes = Vec::new();
            output::write_fgb(&layer, &positions, &mut bytes).map(|()| Bytes::from(bytes))
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("download task failed: {e}")))?
    .map_err(|e| ApiError::Internal(format!("writing FlatGeobuf failed: {e}")))?;

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
