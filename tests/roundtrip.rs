//! Downloads read back with independent readers equal the GeoJSON output.

mod common;

use axum::http::StatusCode;
use common::get;
use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
use geozero::ToJson;

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => vec![other.as_f64().expect("coordinate")],
    }
}

async fn geojson_features(collection: &str, query: &str) -> Vec<serde_json::Value> {
    let fc = get(&format!(
        "/api/collections/{collection}/items?limit=10000&{query}"
    ))
    .await
    .json();
    fc["features"].as_array().expect("features").clone()
}

#[tokio::test]
async fn flatgeobuf_download_reads_back_identical() {
    for (collection, query) in [
        ("mineral-occurrences", "country=Myanmar"),
        ("active-faults", ""),
        ("asean-countries", ""),
    ] {
        let reply = get(&format!(
            "/api/collections/{collection}/items?f=fgb&{query}"
        ))
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), "application/flatgeobuf");
        assert!(reply.header("content-disposition").contains(".fgb"));
        let expected = geojson_features(collection, query).await;

        let mut reader = FgbReader::open(std::io::Cursor::new(&reply.body))
            .expect("valid fgb")
            .select_all_seq()
            .expect("features");
        let mut got = Vec::new();
        while let Some(feature) = reader.next().expect("readable feature") {
            let geometry: serde_json::Value =
                serde_json::from_str(&feature.to_json().expect("geometry json")).expect("json");
            let props = feature.properties().expect("properties");
            got.push((geometry, props));
        }
        assert_eq!(got.len(), expected.len(), "{collection}");
        for ((geometry, props), want) in got.iter().zip(&expected) {
            assert_eq!(geometry["type"], want["geometry"]["type"], "{collection}");
            let (a, b) = (
                numbers(&geometry["coordinates"]),
                numbers(&want["geometry"]["coordinates"]),
            );
            assert_eq!(a.len(), b.len(), "{collection}: coordinate count");
            assert!(
                a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9),
                "{collection}: coordinates differ"
            );
            for (name, value) in want["properties"].as_object().expect("props") {
                match value {
                    serde_json::Value::Null => assert!(!props.contains_key(name)),
                    serde_json::Value::String(s) => {
                        assert_eq!(props.get(name), Some(s), "{collection}.{name}")
                    }
                    other => assert_eq!(
                        props.get(name).map(String::as_str),
                        Some(other.to_string().as_str())
                    ),
                }
            }
        }
    }
}

#[tokio::test]
async fn csv_download_has_every_matching_row() {
    let reply = get("/api/collections/mineral-occurrences/items?f=csv&country=Thailand").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(reply.body.as_slice());
    let headers = reader.headers().expect("header row").clone();
    assert!(headers.iter().any(|h| h == "longitude") && headers.iter().any(|h| h == "name"));
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 65);
    let country = headers
        .iter()
        .position(|h| h == "country")
        .expect("country column");
    assert!(rows.iter().all(|r| &r[country] == "THA"));

    let faults = get("/api/collections/active-faults/items?f=csv").await;
    let mut reader = csv::Reader::from_reader(faults.body.as_slice());
    assert!(
        reader
            .headers()
            .expect("headers")
            .iter()
            .any(|h| h == "WKT")
    );
    assert_eq!(reader.records().count(), 276);
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    use amis_webgis::catalog::{Layer, LayerMeta};
    use amis_webgis::feature::{Feature, FeatureSet, Field, FieldType, Value};
    let texts = [
        "=HYPERLINK(\"http://x\")",
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "plain",
        "a=b",
    ];
    let set = FeatureSet {
        fields: vec![
            Field {
                name: "name".into(),
                field_type: FieldType::String,
            },
            Field {
                name: "n".into(),
                field_type: FieldType::Integer,
            },
        ],
        features: texts
            .iter()
            .enumerate()
            .map(|(i, t)| Feature {
                id: i as u64 + 1,
                geometry: geo::Geometry::Point(geo::point!(x: 100.0, y: 5.0)),
                properties: vec![Value::String((*t).into()), Value::Int(-5)],
            })
            .collect(),
        ..FeatureSet::default()
    };
    let meta: LayerMeta = toml::from_str("id = 'csv'\ntitle = 'csv'").expect("meta");
    let layer = Layer::build(meta, set, 1);
    let mut out = Vec::new();
    let positions: Vec<u32> = (0..texts.len() as u32).collect();
    amis_webgis::features::output::write_csv(&layer, &positions, &mut out).expect("csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    for (row, text) in rows.iter().zip(texts) {
        let cell = &row[0];
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            assert_eq!(cell, format!("'{text}"), "formula neutralised");
        } else {
            assert_eq!(cell, text);
        }
        assert_eq!(&row[1], "-5", "numbers stay numbers");
    }
}
