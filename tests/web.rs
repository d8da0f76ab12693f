//! The web map's server side: embedded files, generated styles, queryables.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_error, get, send};

#[tokio::test]
async fn app_and_vendored_maplibre_are_served() {
    let index = get("/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.header("content-type").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&index.body).contains("/assets/app.js"));
    for (path, kind) in [
        ("/assets/app.js", "javascript"),
        ("/assets/vendor/maplibre-gl/maplibre-gl.mjs", "javascript"),
        (
            "/assets/vendor/maplibre-gl/maplibre-gl-worker.mjs",
            "javascript",
        ),
        ("/assets/vendor/maplibre-gl/maplibre-gl.css", "css"),
    ] {
        let reply = get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(
            reply.header("content-type").contains(kind),
            "{path}: {}",
            reply.header("content-type")
        );
        assert!(!reply.header("etag").is_empty());
    }
    assert_error(
        &get("/assets/nope.js").await,
        StatusCode::NOT_FOUND,
        "/assets/nope.js",
    );
    assert_error(
        &get("/assets/../Cargo.toml").await,
        StatusCode::NOT_FOUND,
        "traversal",
    );
}

#[tokio::test]
async fn default_style_is_built_from_the_catalog() {
    let style = get("/styles/default.json").await.json();
    assert_eq!(style["version"], 8);
    assert_eq!(
        style["sources"]["basemap"]["url"],
        "http://test.local/tiles/world-countries-50m,world-countries-10m,asean-countries,lakes,rivers,places,physical-regions,peaks,ports,airports.json"
    );
    // Every thematic layer in one composite source.
    assert_eq!(
        style["sources"]["layers-mineral-occurrences"]["url"],
        "http://test.local/tiles/mineral-occurrences,active-faults.json"
    );
    let layers = style["layers"].as_array().expect("layers");
    let ids: Vec<&str> = layers.iter().filter_map(|l| l["id"].as_str()).collect();
    let faults = ids
        .iter()
        .position(|i| *i == "active-faults-line")
        .expect("faults styled");
    let points = ids
        .iter()
        .position(|i| *i == "mineral-occurrences-points")
        .expect("occurrences styled");
    assert!(faults < points, "points draw above lines");
    let occurrences = &layers[points];
    let legend = occurrences["metadata"]["amis:legend"]
        .as_array()
        .expect("legend");
    assert!(legend.iter().any(|e| {
        e["label"] == "Battery & technology metals"
            && e["values"]
                .as_array()
                .is_some_and(|v| v.iter().any(|c| c == "Nickel"))
    }));
    let fault_legend = layers[faults]["metadata"]["amis:legend"]
        .as_array()
        .expect("legend");
    assert!(fault_legend.iter().any(|e| e["label"] == "Dextral"));
    for bad in [
        "/styles/nope.json",
        "/styles/default",
        "/styles/..%2Fdata%2Flayers.toml.json",
    ] {
        assert_error(&get(bad).await, StatusCode::NOT_FOUND, bad);
    }
}

#[tokio::test]
async fn queryables_list_filter_values() {
    let reply = get("/api/collections/mineral-occurrences/queryables").await;
    assert_eq!(reply.header("content-type"), "application/schema+json");
    let q = reply.json();
    let countries = q["properties"]["country"]["enum"]
        .as_array()
        .expect("country enum");
    assert_eq!(countries.len(), 9);
    let commodities = q["properties"]["commodities"]["enum"]
        .as_array()
        .expect("commodity enum");
    assert!(
        commodities.iter().any(|c| c == "Cobalt"),
        "list elements, not whole lists"
    );
    assert!(
        !commodities
            .iter()
            .any(|c| c.as_str().is_some_and(|s| s.contains(", ")))
    );
    assert!(
        q["properties"]["name"].get("enum").is_none(),
        "names are too many to enumerate"
    );
}

#[tokio::test]
async fn glyphs_are_rendered_for_the_style_fonts() {
    let style = get("/styles/default.json").await.json();
    assert_eq!(
        style["glyphs"],
        "http://test.local/fonts/{fontstack}/{range}.pbf"
    );
    let reply = get("/fonts/DejaVu%20Sans%20Bold,Arial%20Unicode%20MS%20Regular/0-255.pbf").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-encoding"), "", "not asked for gzip");
    let (name, range, glyphs) = common::mvt::glyph_range(&reply.body).expect("glyph protobuf");
    assert_eq!(name, "DejaVu Sans Bold");
    assert_eq!(range, "0-255");
    let a = glyphs.iter().find(|g| g.id == 65).expect("glyph A");
    assert!(!a.bitmap.is_empty() && a.advance > 0);
    // Vietnamese names need Latin Extended Additional; sent gzipped to who takes it.
    let viet = send(
        Request::get("/fonts/DejaVu%20Sans%20Book/7680-7935.pbf")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(viet.header("content-encoding"), "gzip");
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&viet.body[..]),
        &mut plain,
    )
    .expect("gzip");
    let (_, _, glyphs) = common::mvt::glyph_range(&plain).expect("glyph protobuf");
    assert!(glyphs.iter().any(|g| g.id == 0x1EC7), "ệ");
    // A range the font does not cover is empty, not an error.
    let cjk = get("/fonts/DejaVu%20Sans%20Book/19968-20223.pbf").await;
    assert_eq!(cjk.status, StatusCode::OK);
    let (name, range, glyphs) = common::mvt::glyph_range(&cjk.body).expect("glyph protobuf");
    assert_eq!(
        (name.as_str(), range.as_str(), glyphs.len()),
        ("DejaVu Sans Book", "19968-20223", 0)
    );
    for bad in [
        "/fonts/DejaVu%20Sans%20Book/0-256.pbf",
        "/fonts/DejaVu%20Sans%20Book/65536-65791.pbf",
        "/fonts/DejaVu%20Sans%20Book/a-b.pbf",
    ] {
        assert_error(&get(bad).await, StatusCode::BAD_REQUEST, bad);
    }
    assert_error(
        &get("/fonts/Comic%20Sans/0-255.pbf").await,
        StatusCode::NOT_FOUND,
        "unknown font",
    );
}

#[tokio::test]
async fn production_table_by_country() {
    let all = get("/api/production").await.json();
    assert_eq!(all["numberReturned"], 71);
    let idn = get("/api/production?iso3=IDN").await.json();
    let rows = idn["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 10);
    let nickel = rows
        .iter()
        .find(|r| r["commodity"] == "Nickel")
        .expect("Indonesian nickel");
    assert!(
        nickel["y2022"]
            .as_f64()
            .is_some_and(|v| v > nickel["y2018"].as_f64().unwrap_or(f64::MAX))
    );
    assert!(
        nickel["world_share_2022_pct"]
            .as_f64()
            .is_some_and(|s| s > 40.0),
        "{nickel}"
    );
    let marker = get("/api/production?iso3=MYS").await.json();
    assert!(
        marker["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["share_note"] == "<0.1")
    );
    let csv = get("/api/production?iso3=VNM&f=csv").await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(
        csv::Reader::from_reader(csv.body.as_slice())
            .records()
            .count(),
        11
    );
    for bad in [
        "/api/production?iso3=XXX",
        "/api/production?f=xml",
        "/api/production?year=2020",
    ] {
        assert_error(&get(bad).await, StatusCode::BAD_REQUEST, bad);
    }
}

#[test]
fn a_new_geology_layer_gets_a_style_and_legend_without_editing_files() {
    use amis_webgis::catalog::{Layer, LayerMeta};
    use amis_webgis::feature::{Feature, FeatureSet, Field, FieldType, Value};
    let square = |x: f64, y: f64| {
        geo::Polygon::new(
            geo::LineString::from(vec![(x, y), (x + 1.0, y), (x + 1.0, y + 1.0), (x, y)]),
            vec![],
        )
    };
    let lithologies = ["granite", "basalt", "limestone", "granite"];
    let set = FeatureSet {
        fields: vec![Field {
            name: "lithology".into(),
            field_type: FieldType::String,
        }],
        features: lithologies
            .iter()
            .enumerate()
            .map(|(i, l)| Feature {
                id: i as u64 + 1,
                geometry: square(100.0 + i as f64, 5.0).into(),
                properties: vec![Value::String((*l).into())],
            })
            .collect(),
        ..FeatureSet::default()
    };
    let meta: LayerMeta = toml::from_str(
        "id = 'geology-test'\ntitle = 'Geology (test)'\nkind = 'geology'\nclassify = 'lithology'",
    )
    .expect("meta");
    let mut layers = common::layers().clone();
    layers.push(std::sync::Arc::new(Layer::build(meta, set, 7)));
    let style = web_map_style(layers);
    assert_eq!(
        style["sources"]["layers-mineral-occurrences"]["url"],
        "http://x/tiles/mineral-occurrences,active-faults,geology-test.json"
    );
    let fill = style["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["id"] == "geology-test-fill")
        .expect("fill layer");
    assert_eq!(fill["type"], "fill");
    let legend: Vec<&str> = fill["metadata"]["amis:legend"]
        .as_array()
        .expect("legend")
        .iter()
        .filter_map(|e| e["label"].as_str())
        .collect();
    assert_eq!(
        legend,
        ["granite", "basalt", "limestone", "Other / unspecified"],
        "most frequent first"
    );
    assert_eq!(fill["paint"]["fill-color"][0], "match");
}

/// A server holding only some layers (started without the bundled basemap, say, with an
/// agency's upload) gets a style naming only sources and layers it serves: MapLibre refuses
/// a whole style that names a missing source, and would draw nothing, not even the upload.
#[test]
fn the_style_names_only_what_the_server_has() {
    let all = common::layers().clone();
    let pick = |ids: &[&str]| -> Vec<_> {
        all.iter()
            .filter(|l| ids.contains(&l.meta.id.as_str()))
            .cloned()
            .collect()
    };
    for (held, basemap_url, country_names) in [
        (pick(&["mineral-occurrences"]), None, false),
        (
            pick(&["mineral-occurrences", "rivers", "places"]),
            Some("http://x/tiles/rivers,places.json"),
            false,
        ),
        (
            pick(&["mineral-occurrences", "world-countries-50m"]),
            Some("http://x/tiles/world-countries-50m.json"),
            true,
        ),
    ] {
        assert!(held.iter().any(|l| l.meta.id == "mineral-occurrences"));
        let style = web_map_style(held.clone());
        let ids: Vec<&str> = held.iter().map(|l| l.meta.id.as_str()).collect();
        assert_eq!(
            style["sources"]["basemap"]["url"].as_str(),
            basemap_url,
            "{ids:?}"
        );
        let sources = style["sources"].as_object().expect("sources");
        for (name, source) in sources {
            if let Some(url) = source["url"].as_str() {
                let listed = url
                    .strip_prefix("http://x/tiles/")
                    .and_then(|u| u.strip_suffix(".json"))
                    .expect("tile source URL");
                for id in listed.split(',') {
                    assert!(ids.contains(&id), "{name} lists {id}, not held: {ids:?}");
                }
            }
        }
        let layers = style["layers"].as_array().expect("layers");
        for layer in layers {
            if let Some(source) = layer["source"].as_str() {
                assert!(
                    sources.contains_key(source),
                    "{} uses {source}",
                    layer["id"]
                );
                if let Some(source_layer) = layer["source-layer"].as_str() {
                    let url = sources[source]["url"].as_str().unwrap_or_default();
                    assert!(url.contains(source_layer), "{} in {url}", layer["id"]);
                }
            }
        }
        assert_eq!(
            layers.iter().any(|l| l["id"] == "country-names"),
            country_names,
            "{ids:?}"
        );
        assert!(
            layers
                .iter()
                .any(|l| l["source"] == "layers-mineral-occurrences" && l["type"] == "circle"),
            "the occurrences are drawn"
        );
    }
}

/// The web map's style for a catalog of these layers, with links to `http://x`.
fn web_map_style(layers: Vec<std::sync::Arc<amis_webgis::catalog::Layer>>) -> serde_json::Value {
    let snapshot = amis_webgis::catalog::Catalog::new(layers).snapshot();
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/styles/default.json"))
            .expect("template");
    amis_webgis::styles::build(
        &template,
        "http://x",
        &snapshot,
        amis_webgis::styles::Flavour::MapLibre,
    )
    .expect("style")
}
