//! What an operator relies on: metrics that parse and move, a server that refuses a flood
//! quickly (503 + Retry-After) instead of queueing it, a read that waits too long ends, one
//! busy class of work does not starve another, and probes answer when everything else is busy.

mod common;

use std::time::Duration;

use amis_webgis::auth::TokenStore;
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::error::ApiError;
use amis_webgis::server::{AppState, router};
use amis_webgis::work::{Work, WorkClass, WorkLimits};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_error, send_to};
use tower::ServiceExt;

fn state_with(name: &str, change: impl FnOnce(&mut ServeArgs)) -> AppState {
    let mut args = ServeArgs {
        store: common::temp_store(name),
        ..ServeArgs::default()
    };
    change(&mut args);
    AppState::new(Catalog::new(common::layers().clone()), &args)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

/// Every sample of a scrape, by name and labels, parsed by an independent parser of the
/// Prometheus text format.
async fn scrape(state: &AppState) -> Vec<prometheus_parse::Sample> {
    let reply = send_to(state.clone(), get("/metrics")).await;
    reply.assert_status(StatusCode::OK);
    assert!(reply.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(reply.body).expect("UTF-8");
    // prometheus-parse skips lines it cannot read: first, every sample line must have the
    // exposition format's shape (name, optional labels with escaped values, a number).
    let sample = regex::Regex::new(
        r#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$"#,
    )
    .expect("regex");
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(sample.is_match(line), "not a sample line: {line}");
    }
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .expect("the Prometheus text format")
        .samples
}

/// The value of the sample `name` whose labels include `labels` (0 when absent: a counter
/// appears once it first moves). Histograms are read by their `_count`.
fn value(samples: &[prometheus_parse::Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_parse_and_count_what_happens() {
    let state = state_with("metrics", |_| {});
    let before = scrape(&state).await;
    let tile = "/tiles/mineral-occurrences/5/25/15.mvt";
    for _ in 0..2 {
        send_to(state.clone(), get(tile))
            .await
            .assert_status(StatusCode::OK);
    }
    send_to(state.clone(), get("/api/collections/nope/items"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let refused = send_to(
        state.clone(),
        Request::put("/api/collections/idn-metrics")
            .body(Body::from("{}"))
            .expect("request"),
    )
    .await;
    refused.assert_status(StatusCode::UNAUTHORIZED);
    let after = scrape(&state).await;

    let tiles = [
        ("route", "/tiles/:layers/:z/:x/:y"),
        ("method", "GET"),
        ("status", "200"),
    ];
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    // Tests run in parallel in this process and share the recorder: "at least".
    assert!(
        moved("amis_http_requests_total", &tiles) >= 2.0,
        "{:?}",
        after
            .iter()
            .filter(|s| s.metric == "amis_http_requests_total")
            .map(|s| (&s.labels, &s.value))
            .collect::<Vec<_>>()
    );
    assert!(
        moved(
            "amis_http_requests_total",
            &[("route", "/api/collections/:id/items"), ("status", "404")]
        ) >= 1.0
    );
    assert!(moved("amis_tile_cache_requests_total", &[("result", "miss")]) >= 1.0);
    assert!(moved("amis_tile_cache_requests_total", &[("result", "hit")]) >= 1.0);
    assert!(moved("amis_tile_render_seconds_count", &[("zoom", "5")]) >= 1.0);
    assert!(
        moved(
            "amis_http_request_duration_seconds_count",
            &[("route", "/tiles/:layers/:z/:x/:y")]
        ) >= 2.0
    );
    assert!(
        moved(
            "amis_uploads_total",
            &[
                ("agency", "-"),
                ("action", "upload"),
                ("outcome", "refused")
            ]
        ) >= 1.0
    );
    assert_eq!(value(&after, "amis_layers", &[]), 12.0);
    assert!(value(&after, "amis_features", &[]) > 2_000.0);
    assert!(value(&after, "amis_tile_cache_entries", &[]) >= 1.0);
    assert!(value(&after, "amis_tile_cache_bytes", &[]) > 0.0);
    assert!(value(&after, "amis_store_disk_free_bytes", &[]) > 0.0);
    assert_eq!(value(&after, "amis_ready", &[]), 1.0);
    for class in [
        "render",
        "items",
        "download",
        "store",
        "intake",
        "intake-small",
    ] {
        assert!(
            after
                .iter()
                .any(|s| s.metric == "amis_work_running" && s.labels.get("class") == Some(class)),
            "no work gauge for {class}"
        );
    }
}

#[tokio::test]
async fn a_flood_is_refused_quickly_and_probes_still_answer() {
    let store = common::temp_store("overload");
    let (_, token) = TokenStore::open(&store)
        .expect("tokens")
        .create("Overload test", &["idn-*".into()])
        .expect("token");
    let mut args = ServeArgs {
        store,
        max_in_flight: 1,
        ..ServeArgs::default()
    };
    args.upload_timeout_secs = 60;
    let state = AppState::new(Catalog::new(common::layers().clone()), &args);
    // An upload whose body never ends holds the only place.
    let (_sender, body) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let held = tokio::spawn(
        router(state.clone()).oneshot(
            Request::put("/api/collections/idn-slow")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/geo+json")
                .body(Body::from_stream(
                    tokio_stream::wrappers::ReceiverStream::new(body),
                ))
                .expect("request"),
        ),
    );
    // Wait until it is in flight.
    while state.in_flight.available_permits() > 0 {
        tokio::task::yield_now().await;
    }
    let refused = send_to(state.clone(), get("/api/collections")).await;
    assert_error(&refused, StatusCode::SERVICE_UNAVAILABLE, "saturated");
    assert_eq!(refused.json()["code"], "Overloaded");
    assert_eq!(refused.header("retry-after"), "1");
    for probe in ["/health", "/ready", "/metrics"] {
        send_to(state.clone(), get(probe))
            .await
            .assert_status(StatusCode::OK);
    }
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waiting_too_long_ends_and_busy_classes_starve_no_other() {
    let mut state = state_with("timeout", |args| args.request_timeout_secs = 1);
    state.work = Work::new(WorkLimits::one_each(), state.request_timeout);
    // Occupy the only render and the only download permit.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
    let mut busy = Vec::new();
    for class in [WorkClass::Render, WorkClass::Download] {
        let (work, wait) = (state.work.clone(), wait.clone());
        busy.push(tokio::spawn(async move {
            work.run(class, move || {
                let _ = wait.lock().map(|w| w.recv());
            })
            .await
        }));
        while state.work.load(class).0 == 0 {
            tokio::task::yield_now().await;
        }
    }
    // A tile that must be cut (faults in it: not empty, not a small point tile, which are
    // answered without the pool) waits for the render pool, and is ended by the timeout.
    let faults = common::layer("active-faults");
    let start = geo::CoordsIter::coords_iter(&faults.features[0].geometry)
        .next()
        .expect("a position");
    let (x, y) = common::tile_xy(6, start.x, start.y);
    let uri = format!("/tiles/active-faults/6/{x}/{y}.mvt");
    let started = std::time::Instant::now();
    let slow = send_to(state.clone(), get(&uri)).await;
    assert_error(&slow, StatusCode::SERVICE_UNAVAILABLE, "timed out");
    assert_eq!(slow.json()["code"], "Timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(state.work.load(WorkClass::Render).1, 0, "it left the queue");
    // Pages of items have their own pool and are answered meanwhile.
    let page = send_to(
        state.clone(),
        get("/api/collections/mineral-occurrences/items?limit=5"),
    )
    .await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.json()["numberReturned"], 5);
    for _ in &busy {
        release.send(()).expect("release");
    }
    for job in busy {
        // Held past the timeout, their own wait ended too; the permits go back as they finish.
        let ended = job.await.expect("no panic");
        assert!(
            matches!(&ended, Ok(()) | Err(ApiError::Timeout(1))),
            "{ended:?}"
        );
    }
    // Freed, the tile is cut.
    let cut = send_to(state.clone(), get(&uri)).await;
    cut.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn repeated_parameters_are_capped() {
    let state = state_with("repeats", |_| {});
    let many: String = (0..101).map(|_| "country=IDN&").collect();
    let reply = send_to(
        state.clone(),
        get(&format!(
            "/api/collections/mineral-occurrences/items?{many}limit=1"
        )),
    )
    .await;
    let description = assert_error(&reply, StatusCode::BAD_REQUEST, "101 parameters");
    assert!(description.contains("at most 100"), "{description}");
    let fine: String = (0..90).map(|_| "country=IDN&").collect();
    let reply = send_to(
        state,
        get(&format!(
            "/api/collections/mineral-occurrences/items?{fine}limit=1"
        )),
    )
    .await;
    reply.assert_status(StatusCode::OK);
    let one = common::get("/api/collections/mineral-occurrences/items?country=IDN&limit=1").await;
    assert_eq!(reply.json()["numberMatched"], one.json()["numberMatched"]);
}

/// While the layers load, everything but the probes is `503 Starting` with `Retry-After`:
/// an empty catalog would answer "no such layer" (a 404 a CDN may keep) and no collections,
/// and an upload made then would be left out of the catalog the load installs. Once ready,
/// the same requests are answered.
#[tokio::test]
async fn requests_wait_for_the_layers_while_the_server_starts() {
    let args = ServeArgs {
        store: common::temp_store("starting"),
        ..ServeArgs::default()
    };
    let state = AppState::loading(Catalog::new(Vec::new()), &args);
    let requests = [
        "/tiles/mineral-occurrences/4/12/7.mvt",
        "/api/collections",
        "/api/collections/mineral-occurrences/items?limit=1",
        "/styles/default.json",
        "/",
    ];
    for uri in requests {
        let reply = send_to(state.clone(), get(uri)).await;
        let description = assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, uri);
        assert_eq!(reply.json()["code"], "Starting", "{uri}");
        assert!(description.contains("loading"), "{uri}: {description}");
        assert_eq!(reply.header("retry-after"), "5", "{uri}");
    }
    let upload = send_to(
        state.clone(),
        Request::put("/api/collections/idn-test")
            .header("content-type", "application/geo+json")
            .body(Body::from("{}"))
            .expect("request"),
    )
    .await;
    assert_eq!(upload.status, StatusCode::SERVICE_UNAVAILABLE);
    for probe in ["/health", "/metrics"] {
        assert_eq!(
            send_to(state.clone(), get(probe)).await.status,
            StatusCode::OK,
            "{probe}"
        );
    }
    assert_eq!(
        send_to(state.clone(), get("/ready")).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    state.catalog.replace_all(common::layers().clone());
    state
        .ready
        .store(true, std::sync::atomic::Ordering::Release);
    for uri in requests {
        let reply = send_to(state.clone(), get(uri)).await;
        assert!(reply.status.is_success(), "{uri}: {}", reply.status);
    }
    assert_eq!(send_to(state, get("/ready")).await.status, StatusCode::OK);
}
