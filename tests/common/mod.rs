//! Shared test harness: the real router over the real bundled data.
#![allow(dead_code)]

pub mod mvt;

use std::sync::{Arc, OnceLock};

use amis_webgis::catalog::{Catalog, Layer, load_data_dir};
use amis_webgis::config::ServeArgs;
use amis_webgis::production::ProductionTable;
use amis_webgis::server::{AppState, router};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

struct Bundled {
    layers: Vec<Arc<Layer>>,
    production: Arc<ProductionTable>,
}

/// The bundled data, loaded once per test binary.
fn bundled() -> &'static Bundled {
    static BUNDLED: OnceLock<Bundled> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        let report = load_data_dir(&data_dir()).expect("bundled manifest loads");
        assert!(
            report.errors.is_empty(),
            "bundled data has errors: {:?}",
            report.errors
        );
        let path = report
            .production
            .expect("the manifest names the production table");
        let production = Arc::new(ProductionTable::load(&path).expect("production table loads"));
        Bundled {
            layers: report.layers,
            production,
        }
    })
}

pub fn layers() -> &'static Vec<Arc<Layer>> {
    &bundled().layers
}

pub fn layer(id: &str) -> Arc<Layer> {
    layers()
        .iter()
        .find(|l| l.meta.id == id)
        .cloned()
        .expect("bundled layer exists")
}

/// A fresh store directory for one test, so no test ever reads or writes a developer's
/// `./store` (and tests do not share one).
pub fn temp_store(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("amis-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary store");
    dir
}

pub fn state() -> AppState {
    let args = ServeArgs {
        store: temp_store("shared"),
        ..ServeArgs::default()
    };
    let state = AppState::new(Catalog::new(layers().clone()), &args);
    state.production.store(bundled().production.clone());
    state
}

/// x/y of the tile at zoom `z` containing lon/lat, by the textbook Web Mercator formula
/// (written out here rather than taken from the crate, as an independent oracle).
pub fn tile_xy(z: u8, lon: f64, lat: f64) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x as u32, y as u32)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the status, showing the body when it differs.
    pub fn assert_status(&self, status: StatusCode) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends one request through the real router over the bundled data.
pub async fn send(request: Request<Body>) -> Reply {
    send_to(state(), request).await
}

/// Sends one request through the real router over `state` (e.g. with its own store).
pub async fn send_to(state: AppState, request: Request<Body>) -> Reply {
    let response = router(state)
        .oneshot(request)
        .await
        .expect("router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(uri: &str) -> Reply {
    send(
        Request::get(uri)
            .header("host", "test.local")
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

/// Asserts the reply is a JSON error with the given status, and returns its description.
pub fn assert_error(reply: &Reply, status: StatusCode, uri: &str) -> String {
    assert_eq!(
        reply.status,
        status,
        "{uri}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert!(body["code"].is_string(), "{uri}: no code in {body}");
    let description = body["description"].as_str().unwrap_or_default().to_string();
    assert!(!description.is_empty(), "{uri}: no description");
    description
}

/// A child process killed when dropped: a test that fails half-way leaves no server behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

/// Starts the real binary on a free loopback port with the bundled data and `store`;
/// returns the child (killed when dropped) and its address.
pub fn spawn_server(store: &std::path::Path) -> (KillOnDrop, String) {
    spawn_server_with(store, &[])
}

/// [`spawn_server`] with more command-line arguments (limits, another data directory).
pub fn spawn_server_with(store: &std::path::Path, args: &[&str]) -> (KillOnDrop, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_amis-webgis"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--bind", "127.0.0.1:0", "--store"])
        .arg(store)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server prints its address")
            .expect("log line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_string();
        }
    };
    // It listens at once and loads its layers after: wait until it says it is ready.
    loop {
        let line = lines
            .next()
            .expect("server says when it is ready")
            .expect("log line");
        if line.contains("; ready") {
            break;
        }
    }
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (KillOnDrop(child), addr)
}

/// An example file of the data protocol (docs/examples).
pub fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/examples")
            .join(name),
    )
    .expect("example")
}

/// Cases per seeded sweep (mutated files, hostile geometry): 10,000 in CI; `AMIS_SWEEP`
/// raises it (scripts/fuzz-sweep.sh).
pub fn sweep_size() -> usize {
    std::env::var("AMIS_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}
