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
        // Without it, INFO has only start-up, slow requests and shutdown (tested below).
        .env("AMIS_ACCESS_LOG", "true")
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
    // Probes answer while the layers load; `/ready` says when they are.
    let early = http_get(&addr, "/health");
    assert!(early.starts_with("HTTP/1.1 200"), "{early}");
    for line in lines.by_ref() {
        let line = line.expect("utf-8 log line");
        assert!(!line.contains("ERROR"), "start-up error: {line}");
        if line.contains("; ready") {
            break;
        }
    }
    let ready = http_get(&addr, "/ready");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

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
        "--access-log: one line per request:\n{log}"
    );
    assert!(log.contains("shut down cleanly"), "{log}");
}

/// Sends `request` as raw bytes and reads the whole response (the server closes after errors).
fn http_raw(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// The body of a raw response, parsed as the JSON error every refusal carries.
fn error_body(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| {
        panic!(
            "not a JSON body ({e}): {}",
            &response[..response.len().min(300)]
        )
    })
}

#[test]
fn errors_hyper_answers_itself_are_json_too() {
    let store = common::temp_store("binary-parse-errors");
    let (_child, addr) = common::spawn_server(&store);
    let long_uri = format!(
        "GET /api/collections?x={} HTTP/1.1\r\nHost: a\r\n\r\n",
        "a".repeat(100_000)
    );
    // hyper refuses a head once its buffer holds ~400 KB and the head is still incomplete,
    // but one read can take the buffer up to twice that first: over 835 KB is always refused.
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1_500_000)
    );
    for (request, status, code) in [
        (long_uri.as_bytes(), "414", "URITooLong"),
        (huge_header.as_bytes(), "431", "HeadersTooLarge"),
        (&b"NOT HTTP AT ALL\r\n\r\n"[..], "400", "MalformedRequest"),
    ] {
        let response = http_raw(&addr, request);
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{}",
            &response[..response.len().min(200)]
        );
        assert!(
            response
                .to_ascii_lowercase()
                .contains("content-type: application/json")
        );
        let body = error_body(&response);
        assert_eq!(body["code"], code);
        assert!(body["description"].as_str().is_some_and(|d| d.len() > 20));
    }
    // Errors of the router echo at most a bounded part of the client's input.
    let id = "z".repeat(20_000);
    let response = http_get(&addr, &format!("/api/collections/{id}"));
    assert!(response.starts_with("HTTP/1.1 404"));
    let description = error_body(&response)["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        description.contains("zzzz") && description.len() < 300,
        "{} characters",
        description.len()
    );
    // A method a route does not take: 405, JSON, and the methods it does take.
    for (request, allow) in [
        ("PATCH /api/collections HTTP/1.1", "GET,HEAD"),
        ("DELETE /tiles/lakes/1/1/1.mvt HTTP/1.1", "GET,HEAD"),
        (
            "POST /api/collections/lakes HTTP/1.1",
            "GET,HEAD,PUT,DELETE",
        ),
    ] {
        let response = http_raw(
            &addr,
            format!("{request}\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        assert!(
            response.starts_with("HTTP/1.1 405"),
            "{request}: {response}"
        );
        assert!(
            response
                .to_ascii_lowercase()
                .contains(&format!("allow: {}", allow.to_ascii_lowercase())),
            "{request}: {response}"
        );
        assert_eq!(error_body(&response)["code"], "MethodNotAllowed");
    }
    // And the server still answers.
    assert!(http_get(&addr, "/health").starts_with("HTTP/1.1 200"));
}
