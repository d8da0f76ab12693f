//! Agency files as agencies have them, published over the real router: national and UTM
//! CRSs reprojected as PROJ does (positions recorded from GDAL/PROJ in
//! `tests/fixtures/*/expected/`), zipped Shapefiles, GeoPackages, legacy GeoJSON `crs`, Thai
//! and Vietnamese code pages, and the bundled occurrences' own schema normalised to the
//! protocol.

mod common;

use std::path::{Path, PathBuf};

use amis_webgis::auth::TokenStore;
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::AppState;
use amis_webgis::source::{Format, read_bytes_lenient};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A server over the bundled data with its own store and a token that may write anything.
fn server(name: &str) -> (AppState, String) {
    let store = common::temp_store(name);
    let (_, token) = TokenStore::open(&store)
        .expect("token store")
        .create("Test survey", &["*".into()])
        .expect("token");
    let args = ServeArgs {
        store,
        ..ServeArgs::default()
    };
    (
        AppState::new(Catalog::new(common::layers().clone()), &args),
        token,
    )
}

async fn put(
    state: &AppState,
    token: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> common::Reply {
    common::send_to(
        state.clone(),
        Request::put(uri)
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {token}"))
            .header("host", "test.local")
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

async fn items(state: &AppState, id: &str) -> Json {
    common::send_to(
        state.clone(),
        Request::get(format!("/api/collections/{id}/items?limit=10000"))
            .header("host", "test.local")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .json()
}

/// Metres between two lon/lat positions (haversine on the mean Earth radius).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn point(f: &Json) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (
        c[0].as_f64().unwrap_or(f64::NAN),
        c[1].as_f64().unwrap_or(f64::NAN),
    )
}

/// Local datums are held to 5 m of PROJ, WGS 84-based CRSs to 0.5 m.
fn tolerance(code: u32) -> f64 {
    match code {
        3405
        | 3406
        | 4756
        | 24047
        | 24048
        | 23946
        | 23947
        | 23948
        | 3121..=3125
        | 3168
        | 29873
        | 3148
        | 3149
        | 4131
        | 4240
        | 4239
        | 4245
        | 4298 => 5.0,
        _ => 0.5,
    }
}

fn expected(path: &Path) -> Vec<Json> {
    let doc: Json =
        serde_json::from_slice(&std::fs::read(path).expect("expected file")).expect("JSON");
    doc["features"].as_array().cloned().unwrap_or_default()
}

/// Every feature where PROJ put it, feature by feature in file order.
fn assert_positions(label: &str, ours: &[Json], theirs: &[Json], tolerance: f64) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "{label}: feature count");
    let mut worst: f64 = 0.0;
    for (a, b) in ours.iter().zip(theirs) {
        let d = metres(point(a), point(b));
        worst = worst.max(d);
        assert!(
            d <= tolerance,
            "{label}: {:?} is {d:.3} m from PROJ's {:?}",
            point(a),
            point(b)
        );
    }
    worst
}

#[test]
fn every_named_crs_is_reprojected_within_tolerance_of_proj() {
    let dir = fixtures().join("crs");
    let mut checked = 0;
    let mut report = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("crs fixtures").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "fgb") {
            continue;
        }
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let code: u32 = stem
            .trim_start_matches("occ-epsg")
            .parse()
            .expect("code in name");
        let set = read_bytes_lenient(&std::fs::read(&path).expect("fixture"), Format::FlatGeobuf)
            .unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert!(set.invalid.is_empty(), "{stem}: {:?}", set.invalid);
        assert!(
            set.crs
                .as_deref()
                .is_some_and(|c| c.starts_with(&format!("EPSG:{code} "))),
            "{stem}: {:?}",
            set.crs
        );
        let ours: Vec<Json> = set
            .features
            .iter()
            .map(|f| serde_json::json!({ "geometry": geojson::Geometry::new(geojson::Value::from(&f.geometry)) }))
            .collect();
        let theirs = expected(&dir.join("expected").join(format!("{stem}.geojson")));
        let worst = assert_positions(&stem, &ours, &theirs, tolerance(code));
        report.push(format!(
            "EPSG:{code} {} features, worst {worst:.3} m",
            ours.len()
        ));
        checked += 1;
    }
    assert!(checked >= 40, "{checked} CRS fixtures");
    println!("{}", report.join("\n"));
}

/// Publishes a fixture as the named layer and compares what the API serves with GDAL's
/// reading of the same file.
async fn publish_and_compare(
    file: &str,
    content_type: &str,
    tolerance_m: f64,
    query: &str,
) -> (Json, Vec<Json>) {
    let (state, token) = server(file);
    let path = fixtures().join("intake").join(file);
    let id = "agency-occurrences";
    let reply = put(
        &state,
        &token,
        &format!("/api/collections/{id}?{query}"),
        content_type,
        std::fs::read(&path).expect("fixture"),
    )
    .await;
    reply.assert_status(StatusCode::CREATED);
    let body = reply.json();
    assert_eq!(body["kind"], "occurrences", "{file}: {body}");
    let served = items(&state, id).await;
    let ours = served["features"].as_array().cloned().unwrap_or_default();
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let theirs = expected(
        &fixtures()
            .join("intake/expected")
            .join(format!("{stem}.geojson")),
    );
    assert_eq!(
        body["features"],
        theirs.len(),
        "{file}: every feature published"
    );
    assert_positions(file, &ours, &theirs, tolerance_m);
    (body, ours)
}

#[tokio::test]
async fn a_zipped_shapefile_in_indian_1975_utm_47n_publishes() {
    let (body, ours) = publish_and_compare(
        "occurrences_indian1975_utm47n.zip",
        "application/zip",
        5.0,
        "kind=occurrences",
    )
    .await;
    assert!(
        body["crs"].as_str().is_some_and(|c| c.contains("24047")),
        "{body}"
    );
    // The bundled schema, through Shapefile's 10-character names, is recognised.
    assert!(body["report"]["columns"].as_array().is_some_and(|c| {
        c.iter()
            .any(|m| m["column"] == "commoditie" && m["property"] == "commodities")
    }));
    assert!(
        ours.iter().all(|f| f["properties"]["country"] == "THA"),
        "countries normalised"
    );
}

#[tokio::test]
async fn a_geopackage_in_gdm2000_peninsula_rso_publishes_with_its_kind_inferred() {
    let (body, ours) = publish_and_compare(
        "occurrences_gdm2000_peninsula_rso.gpkg",
        "application/geopackage+sqlite3",
        0.5,
        "",
    )
    .await;
    assert_eq!(body["kindInferred"], true, "{body}");
    assert!(ours.iter().all(|f| f["properties"]["country"] == "MYS"));
    assert!(body["report"]["normalised"].as_array().is_some_and(|n| {
        n.iter()
            .any(|x| x["from"] == "Malaysia" && x["to"] == "MYS")
    }));
}

#[tokio::test]
async fn geojson_with_a_legacy_crs_member_in_vn2000_utm_48n_publishes() {
    let (body, _) = publish_and_compare(
        "occurrences_vn2000_utm48n.geojson",
        "application/geo+json",
        5.0,
        "kind=occurrences",
    )
    .await;
    assert!(
        body["crs"].as_str().is_some_and(|c| c.contains("3405")),
        "{body}"
    );
}

/// The UTF-8 text the file was written from, feature by feature, is what the API serves.
fn assert_text_intact(ours: &[Json], file: &str, property: &str, source_property: &str) -> usize {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let source = expected(
        &fixtures()
            .join("intake/expected")
            .join(format!("{stem}_source.geojson")),
    );
    assert_eq!(ours.len(), source.len());
    let mut non_ascii = 0;
    for (a, b) in ours.iter().zip(&source) {
        let ours = a["properties"][property].as_str().unwrap_or_default();
        let written = b["properties"][source_property]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            ours,
            written.split_whitespace().collect::<Vec<_>>().join(" "),
            "{file}: {property}"
        );
        non_ascii += usize::from(!ours.is_ascii());
    }
    non_ascii
}

#[tokio::test]
async fn thai_and_vietnamese_code_pages_come_out_as_utf8() {
    let (_, ours) = publish_and_compare(
        "occurrences_thai_cp874.zip",
        "application/zip",
        0.5,
        "kind=occurrences",
    )
    .await;
    let thai = assert_text_intact(&ours, "occurrences_thai_cp874.zip", "name", "name")
        + assert_text_intact(
            &ours,
            "occurrences_thai_cp874.zip",
            "state_prov",
            "state_province",
        );
    assert!(thai >= 20, "{thai} Thai values");
    assert!(ours.iter().any(|f| f["properties"]["name"] == "ขอนแก่น"));
    let (_, ours) = publish_and_compare(
        "occurrences_vietnamese_cp1258.zip",
        "application/zip",
        0.5,
        "kind=occurrences",
    )
    .await;
    let vietnamese = assert_text_intact(&ours, "occurrences_vietnamese_cp1258.zip", "name", "name");
    assert!(vietnamese >= 5, "{vietnamese} Vietnamese names");
    // Composed UTF-8 (NFC), as typed, though CP1258 stores tone marks as combining characters.
    assert!(
        ours.iter().any(|f| f["properties"]["name"] == "Núi Pháo"),
        "Núi Pháo"
    );
    assert!(
        ours.iter().any(|f| f["properties"]["name"] == "Thạch Khê"),
        "Thạch Khê"
    );
}

/// Points spread over each regional CRS's area of use (tests/fixtures/crs/areas.tsv, from
/// `cs2cs`): each reprojected within the intake's tolerance of PROJ, with the transformation
/// PROJ chooses where it lies; refused, naming the CRS, where no transformation of its datum
/// covers it though one covers another part of the CRS's area.
#[test]
fn positions_over_every_crs_area_match_proj_or_are_refused_where_no_transformation_applies() {
    let table = std::fs::read_to_string(fixtures().join("crs/areas.tsv")).expect("areas.tsv");
    let mut worst: std::collections::BTreeMap<u32, (f64, usize, usize)> = Default::default();
    let mut failures = Vec::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let code: u32 = f[0].parse().expect("code");
        let (x, y): (f64, f64) = (f[1].parse().expect("x"), f[2].parse().expect("y"));
        let reprojector = amis_webgis::crs::by_code(code)
            .unwrap_or_else(|e| panic!("EPSG:{code}: {e}"))
            .unwrap_or_else(|| panic!("EPSG:{code} is not WGS 84"));
        let ours = reprojector.project(geo::coord! { x: x, y: y });
        let entry = worst.entry(code).or_default();
        if f[3] == "refused" {
            let why = ours.expect_err(&format!("EPSG:{code} ({x}, {y}) at {} is refused", f[4]));
            assert!(
                why.contains(&format!("EPSG:{code} ")) && why.contains("transformations cover"),
                "{why}"
            );
            entry.2 += 1;
            continue;
        }
        let theirs: Vec<f64> = f[3]
            .split(' ')
            .map(|v| v.parse().expect("lon lat"))
            .collect();
        let ours = ours.unwrap_or_else(|e| panic!("EPSG:{code} ({x}, {y}) at {}: {e}", f[4]));
        let d = metres((ours.x, ours.y), (theirs[0], theirs[1]));
        if d > tolerance(code) {
            failures.push(format!(
                "EPSG:{code} ({x}, {y}) at {}: {d:.3} m from PROJ's",
                f[4]
            ));
        }
        entry.0 = entry.0.max(d);
        entry.1 += 1;
    }
    assert!(
        failures.is_empty(),
        "{} positions off:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(worst.len() >= 45, "{} CRSs", worst.len());
    for code in [4131, 3148, 3149] {
        let (_, matched, refused) = worst[&code];
        assert!(
            matched > 0 && refused > 0,
            "Indian 1960 EPSG:{code}: {matched} matched, {refused} refused"
        );
    }
    for (code, (d, matched, refused)) in &worst {
        println!("EPSG:{code}: {matched} positions, worst {d:.3} m; {refused} refused");
    }
}
