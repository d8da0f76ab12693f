//! The HTTP ceiling for the benchmark: an axum server with no middleware answering every GET
//! with a body of BYTES bytes (the mean body of the case it is compared with), as a gzipped
//! tile. What no tile server on this machine can beat with the same driver.
//!
//! `cargo run --release --example ceiling -- 127.0.0.1:18099 BYTES [DISTINCT]`
//!
//! With DISTINCT (a count), each path gets one of that many different bodies of BYTES bytes
//! (chosen by a hash of the path), so the bodies sent come from as much memory as a cache of
//! that many tiles: the fixed body, always the same few kilobytes, is sent from the CPU's
//! cache, a cache of tiles is not. The difference between the two is the price of serving
//! different content, which no change to the server's own code can remove.

#[path = "../benches/support/ceiling.rs"]
mod ceiling;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bind = args.next().unwrap_or_else(|| "127.0.0.1:18099".into());
    let size: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20 * 1024);
    let distinct: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let listener = tokio::net::TcpListener::bind(&bind).await.expect("bind");
    println!("listening on http://{bind}");
    axum::serve(listener, ceiling::router(size, distinct))
        .await
        .expect("serve");
}
