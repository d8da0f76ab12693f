//! The HTTP ceiling for the benchmark: an axum server with no middleware answering every GET
//! with the same body of BYTES bytes (the mean body of the case it is compared with), as a
//! gzipped tile. What no tile server on this machine can beat with the same driver.
//!
//! `cargo run --release --example ceiling -- 127.0.0.1:18099 BYTES`

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18099".into());
    let size: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20 * 1024);
    let body = bytes::Bytes::from(vec![b'x'; size]);
    let app = Router::new().route(
        "/{*path}",
        get(move || {
            let body = body.clone();
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
    );
    let listener = tokio::net::TcpListener::bind(&bind).await.expect("bind");
    println!("listening on http://{bind}");
    axum::serve(listener, app).await.expect("serve");
}
