//! The HTTP ceiling's handler, shared by `examples/ceiling.rs` (over sockets) and
//! `benches/cached.rs` (in process): an axum router with no middleware answering every GET
//! with a body of `size` bytes as a gzipped tile, one of `distinct` bodies chosen by a hash
//! of the path (1: always the same body).

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use axum::Router;
use axum::extract::Request;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;

pub fn router(size: usize, distinct: usize) -> Router {
    // Shared: axum clones the handler for every request.
    let bodies: std::sync::Arc<[Bytes]> = (0..distinct.max(1))
        .map(|i| Bytes::from(vec![b'a' + (i % 26) as u8; size]))
        .collect();
    Router::new().route(
        "/{*path}",
        get(move |request: Request| {
            let hasher = BuildHasherDefault::<DefaultHasher>::default();
            let which = hasher.hash_one(request.uri().path()) as usize % bodies.len();
            let body = bodies[which].clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    body,
                )
                    .into_response()
            }
        }),
    )
}
