//! The upload data protocol, checked against the real occurrence data and the documented examples.

mod common;

use amis_webgis::feature::{FeatureSet, Value};
use amis_webgis::protocol::{Kind, MAX_REPORTED, check};
use amis_webgis::source::{Format, read_bytes};

fn example(name: &str) -> FeatureSet {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples")
        .join(name);
    read_bytes(&std::fs::read(path).expect("example file"), Format::GeoJson).expect("valid GeoJSON")
}

fn real_occurrences() -> FeatureSet {
    let path = common::data_dir().join("minerals/asean_mineral_occurrences.fgb");
    read_bytes(&std::fs::read(path).expect("bundled"), Format::FlatGeobuf).expect("valid")
}

#[test]
fn documented_examples_pass_their_kind() {
    for (file, kind) in [
        ("occurrences.geojson", Kind::Occurrences),
        ("geology.geojson", Kind::Geology),
        ("other.geojson", Kind::Other),
    ] {
        let report = check(&example(file), kind);
        assert!(report.is_valid(), "{file}: {:?}", report.problems);
    }
    // And not the wrong kind.
    let report = check(&example("geology.geojson"), Kind::Occurrences);
    assert!(report.problems.iter().any(|p| p.reason.contains("Point")));
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.field.as_deref() == Some("commodities") && p.feature.is_none())
    );
}

#[test]
fn the_real_compilation_is_reported_precisely() {
    // As published, the compilation names countries rather than coding them and has records
    // without commodity or name: the report says so, feature by feature, capped at 100.
    let set = real_occurrences();
    let report = check(&set, Kind::Occurrences);
    assert!(report.total > MAX_REPORTED, "{}", report.total);
    assert_eq!(report.problems.len(), MAX_REPORTED);
    let first = &report.problems[0];
    assert!(
        first.feature.is_some() && first.field.is_some(),
        "{first:?}"
    );
    assert!(report.problems.iter().any(|p| {
        p.reason
            .contains("\"Indonesia\" is not an ISO 3166-1 alpha-3 code")
    }));
}

#[test]
fn the_real_compilation_passes_once_mapped_to_the_protocol() {
    // What an agency would do: country := iso_a3, and leave out records lacking name or commodity.
    let mut set = real_occurrences();
    let (country, iso, name, commodities) = (
        set.field_index("country").expect("country"),
        set.field_index("iso_a3").expect("iso_a3"),
        set.field_index("name").expect("name"),
        set.field_index("commodities").expect("commodities"),
    );
    let filled = |v: &Value| matches!(v, Value::String(s) if !s.trim().is_empty());
    set.features
        .retain(|f| filled(&f.properties[name]) && filled(&f.properties[commodities]));
    for f in &mut set.features {
        f.properties[country] = f.properties[iso].clone();
    }
    assert!(set.features.len() > 500, "{}", set.features.len());
    let report = check(&set, Kind::Occurrences);
    assert!(report.is_valid(), "{:?}", report.problems);
}

#[test]
fn each_rule_is_enforced() {
    let bad = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"A","commodities":"Copper, Unobtainium","country":"PHL","status":"rumoured"},"geometry":{"type":"Point","coordinates":[120,15]}},
        {"type":"Feature","properties":{"name":"","commodities":"","country":"Philippines"},"geometry":{"type":"LineString","coordinates":[[120,15],[121,16]]}}
    ]}"#;
    let set = read_bytes(bad, Format::GeoJson).expect("parses");
    let report = check(&set, Kind::Occurrences);
    let has = |feature: u64, field: Option<&str>, text: &str| {
        report.problems.iter().any(|p| {
            p.feature == Some(feature) && p.field.as_deref() == field && p.reason.contains(text)
        })
    };
    assert!(has(1, Some("commodities"), "Unobtainium"));
    assert!(has(1, Some("status"), "rumoured"));
    assert!(has(2, None, "Point"));
    assert!(has(2, Some("name"), "empty"));
    assert!(has(2, Some("commodities"), "required"));
    assert!(has(2, Some("country"), "Philippines"));
    assert_eq!(report.total, 6, "{:?}", report.problems);

    let geology = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"unit_name":"X"},"geometry":{"type":"Polygon","coordinates":[[[100,5],[101,5],[101,6],[100,5]]]}}]}"#;
    let report = check(
        &read_bytes(geology, Format::GeoJson).expect("parses"),
        Kind::Geology,
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.reason.contains("lithology or an age"))
    );
    let empty = br#"{"type":"FeatureCollection","features":[]}"#;
    assert!(
        check(
            &read_bytes(empty, Format::GeoJson).expect("parses"),
            Kind::Other
        )
        .problems[0]
            .reason
            .contains("no features")
    );
}
