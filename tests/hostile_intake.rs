//! Files built to exhaust the intake, sent to the real binary as a hostile agency would:
//! GeoPackage views that compute long strings, curves or rows without end, `gpkg_contents`
//! as a view, a Shapefile record that claims 250 MiB, 100,000 holes, reports that would
//! quote or list without bound, zips of thousands of long names. Each is refused with a 4xx
//! or published within its memory budget; each answers within the upload deadline; no answer
//! exceeds 64 KiB; the server's peak RSS (VmHWM of the child) stays under the budget plus
//! 64 MiB; the layer the refused files were sent to is served exactly as before.
//!
//! Fair slots: while two worst-case uploads of one agency run, another agency's 2 KB dry run
//! answers within 2 s and `GET …/versions` within 100 ms.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use amis_webgis::auth::{Quota, TokenStore};

/// The deadline the test server runs with (`--upload-timeout-secs`).
const DEADLINE_SECS: u64 = 20;
/// The most one layer may take once decoded (`--max-layer-mb`): every file's budget here.
const LAYER_MIB: u64 = 128;
/// The largest answer allowed.
const MAX_BODY: usize = 64 << 10;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("amis-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The real binary with `store`, an empty data directory (so its memory is the uploads'),
/// the test's deadline, and `more` arguments.
fn server_without_data(
    store: &Path,
    empty_data: &Path,
    more: &[&str],
) -> (common::KillOnDrop, String) {
    let deadline = DEADLINE_SECS.to_string();
    let mut args = vec![
        "--data",
        empty_data.to_str().expect("utf-8 path"),
        "--upload-timeout-secs",
        &deadline,
    ];
    args.extend_from_slice(more);
    common::spawn_server_with(store, &args)
}

/// Starts a new peak: the process's VmHWM falls back to its current RSS (Linux ≥ 4.0).
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs");
}

/// The memory budget of a file of `len` bytes on the test server (`Uploads::memory_budget`).
fn budget_of(len: usize) -> u64 {
    ((64u64 << 20) + 32 * len as u64).min(LAYER_MIB << 20)
}

/// Peak and current resident memory of a process, in bytes (`/proc/<pid>/status`).
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb << 10)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    elapsed: Duration,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(DEADLINE_SECS * 4)))
        .build()
        .into()
}

fn put(addr: &str, path: &str, token: &str, content_type: &str, body: &[u8]) -> Answer {
    let started = Instant::now();
    let response = agent()
        .put(&format!("http://{addr}{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", content_type)
        .send(body);
    answer(response, started)
}

fn get(addr: &str, path: &str) -> Answer {
    let started = Instant::now();
    answer(agent().get(&format!("http://{addr}{path}")).call(), started)
}

fn answer(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    started: Instant,
) -> Answer {
    let mut response = response.expect("the server answers");
    let body = response
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .expect("body");
    Answer {
        status: response.status().as_u16(),
        body,
        elapsed: started.elapsed(),
    }
}

// ---- GeoPackages whose feature table (or catalogue) is a view -------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A GeoPackage geometry blob (little-endian, no envelope, SRS 4326) around `wkb`.
fn gpkg_blob(wkb: &[u8]) -> Vec<u8> {
    let mut out = b"GP".to_vec();
    out.extend([0u8, 1]);
    out.extend(4326i32.to_le_bytes());
    out.extend(wkb);
    out
}

fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend(1u32.to_le_bytes());
    out.extend(x.to_le_bytes());
    out.extend(y.to_le_bytes());
    out
}

/// A full circle as a CircularString: stroked, 91 positions from three.
fn wkb_full_circle(x: f64, y: f64) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend(8u32.to_le_bytes());
    out.extend(3u32.to_le_bytes());
    for (px, py) in [(x, y), (x + 0.5, y), (x, y)] {
        out.extend(px.to_le_bytes());
        out.extend(py.to_le_bytes());
    }
    out
}

const GPKG_SCHEMA: &str = "
    PRAGMA application_id = 1196444487;
    CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY,
        organization TEXT, organization_coordsys_id INTEGER, definition TEXT, description TEXT);
    CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,
        geometry_type_name TEXT, srs_id INTEGER, z TINYINT, m TINYINT);
    INSERT INTO gpkg_geometry_columns VALUES ('t', 'geom', 'GEOMETRY', 4326, 0, 0);";

const GPKG_CONTENTS: &str = "
    CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT,
        srs_id INTEGER);
    INSERT INTO gpkg_contents VALUES ('t', 'features', 't', 4326);";

/// `n` rows numbered from 1, as a recursive CTE a view can select from.
fn rows(n: u64) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})")
}

fn geopackage(dir: &Path, name: &str, sql: &str) -> Vec<u8> {
    let path = dir.join(format!("{name}.gpkg"));
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute_batch(&format!("{GPKG_SCHEMA}{sql}"))
        .expect("schema");
    drop(conn);
    std::fs::read(&path).expect("gpkg")
}

// ---- Shapefiles, zipped ----------------------------------------------------------------------

/// A zip of `members` written with the zip crate (deflated), streaming each member's bytes
/// from a closure so a 250 MiB member never exists in memory.
/// Writes a zip member's bytes.
type Member = Box<dyn Fn(&mut dyn Write)>;

fn zip_of(members: Vec<(String, Member)>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, write) in members {
        zip.start_file(name, options).expect("member");
        write(&mut zip);
    }
    zip.finish().expect("zip").into_inner()
}

fn shp_header(file_bytes: u64, shape_type: i32) -> Vec<u8> {
    let mut h = Vec::with_capacity(100);
    h.extend(9994i32.to_be_bytes());
    h.extend([0u8; 20]);
    h.extend(
        i32::try_from(file_bytes / 2)
            .unwrap_or(i32::MAX)
            .to_be_bytes(),
    );
    h.extend(1000i32.to_le_bytes());
    h.extend(shape_type.to_le_bytes());
    for v in [100.0f64, 0.0, 110.0, 10.0, 0.0, 0.0, 0.0, 0.0] {
        h.extend(v.to_le_bytes());
    }
    h
}

/// One MultiPoint record of 15 Mi points (240 MiB, under the zip-bomb floor): a 250 KB zip.
fn huge_record_shapefile() -> Vec<u8> {
    const POINTS: u64 = 15 << 20;
    let content = 4 + 32 + 4 + POINTS * 16;
    let shp = move |out: &mut dyn Write| {
        out.write_all(&shp_header(100 + 8 + content, 8)).expect("w");
        out.write_all(&1i32.to_be_bytes()).expect("w");
        out.write_all(&((content / 2) as i32).to_be_bytes())
            .expect("w");
        out.write_all(&8i32.to_le_bytes()).expect("w");
        out.write_all(&[0u8; 32]).expect("w");
        out.write_all(&(POINTS as i32).to_le_bytes()).expect("w");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(POINTS * 16) >> 20 {
            out.write_all(&zeros).expect("w");
        }
    };
    zip_of(vec![("huge.shp".into(), Box::new(shp))])
}

/// One polygon record: a clockwise square of 10° and 100,000 anticlockwise holes in it, the
/// first vertex of the first hole on the exterior's edge.
fn hole_flood_shapefile() -> Vec<u8> {
    const SIDE: usize = 317; // 317² > 100,000
    const HOLES: usize = 100_000;
    let square = |x0: f64, y0: f64, s: f64, clockwise: bool| {
        let mut r = vec![
            (x0, y0),
            (x0 + s, y0),
            (x0 + s, y0 + s),
            (x0, y0 + s),
            (x0, y0),
        ];
        if clockwise {
            r.reverse();
        }
        r
    };
    let mut rings = vec![square(100.0, 0.0, 10.0, true)];
    let cell = 10.0 / SIDE as f64;
    for i in 0..HOLES {
        let (cx, cy) = ((i % SIDE) as f64, (i / SIDE) as f64);
        rings.push(square(
            100.0 + cx * cell,
            cy * cell + cell * 0.25,
            cell * 0.5,
            false,
        ));
    }
    let points: usize = rings.iter().map(Vec::len).sum();
    let content = (4 + 32 + 4 + 4 + 4 * rings.len() + 16 * points) as u64;
    let mut shp = shp_header(100 + 8 + content, 5);
    shp.extend(1i32.to_be_bytes());
    shp.extend(((content / 2) as i32).to_be_bytes());
    shp.extend(5i32.to_le_bytes());
    for v in [100.0f64, 0.0, 110.0, 10.0] {
        shp.extend(v.to_le_bytes());
    }
    shp.extend((rings.len() as i32).to_le_bytes());
    shp.extend((points as i32).to_le_bytes());
    let mut start = 0i32;
    for r in &rings {
        shp.extend(start.to_le_bytes());
        start += r.len() as i32;
    }
    for r in &rings {
        for (x, y) in r {
            shp.extend(x.to_le_bytes());
            shp.extend(y.to_le_bytes());
        }
    }
    zip_of(vec![(
        "holes.shp".into(),
        Box::new(move |out: &mut dyn Write| out.write_all(&shp).expect("w")),
    )])
}

/// 2,000 Shapefiles named by 200 characters each: asking for one that is not there lists them.
fn many_names_zip() -> Vec<u8> {
    let members = (0..2000)
        .map(|i| {
            let name = format!("{}{i:04}.shp", "n".repeat(200));
            let write: Member =
                Box::new(|out: &mut dyn Write| out.write_all(&shp_header(100, 1)).expect("w"));
            (name, write)
        })
        .collect();
    zip_of(members)
}

// ---- CSV floods ------------------------------------------------------------------------------

/// 300,000 occurrences whose names all need cleaning, each differently: a normalisation list
/// that grows with the file unless it is bounded.
fn normalisation_flood_csv() -> Vec<u8> {
    let mut out = String::from("name,commodities,country,longitude,latitude\n");
    for i in 0..300_000 {
        out.push_str(&format!(
            "Site  {i} ,Au,Indonesia,{},{}\n",
            100.0 + (i % 1000) as f64 * 0.01,
            (i / 1000) as f64 * 0.01
        ));
    }
    out.into_bytes()
}

/// A country of 30 MB: a reason that quotes its value whole would answer 30 MB.
fn reason_flood_csv() -> Vec<u8> {
    let mut out = String::from("name,commodities,country,longitude,latitude\n");
    out.push_str(&format!("A,Gold,{},100.5,5.5\n", "X".repeat(30 << 20)));
    out.into_bytes()
}

#[test]
fn hostile_files_are_refused_or_published_within_budget_and_deadline() {
    let dir = scratch("corpus");
    let store = dir.join("store");
    let empty_data = dir.join("data");
    std::fs::create_dir_all(&empty_data).expect("data dir");
    let (_, token) = TokenStore::open(&store)
        .expect("store")
        .create_with("Hostile agency", &["idn-*".into()], Quota::UNLIMITED)
        .expect("token");
    let (server, addr) = server_without_data(
        &store,
        &empty_data,
        &["--max-layer-mb", &LAYER_MIB.to_string()],
    );
    let pid = server.id();

    // The layer every refused file is sent to, and what it serves.
    let good = common::example("occurrences.geojson");
    let first = put(
        &addr,
        "/api/collections/idn-target?kind=occurrences",
        &token,
        "application/geo+json",
        &good,
    );
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let served = || {
        let mut items = get(&addr, "/api/collections/idn-target/items?limit=100").json();
        items.as_object_mut().map(|o| o.remove("timeStamp"));
        items
    };
    let before = served();
    let (_, baseline_rss) = memory_of(pid);

    let gpkg = "application/geopackage+sqlite3";
    let csv = "text/csv";
    let zip = "application/zip";
    let point = hex(&gpkg_blob(&wkb_point(100.5, 5.5)));
    let circle = hex(&gpkg_blob(&wkb_full_circle(100.5, 5.5)));
    // (name, layer, query, content type, body, whether it may publish)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Vec<u8>,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "GeoPackage view computing 400 MB strings",
            "idn-target",
            "kind=other",
            gpkg,
            geopackage(
                &dir,
                "long-strings",
                &format!(
                    "{GPKG_CONTENTS}
                 CREATE TABLE base (fid INTEGER PRIMARY KEY, geom BLOB);
                 INSERT INTO base VALUES (1, X'{point}'), (2, X'{point}');
                 CREATE VIEW t AS SELECT fid, geom, printf('%.*c', 400000000, 'x') AS s FROM base;"
                ),
            ),
            false,
        ),
        (
            "GeoPackage view of a million full circles",
            "idn-target",
            "kind=other",
            gpkg,
            geopackage(
                &dir,
                "curves",
                &format!(
                    "{GPKG_CONTENTS}
                 CREATE VIEW t AS {} SELECT i AS fid, X'{circle}' AS geom FROM n;",
                    rows(1_000_000)
                ),
            ),
            false,
        ),
        (
            "GeoPackage view of a million distinct 60-byte texts",
            "idn-target",
            "kind=other",
            gpkg,
            geopackage(
                &dir,
                "texts",
                &format!(
                    "{GPKG_CONTENTS}
                 CREATE VIEW t AS {} SELECT i AS fid, X'{point}' AS geom,
                     printf('%060d', i) AS label FROM n;",
                    rows(1_000_000)
                ),
            ),
            false,
        ),
        (
            "GeoPackage view of 20 million bad rows",
            "idn-target",
            "kind=other",
            gpkg,
            geopackage(
                &dir,
                "bad-rows",
                &format!(
                    "{GPKG_CONTENTS}
                 CREATE VIEW t AS {} SELECT i AS fid, X'00' AS geom FROM n;",
                    rows(20_000_000)
                ),
            ),
            false,
        ),
        (
            "gpkg_contents as a view of ten million tables",
            "idn-target",
            "kind=other",
            gpkg,
            geopackage(
                &dir,
                "contents-view",
                &format!(
                    "CREATE VIEW gpkg_contents AS {} SELECT printf('%0200d', i) AS table_name,
                     'features' AS data_type FROM n;",
                    rows(10_000_000)
                ),
            ),
            false,
        ),
        (
            "Shapefile record claiming 240 MiB",
            "idn-target",
            "kind=other",
            zip,
            huge_record_shapefile(),
            false,
        ),
        (
            "2,000 Shapefiles with 200-character names, another asked for",
            "idn-target",
            "kind=other&layer=missing",
            zip,
            many_names_zip(),
            false,
        ),
        (
            "occurrence with a 30 MB country",
            "idn-target",
            "kind=occurrences",
            csv,
            reason_flood_csv(),
            false,
        ),
        (
            "Shapefile polygon with 100,000 holes",
            "idn-holes",
            "kind=other",
            zip,
            hole_flood_shapefile(),
            true,
        ),
        (
            "300,000 occurrences with names to clean",
            "idn-names",
            "kind=occurrences",
            csv,
            normalisation_flood_csv(),
            true,
        ),
    ];
    for (name, layer, query, content_type, body, may_publish) in cases {
        let (_, rss_before) = memory_of(pid);
        reset_peak(pid);
        let answer = put(
            &addr,
            &format!("/api/collections/{layer}?{query}"),
            &token,
            content_type,
            &body,
        );
        let said = String::from_utf8_lossy(&answer.body[..answer.body.len().min(600)]).to_string();
        eprintln!(
            "{name}: {} bytes -> {} in {:.1} s, {} bytes, peak RSS {} MiB, now {} MiB: {said}",
            body.len(),
            answer.status,
            answer.elapsed.as_secs_f64(),
            answer.body.len(),
            memory_of(pid).0 >> 20,
            memory_of(pid).1 >> 20
        );
        if may_publish {
            assert!(
                answer.status == 201 || (400..500).contains(&answer.status),
                "{name}: {said}"
            );
        } else {
            assert!((400..500).contains(&answer.status), "{name}: {said}");
            let json = answer.json();
            assert!(
                json["code"].is_string() && json["description"].is_string(),
                "{name}: {said}"
            );
        }
        assert!(
            answer.body.len() <= MAX_BODY,
            "{name}: a {}-byte answer",
            answer.body.len()
        );
        assert!(
            answer.elapsed <= Duration::from_secs(DEADLINE_SECS + 5),
            "{name}: answered after {:?}",
            answer.elapsed
        );
        let (peak, _) = memory_of(pid);
        assert!(
            peak <= rss_before + budget_of(body.len()) + (64 << 20),
            "{name}: peak RSS {} MiB over {} MiB before + a {} MiB budget + 64 MiB",
            peak >> 20,
            rss_before >> 20,
            budget_of(body.len()) >> 20
        );
        assert_eq!(served(), before, "{name}: the served layer changed");
    }
    eprintln!("RSS before the corpus {} MiB", baseline_rss >> 20);
    // The published floods are what they should be.
    let holes = get(&addr, "/api/collections/idn-holes/items/1").json();
    assert_eq!(
        holes["geometry"]["coordinates"].as_array().map(Vec::len),
        Some(100_001),
        "one exterior and every hole, none of them an island"
    );
    let names = get(&addr, "/api/collections/idn-names/items?limit=1").json();
    assert_eq!(names["numberMatched"], 300_000);
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

/// While two worst-case uploads of one agency run, another agency's small dry run and an
/// anonymous version listing do not wait for them.
#[test]
fn one_agencys_slow_uploads_do_not_hold_up_another() {
    let dir = scratch("fair");
    let store = dir.join("store");
    let empty_data = dir.join("data");
    std::fs::create_dir_all(&empty_data).expect("data dir");
    let mut tokens = TokenStore::open(&store).expect("store");
    let (_, slow) = tokens
        .create_with("Slow agency", &["idn-*".into()], Quota::UNLIMITED)
        .expect("token");
    let (_, other) = tokens
        .create("Other agency", &["phl-*".into()])
        .expect("token");
    let (server, addr) = server_without_data(&store, &empty_data, &[]);
    let example = common::example("occurrences.geojson");
    assert_eq!(
        put(
            &addr,
            "/api/collections/phl-occurrences?kind=occurrences",
            &other,
            "application/geo+json",
            &example
        )
        .status,
        201
    );
    // A view that reads 20 million rows: each runs until its deadline.
    let slow_file = geopackage(
        &dir,
        "slow",
        &format!(
            "{GPKG_CONTENTS}
         CREATE VIEW t AS {} SELECT i AS fid, X'00' AS geom FROM n;",
            rows(200_000_000)
        ),
    );
    let uploads: Vec<_> = ["idn-a", "idn-b"]
        .into_iter()
        .map(|layer| {
            let (addr, slow, body) = (addr.clone(), slow.clone(), slow_file.clone());
            std::thread::spawn(move || {
                put(
                    &addr,
                    &format!("/api/collections/{layer}?kind=other"),
                    &slow,
                    "application/geopackage+sqlite3",
                    &body,
                )
            })
        })
        .collect();
    // Both are in: the first is reading, the second waits for its agency's turn.
    std::thread::sleep(Duration::from_secs(2));
    assert!(example.len() < 2048, "a 2 KB dry run");
    for _ in 0..3 {
        let dry = put(
            &addr,
            "/api/collections/phl-occurrences?kind=occurrences&dry_run=true",
            &other,
            "application/geo+json",
            &example,
        );
        assert_eq!(dry.status, 200, "{}", String::from_utf8_lossy(&dry.body));
        assert!(
            dry.elapsed < Duration::from_secs(2),
            "dry run took {:?}",
            dry.elapsed
        );
        let versions = get(&addr, "/api/collections/phl-occurrences/versions");
        assert_eq!(versions.status, 200);
        assert!(
            versions.elapsed < Duration::from_millis(100),
            "versions took {:?}",
            versions.elapsed
        );
    }
    for upload in uploads {
        let answer = upload.join().expect("upload thread");
        assert!(
            (400..500).contains(&answer.status),
            "{} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        assert!(answer.elapsed <= Duration::from_secs(DEADLINE_SECS + 5));
    }
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}
