//! Crash safety with the real binary: SIGKILL in the middle of a large upload leaves the
//! previous version published after a restart; readers during a replacement see only the old
//! or the new version, never an error.

mod common;

use common::spawn_server as start;
use std::io::{Read, Write};
use std::net::TcpStream;

/// One HTTP/1.1 request; returns (status, body).
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn matched(addr: &str) -> (u16, u64) {
    let (status, body) = request(
        addr,
        "GET",
        "/api/collections/idn-test/items?limit=1",
        &[],
        b"",
    );
    // Chunked or not, the number is in the text.
    let n = body
        .split("\"numberMatched\":")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, n)
}

#[test]
fn sigkill_mid_upload_keeps_the_previous_version_and_readers_never_fail() {
    let store = std::env::temp_dir().join(format!("amis-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let mut tokens = amis_webgis::auth::TokenStore::open(&store).expect("store");
    let (_, token) = tokens
        .create("Test agency", &["idn-*".into()])
        .expect("token");
    let auth = ("Authorization", format!("Bearer {token}"));
    let geojson = ("Content-Type", "application/geo+json".to_string());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let small = std::fs::read(root.join("docs/examples/other.geojson")).expect("example");
    let real =
        std::fs::read(root.join("data/minerals/asean_mineral_occurrences.fgb")).expect("bundled");

    let (mut server, addr) = start(&store);
    let (status, body) = request(
        &addr,
        "PUT",
        "/api/collections/idn-test?kind=other",
        &[auth.clone(), geojson.clone()],
        &small,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(matched(&addr), (200, 1));

    // A large upload that is cut off by SIGKILL after its first megabyte.
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(stream, "PUT /api/collections/idn-test?kind=other HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/flatgeobuf\r\nContent-Length: 104857600\r\n\r\n").expect("head");
    stream
        .write_all(&vec![0u8; 1 << 20])
        .expect("first megabyte");
    // Killed once the first megabyte is on disk (watched, up to 30 s), mid-upload.
    let on_disk = || {
        std::fs::read_dir(store.join("incoming"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
    };
    let started = std::time::Instant::now();
    while !on_disk() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the upload's first megabyte never reached the disk"
        );
        std::thread::yield_now();
    }
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    drop(stream);
    // The body was streaming to disk, not into memory; the restart clears what is left.
    let partial: Vec<_> = std::fs::read_dir(store.join("incoming"))
        .expect("incoming dir")
        .flatten()
        .map(|e| e.metadata().expect("metadata").len())
        .collect();
    assert!(
        partial.len() == 1 && partial[0] > 0,
        "one partial body: {partial:?}"
    );

    let (mut server, addr) = start(&store);
    assert_eq!(
        std::fs::read_dir(store.join("incoming"))
            .expect("incoming dir")
            .count(),
        0,
        "start-up discards half-received bodies"
    );
    assert_eq!(
        matched(&addr),
        (200, 1),
        "the previous version is published after the crash"
    );

    // Replace it with the real 694-feature file while readers hammer items and tiles.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = std::thread::spawn({
        let (addr, stop) = (addr.clone(), stop.clone());
        move || {
            let mut seen = std::collections::BTreeSet::new();
            let mut requests = 0;
            // Until the writer is done and the new version has been seen (bounded).
            while !(stop.load(std::sync::atomic::Ordering::Relaxed) && seen.contains(&694))
                && requests < 5_000
            {
                let (status, n) = matched(&addr);
                assert_eq!(status, 200, "items during replacement");
                assert!(n == 1 || n == 694, "only the old or the new version: {n}");
                seen.insert(n);
                let (tile, _) = request(&addr, "GET", "/tiles/idn-test/0/0/0.mvt", &[], b"");
                assert!(
                    tile == 200 || tile == 204,
                    "tile during replacement: {tile}"
                );
                requests += 1;
            }
            seen
        }
    });
    let (status, body) = request(
        &addr,
        "PUT",
        "/api/collections/idn-test?kind=other",
        &[auth, ("Content-Type", "application/flatgeobuf".to_string())],
        &real,
    );
    assert_eq!(status, 200, "{body}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().expect("reader thread saw no error");
    assert!(seen.contains(&694), "{seen:?}");
    assert_eq!(matched(&addr), (200, 694));
    server.kill().expect("stop");
    server.wait().expect("reaped");
    std::fs::remove_dir_all(&store).ok();
}
