//! Every FlatGeobuf file GDAL reads is read by the server with GDAL's features, geometries and
//! values: the FlatGeobuf project's own test files and files GDAL writes (every geometry type,
//! Z and M, curves, every column type), against GDAL's reading of the same files recorded in
//! `tests/fixtures/fgb/expected/` by `tests/fixtures/make-fgb-corpus.sh`.

use std::path::{Path, PathBuf};

use amis_webgis::feature::{FeatureSet, Value};
use amis_webgis::source::{Format, read_bytes_lenient};
use serde_json::Value as Json;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fgb")
}

/// The corpus files with GDAL's reading of each.
fn corpus() -> Vec<(String, Vec<u8>, Json)> {
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "fgb"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("nogeom-"))
        })
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let expected_path = corpus_dir()
            .join("expected")
            .join(format!("{name}.geojson"));
        let expected: Json = serde_json::from_slice(
            &std::fs::read(&expected_path).unwrap_or_else(|e| panic!("{expected_path:?}: {e}")),
        )
        .expect("GDAL wrote valid JSON");
        out.push((name, std::fs::read(&path).expect("fixture"), expected));
    }
    out
}

/// Positions of a GeoJSON geometry, flattened in order, with the geometry's type tree.
fn flatten(geometry: &Json, shape: &mut String, coords: &mut Vec<(f64, f64)>) {
    let kind = geometry["type"].as_str().unwrap_or("?");
    shape.push_str(kind);
    shape.push('(');
    if kind == "GeometryCollection" {
        for g in geometry["geometries"].as_array().into_iter().flatten() {
            flatten(g, shape, coords);
        }
    } else {
        fn walk(v: &Json, shape: &mut String, coords: &mut Vec<(f64, f64)>) {
            match v.as_array() {
                Some(a) if a.first().is_some_and(Json::is_number) => {
                    coords.push((
                        a[0].as_f64().unwrap_or(f64::NAN),
                        a[1].as_f64().unwrap_or(f64::NAN),
                    ));
                }
                Some(a) => {
                    shape.push('[');
                    for item in a {
                        walk(item, shape, coords);
                    }
                    shape.push(']');
                }
                None => {}
            }
        }
        walk(&geometry["coordinates"], shape, coords);
    }
    shape.push(')');
}

fn same_value(name: &str, ours: &Value, gdal: Option<&Json>) -> Result<(), String> {
    let gdal = gdal.cloned().unwrap_or(Json::Null);
    let ours_json = ours.to_json();
    let equal = match (&ours_json, &gdal) {
        (Json::Number(a), Json::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
        }
        // GDAL writes JSON text as the JSON it holds.
        (Json::String(s), Json::Object(_) | Json::Array(_)) => {
            serde_json::from_str::<Json>(s).is_ok_and(|parsed| parsed == gdal)
        }
        // GDAL writes date-times in its own normal form; compare the instants' digits.
        (Json::String(a), Json::String(b)) if a != b => {
            let digits = |s: &str| -> String {
                s.trim_end_matches('Z')
                    .trim_end_matches("+00:00")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect()
            };
            let (da, db) = (digits(a), digits(b));
            !da.is_empty() && (da == db || format!("{da}000000") == db)
        }
        (a, b) => a == b,
    };
    if equal {
        Ok(())
    } else {
        Err(format!("property {name}: ours {ours_json}, GDAL's {gdal}"))
    }
}

fn compare(set: &FeatureSet, expected: &Json) -> Result<(), String> {
    let gdal: Vec<&Json> = expected["features"]
        .as_array()
        .ok_or("no features array")?
        .iter()
        .filter(|f| !f["geometry"].is_null())
        .collect();
    if gdal.len() != set.features.len() {
        return Err(format!(
            "{} features with geometry, GDAL has {}",
            set.features.len(),
            gdal.len()
        ));
    }
    for (i, (ours, theirs)) in set.features.iter().zip(&gdal).enumerate() {
        let ours_geometry =
            serde_json::to_value(geojson::Geometry::new(geojson::Value::from(&ours.geometry)))
                .map_err(|e| e.to_string())?;
        let (mut shape_a, mut coords_a) = (String::new(), Vec::new());
        let (mut shape_b, mut coords_b) = (String::new(), Vec::new());
        flatten(&ours_geometry, &mut shape_a, &mut coords_a);
        flatten(&theirs["geometry"], &mut shape_b, &mut coords_b);
        if shape_a != shape_b {
            return Err(format!("feature {i}: geometry {shape_a}, GDAL's {shape_b}"));
        }
        for (a, b) in coords_a.iter().zip(&coords_b) {
            if (a.0 - b.0).abs() > 1e-9 || (a.1 - b.1).abs() > 1e-9 {
                return Err(format!("feature {i}: position {a:?}, GDAL's {b:?}"));
            }
        }
        for (field, value) in set.fields.iter().zip(&ours.properties) {
            same_value(&field.name, value, theirs["properties"].get(&field.name))
                .map_err(|e| format!("feature {i}: {e}"))?;
        }
        let gdal_names = theirs["properties"].as_object().map_or(0, |p| p.len());
        let ours_named = set.fields.len();
        if gdal_names > ours_named {
            return Err(format!(
                "feature {i}: GDAL has {gdal_names} properties, we have {ours_named} columns"
            ));
        }
    }
    Ok(())
}

#[test]
fn every_file_gdal_reads_is_read_with_gdals_features_and_values() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "corpus has {} files", corpus.len());
    let mut failures = Vec::new();
    for (name, bytes, expected) in &corpus {
        match read_bytes_lenient(bytes, Format::FlatGeobuf) {
            Ok(set) if !set.invalid.is_empty() => {
                failures.push(format!("{name}: invalid features {:?}", set.invalid))
            }
            Ok(set) => {
                if let Err(e) = compare(&set, expected) {
                    failures.push(format!("{name}: {e}"));
                }
            }
            Err(e) => failures.push(format!("{name}: refused: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from GDAL:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

#[test]
fn files_without_geometries_read_with_nothing_to_map() {
    for name in ["countries_nogeo", "empty", "binary_wkb"] {
        let path = corpus_dir().join(format!("nogeom-fgb-project-{name}.fgb"));
        let set = read_bytes_lenient(&std::fs::read(&path).expect("fixture"), Format::FlatGeobuf)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(set.features.is_empty(), "{name}");
        assert!(!set.fields.is_empty(), "{name} keeps its schema");
    }
}

#[test]
fn z_and_m_are_dropped_and_curves_are_linearised() {
    let read = |name: &str| {
        read_bytes_lenient(
            &std::fs::read(corpus_dir().join(format!("gdal-{name}.fgb"))).expect("fixture"),
            Format::FlatGeobuf,
        )
        .expect("reads")
    };
    let z = read("point-z");
    assert!(
        z.features.iter().any(
            |f| matches!(f.geometry, geo::Geometry::Point(p) if p.x() == 100.5 && p.y() == 13.75)
        ),
        "the 3D point keeps its x and y"
    );
    let arc = read("circularstring");
    let geo::Geometry::LineString(line) = &arc.features[0].geometry else {
        panic!("a CircularString becomes a LineString")
    };
    // 100 13 → 101 14 → 102 13 is a half circle of radius 1 around (101, 13).
    assert!(line.0.len() > 40);
    for c in &line.0 {
        let r = ((c.x - 101.0).powi(2) + (c.y - 13.0).powi(2)).sqrt();
        assert!((r - 1.0).abs() < 1e-9, "{c:?} is off the arc");
    }
}
