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
    assert_eq!(set.features.len(), 694);
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
    assert_eq!(set.features.len(), 694);
    let header =
        flatgeobuf::size_prefixed_root_as_header(&bytes[8..header_end(&bytes)]).expect("header");
    let index = flatgeobuf::packed_r_tree::PackedRTree::index_size(694, header.index_node_size());
    let first_feature = header_end(&bytes) + index;
    let mut bogus_size = bytes.clone();
    bogus_size[first_feature..first_feature + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let message = assert_refused(&bogus_size, Format::FlatGeobuf, "bogus feature size");
    assert!(message.contains("feature 1"), "{message}");

    // Corrupt bytes inside a feature's flatbuffer (property lengths, offsets).
    for i in (first_feature + 8..first_feature + 200).step_by(7) {
        let mut corrupt = bytes.clone();
        corrupt[i] ^= 0xff;
        // Either refused, naming the feature, or (if the flip hit a harmless byte) read in
        // full; never a contained panic.
        match read_bytes(&corrupt, Format::FlatGeobuf) {
            Ok(set) => assert_eq!(set.features.len() + set.invalid.total(), 694, "byte {i}"),
            Err(SourceError::ParserPanic(p)) => panic!("byte {i}: the reader panicked: {p}"),
            Err(e) => assert!(e.to_string().contains("feature 1"), "byte {i}: {e}"),
        }
    }
}

#[test]
fn huge_feature_count_is_refused() {
    // A header that claims a billion features and no index, followed by nothing.
    let bytes = occurrences_fgb();
    let mut header = bytes[..header_end(&bytes)].to_vec();
    // features_count is a u64 in the flatbuffer; find the 694 and raise it.
    let pos = header
        .windows(8)
        .position(|w| w == 694u64.to_le_bytes())
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
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::999999"}},"features":[]}"#,
            "999999",
        ),
        // An unclosed ring is refused wherever it is, a collection's member too.
        (
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[100,5]},{"type":"Polygon","coordinates":[[[100,5],[101,5],[101,6],[100,6]]]}]}}]}"#,
            "member 2 polygon 1 ring 1 is not closed",
        ),
        ("{not json", "JSON"),
    ];
    // An empty geometry is none, in every reader: skipped with a warning, not an error.
    for empty in [
        r#"{"type":"LineString","coordinates":[]}"#,
        r#"{"type":"MultiPolygon","coordinates":[]}"#,
        r#"{"type":"GeometryCollection","geometries":[]}"#,
    ] {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{empty}}},{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[100,5]}}}}]}}"#
        );
        let set = read_bytes(text.as_bytes(), Format::GeoJson).expect("read");
        assert_eq!(set.features.len(), 1, "{empty}");
        assert_eq!(set.features[0].id, 2, "ids stay positions in the file");
        assert!(
            set.warnings.iter().any(|w| w.contains("empty one")),
            "{empty}: {:?}",
            set.warnings
        );
    }
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

/// Every bundled file read from disk (streamed) gives the same layer as from memory, and the
/// streamed hash is the one-shot hash: ETags stay stable across the change of reader.
#[test]
fn streamed_files_match_in_memory_reads() {
    use amis_webgis::source::read_path;
    for file in [
        "minerals/asean_mineral_occurrences.fgb",
        "geology/gem_active_faults_sea_2017.fgb",
        "boundaries/asean_countries_ne10m.fgb",
        "basemap/world_countries_ne50m.fgb",
        "basemap/populated_places.fgb",
        "basemap/rivers.fgb",
    ] {
        let path = common::data_dir().join(file);
        let bytes = std::fs::read(&path).expect("bundled file");
        let format = Format::from_path(&path).expect("known format");
        let in_memory = read_bytes(&bytes, format).expect("valid");
        let streamed = read_path(&path).expect("valid");
        assert_eq!(
            streamed.content_hash,
            xxhash_rust::xxh3::xxh3_64(&bytes),
            "{file}"
        );
        assert_eq!(streamed.features.fields, in_memory.fields, "{file}");
        assert_eq!(
            streamed.features.features.len(),
            in_memory.features.len(),
            "{file}"
        );
        for (a, b) in streamed.features.features.iter().zip(&in_memory.features) {
            assert_eq!(
                (a.id, &a.geometry, &a.properties),
                (b.id, &b.geometry, &b.properties)
            );
        }
        assert!(!in_memory.features.is_empty(), "{file}");
    }
}

#[test]
fn geojson_members_may_come_in_any_order() {
    let point = |x: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"n":{x}}},"geometry":{{"type":"Point","coordinates":[{x},1]}}}}"#
        )
    };
    // `features` before `type`, `crs` last, a foreign member that must not be kept.
    let text = format!(
        r#"{{"features":[{},{}],"name":"x","type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}}}}}"#,
        point(100.0),
        point(101.5)
    );
    let set = read_bytes(text.as_bytes(), Format::GeoJson).expect("valid");
    assert_eq!(set.features.len(), 2);
    assert_eq!(set.features[1].id, 2);

    // A CRS named after the features still applies to them: 100 m east of the origin in
    // Web Mercator is 0.000898° of longitude.
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}],"crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::3857"}}}}}}"#,
        point(100.0)
    );
    let set = read_bytes(text.as_bytes(), Format::GeoJson).expect("reprojected");
    let geo::Geometry::Point(p) = set.features[0].geometry else {
        panic!("a point")
    };
    assert!((p.x() - 0.000_898_315_284).abs() < 1e-9, "{p:?}");
    assert_eq!(
        set.crs.as_deref(),
        Some("EPSG:3857 (WGS 84 / Pseudo-Mercator)")
    );

    // A single Feature, and a bare geometry, are layers of one feature.
    let set = read_bytes(point(102.0).as_bytes(), Format::GeoJson).expect("a Feature");
    assert_eq!((set.features.len(), set.fields.len()), (1, 1));
    let set = read_bytes(
        br#"{"coordinates":[100,5],"type":"Point"}"#,
        Format::GeoJson,
    )
    .expect("a geometry");
    assert_eq!(set.features.len(), 1);

    for (text, mentions) in [
        (
            format!(r#"{{"type":"Feature","features":[{}]}}"#, point(1.0)),
            "FeatureCollection",
        ),
        (r#"{"type":"FeatureCollection"}"#.to_string(), "features"),
        (
            r#"{"type":"FeatureCollection","features":{}}"#.to_string(),
            "array",
        ),
        (
            format!(
                r#"{{"type":"FeatureCollection","features":[{},{{"type":"Fish"}}]}}"#,
                point(1.0)
            ),
            "feature 2",
        ),
        (
            format!(
                r#"{{"type":"FeatureCollection","features":[{}]}} trailing"#,
                point(1.0)
            ),
            "trailing",
        ),
        (r#"{"features":[]}"#.to_string(), "type"),
    ] {
        let message = assert_refused(text.as_bytes(), Format::GeoJson, mentions);
        assert!(
            message.contains(mentions),
            "{message:?} should mention {mentions:?}"
        );
    }
}

/// A column's type is only known after the last feature: earlier values are converted to it.
#[test]
fn geojson_column_types_widen_across_features() {
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[100,1]},
         "properties":{"only_null":null,"later_bool":null,"int_then_float":1,"mixed":7,"list":[1,2]}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[101,1]},
         "properties":{"int_then_float":1.5,"mixed":"n/a","later_bool":true,"big":1e300}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[102,1]},
         "properties":{"mixed":0.25}}]}"#;
    let set = read_bytes(text.as_bytes(), Format::GeoJson).expect("valid");
    use amis_webgis::feature::{FieldType::*, Value};
    let schema: Vec<_> = set
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.field_type))
        .collect();
    assert_eq!(
        schema,
        // First appearance; serde_json orders each feature's properties by name.
        [
            ("int_then_float", Number),
            ("later_bool", Boolean),
            ("list", String),
            ("mixed", String),
            ("only_null", String),
            ("big", Number),
        ]
    );
    let column = |name: &str| -> Vec<Value> {
        let idx = set.field_index(name).expect("field");
        set.features
            .iter()
            .map(|f| f.properties[idx].clone())
            .collect()
    };
    let text = |s: &str| Value::String(s.into());
    assert_eq!(
        column("int_then_float"),
        [Value::Float(1.0), Value::Float(1.5), Value::Null]
    );
    assert_eq!(column("mixed"), [text("7"), text("n/a"), text("0.25")]);
    assert_eq!(column("list"), [text("[1,2]"), Value::Null, Value::Null]);
    assert_eq!(
        column("later_bool"),
        [Value::Null, Value::Bool(true), Value::Null]
    );
    assert_eq!(column("big")[1], Value::Float(1e300));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any strict prefix of a real FlatGeobuf file is refused by the guards, not by a panic.
    #[test]
    fn every_prefix_of_a_flatgeobuf_file_is_refused(cut_per_mille in 0usize..1000) {
        let bytes = occurrences_fgb();
        let cut = bytes.len() * cut_per_mille / 1000;
        assert_refused(&bytes[..cut], Format::FlatGeobuf, &format!("cut at {cut}"));
    }
}

proptest::proptest! {
    // Each case parses up to 1.2 MB of JSON; fewer cases keep the debug-build test quick.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any prefix of a real GeoJSON file is refused (an unterminated document), by the reader.
    #[test]
    fn every_prefix_of_a_geojson_file_is_refused(cut_per_mille in 0usize..1000) {
        let bytes = std::fs::read(common::data_dir().join("../tests/fixtures/fgb/expected/fgb-project-countries.geojson"))
            .expect("bundled file");
        let cut = bytes.len() * cut_per_mille / 1000;
        assert_refused(&bytes[..cut], Format::GeoJson, &format!("cut at {cut}"));
    }
}

#[test]
fn decoding_stops_at_the_memory_budget() {
    use amis_webgis::source::{Budget, ReadOptions, read_stream};
    let bytes = occurrences_fgb();
    let read = |budget| {
        read_stream(
            std::io::Cursor::new(&bytes),
            bytes.len() as u64,
            Format::FlatGeobuf,
            &ReadOptions::default(),
            budget,
        )
    };
    let set = read(Budget::UNLIMITED).expect("fits");
    // Geometry, property slots and index entries, and the distinct text.
    let needed = set.decoded_bytes;
    assert!(needed > set.features.iter().map(|f| f.approx_bytes()).sum::<u64>());
    // What is kept, and room for the one feature being built (its buffer, positions, rings).
    assert!(read(Budget::bytes(needed + 4096)).is_ok());
    let refused = read(Budget::bytes(needed - 1)).expect_err("over budget");
    assert!(
        matches!(refused, SourceError::OverBudget(limit) if limit == needed - 1),
        "{refused}"
    );
    let csv = b"name,longitude,latitude\na,100,5\nb,101,6\n";
    let over = read_stream(
        std::io::Cursor::new(csv),
        csv.len() as u64,
        Format::Csv,
        &ReadOptions::default(),
        Budget::bytes(10),
    );
    assert!(matches!(over, Err(SourceError::OverBudget(10))));
}

/// A zipped one-point Shapefile whose `.dbf` has one text field, written byte by byte so the
/// field name, the value, the language byte and the `.cpg` are whatever a test needs.
fn point_shapefile(
    name: &[u8],
    value: &[u8],
    language: u8,
    cpg: Option<&str>,
    prj: Option<&str>,
) -> Vec<u8> {
    let mut shp = Vec::new();
    shp.extend(9994i32.to_be_bytes());
    shp.extend([0u8; 20]);
    shp.extend(((100 + 8 + 20) / 2i32).to_be_bytes());
    shp.extend(1000i32.to_le_bytes());
    shp.extend(1i32.to_le_bytes());
    for v in [100.5f64, 5.5, 100.5, 5.5, 0.0, 0.0, 0.0, 0.0] {
        shp.extend(v.to_le_bytes());
    }
    shp.extend(1i32.to_be_bytes());
    shp.extend(10i32.to_be_bytes());
    shp.extend(1i32.to_le_bytes());
    shp.extend(100.5f64.to_le_bytes());
    shp.extend(5.5f64.to_le_bytes());
    let width = 32u8;
    let mut dbf = vec![0x03, 126, 1, 1];
    dbf.extend(1u32.to_le_bytes());
    dbf.extend((32u16 + 32 + 1).to_le_bytes());
    dbf.extend((1u16 + u16::from(width)).to_le_bytes());
    dbf.extend([0u8; 20]);
    dbf[29] = language;
    let mut field = [0u8; 32];
    field[..name.len()].copy_from_slice(name);
    field[11] = b'C';
    field[16] = width;
    dbf.extend(field);
    dbf.push(0x0d);
    dbf.push(b' ');
    let mut cell = value.to_vec();
    cell.resize(usize::from(width), b' ');
    dbf.extend(cell);
    dbf.push(0x1a);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut members: Vec<(&str, Vec<u8>)> = vec![("p.shp", shp), ("p.dbf", dbf)];
    if let Some(cpg) = cpg {
        members.push(("p.cpg", cpg.as_bytes().to_vec()));
    }
    if let Some(prj) = prj {
        members.push(("p.prj", prj.as_bytes().to_vec()));
    }
    for (member, bytes) in members {
        zip.start_file(member, options).expect("member");
        std::io::Write::write_all(&mut zip, &bytes).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

fn read_with(
    bytes: &[u8],
    format: Format,
    options: &amis_webgis::source::ReadOptions,
) -> Result<amis_webgis::feature::FeatureSet, SourceError> {
    amis_webgis::source::read_stream(
        std::io::Cursor::new(bytes),
        bytes.len() as u64,
        format,
        options,
        amis_webgis::source::Budget::UNLIMITED,
    )
}

#[test]
fn dbf_names_are_decoded_once_and_encoding_overrides_the_language_byte() {
    use amis_webgis::feature::Value;
    use amis_webgis::source::ReadOptions;
    let thai = |s: &str| encoding_rs::WINDOWS_874.encode(s).0.into_owned();
    let (name, value) = (thai("ชื่อ"), thai("ขอนแก่น"));
    // A .cpg names the code page: the field name is Thai, not mojibake of a second decoding.
    let set = read_with(
        &point_shapefile(&name, &value, 0, Some("CP874"), None),
        Format::Shapefile,
        &ReadOptions::default(),
    )
    .expect("read");
    assert_eq!(set.fields[0].name, "ชื่อ");
    assert_eq!(
        set.features[0].properties[0],
        Value::String("ขอนแก่น".into())
    );
    // ArcGIS writes language byte 0x57 (Windows-1252) whatever the text is: ?encoding= wins,
    // and the report says the file named another.
    let mut options = ReadOptions {
        encoding: Some("TIS-620".into()),
        ..ReadOptions::default()
    };
    let set = read_with(
        &point_shapefile(&name, &value, 0x57, None, None),
        Format::Shapefile,
        &options,
    )
    .expect("read");
    assert_eq!(set.fields[0].name, "ชื่อ");
    assert_eq!(
        set.features[0].properties[0],
        Value::String("ขอนแก่น".into())
    );
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("0x57") && w.contains("?encoding=")),
        "{:?}",
        set.warnings
    );
    // The same code page named twice is no news.
    let set = read_with(
        &point_shapefile(&name, &value, 0x7c, None, None),
        Format::Shapefile,
        &options,
    )
    .expect("read");
    assert!(
        set.warnings.iter().all(|w| !w.contains("?encoding=")),
        "{:?}",
        set.warnings
    );
    options.encoding = Some("klingon".into());
    let refused = read_with(
        &point_shapefile(&name, &value, 0x57, None, None),
        Format::Shapefile,
        &options,
    )
    .expect_err("unknown code page");
    assert!(refused.to_string().contains("klingon"), "{refused}");
}

#[test]
fn crs_overrides_an_unidentifiable_declaration_and_geocentric_is_refused() {
    use amis_webgis::source::ReadOptions;
    let prj = r#"PROJCS["Some_Local_Grid",GEOGCS["GCS_Unknown",DATUM["D_Unknown",SPHEROID["Unknown",6377276.345,300.8017]],PRIMEM["Greenwich",0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],UNIT["Meter",1]]"#;
    let zipped = point_shapefile(b"NAME", b"A", 0, None, Some(prj));
    let refused =
        read_with(&zipped, Format::Shapefile, &ReadOptions::default()).expect_err("unidentified");
    assert!(refused.to_string().contains("?crs="), "{refused}");
    // The file's points are in fact longitude/latitude: ?crs=EPSG:4326 says so, with a note.
    let options = ReadOptions {
        crs: Some(4326),
        ..ReadOptions::default()
    };
    let set = read_with(&zipped, Format::Shapefile, &options).expect("read as ?crs= says");
    assert_eq!(set.features.len(), 1);
    assert!(
        set.warnings
            .iter()
            .any(|w| w.contains("Some_Local_Grid") && w.contains("?crs=")),
        "{:?}",
        set.warnings
    );
    // Geocentric X/Y/Z are not positions on a map: refused, named.
    let geojson = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4978"}},"features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-1000000,6000000]}}]}"#;
    let refused =
        read_with(geojson, Format::GeoJson, &ReadOptions::default()).expect_err("geocentric");
    let message = refused.to_string();
    assert!(
        message.contains("EPSG:4978") && message.contains("geocentric"),
        "{message}"
    );
}

#[test]
fn a_geopackage_geometry_naming_another_srs_is_reported() {
    let path = std::env::temp_dir().join(format!("amis-srs-mismatch-{}.gpkg", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let blob = |srs: i32| {
        let mut out = b"GP".to_vec();
        out.extend([0u8, 1]);
        out.extend(srs.to_le_bytes());
        out.push(1);
        out.extend(1u32.to_le_bytes());
        out.extend(100.5f64.to_le_bytes());
        out.extend(5.5f64.to_le_bytes());
        out
    };
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute_batch(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
             organization_coordsys_id INTEGER, definition TEXT, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, srs_id INTEGER);
         INSERT INTO gpkg_contents VALUES ('t', 'features', 't', 4326);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
             srs_id INTEGER, z TINYINT, m TINYINT);
         INSERT INTO gpkg_geometry_columns VALUES ('t', 'geom', 'POINT', 4326, 0, 0);
         CREATE TABLE t (fid INTEGER PRIMARY KEY, geom BLOB);",
    )
    .expect("schema");
    for (fid, srs) in [(1, 4326), (2, 3857), (3, 4326)] {
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![fid, blob(srs)],
        )
        .expect("row");
    }
    drop(conn);
    let bytes = std::fs::read(&path).expect("gpkg");
    let set = read_bytes(&bytes, Format::GeoPackage).expect("read");
    assert_eq!(set.features.len(), 3);
    assert!(
        set.warnings
            .iter()
            .any(|w| w
                .starts_with("1 geometry blob(s) name another srs_id than their column's (4326)")),
        "{:?}",
        set.warnings
    );
    std::fs::remove_file(&path).ok();
}
