//! Deterministic SYNTHETIC data for benchmarks and load tests. Never shipped in `data/`.
//!
//! Points are scattered around the real occurrence locations with their commodity mix
//! (sample a real occurrence, jitter it); parcels are small quadrilaterals around the same
//! places. The same seed always gives the same bytes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use amis_webgis::feature::{FeatureSet, Value};
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::{ColumnValue, PropertyProcessor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const SEED: u64 = 20_261_125;

/// The real occurrences: (lon, lat, primary commodity, commodities, country, deposit group).
fn real_occurrences(data_dir: &Path) -> Vec<(f64, f64, [String; 4])> {
    let set: FeatureSet =
        amis_webgis::source::read_path(&data_dir.join("minerals/asean_mineral_occurrences.fgb"))
            .expect("bundled occurrences readable")
            .features;
    let col = |name: &str| set.field_index(name).expect("occurrence field");
    let cols = [
        col("primary_commodity"),
        col("commodities"),
        col("country"),
        col("deposit_group"),
    ];
    set.features
        .iter()
        .map(|f| {
            let geo::Geometry::Point(p) = f.geometry else {
                panic!("occurrences are points")
            };
            let text = |i: usize| match &f.properties[i] {
                Value::String(s) => s.to_string(),
                _ => String::new(),
            };
            (p.x(), p.y(), cols.map(text))
        })
        .collect()
}

/// Gaussian jitter (Box–Muller), clamped to valid coordinates.
fn jitter(rng: &mut ChaCha8Rng, lon: f64, lat: f64, sigma: f64) -> (f64, f64) {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    let r = (-2.0 * u1.ln()).sqrt() * sigma;
    let t = std::f64::consts::TAU * u2;
    (
        (lon + r * t.cos()).clamp(-180.0, 180.0),
        (lat + r * t.sin()).clamp(-85.0, 85.0),
    )
}

fn writer<'a>(name: &str, ty: GeometryType, columns: &[(&str, ColumnType)]) -> FgbWriter<'a> {
    let options = FgbWriterOptions {
        write_index: true,
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(name, ty, options).expect("fgb writer");
    for (column, ty) in columns {
        fgb.add_column(column, *ty, |_, c| c.nullable = true);
    }
    fgb
}

/// Writes `count` synthetic occurrence points to `out` as FlatGeobuf.
pub fn write_points(data_dir: &Path, count: usize, out: &Path) {
    let real = real_occurrences(data_dir);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let names = [
        "name",
        "primary_commodity",
        "commodities",
        "country",
        "deposit_group",
    ];
    let mut fgb = writer(
        "synthetic-occurrences",
        GeometryType::Point,
        &names.map(|n| (n, ColumnType::String)),
    );
    for i in 0..count {
        let (lon, lat, props) = &real[rng.random_range(0..real.len())];
        // Most points near a real site, some spread over the district.
        let sigma = if rng.random::<f64>() < 0.7 { 0.05 } else { 0.6 };
        let (x, y) = jitter(&mut rng, *lon, *lat, sigma);
        let name = format!("Synthetic occurrence {i}");
        fgb.add_feature_geom(geo::Geometry::Point(geo::Point::new(x, y)), |w| {
            let values = [name.as_str(), &props[0], &props[1], &props[2], &props[3]];
            for (idx, (column, value)) in names.iter().zip(values).enumerate() {
                w.property(idx, column, &ColumnValue::String(value))
                    .expect("property");
            }
        })
        .expect("feature");
    }
    let file = std::io::BufWriter::new(std::fs::File::create(out).expect("create"));
    fgb.write(file).expect("write fgb");
}

/// Writes `count` synthetic parcels (quadrilaterals of roughly 1-4 km) as FlatGeobuf.
pub fn write_parcels(data_dir: &Path, count: usize, out: &Path) {
    let real = real_occurrences(data_dir);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let columns = [
        ("holder", ColumnType::String),
        ("status", ColumnType::String),
        ("area_km2", ColumnType::Double),
    ];
    let mut fgb = writer("synthetic-parcels", GeometryType::Polygon, &columns);
    let statuses = ["exploration", "mining", "application", "relinquished"];
    for i in 0..count {
        let (lon, lat, _) = &real[rng.random_range(0..real.len())];
        let (x, y) = jitter(&mut rng, *lon, *lat, 0.4);
        let (w, h) = (
            0.01 + rng.random::<f64>() * 0.03,
            0.01 + rng.random::<f64>() * 0.03,
        );
        let skew = rng.random::<f64>() * 0.005;
        let ring = vec![
            (x, y),
            (x + w, y + skew),
            (x + w + skew, y + h),
            (x, y + h),
            (x, y),
        ];
        let polygon = geo::Polygon::new(geo::LineString::from(ring), vec![]);
        let holder = format!("Synthetic holder {}", i % 997);
        let status = statuses[i % statuses.len()];
        let area = w * h * 111.0 * 111.0 * lat.to_radians().cos();
        fgb.add_feature_geom(geo::Geometry::Polygon(polygon), |wr| {
            wr.property(0, "holder", &ColumnValue::String(&holder))
                .expect("property");
            wr.property(1, "status", &ColumnValue::String(status))
                .expect("property");
            wr.property(2, "area_km2", &ColumnValue::Double(area))
                .expect("property");
        })
        .expect("feature");
    }
    let file = std::io::BufWriter::new(std::fs::File::create(out).expect("create"));
    fgb.write(file).expect("write fgb");
}

/// Writes `count` synthetic occurrence points, in the bundled schema's main columns, as a
/// zipped Shapefile in the projected CRS `epsg` (e.g. 32648, WGS 84 / UTM 48N), the way an
/// agency would send them: `.shp`, `.shx`, `.dbf`, `.prj`, `.cpg` in one zip.
pub fn write_points_shapefile(data_dir: &Path, count: usize, epsg: u16, out: &Path) {
    use std::io::Write;
    let real = real_occurrences(data_dir);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 2);
    let def = crs_definitions::from_code(epsg).expect("EPSG definition");
    let from =
        proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").expect("wgs84");
    let to = proj4rs::Proj::from_proj_string(def.proj4).expect("target CRS");
    // DBF columns: name, commodities, country, deposit group (text, fixed width).
    let columns: [(&str, usize); 4] = [
        ("name", 40),
        ("commoditie", 254),
        ("country", 20),
        ("deposit_gr", 40),
    ];
    let record_len = 1 + columns.iter().map(|(_, w)| w).sum::<usize>();
    let mut shp = Vec::with_capacity(100 + count * 28);
    let mut shx = Vec::with_capacity(100 + count * 8);
    let mut dbf = Vec::with_capacity(33 + 32 * columns.len() + count * record_len);
    let header = |file_words: usize, bbox: [f64; 4]| {
        let mut h = vec![0u8; 100];
        h[..4].copy_from_slice(&9994i32.to_be_bytes());
        h[24..28].copy_from_slice(&(file_words as i32).to_be_bytes());
        h[28..32].copy_from_slice(&1000i32.to_le_bytes());
        h[32..36].copy_from_slice(&1i32.to_le_bytes());
        for (i, v) in bbox.iter().enumerate() {
            h[36 + 8 * i..44 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        h
    };
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut records = Vec::with_capacity(count);
    for i in 0..count {
        let (lon, lat, props) = &real[rng.random_range(0..real.len())];
        let sigma = if rng.random::<f64>() < 0.7 { 0.05 } else { 0.6 };
        let (x, y) = jitter(&mut rng, *lon, *lat, sigma);
        let mut p = (x.to_radians(), y.to_radians(), 0.0);
        proj4rs::transform::transform(&from, &to, &mut p).expect("projects");
        bbox = [
            bbox[0].min(p.0),
            bbox[1].min(p.1),
            bbox[2].max(p.0),
            bbox[3].max(p.1),
        ];
        records.push((
            p.0,
            p.1,
            [
                format!("Synthetic occurrence {i}"),
                props[1].clone(),
                props[2].clone(),
                props[3].clone(),
            ],
        ));
    }
    shp.extend(header((100 + count * 28) / 2, bbox));
    shx.extend(header((100 + count * 8) / 2, bbox));
    dbf.extend([3u8, 126, 11, 26]);
    dbf.extend((count as u32).to_le_bytes());
    dbf.extend(((33 + 32 * columns.len()) as u16).to_le_bytes());
    dbf.extend((record_len as u16).to_le_bytes());
    dbf.extend([0u8; 20]);
    for (name, width) in columns {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = b'C';
        d[16] = width as u8;
        dbf.extend(d);
    }
    dbf.push(0x0d);
    for (i, (x, y, values)) in records.iter().enumerate() {
        shx.extend(((100 + i * 28) as i32 / 2).to_be_bytes());
        shx.extend(10i32.to_be_bytes());
        shp.extend(((i + 1) as i32).to_be_bytes());
        shp.extend(10i32.to_be_bytes());
        shp.extend(1i32.to_le_bytes());
        shp.extend(x.to_le_bytes());
        shp.extend(y.to_le_bytes());
        dbf.push(b' ');
        for ((_, width), value) in columns.iter().zip(values) {
            let mut cell = value.as_bytes().to_vec();
            cell.truncate(*width);
            cell.resize(*width, b' ');
            dbf.extend(cell);
        }
    }
    dbf.push(0x1a);
    let file = std::fs::File::create(out).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (ext, bytes) in [
        ("shp", &shp),
        ("shx", &shx),
        ("dbf", &dbf),
        ("prj", &def.wkt.as_bytes().to_vec()),
        ("cpg", &b"UTF-8".to_vec()),
    ] {
        zip.start_file(format!("synthetic_points.{ext}"), options)
            .expect("zip member");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip");
}

/// A complete data directory: the bundled layers (copied) plus the synthetic ones, with a
/// manifest. Files already present are reused, so repeated runs are cheap.
pub fn data_dir_with_synthetic(bundled: &Path, out: &Path) -> PathBuf {
    std::fs::create_dir_all(out).expect("output dir");
    let mut manifest =
        std::fs::read_to_string(bundled.join("layers.toml")).expect("bundled manifest");
    // Every folder of the bundled data, copied afresh (it may have changed since last time).
    for entry in std::fs::read_dir(bundled).expect("bundled dir").flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let dir = out.join(entry.file_name());
        std::fs::create_dir_all(&dir).expect("dir");
        for file in std::fs::read_dir(entry.path())
            .expect("bundled dir")
            .flatten()
        {
            if file.path().is_file() {
                // Removed first: a copy keeps the source's permissions (some are read-only).
                let target = dir.join(file.file_name());
                let _ = std::fs::remove_file(&target);
                std::fs::copy(file.path(), &target).expect("copy");
            }
        }
    }
    for (id, count, file, kind) in [
        (
            "synthetic-100k",
            100_000,
            "synthetic_points_100k.fgb",
            "points",
        ),
        (
            "synthetic-200k",
            200_000,
            "synthetic_points_200k.fgb",
            "points",
        ),
        (
            "synthetic-1m",
            1_000_000,
            "synthetic_points_1m.fgb",
            "points",
        ),
        (
            "synthetic-parcels-100k",
            100_000,
            "synthetic_parcels_100k.fgb",
            "parcels",
        ),
    ] {
        let path = out.join(file);
        if !path.exists() {
            let tmp = path.with_extension("tmp");
            if kind == "points" {
                write_points(bundled, count, &tmp);
            } else {
                write_parcels(bundled, count, &tmp);
            }
            std::fs::rename(&tmp, &path).expect("rename");
        }
        manifest.push_str(&format!(
            "\n[[layer]]\nid = \"{id}\"\nfile = \"{file}\"\ntitle = \"SYNTHETIC {kind} ({count})\"\n\
             description = \"Synthetic benchmark data, generated deterministically (seed {SEED}); not real.\"\n\
             kind = \"other\"\n"
        ));
    }
    std::fs::write(out.join("layers.toml"), manifest).expect("manifest");
    out.to_path_buf()
}
