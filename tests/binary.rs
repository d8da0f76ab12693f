//! The real binary: starts on the bundled data, answers over TCP, logs each request and
//! shuts down cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn serves_and_shuts_down_on_sigterm() {
    // Its own store, so a developer's ./store (with uploads of their own) changes nothing.
    let store = common::temp_store("binary");
    let child = Command::new(env!("CARGO_BIN_EXE_amis-webgis"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("AMIS_BIND", "127.0.0.1:0")
        .env("AMIS_STORE", &store)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    // Killed if an assertion fails first, so no server outlives the test.
    let mut child = common::KillOnDrop(child);
    let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server prints its address")
            .expect("utf-8 log line");
        assert!(!line.contains("ERROR"), "start-up error: {line}");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_string();
        }
    };

    let health = http_get(&addr, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"layers\":12"), "{health}");
    let bad = http_get(&addr, "/tiles/mineral-occurrences/99/0/0.mvt");
    assert!(
        bad.starts_with("HTTP/1.1 400") && bad.contains("\"code\""),
        "{bad}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        child.0.wait().expect("exit").success(),
        "clean exit on SIGTERM"
    );
    let log = rest.join("\n");
    assert!(
        log.contains("uri=/health") && log.contains("status=200"),
        "one log line per request:\n{log}"
    );
    assert!(log.contains("shut down cleanly"), "{log}");
}
