//! What the store holds an agency to, and how it fails: quotas per token (layers, stored
//! bytes, decoded memory; a dry run reports them), a damaged manifest that takes out only
//! its own layer (the real binary: `/ready` degraded, `/metrics`, the others served), token
//! changes that do not undo each other, and what a dry run checks.

mod common;

use common::example;

use std::path::PathBuf;

use amis_webgis::auth::{Quota, TokenStore};
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};

fn store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amis-store-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn put(state: &AppState, path: &str, token: &str, body: Vec<u8>) -> common::Reply {
    common::send_to(
        state.clone(),
        Request::put(path)
            .header("content-type", "application/geo+json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

fn state_with(store: &std::path::Path) -> AppState {
    AppState::new(
        Catalog::new(Vec::new()),
        &ServeArgs {
            store: store.to_path_buf(),
            ..ServeArgs::default()
        },
    )
}

#[tokio::test]
async fn quotas_refuse_with_what_is_used_and_what_is_allowed() {
    let dir = store("quota");
    let occurrences = example("occurrences.geojson");
    let mut tokens = TokenStore::open(&dir).expect("tokens");
    // Room for one layer, and for the example file twice over.
    let bytes = occurrences.len() as u64;
    let (_, one_layer) = tokens
        .create_with(
            "Small agency",
            &["idn-*".into()],
            Quota {
                layers: 1,
                stored_bytes: 2 * bytes + 10,
                decoded_bytes: 1 << 30,
            },
        )
        .expect("token");
    let (_, tiny_memory) = tokens
        .create_with(
            "Tiny agency",
            &["phl-*".into()],
            Quota {
                layers: 10,
                stored_bytes: 1 << 30,
                decoded_bytes: 100,
            },
        )
        .expect("token");
    let state = state_with(&dir);
    let path = "/api/collections/idn-a?kind=occurrences";
    assert_eq!(
        put(&state, path, &one_layer, occurrences.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    // Replacing its own layer is not a second layer.
    assert_eq!(
        put(&state, path, &one_layer, occurrences.clone())
            .await
            .status,
        StatusCode::OK
    );
    // A second layer passes the layer quota: 429, saying what is used and allowed.
    let reply = put(
        &state,
        "/api/collections/idn-b?kind=occurrences",
        &one_layer,
        occurrences.clone(),
    )
    .await;
    let description = common::assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "second layer");
    assert_eq!(reply.json()["code"], "QuotaExceeded");
    assert!(
        description.contains("has 1 published layers, its quota allows 1"),
        "{description}"
    );
    // A dry run says so in its report instead.
    let reply = put(
        &state,
        "/api/collections/idn-b?kind=occurrences&dry_run=true",
        &one_layer,
        occurrences.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let report = &reply.json()["report"];
    assert_eq!(reply.json()["valid"], false);
    assert!(report.to_string().contains("quota exceeded"), "{report}");
    // Two kept versions fill the stored bytes: a third is 507.
    let reply = put(&state, path, &one_layer, occurrences.clone()).await;
    let description =
        common::assert_error(&reply, StatusCode::INSUFFICIENT_STORAGE, "stored bytes");
    assert!(
        description.contains("kept versions take") && description.contains("its quota allows"),
        "{description}"
    );
    // Decoded memory.
    let reply = put(
        &state,
        "/api/collections/phl-a?kind=occurrences",
        &tiny_memory,
        occurrences,
    )
    .await;
    let description = common::assert_error(&reply, StatusCode::INSUFFICIENT_STORAGE, "decoded");
    assert!(description.contains("of memory"), "{description}");
    // Nothing refused was published.
    let versions = common::send_to(
        state.clone(),
        Request::get("/api/collections/idn-a/versions")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        versions.json()["versions"].as_array().map(Vec::len),
        Some(2)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_dry_run_makes_every_check_a_publish_makes() {
    let dir = store("dry");
    let (_, token) = TokenStore::open(&dir)
        .expect("tokens")
        .create("Agency", &["idn-*".into()])
        .expect("token");
    let state = state_with(&dir);
    let path = "/api/collections/idn-a?kind=other&classify=no_such_property";
    let published = put(&state, path, &token, example("other.geojson")).await;
    common::assert_error(&published, StatusCode::BAD_REQUEST, "classify");
    let dry = put(
        &state,
        &format!("{path}&dry_run=true"),
        &token,
        example("other.geojson"),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK);
    assert_eq!(dry.json()["valid"], false, "{}", dry.json());
    assert!(
        dry.json()["report"]
            .to_string()
            .contains("no_such_property")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn token_changes_do_not_undo_each_other() {
    let dir = store("tokens");
    let mut first = TokenStore::open(&dir).expect("tokens");
    let (kept, _) = first.create("Agency A", &["idn-*".into()]).expect("token");
    // A second process opened the file before the next change...
    let mut stale = TokenStore::open(&dir).expect("tokens");
    let (revoked, _) = first.create("Agency B", &["phl-*".into()]).expect("token");
    first.revoke(&revoked.id).expect("revoke");
    // ...and now makes its own: it re-reads under the lock, so the revocation stands.
    let (added, _) = stale.create("Agency C", &["tha-*".into()]).expect("token");
    let now = TokenStore::open(&dir).expect("tokens");
    let find = |id: &str| now.tokens().iter().find(|t| t.id == id).cloned();
    assert!(find(&kept.id).is_some_and(|t| t.revoked.is_none()));
    assert!(
        find(&revoked.id).is_some_and(|t| t.revoked.is_some()),
        "the revocation was undone"
    );
    assert!(find(&added.id).is_some());
    // Several threads creating at once lose none.
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                TokenStore::open(&dir)
                    .expect("tokens")
                    .create(&format!("Agency {i}"), &["x-*".into()])
                    .expect("token")
                    .0
                    .id
            })
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let now = TokenStore::open(&dir).expect("tokens");
    for id in ids {
        assert!(now.tokens().iter().any(|t| t.id == id), "token {id} lost");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The real binary over a store with two uploaded layers, one manifest truncated.
#[test]
fn a_damaged_manifest_takes_out_only_its_layer() {
    let dir = store("degraded");
    let (_, token) = TokenStore::open(&dir)
        .expect("tokens")
        .create("Agency", &["idn-*".into()])
        .expect("token");
    {
        let (_server, addr) = common::spawn_server(&dir);
        for id in ["idn-good", "idn-bad"] {
            let reply = ureq::put(&format!(
                "http://{addr}/api/collections/{id}?kind=occurrences"
            ))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/geo+json")
            .send(&example("occurrences.geojson")[..])
            .expect("published");
            assert_eq!(reply.status().as_u16(), 201);
        }
    }
    let manifest = dir.join("layers/idn-bad/manifest.json");
    let bytes = std::fs::read(&manifest).expect("manifest");
    std::fs::write(&manifest, &bytes[..bytes.len() / 2]).expect("truncate");

    let (_server, addr) = common::spawn_server(&dir);
    let get = |path: &str| {
        let mut reply = ureq::get(&format!("http://{addr}{path}"))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("answer");
        (
            reply.status().as_u16(),
            reply.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let (status, body) = get("/ready");
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["degraded"][0]["layer"], "idn-bad", "{ready}");
    assert!(
        ready["degraded"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("manifest"))
    );
    assert_eq!(
        get("/api/collections/idn-good").0,
        200,
        "the other layer is served"
    );
    assert_eq!(
        get("/api/collections/mineral-occurrences").0,
        200,
        "the bundled layers are served"
    );
    assert_eq!(get("/api/collections/idn-bad").0, 404);
    let (_, metrics) = get("/metrics");
    assert!(
        metrics.lines().any(|l| l == "amis_layers_degraded 1"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("degraded"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn what_a_killed_read_left_unpacked_is_removed_at_start() {
    let dir = store("scratch").join("scratch");
    let left = dir.join("amis-read-4242-0");
    std::fs::create_dir_all(&left).expect("dir");
    std::fs::write(left.join("layer.shp"), b"half unpacked").expect("file");
    std::fs::write(dir.join("operator-notes.txt"), b"not ours").expect("file");
    assert_eq!(
        amis_webgis::source::clear_scratch(&dir).expect("cleared"),
        1
    );
    assert!(!left.exists());
    assert!(
        dir.join("operator-notes.txt").exists(),
        "only what readers leave is removed"
    );
    assert_eq!(
        amis_webgis::source::clear_scratch(&dir.join("absent")).expect("nothing"),
        0
    );
    std::fs::remove_dir_all(dir.parent().expect("store")).ok();
}
