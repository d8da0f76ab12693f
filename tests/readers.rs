//! Layer files that lie, are truncated or are simply wrong give a clear error, never a
//! panic or a huge allocation; at start-up a bad file is skipped and the rest still load.

mod common;

use amis_webgis::catalog::load_data_dir;
use amis_webgis::source::{Format, SourceError, read_bytes};

fn occurrences_fgb() -> Vec<u8> {
    std::fs::read(common::data_dir().join("minerals/asean_mineral_occurrences.fgb"))
        .expect("bundled file")
}

fn header_end(bytes: &[u8]) -> usize {
    12 + u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize
}

fn assert_refused(bytes: &[u8], format: Format, what: &str) -> String {
    match read_bytes(bytes, format) {
        Ok(set) => panic!("{what}: accepted with {} features", set.features.len()),
        Err(e) => {
            assert!(
                !matches!(e, SourceError::ParserPanic(_)),
                "{what}: the guards should catch this before a panic: {e}"
            );
            e.to_string()
        }
    }
}

#[test]
fn bundled_flatgeobuf_reads_completely() {
    let set = read_bytes(&occurrences_fgb(), Format::FlatGeobuf).expect("valid");
    assert_eq!(set.features.len(), 714);
    assert!(set.fields.iter().any(|f| f.name == "primary_commodity"));
}

#[test]
fn truncated_flatgeobuf_is_refused() {
    let bytes = occurrences_fgb();
    for cut in [
        5,
        11,
        100,
        header_end(&bytes) + 10,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        assert_refused(&bytes[..cut], Format::FlatGeobuf, &format!("cut at {cut}"));
    }
}

#[test]
fn lying_headers_are_refused_without_allocating() {
    let bytes = occurrences_fgb();
    // Header size pointing past the end of the file.
    let mut huge_header = bytes.clone();
    huge_header[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_refused(&huge_header, Format::FlatGeobuf, "huge header size");

    // A bogus size prefix on the first feature (after the index).
    let set = read_bytes(&bytes, Format::FlatGeobuf).expect("valid");
    assert_eq!(set.features.len(), 714);
    let header =
        flatgeobuf::size_prefixed_root_as_header(&bytes[8..header_end(&bytes)]).expect("header");
    let index = flatgeobuf::packed_r_tree::PackedRTree::index_size(714, header.index_node_size());
    let first_feature = header_end(&bytes) + index;
    let mut bogus_size = bytes.clone();
    bogus_size[first_feature..first_feature + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let message = assert_refused(&bogus_size, Format::FlatGeobuf, "bogus feature size");
    assert!(message.contains("feature 1"), "{message}");

    // Corrupt bytes inside a feature's flatbuffer (property lengths, offsets).
    for i in (first_feature + 8..first_feature + 200).step_by(7) {
        let mut corrupt = bytes.clone();
        corrupt[i] ^= 0xff;
        // Either refused or (if the flip hit a harmless byte) read in full; never a panic.
        if let Err(e) = read_bytes(&corrupt, Format::FlatGeobuf) {
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn huge_feature_count_is_refused() {
    // A header that claims a billion features and no index, followed by nothing.
    let bytes = occurrences_fgb();
    let mut header = bytes[..header_end(&bytes)].to_vec();
    // features_count is a u64 in the flatbuffer; find the 714 and raise it.
    let pos = header
        .windows(8)
        .position(|w| w == 714u64.to_le_bytes())
        .expect("features_count field");
    header[pos..pos + 8].copy_from_slice(&1_000_000_000u64.to_le_bytes());
    let message = assert_refused(&header, Format::FlatGeobuf, "billion features");
    assert!(message.contains("1000000000"), "{message}");

    // The real body with a count that is off by one is refused too.
    let mut lying = bytes.clone();
    lying[pos..pos + 8].copy_from_slice(&713u64.to_le_bytes());
    assert_refused(&lying, Format::FlatGeobuf, "count off by one");
}

#[test]
fn geojson_errors_name_the_problem() {
    let cases = [
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500000,4000000]}}]}"#,
            "outside",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[100]}}]}"#,
            "GeoJSON",
        ),
        (
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[]}"#,
            "3857",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[]}}]}"#,
            "empty",
        ),
        ("{not json", "JSON"),
    ];
    for (text, mentions) in cases {
        let message = assert_refused(text.as_bytes(), Format::GeoJson, mentions);
        assert!(
            message.contains(mentions),
            "{message:?} should mention {mentions:?}"
        );
    }
    // NaN cannot be written in JSON; a CSV can carry it.
    let message = assert_refused(b"name,longitude,latitude\na,NaN,5\n", Format::Csv, "NaN");
    assert!(message.contains("finite"), "{message}");
    let message = assert_refused(b"name,longitude,latitude\na,inf,5\n", Format::Csv, "inf");
    assert!(message.contains("finite"), "{message}");
}

#[test]
fn csv_points_are_read_with_types() {
    let set = read_bytes(
        b"name,count,share,longitude,latitude\nA,3,0.5,100.5,5.25\nB,,1,101,6\n",
        Format::Csv,
    )
    .expect("valid csv");
    assert_eq!(set.features.len(), 2);
    let types: Vec<_> = set
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.field_type))
        .collect();
    use amis_webgis::feature::FieldType::*;
    assert_eq!(
        types,
        [("name", String), ("count", Integer), ("share", Number)]
    );
}

#[test]
fn startup_skips_a_bad_file_and_loads_the_rest() {
    let dir = std::env::temp_dir().join(format!("amis-readers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = occurrences_fgb();
    std::fs::write(dir.join("good.fgb"), &good).expect("write");
    std::fs::write(dir.join("truncated.fgb"), &good[..good.len() / 3]).expect("write");
    std::fs::write(
        dir.join("layers.toml"),
        r#"
[[layer]]
id = "good"
file = "good.fgb"
title = "Good"

[[layer]]
id = "broken"
file = "truncated.fgb"
title = "Broken"

[[layer]]
id = "escape"
file = "../../etc/passwd"
title = "Escape"
"#,
    )
    .expect("write");
    let report = load_data_dir(&dir).expect("manifest is fine");
    assert_eq!(report.layers.len(), 1);
    assert_eq!(report.layers[0].meta.id, "good");
    let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("truncated.fgb") && errors[0].contains("truncated"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("escape"), "{}", errors[1]);
    std::fs::remove_dir_all(&dir).ok();
}
