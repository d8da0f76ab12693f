//! Agency uploads over the real router: every refusal leaves the served layer exactly as it
//! was; accepted files are stored, versioned, served, and survive a restart.

mod common;

use common::example;

use std::sync::Arc;

use amis_webgis::auth::TokenStore;
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::AppState;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, assert_error};

struct Fixture {
    state: AppState,
    store: std::path::PathBuf,
    idn: String,
    phl: String,
}

fn fixture(name: &str) -> Fixture {
    let store = std::env::temp_dir().join(format!("amis-upload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let mut tokens = TokenStore::open(&store).expect("token store");
    let (_, idn) = tokens
        .create(
            "Geological Agency of Indonesia",
            &["idn-*".into(), "mineral-occurrences".into()],
        )
        .expect("token");
    let (_, phl) = tokens
        .create("Mines and Geosciences Bureau", &["phl-*".into()])
        .expect("token");
    let args = ServeArgs {
        store: store.clone(),
        max_upload_mb: 1,
        keep_versions: 2,
        upload_timeout_secs: 2,
        ..ServeArgs::default()
    };
    let state = AppState::new(Catalog::new(common::layers().clone()), &args);
    Fixture {
        state,
        store,
        idn,
        phl,
    }
}

impl Fixture {
    /// The store as a restarted server opens it.
    fn uploads_of_a_restart(&self) -> amis_webgis::publish::Uploads {
        amis_webgis::publish::Uploads::new(&ServeArgs {
            store: self.store.clone(),
            keep_versions: 2,
            ..ServeArgs::default()
        })
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        common::send_to(self.state.clone(), request).await
    }

    async fn put(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = Request::put(path)
            .header("content-type", content_type)
            .header("host", "test.local");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header("host", "test.local")
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    /// The served layer as GeoJSON, to compare before and after a refused write.
    async fn served(&self, id: &str) -> (StatusCode, Vec<u8>) {
        let reply = self
            .get(&format!("/api/collections/{id}/items?limit=10000"))
            .await;
        let mut json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        if let Some(obj) = json.as_object_mut() {
            obj.remove("timeStamp");
        }
        (reply.status, json.to_string().into_bytes())
    }
}

fn occurrences_fgb() -> Vec<u8> {
    std::fs::read(common::data_dir().join("minerals/asean_mineral_occurrences.fgb"))
        .expect("bundled")
}

const GEOJSON: &str = "application/geo+json";
const FGB: &str = "application/flatgeobuf";

#[tokio::test]
async fn refusals_change_nothing() {
    let f = fixture("refusals");
    let ok = f
        .put(
            "/api/collections/idn-occurrences?kind=occurrences",
            Some(&f.idn),
            GEOJSON,
            example("occurrences.geojson"),
        )
        .await;
    ok.assert_status(StatusCode::CREATED);
    let before_upload = f.served("idn-occurrences").await;
    let before_bundled = f.served("mineral-occurrences").await;
    let fgb = occurrences_fgb();
    let mut lying = fgb.clone();
    let pos = lying
        .windows(8)
        .position(|w| w == 694u64.to_le_bytes())
        .expect("count field");
    lying[pos..pos + 8].copy_from_slice(&900u64.to_le_bytes());
    let mut bad_header = fgb.clone();
    bad_header[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let big = vec![b' '; 1_200_000];
    // 190 KB that would decode to 150 MB: one feature with 3,000 properties, then 2,000
    // features with none, each of which still gets a slot per column.
    let sparse = {
        let wide: Vec<String> = (0..3000).map(|i| format!("\"p{i}\":{i}")).collect();
        let point =
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[110,-7]},"properties":"#;
        let mut text = format!(
            r#"{{"type":"FeatureCollection","features":[{point}{{{}}}}}"#,
            wide.join(",")
        );
        for _ in 0..2000 {
            text.push_str(&format!(",{point}{{}}}}"));
        }
        text.push_str("]}");
        text.into_bytes()
    };

    let foreign_country = String::from_utf8(example("occurrences.geojson"))
        .expect("UTF-8")
        .replace("\"IDN\"", "\"France\"")
        .into_bytes();

    // (path, token, content type, body, expected status)
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, Vec<u8>, StatusCode);
    let cases: Vec<Case> = vec![
        ("/api/collections/idn-occurrences?kind=occurrences", None, GEOJSON, example("occurrences.geojson"), StatusCode::UNAUTHORIZED),
        ("/api/collections/idn-occurrences?kind=occurrences", Some("amis_wrong"), GEOJSON, example("occurrences.geojson"), StatusCode::UNAUTHORIZED),
        ("/api/collections/idn-occurrences?kind=occurrences", Some(&f.phl), GEOJSON, example("occurrences.geojson"), StatusCode::FORBIDDEN),
        ("/api/collections/mineral-occurrences?kind=occurrences", Some(&f.phl), GEOJSON, example("occurrences.geojson"), StatusCode::FORBIDDEN),
        ("/api/collections/idn-occurrences?kind=other", Some(&f.idn), FGB, fgb[..fgb.len() / 2].to_vec(), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?kind=other", Some(&f.idn), FGB, lying, StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?kind=other", Some(&f.idn), FGB, bad_header, StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?kind=other", Some(&f.idn), GEOJSON, b"{not json".to_vec(), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?kind=occurrences", Some(&f.idn), GEOJSON, example("geology.geojson"), StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/collections/idn-occurrences?kind=occurrences", Some(&f.idn), GEOJSON, foreign_country, StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/collections/idn-occurrences?kind=occurrences&fields=name:NAMA", Some(&f.idn), GEOJSON, example("occurrences.geojson"), StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/collections/idn-occurrences?crs=EPSG:banana", Some(&f.idn), GEOJSON, example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?crs=EPSG:32648", Some(&f.idn), GEOJSON, br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3405"}},"features":[]}"#.to_vec(), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?dry_run=maybe", Some(&f.idn), GEOJSON, example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?layer=nope", Some(&f.idn), "application/geopackage+sqlite3", example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?kind=volcanoes", Some(&f.idn), GEOJSON, example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences?colour=red", Some(&f.idn), GEOJSON, example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences", Some(&f.idn), "application/pdf", example("occurrences.geojson"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("/api/collections/idn-occurrences", Some(&f.idn), "application/zip", example("occurrences.geojson"), StatusCode::BAD_REQUEST),
        ("/api/collections/idn-occurrences", Some(&f.idn), GEOJSON, big, StatusCode::PAYLOAD_TOO_LARGE),
        ("/api/collections/idn-occurrences?kind=other", Some(&f.idn), GEOJSON, sparse, StatusCode::PAYLOAD_TOO_LARGE),
        ("/api/collections/idn-big?kind=other", Some(&f.idn), GEOJSON, br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},"features":[]}"#.to_vec(), StatusCode::BAD_REQUEST),
    ];
    // Every case with a valid token, and the publication before them: refusals without a
    // valid token are counted in /metrics, not written to the audit log one by one.
    let attempts = cases
        .iter()
        .filter(|c| c.4 != StatusCode::UNAUTHORIZED)
        .count()
        + 1;
    for (path, token, content_type, body, status) in cases {
        let reply = f.put(path, token, content_type, body).await;
        let description = assert_error(&reply, status, path);
        if status == StatusCode::UNAUTHORIZED {
            assert!(reply.header("www-authenticate").starts_with("Bearer"));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            let code = reply.json()["code"].clone();
            assert!(
                (code == "PayloadTooLarge" && description.contains("1048576"))
                    || (code == "LayerTooLarge" && description.contains("MiB of memory")),
                "{code}: {description}"
            );
        }
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let report = &reply.json()["report"];
            assert!(report["errors"].as_u64().is_some_and(|t| t > 0));
            let first = &report["problems"][0];
            assert!(
                first["reason"].is_string()
                    && first.get("feature").is_some()
                    && first.get("field").is_some()
            );
            assert!(
                report["problems"]
                    .as_array()
                    .is_some_and(|p| p.len() <= 100)
            );
        }
        assert_eq!(
            f.served("idn-occurrences").await,
            before_upload,
            "{path}: the uploaded layer changed"
        );
        assert_eq!(
            f.served("mineral-occurrences").await,
            before_bundled,
            "{path}: the bundled layer changed"
        );
    }
    assert_eq!(f.served("idn-big").await.0, StatusCode::NOT_FOUND);
    let audit = std::fs::read_to_string(f.store.join("audit.log")).expect("audit log");
    assert_eq!(
        audit.lines().count(),
        attempts,
        "every authenticated write attempt is audited"
    );
    assert!(audit.contains("LayerTooLarge") || audit.contains("MiB of memory"));
    assert!(audit.lines().all(|l| {
        serde_json::from_str::<serde_json::Value>(l)
            .is_ok_and(|e| e["time"].is_string() && e["layer"].is_string())
    }));
    assert!(audit.contains("\"refused\"") && audit.contains("\"published\""));
    // A refusal after the body arrived records what arrived: its size and checksum.
    let unreadable: serde_json::Value = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| {
            e["detail"]["error"]
                .as_str()
                .is_some_and(|m| m.contains("not valid GeoJSON"))
        })
        .expect("the {not json refusal is audited");
    assert_eq!(unreadable["outcome"], "refused");
    assert_eq!(unreadable["detail"]["bytes"], 9);
    // sha256sum of the 9 bytes `{not json`
    assert_eq!(
        unreadable["detail"]["sha256"],
        "92072df399cb74703f8e86f450d552bc0bb01eeeb98a90985a1b7772c8fd0016"
    );
    // Bodies are received into the store, and nothing of a refused one stays there.
    let incoming: Vec<_> = std::fs::read_dir(f.store.join("incoming"))
        .expect("incoming dir")
        .collect();
    assert!(incoming.is_empty(), "{incoming:?}");
    std::fs::remove_dir_all(&f.store).ok();
}

#[tokio::test]
async fn uploads_are_served_versioned_and_survive_a_restart() {
    let f = fixture("publish");
    // The real compilation, in its own schema, as an `occurrences` layer: normalised exactly
    // as the bundled layer is, so the items API serves the same features.
    let reply = f
        .put(
            "/api/collections/idn-compilation?kind=occurrences&title=Regional%20compilation",
            Some(&f.idn),
            FGB,
            occurrences_fgb(),
        )
        .await;
    reply.assert_status(StatusCode::CREATED);
    let report = reply.json();
    assert_eq!(report["version"], 1);
    assert_eq!(report["features"], 694);
    assert_eq!(report["geometryTypes"][0], "Point");
    let uploaded = f
        .get("/api/collections/idn-compilation/items?limit=10000")
        .await
        .json();
    let bundled = f
        .get("/api/collections/mineral-occurrences/items?limit=10000")
        .await
        .json();
    assert_eq!(
        uploaded["features"], bundled["features"],
        "same features and properties"
    );
    assert_eq!(
        f.get("/tiles/idn-compilation/0/0/0.mvt").await.status,
        StatusCode::OK
    );
    let style = f.get("/styles/default.json").await.json();
    let styled = style["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["source-layer"] == "idn-compilation")
        .count();
    assert!(styled > 0, "the new layer is styled");

    // New versions replace it; the last two are kept.
    for (expected, file) in [(2, "other.geojson"), (3, "occurrences.geojson")] {
        let reply = f
            .put(
                "/api/collections/idn-compilation?kind=other",
                Some(&f.idn),
                GEOJSON,
                example(file),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json()["version"], expected);
    }
    assert_eq!(
        f.get("/api/collections/idn-compilation/items").await.json()["numberMatched"],
        2
    );
    let versions = f
        .get("/api/collections/idn-compilation/versions")
        .await
        .json();
    let listed: Vec<u64> = versions["versions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["version"].as_u64())
        .collect();
    assert_eq!(listed, [2, 3]);
    assert!(
        versions["versions"][1]["sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    assert_eq!(
        versions["versions"][1]["agency"],
        "Geological Agency of Indonesia"
    );

    // An earlier kept version can be published again; a dropped one cannot.
    let restore = |version: &str, token: &str| {
        Request::post(format!(
            "/api/collections/idn-compilation/versions/{version}/restore"
        ))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
    };
    assert_eq!(
        f.send(restore("2", &f.phl)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_error(
        &f.send(restore("1", &f.idn)).await,
        StatusCode::NOT_FOUND,
        "version 1 was pruned",
    );
    assert_error(
        &f.send(restore("x", &f.idn)).await,
        StatusCode::NOT_FOUND,
        "not a version",
    );
    let restored = f.send(restore("2", &f.idn)).await;
    restored.assert_status(StatusCode::OK);
    assert_eq!(
        f.get("/api/collections/idn-compilation/items").await.json()["numberMatched"],
        1,
        "other.geojson has one feature"
    );
    let reloaded = amis_webgis::publish::load_published(&f.uploads_of_a_restart())
        .expect("store readable")
        .layers;
    assert_eq!(
        reloaded[0].features.len(),
        1,
        "the restored version is what a restart serves"
    );
    assert_eq!(f.send(restore("3", &f.idn)).await.status, StatusCode::OK);

    // A restart serves exactly what was published.
    let reloaded = amis_webgis::publish::load_published(&f.uploads_of_a_restart())
        .expect("store readable")
        .layers;
    assert_eq!(reloaded.len(), 1);
    assert_eq!(reloaded[0].meta.id, "idn-compilation");
    assert_eq!(reloaded[0].features.len(), 2);

    // Retiring needs the token, then the layer is gone, also after a restart.
    let delete = |token: Option<String>| {
        let mut req = Request::delete("/api/collections/idn-compilation");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.body(Body::empty()).expect("request")
    };
    assert_eq!(f.send(delete(None)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        f.send(delete(Some(f.phl.clone()))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        f.send(delete(Some(f.idn.clone()))).await.status,
        StatusCode::OK
    );
    assert_error(
        &f.get("/api/collections/idn-compilation").await,
        StatusCode::NOT_FOUND,
        "retired",
    );
    assert!(
        amis_webgis::publish::load_published(&f.uploads_of_a_restart())
            .expect("store")
            .layers
            .is_empty()
    );
    std::fs::remove_dir_all(&f.store).ok();
}

#[tokio::test]
async fn a_second_concurrent_write_to_a_layer_gets_409() {
    let f = Arc::new(fixture("conflict"));
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let slow = Request::put("/api/collections/idn-slow?kind=other")
        .header("content-type", GEOJSON)
        .header("authorization", format!("Bearer {}", f.idn))
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .expect("request");
    let first = tokio::spawn({
        let f = f.clone();
        async move { f.send(slow).await }
    });
    tx.send(Ok(bytes::Bytes::from_static(
        b"{\"type\":\"FeatureCollection\",\"features\":[",
    )))
    .await
    .expect("send");
    // Capacity again means the handler took that chunk: it holds the layer's write slot.
    drop(tx.reserve().await.expect("the upload is being received"));
    let second = f
        .put(
            "/api/collections/idn-slow?kind=other",
            Some(&f.idn),
            GEOJSON,
            example("other.geojson"),
        )
        .await;
    assert_error(&second, StatusCode::CONFLICT, "concurrent write");
    assert_error(
        &f.get("/api/collections/idn-slow").await,
        StatusCode::NOT_FOUND,
        "the refused write published nothing",
    );
    let rest = String::from_utf8(example("other.geojson")).expect("utf-8");
    let features = &rest[rest.find('[').expect("features") + 1..];
    tx.send(Ok(bytes::Bytes::from(features.to_string())))
        .await
        .expect("send");
    drop(tx);
    let first = first.await.expect("task");
    first.assert_status(StatusCode::CREATED);

    // A body that stalls past the upload timeout (2 s here) is refused and frees the slot.
    let (stall_tx, stall_rx) =
        tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let stalled = Request::put("/api/collections/idn-slow?kind=other")
        .header("content-type", GEOJSON)
        .header("authorization", format!("Bearer {}", f.idn))
        .body(Body::from_stream(
            tokio_stream::wrappers::ReceiverStream::new(stall_rx),
        ))
        .expect("request");
    stall_tx
        .send(Ok(bytes::Bytes::from_static(b"{")))
        .await
        .expect("send");
    assert_error(
        &f.send(stalled).await,
        StatusCode::REQUEST_TIMEOUT,
        "stalled upload",
    );
    assert_eq!(
        f.get("/api/collections/idn-slow/items").await.json()["numberMatched"],
        1,
        "unchanged"
    );
    let again = f
        .put(
            "/api/collections/idn-slow?kind=other",
            Some(&f.idn),
            GEOJSON,
            example("other.geojson"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "the write slot was released");
    drop(stall_tx);
    std::fs::remove_dir_all(&f.store).ok();
}

#[tokio::test]
async fn geometry_problems_are_all_in_the_report() {
    let f = fixture("geometry");
    let file = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"unit_name":"ok","lithology":"granite"},"geometry":{"type":"Polygon","coordinates":[[[100,5],[101,5],[101,6],[100,5]]]}},
        {"type":"Feature","properties":{"unit_name":"open","lithology":"granite"},"geometry":{"type":"Polygon","coordinates":[[[100,5],[101,5],[101,6],[100,6]]]}},
        {"type":"Feature","properties":{"unit_name":"far","lithology":"granite"},"geometry":{"type":"Polygon","coordinates":[[[500000,5],[500001,5],[500001,6],[500000,5]]]}},
        {"type":"Feature","properties":{"unit_name":"point","lithology":"granite"},"geometry":{"type":"Point","coordinates":[100,5]}},
        {"type":"Feature","properties":{"unit_name":"empty","lithology":"granite"},"geometry":{"type":"MultiPolygon","coordinates":[]}}
    ]}"#;
    let reply = f
        .put(
            "/api/collections/idn-geology?kind=geology",
            Some(&f.idn),
            GEOJSON,
            file.to_vec(),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "geometry problems",
    );
    let report = reply.json()["report"].clone();
    let problem = |n: u64| {
        report["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .find(|p| p["feature"] == n)
            .map(|p| p["reason"].to_string())
            .unwrap_or_default()
    };
    assert!(problem(2).contains("not closed"), "{report}");
    assert!(problem(3).contains("outside longitude"), "{report}");
    assert!(problem(4).contains("Polygon or MultiPolygon"), "{report}");
    // An empty geometry is none, in every reader: a warning for the file, not an error.
    assert!(problem(5).is_empty(), "{report}");
    assert!(
        report
            .to_string()
            .contains("with an empty one) were skipped"),
        "{report}"
    );
    assert_eq!(report["errors"], 3, "{report}");
    assert_eq!(
        f.get("/api/collections/idn-geology").await.status,
        StatusCode::NOT_FOUND
    );
    std::fs::remove_dir_all(&f.store).ok();
}

#[tokio::test]
async fn ids_are_checked_before_anything_and_audit_lines_stay_short() {
    let f = fixture("holes");
    let audit_len = || std::fs::metadata(f.store.join("audit.log")).map_or(0, |m| m.len());
    // An invalid id is refused before authentication: nothing is audited or joined into a path.
    let long = "x".repeat(60_000);
    let star = TokenStore::open(&f.store)
        .expect("tokens")
        .create("Operator", &["*".into()])
        .expect("token")
        .1;
    for (method, path, token) in [
        ("DELETE", format!("/api/collections/{long}"), None),
        (
            "DELETE",
            "/api/collections/UPPER".to_string(),
            Some(star.as_str()),
        ),
        (
            "POST",
            format!("/api/collections/{long}/versions/1/restore"),
            None,
        ),
        (
            "POST",
            "/api/collections/..%2F..%2Fetc/versions/1/restore".to_string(),
            Some(star.as_str()),
        ),
        (
            "PUT",
            "/api/collections/a%20b".to_string(),
            Some(star.as_str()),
        ),
    ] {
        let mut req = Request::builder()
            .method(method)
            .uri(&path)
            .header("host", "test.local");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let reply = f.send(req.body(Body::empty()).expect("request")).await;
        let description =
            assert_error(&reply, StatusCode::BAD_REQUEST, &path[..path.len().min(60)]);
        assert!(
            description.len() < 300,
            "the id is not echoed in full: {}",
            description.len()
        );
    }
    assert_eq!(audit_len(), 0, "invalid ids are not audited");
    // The scheme is case-insensitive (RFC 9110); a refusal with huge inputs is audited short.
    let reply = f
        .send(
            Request::put("/api/collections/idn-case?kind=occurrences")
                .header("authorization", format!("bearer {}", f.idn))
                .header("content-type", GEOJSON)
                .body(Body::from(example("occurrences.geojson")))
                .expect("request"),
        )
        .await;
    reply.assert_status(StatusCode::CREATED);
    let huge = "k".repeat(50_000);
    let reply = f
        .put(
            &format!("/api/collections/idn-case?kind={huge}"),
            Some(&f.idn),
            &format!("application/{huge}"),
            example("occurrences.geojson"),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "huge kind");
    let audit = std::fs::read_to_string(f.store.join("audit.log")).expect("audit log");
    assert!(audit.lines().count() >= 2);
    for line in audit.lines() {
        assert!(
            line.len() <= 2 * amis_webgis::store::MAX_AUDIT_ENTRY,
            "{} bytes",
            line.len()
        );
    }
    std::fs::remove_dir_all(&f.store).ok();
}

/// Real occurrence records naming commodities outside the bundled 89 (industrial minerals,
/// dimension stone, ore minerals, and one no list knows) publish with warnings; the unknown
/// one is kept as written, found by the filters, listed in the queryables and drawn in the
/// "Other commodities" colour.
#[tokio::test]
async fn commodities_outside_the_lists_publish_and_are_filtered_and_drawn() {
    let f = fixture("vocabulary");
    let mut source: serde_json::Value = serde_json::from_slice(
        &f.get("/api/collections/mineral-occurrences/items?limit=60")
            .await
            .body,
    )
    .expect("items");
    let features = source["features"].as_array_mut().expect("features");
    features.truncate(60);
    let rewritten = [
        "Dimension stone",
        "Chromite; Bentonite",
        "Kryptonite | Gold",
        "  Granite   ",
        "Wolframite, Scheelite",
        "Cassiterite",
    ];
    for (feature, commodities) in features.iter_mut().zip(rewritten) {
        feature["properties"]["commodities"] = commodities.into();
        feature["properties"]["primary_commodity"] = serde_json::Value::Null;
    }
    let body = serde_json::to_vec(&source).expect("json");
    let reply = f
        .put(
            "/api/collections/idn-industrial?kind=occurrences",
            Some(&f.idn),
            "application/geo+json",
            body,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let published = reply.json();
    assert_eq!(published["features"], 60);
    let report = &published["report"];
    assert_eq!(report["errors"], 0);
    let normalised = report["normalised"].as_array().expect("normalised");
    let has = |from: &str, to: &str| {
        normalised
            .iter()
            .any(|n| n["field"] == "commodities" && n["from"] == from && n["to"] == to)
    };
    assert!(
        has("Kryptonite", "(kept as written: in no list)"),
        "{normalised:?}"
    );
    assert!(
        has("Chromite", "Chromium")
            && has("Wolframite", "Tungsten")
            && has("Scheelite", "Tungsten")
    );
    assert!(has("Cassiterite", "Tin"));
    assert!(
        report["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .any(|p| {
                p["severity"] == "warning"
                    && p["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("\"Kryptonite\" is in no commodity list"))
            })
    );

    let count = |query: &str| {
        let f = &f;
        let query = query.to_string();
        async move {
            f.get(&format!("/api/collections/idn-industrial/items?{query}"))
                .await
                .json()["numberMatched"]
                .as_u64()
                .expect("numberMatched")
        }
    };
    assert_eq!(count("commodities=Kryptonite").await, 1);
    assert_eq!(count("primary_commodity=Kryptonite").await, 1);
    assert_eq!(count("commodities=Dimension%20stone").await, 1);
    assert_eq!(
        count("commodities=Granite").await,
        1,
        "trimmed and published under its name"
    );
    assert!(count("commodities=Bentonite").await >= 1);
    assert!(count("commodities=Tungsten").await >= 1);

    let queryables = f
        .get("/api/collections/idn-industrial/queryables")
        .await
        .json();
    let listed = queryables["properties"]["commodities"]["enum"]
        .as_array()
        .expect("enum");
    assert!(
        listed.iter().any(|v| v == "Kryptonite") && listed.iter().any(|v| v == "Dimension stone")
    );

    // The map colours an unlisted primary commodity as "Other commodities", not as "none".
    let style = f.get("/styles/default.json").await.json();
    let layer = style["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["id"] == "idn-industrial-points")
        .expect("the upload is drawn")
        .clone();
    let colour = layer["paint"]["circle-color"].to_string();
    assert!(
        colour.contains(amis_webgis::vocab::OTHER_COMMODITIES_COLOUR),
        "{colour}"
    );
    assert!(colour.contains("Dimension stone"), "{colour}");
    let legend = layer["metadata"]["amis:legend"].to_string();
    assert!(legend.contains(amis_webgis::vocab::OTHER_COMMODITIES));
    std::fs::remove_dir_all(&f.store).ok();
}
