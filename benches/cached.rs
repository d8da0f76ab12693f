//! A cached tile through the whole router (middleware, extractors, cache lookup, response),
//! in process, against the HTTP ceiling's handler (`examples/ceiling.rs`) driven the same way.
//! No sockets: this is the server's own code per request, which the wrk runs of
//! `scripts/bench-http.sh` cannot measure to better than the machine's ±15–25%.

#[path = "support/ceiling.rs"]
mod ceiling;
mod common;

use std::hint::black_box;

use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

/// The server's allocator (`src/main.rs`), so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tiles of the real occurrences around Mindanao, z4–z12: 81 distinct paths.
fn paths() -> Vec<String> {
    let (lon, lat) = common::MINDANAO;
    let mut out = Vec::new();
    for z in 4u8..=12 {
        let centre = common::tile_at(z, lon, lat);
        for (dx, dy) in (-1i64..=1).flat_map(|dx| (-1i64..=1).map(move |dy| (dx, dy))) {
            let x = (i64::from(centre.x) + dx).max(0);
            let y = (i64::from(centre.y) + dy).max(0);
            out.push(format!("/tiles/mineral-occurrences/{z}/{x}/{y}.mvt"));
        }
    }
    out
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::ACCEPT_ENCODING, "gzip, deflate")
        .body(Body::empty())
        .expect("request")
}

fn bench_cached(c: &mut Criterion) {
    let store = std::env::temp_dir().join(format!("amis-bench-cached-{}", std::process::id()));
    let args = ServeArgs {
        store: store.clone(),
        ..ServeArgs::default()
    };
    let layers = common::load(&common::root().join("data"), &["mineral-occurrences"]);
    let app = router(AppState::new(Catalog::new(layers), &args));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let paths = paths();
    for path in &paths {
        let response = runtime
            .block_on(app.clone().oneshot(get(path)))
            .expect("infallible");
        assert!(
            matches!(response.status(), StatusCode::OK | StatusCode::NO_CONTENT),
            "{path}: {}",
            response.status()
        );
    }
    let ceiling = ceiling::router(16 * 1024, 1);

    let mut group = c.benchmark_group("cached");
    let mut next = paths.iter().cycle();
    group.bench_function("tile-through-router", |b| {
        b.iter(|| {
            let request = get(next.next().expect("cycles"));
            black_box(runtime.block_on(app.clone().oneshot(request)))
        })
    });
    let mut next = paths.iter().cycle();
    group.bench_function("ceiling-handler", |b| {
        b.iter(|| {
            let request = get(next.next().expect("cycles"));
            black_box(runtime.block_on(ceiling.clone().oneshot(request)))
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(store);
}

criterion_group!(benches, bench_cached);
criterion_main!(benches);
