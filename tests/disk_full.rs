//! A full disk during an upload answers 507 and keeps the previous version served and intact.
//! The store is a 1 MiB tmpfs. Mounting one needs root; other users get the test re-run inside
//! a user and mount namespace of their own (`unshare --map-root-user --mount`). A machine that
//! can do neither cannot run this test: it says so on the test output (past the harness's
//! capture) and passes. A machine that can must run it: any failure after the capability
//! probe, inside the namespace included, fails the test.

mod common;

use amis_webgis::auth::TokenStore;
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};

async fn put(state: &AppState, token: &str, body: Vec<u8>) -> (StatusCode, String) {
    let request = Request::put("/api/collections/idn-full?kind=other")
        .header("content-type", "application/geo+json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request");
    let reply = common::send_to(state.clone(), request).await;
    (
        reply.status,
        String::from_utf8_lossy(&reply.body).to_string(),
    )
}

const IN_NAMESPACE: &str = "AMIS_TEST_IN_NAMESPACE";
const TEST_NAME: &str = "a_full_disk_is_507_and_the_previous_version_stays";

/// Says, on the real standard error (the test harness captures `eprintln!` of passing
/// tests), that this test did not run here and why.
fn announce_skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {TEST_NAME}: {reason} (this machine cannot mount a tmpfs store)"
    );
}

/// Whether an unprivileged user may make a user and mount namespace here.
fn user_namespaces_work() -> bool {
    std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs this test again as root of a new user namespace, where it may mount a tmpfs.
fn rerun_in_own_namespace() {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(exe)
        .args(["--exact", TEST_NAME, "--nocapture"])
        .env(IN_NAMESPACE, "1")
        .output()
        .expect("unshare ran a moment ago");
    assert!(
        out.status.success(),
        "the test failed inside its namespace:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_full_disk_is_507_and_the_previous_version_stays() {
    let store = std::env::temp_dir().join(format!("amis-full-{}", std::process::id()));
    std::fs::create_dir_all(&store).expect("dir");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&store)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let _ = std::fs::remove_dir_all(&store);
        // Inside the namespace the mount must work: that is what the probe promised.
        assert!(
            std::env::var_os(IN_NAMESPACE).is_none(),
            "no tmpfs inside a user namespace that allows mounts"
        );
        if user_namespaces_work() {
            rerun_in_own_namespace();
        } else {
            announce_skip("not root, and no user namespaces");
        }
        return;
    }
    let (_, token) = TokenStore::open(&store)
        .expect("store")
        .create("Test agency", &["idn-*".into()])
        .expect("token");
    let args = ServeArgs {
        store: store.clone(),
        ..ServeArgs::default()
    };
    let state = AppState::new(Catalog::new(common::layers().clone()), &args);
    let small = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/other.geojson"
    ))
    .expect("example");
    let (status, body) = put(&state, &token, small.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Fill the disk, then try a bigger version.
    let mut filler = std::fs::File::create(store.join("filler")).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    drop(filler);
    let mut bigger = String::from(r#"{"type":"FeatureCollection","features":["#);
    for i in 0..2000 {
        if i > 0 {
            bigger.push(',');
        }
        bigger.push_str(&format!(r#"{{"type":"Feature","properties":{{"n":{i}}},"geometry":{{"type":"Point","coordinates":[100.{i},5]}}}}"#));
    }
    bigger.push_str("]}");
    let (status, body) = put(&state, &token, bigger.into_bytes()).await;

    let served = common::send_to(
        state.clone(),
        Request::get("/api/collections/idn-full/items")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .json();
    let versions = amis_webgis::store::LayerStore::new(&store, 5)
        .versions("idn-full")
        .expect("manifest readable");
    let v1 = std::fs::read(store.join("layers/idn-full/v1.geojson")).expect("version 1 file");
    let _ = std::process::Command::new("umount").arg(&store).status();
    let _ = std::fs::remove_dir_all(&store);

    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(body.contains("InsufficientStorage"), "{body}");
    assert_eq!(
        served["numberMatched"], 1,
        "the previous version is still served"
    );
    assert_eq!(versions.len(), 1, "the manifest still lists only version 1");
    assert_eq!(v1, small, "version 1 is intact");
}
