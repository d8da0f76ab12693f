//! The upload data protocol, on the real occurrence data and the documented examples: what is
//! unambiguous is normalised and reported as a warning, the rest is an error that names the
//! feature by position, identifier and name.

mod common;

use amis_webgis::feature::{FeatureSet, Value};
use amis_webgis::protocol::{FieldMapping, Kind, MAX_REPORTED, Report, Severity, prepare};
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

fn geojson(text: &str) -> FeatureSet {
    read_bytes(text.as_bytes(), Format::GeoJson).expect("parses")
}

fn errors(report: &Report) -> Vec<&str> {
    report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.reason.as_str())
        .collect()
}

fn value<'a>(set: &'a FeatureSet, feature: usize, field: &str) -> &'a Value {
    &set.features[feature].properties[set.field_index(field).expect("field")]
}

#[test]
fn documented_examples_pass_their_kind_and_are_inferred() {
    for (file, kind) in [
        ("occurrences.geojson", Kind::Occurrences),
        ("geology.geojson", Kind::Geology),
        ("other.geojson", Kind::Other),
    ] {
        let report = prepare(&mut example(file), Some(kind), &FieldMapping::default());
        assert!(report.is_valid(), "{file}: {:?}", report.problems);
        let inferred = prepare(&mut example(file), None, &FieldMapping::default());
        assert_eq!(inferred.kind, kind.name(), "{file}");
        assert!(inferred.kind_inferred);
    }
    // And not the wrong kind.
    let report = prepare(
        &mut example("geology.geojson"),
        Some(Kind::Occurrences),
        &FieldMapping::default(),
    );
    assert!(errors(&report).iter().any(|r| r.contains("Point")));
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.field.as_deref() == Some("commodities") && p.feature.is_none())
    );
}

#[test]
fn the_bundled_compilation_publishes_as_it_is() {
    // Country names, records without a name or a commodity: all publishable, all reported.
    let mut set = real_occurrences();
    let report = prepare(&mut set, Some(Kind::Occurrences), &FieldMapping::default());
    assert!(report.is_valid(), "{:?}", errors(&report));
    assert_eq!(set.features.len(), 694);
    let count = |field: &str, reason: &str| {
        report
            .problems
            .iter()
            .filter(|p| p.field.as_deref() == Some(field) && p.reason.contains(reason))
            .count()
    };
    // The list shows the first 100 warnings; the totals are exact.
    assert_eq!(report.problems.len(), MAX_REPORTED);
    assert!(report.warnings > 694, "{}", report.warnings);
    let normalised = |from: &str, to: &str| {
        report
            .normalised
            .iter()
            .find(|n| n.field == "country" && n.from == from && n.to == to)
            .map_or(0, |n| n.features)
    };
    assert_eq!(normalised("Philippines", "PHL"), 316);
    assert_eq!(normalised("Vietnam", "VNM"), 40);
    assert_eq!(normalised("Laos", "LAO"), 23);
    assert!(count("name", "empty") + count("commodities", "no commodity") > 0);
    // Every country is now a code, and nothing else changed value.
    assert!(set.features.iter().all(|f| matches!(&f.properties[set.field_index("country").expect("country")], Value::String(s) if s.len() == 3)));
    let problem = &report.problems[0];
    assert!(
        problem.feature.is_some() && problem.id.is_some(),
        "{problem:?}"
    );
}

#[test]
fn values_are_normalised_and_reported() {
    let mut set = geojson(
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"id":"A-1","name":"  Nui  Phao ","commodities":"Nickel,Copper,Cobalt","country":"Viet Nam","status":"Past Producer"},"geometry":{"type":"Point","coordinates":[105.6,21.6]}},
        {"type":"Feature","properties":{"id":"A-2","name":"Batu Hijau","commodities":"au; CU | pge","country":"id"},"geometry":{"type":"MultiPoint","coordinates":[[116.8,-8.9]]}},
        {"type":"Feature","properties":{"id":"A-3","name":"Tampakan","commodities":"Copper, Gold, Copper","country":"the philippines"},"geometry":{"type":"Point","coordinates":[125.0,6.4]}}
    ]}"#,
    );
    let report = prepare(&mut set, Some(Kind::Occurrences), &FieldMapping::default());
    assert!(report.is_valid(), "{:?}", report.problems);
    assert_eq!(
        value(&set, 0, "commodities"),
        &Value::String("Nickel, Copper, Cobalt".into())
    );
    assert_eq!(value(&set, 0, "country"), &Value::String("VNM".into()));
    assert_eq!(value(&set, 0, "name"), &Value::String("Nui Phao".into()));
    assert_eq!(
        value(&set, 0, "status"),
        &Value::String("past producer".into())
    );
    assert_eq!(
        value(&set, 1, "commodities"),
        &Value::String("Gold, Copper, Platinum group elements".into())
    );
    assert_eq!(value(&set, 1, "country"), &Value::String("IDN".into()));
    assert!(matches!(set.features[1].geometry, geo::Geometry::Point(_)));
    assert_eq!(
        value(&set, 2, "commodities"),
        &Value::String("Copper, Gold".into())
    );
    assert_eq!(value(&set, 2, "country"), &Value::String("PHL".into()));
    // Each correction is a warning naming the feature by position, id and name.
    let au = report
        .problems
        .iter()
        .find(|p| p.reason.contains("\"au\""))
        .expect("the symbol's normalisation is reported");
    assert_eq!(
        (au.feature, au.id.as_deref(), au.name.as_deref()),
        (Some(2), Some("A-2"), Some("Batu Hijau"))
    );
    assert_eq!(au.severity, Severity::Warning);
    assert!(
        report
            .normalised
            .iter()
            .any(|n| n.field == "commodities" && n.from.contains("separator"))
    );
}

#[test]
fn what_cannot_be_corrected_is_an_error_naming_the_feature() {
    let mut set = geojson(
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"X9","name":"A","commodities":"Copper, Unobtainium","country":"PHL","status":"rumoured"},"geometry":{"type":"Point","coordinates":[120,15]}},
        {"type":"Feature","properties":{"code":"X10","name":"","commodities":"","country":"France"},"geometry":{"type":"LineString","coordinates":[[120,15],[121,16]]}}
    ]}"#,
    );
    let report = prepare(&mut set, Some(Kind::Occurrences), &FieldMapping::default());
    let has = |severity: Severity, feature: u64, field: Option<&str>, text: &str| {
        report.problems.iter().any(|p| {
            p.severity == severity
                && p.feature == Some(feature)
                && p.field.as_deref() == field
                && p.reason.contains(text)
        })
    };
    // A commodity no list knows is kept as written, with a warning: never an error.
    assert!(has(
        Severity::Warning,
        1,
        Some("commodities"),
        "Unobtainium"
    ));
    assert_eq!(
        value(&set, 0, "commodities"),
        &Value::String("Copper, Unobtainium".into())
    );
    assert!(has(Severity::Error, 1, Some("status"), "rumoured"));
    assert!(has(Severity::Error, 2, None, "Point"));
    assert!(has(Severity::Error, 2, Some("country"), "France"));
    assert!(has(Severity::Warning, 2, Some("name"), "empty"));
    assert!(has(
        Severity::Warning,
        2,
        Some("commodities"),
        "no commodity"
    ));
    assert_eq!(report.errors, 3, "{:?}", report.problems);
    assert!(!report.is_valid());
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.feature.is_none() || p.id.is_some()),
        "{:?}",
        report.problems
    );

    let mut geology = geojson(
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"unit_name":"X"},"geometry":{"type":"Polygon","coordinates":[[[100,5],[101,5],[101,6],[100,5]]]}}]}"#,
    );
    let report = prepare(&mut geology, Some(Kind::Geology), &FieldMapping::default());
    assert!(
        errors(&report)
            .iter()
            .any(|r| r.contains("lithology or an age"))
    );
    let report = prepare(
        &mut geojson(r#"{"type":"FeatureCollection","features":[]}"#),
        Some(Kind::Other),
        &FieldMapping::default(),
    );
    assert!(errors(&report)[0].contains("no features"));
}

#[test]
fn agencies_columns_are_mapped_given_or_recognised() {
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"NAMA_LOKASI":"Grasberg","KOMODITAS":"Cu, Au","Negara":"Indonesia"},"geometry":{"type":"Point","coordinates":[137.1,-4.05]}}]}"#;
    // Given with ?fields=, and Negara recognised by itself.
    let mut set = geojson(text);
    let mapping = FieldMapping::parse("name:NAMA_LOKASI,commodities:KOMODITAS").expect("valid");
    let report = prepare(&mut set, None, &mapping);
    assert!(report.is_valid(), "{:?}", report.problems);
    assert_eq!(report.kind, "occurrences");
    assert_eq!(value(&set, 0, "name"), &Value::String("Grasberg".into()));
    assert_eq!(
        value(&set, 0, "commodities"),
        &Value::String("Copper, Gold".into())
    );
    assert_eq!(value(&set, 0, "country"), &Value::String("IDN".into()));
    assert!(
        report
            .columns
            .iter()
            .any(|m| m.property == "country" && m.column == "Negara" && m.how == "recognised")
    );
    // A mapping to a column the file lacks is an error that lists the columns it has.
    let report = prepare(
        &mut geojson(text),
        None,
        &FieldMapping::parse("name:NAMA").expect("valid"),
    );
    assert!(
        errors(&report)[0].contains("NAMA_LOKASI"),
        "{:?}",
        report.problems
    );
    assert!(FieldMapping::parse("name").is_err());
    assert!(FieldMapping::parse("name:A,name:B").is_err());
}
