//! Hostile and broken files of every format: zip bombs, member names that climb out of the
//! archive, files that are not what they claim, and a seeded sweep of byte flips,
//! truncations and inserted or deleted ranges over the real fixtures. Every one is refused
//! or read without a panic (the guards catch it, not `catch_unwind`), within a memory budget;
//! over HTTP every one is a 4xx or a publish, never a 5xx, and the served layer is intact.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use amis_webgis::auth::TokenStore;
use amis_webgis::catalog::Catalog;
use amis_webgis::config::ServeArgs;
use amis_webgis::server::AppState;
use amis_webgis::source::{Budget, Format, ReadOptions, SourceError, read_stream};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 20_261_126;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A zip archive written by hand, so a test can say anything in it: member names, methods,
/// and sizes that lie. Each member: (name, method 0 stored / 8 deflated, data as stored,
/// declared uncompressed size).
fn zip_archive(members: &[(&str, u16, Vec<u8>, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, method, data, declared) in members {
        let offset = out.len() as u32;
        // The CRC of a stored member; a deflated one here is a bomb that is never read to
        // its end, where the CRC is checked.
        let crc = if *method == 0 {
            let mut c = flate2::Crc::new();
            c.update(data);
            c.sum()
        } else {
            0
        };
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(method.to_le_bytes());
            h.extend([0u8; 4]); // time, date
            h.extend(crc.to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend(declared.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(data);
        central.extend(header(0x0201_4b50, true));
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Raw deflate data that inflates to `mebibytes` MiB of zeros, built from one compressed MiB
/// repeated (each ends in a full flush, so copies concatenate), then a final empty block.
fn deflated_zeros(mebibytes: usize) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut chunk = Vec::with_capacity(1 << 16);
    compress
        .compress_vec(&vec![0u8; 1 << 20], &mut chunk, flate2::FlushCompress::Full)
        .expect("compresses");
    let mut out = Vec::with_capacity(chunk.len() * mebibytes + 5);
    for _ in 0..mebibytes {
        out.extend(&chunk);
    }
    out.extend([0x01, 0x00, 0x00, 0xff, 0xff]);
    out
}

fn shapefile_members() -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(fixtures().join("intake/occurrences_indian1975_utm47n.zip"))
        .expect("fixture");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("member");
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut data).expect("read");
        out.push((f.name().expect("name").to_string(), data));
    }
    out
}

fn read(bytes: &[u8], format: Format) -> Result<amis_webgis::feature::FeatureSet, SourceError> {
    read_stream(
        std::io::Cursor::new(bytes),
        bytes.len() as u64,
        format,
        &ReadOptions::default(),
        Budget::bytes(256 << 20),
    )
}

#[test]
fn zip_bombs_and_escaping_names_are_refused() {
    let good = shapefile_members();
    let stored =
        |name: &str, data: &[u8]| (name.to_string(), 0u16, data.to_vec(), data.len() as u32);
    let with = |replace: &str, member: (String, u16, Vec<u8>, u32)| -> Vec<u8> {
        let mut members: Vec<(String, u16, Vec<u8>, u32)> = good
            .iter()
            .filter(|(n, _)| !n.ends_with(replace))
            .map(|(n, d)| stored(n, d))
            .collect();
        members.push(member);
        let refs: Vec<(&str, u16, Vec<u8>, u32)> = members
            .iter()
            .map(|(n, m, d, s)| (n.as_str(), *m, d.clone(), *s))
            .collect();
        zip_archive(&refs)
    };
    // The hand-written archive of the real members reads: the writer is sound.
    let control = with(
        ".cpg",
        stored("occurrences_indian1975_utm47n.cpg", b"UTF-8"),
    );
    match read(&control, Format::Shapefile) {
        Ok(set) => assert!(set.features.len() > 10, "{}", set.features.len()),
        Err(e) => panic!("the control archive: {e}"),
    }

    // A .dbf that inflates to 1.5 GiB from about 1.5 MiB: declaring 100 bytes (the lie is
    // caught), and declaring its true size (the ratio cap stops it).
    let zeros = deflated_zeros(1536);
    for (declared, expect) in [(100, "larger than its declared"), (1536 << 20, "zip bomb")] {
        let bomb = with(
            ".dbf",
            (
                "occurrences_indian1975_utm47n.dbf".into(),
                8,
                zeros.clone(),
                declared,
            ),
        );
        assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
        let err = read(&bomb, Format::Shapefile).expect_err("a bomb");
        assert!(
            matches!(err, SourceError::Zip(_)) && err.to_string().contains(expect),
            "{err}"
        );
    }

    for name in [
        "../occurrences.shp",
        "/tmp/occurrences.shp",
        "a/../../occurrences.shp",
        "..\\..\\x.shp",
    ] {
        let escaping = zip_archive(&[(name, 0, good[0].1.clone(), good[0].1.len() as u32)]);
        let err = read(&escaping, Format::Shapefile).expect_err(name);
        assert!(
            err.to_string().contains("outside the archive") || err.to_string().contains("no .shp"),
            "{name}: {err}"
        );
    }
    let none = zip_archive(&[("readme.txt", 0, b"hello".to_vec(), 5)]);
    assert!(
        read(&none, Format::Shapefile)
            .expect_err("no shp")
            .to_string()
            .contains("no .shp")
    );
    for garbage in [
        &b""[..],
        b"PK\x03\x04",
        b"not a zip at all",
        &control[..control.len() / 2],
    ] {
        assert!(read(garbage, Format::Shapefile).is_err());
    }
}

#[test]
fn geopackages_that_are_not_or_lie_are_refused() {
    let gpkg = std::fs::read(fixtures().join("intake/occurrences_gdm2000_peninsula_rso.gpkg"))
        .expect("fixture");
    assert!(read(&gpkg, Format::GeoPackage).is_ok());
    let not_sqlite = b"SQLite format 2\0 and then some bytes of nothing in particular".to_vec();
    assert!(
        read(&not_sqlite, Format::GeoPackage)
            .expect_err("not sqlite")
            .to_string()
            .contains("not an SQLite")
    );
    // A page size that is not a power of two, a page count far beyond the file, a cut file.
    let mut page_size = gpkg.clone();
    page_size[16..18].copy_from_slice(&3u16.to_be_bytes());
    let mut page_count = gpkg.clone();
    page_count[28..32].copy_from_slice(&u32::MAX.to_be_bytes());
    for (what, bytes) in [
        ("page size", page_size),
        ("page count", page_count),
        ("truncated", gpkg[..gpkg.len() / 3].to_vec()),
        ("zeroed pages", {
            let mut z = gpkg.clone();
            z[4096..gpkg.len()].fill(0);
            z
        }),
    ] {
        match read(&bytes, Format::GeoPackage) {
            Err(SourceError::ParserPanic(p)) => panic!("{what}: panicked: {p}"),
            Err(_) => {}
            Ok(set) => assert!(
                set.features.len() <= 52,
                "{what}: {} features",
                set.features.len()
            ),
        }
    }
    // SQLite, but not a GeoPackage.
    let dir = common::temp_store("plain-sqlite");
    let path = dir.join("plain.sqlite");
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .expect("sql");
    drop(conn);
    let err =
        read(&std::fs::read(&path).expect("file"), Format::GeoPackage).expect_err("not a gpkg");
    assert!(err.to_string().contains("not a GeoPackage"), "{err}");
}

/// One seeded mutation: flip bytes, truncate, insert or delete a range.
fn mutate(rng: &mut ChaCha8Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    if bytes.is_empty() {
        return bytes;
    }
    match rng.random_range(0..5) {
        0 => {
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
        }
        1 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = [0x00, 0xff, 0x7f, 0x80][rng.random_range(0..4)];
        }
        2 => bytes.truncate(rng.random_range(0..bytes.len())),
        3 => {
            let at = rng.random_range(0..bytes.len());
            let n = rng.random_range(1..64);
            let filler: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            bytes.splice(at..at, filler);
        }
        _ => {
            let at = rng.random_range(0..bytes.len());
            let end = (at + rng.random_range(1..64)).min(bytes.len());
            bytes.drain(at..end);
        }
    }
    bytes
}

/// The inputs of each format: the real fixtures, mutated.
fn seeds(format: Format) -> Vec<Vec<u8>> {
    let dir = fixtures();
    match format {
        Format::FlatGeobuf => std::fs::read_dir(dir.join("fgb"))
            .expect("corpus")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "fgb"))
            .filter(|e| e.metadata().is_ok_and(|m| m.len() < 64 << 10))
            .map(|e| std::fs::read(e.path()).expect("file"))
            .collect(),
        Format::GeoJson => vec![
            std::fs::read(dir.join("intake/occurrences_vn2000_utm48n.geojson")).expect("file"),
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/geology.geojson"),
            )
            .expect("file"),
        ],
        Format::Csv => {
            let text = "name,commodities,country,longitude,latitude\nGrasberg,\"Copper, Gold\",IDN,137.1,-4.05\nBatu Hijau,Copper,IDN,116.87,-8.97\n\"Rio Tuba\",\"Nickel, Cobalt\",PHL,117.39,8.51\n";
            vec![text.as_bytes().to_vec()]
        }
        Format::Shapefile => vec![
            std::fs::read(dir.join("intake/occurrences_indian1975_utm47n.zip")).expect("file"),
            std::fs::read(dir.join("intake/occurrences_vietnamese_cp1258.zip")).expect("file"),
        ],
        Format::GeoPackage => vec![
            std::fs::read(dir.join("intake/occurrences_gdm2000_peninsula_rso.gpkg")).expect("file"),
        ],
    }
}

#[test]
fn seeded_mutations_of_every_format_never_panic() {
    let mut summary = Vec::new();
    for format in [
        Format::FlatGeobuf,
        Format::GeoJson,
        Format::Csv,
        Format::Shapefile,
        Format::GeoPackage,
    ] {
        let seeds = seeds(format);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        let (mut refused, mut read_ok) = (0, 0);
        let started = std::time::Instant::now();
        for case in 0..common::sweep_size() {
            let bytes = mutate(&mut rng, &seeds[case % seeds.len()]);
            match read(&bytes, format) {
                Ok(_) => read_ok += 1,
                Err(SourceError::ParserPanic(p)) => {
                    let path = std::env::temp_dir().join(format!("amis-panic-{format:?}-{case}"));
                    std::fs::write(&path, &bytes).ok();
                    panic!(
                        "{format:?} case {case} panicked ({p}); input kept in {}",
                        path.display()
                    );
                }
                Err(_) => refused += 1,
            }
        }
        summary.push(format!(
            "{format:?}: {refused} refused, {read_ok} read, {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    println!("{}", summary.join("\n"));
}

#[tokio::test]
async fn mutated_uploads_are_4xx_and_leave_the_layer_intact() {
    let store = common::temp_store("hostile-http");
    let (_, token) = TokenStore::open(&store)
        .expect("tokens")
        .create("Fuzz", &["*".into()])
        .expect("token");
    let state = AppState::new(
        Catalog::new(common::layers().clone()),
        &ServeArgs {
            store,
            keep_versions: 10_000,
            ..ServeArgs::default()
        },
    );
    let send = |request: Request<Body>| common::send_to(state.clone(), request);
    let put = |bytes: Vec<u8>, content_type: &'static str| {
        Request::put("/api/collections/fuzz-target?kind=occurrences")
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {token}"))
            .header("host", "test.local")
            .body(Body::from(bytes))
            .expect("request")
    };
    let good = std::fs::read(fixtures().join("intake/occurrences_indian1975_utm47n.zip"))
        .expect("fixture");
    send(put(good, "application/zip"))
        .await
        .assert_status(StatusCode::CREATED);
    // The served features (the page's timeStamp aside), as a hash: cheap to compare and
    // to show.
    let snapshot = || async {
        let reply = send(
            Request::get("/api/collections/fuzz-target/items?limit=10000")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        let features = reply.json()["features"].to_string();
        (
            reply.status,
            features.len(),
            xxhash_rust::xxh3::xxh3_64(features.as_bytes()),
        )
    };
    let before = snapshot().await;
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let mut statuses = std::collections::BTreeMap::new();
    for (format, content_type) in [
        (Format::Shapefile, "application/zip"),
        (Format::GeoPackage, "application/geopackage+sqlite3"),
        (Format::FlatGeobuf, "application/flatgeobuf"),
        (Format::GeoJson, "application/geo+json"),
    ] {
        let seeds = seeds(format);
        for case in 0..150 {
            let bytes = mutate(&mut rng, &seeds[case % seeds.len()]);
            let reply = send(put(bytes, content_type)).await;
            assert!(
                !reply.status.is_server_error(),
                "{format:?} case {case}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            *statuses.entry(reply.status.as_u16()).or_insert(0) += 1;
            if reply.status.is_client_error() {
                assert_eq!(
                    snapshot().await,
                    before,
                    "{format:?} case {case}: a refusal changed the layer"
                );
            } else {
                // A mutation that still reads is a new version; restore the reference one.
                let restore = Request::post("/api/collections/fuzz-target/versions/1/restore")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .expect("req");
                send(restore).await.assert_status(StatusCode::OK);
            }
        }
    }
    println!("{statuses:?}");
    let _ = std::io::stdout().flush();
}
