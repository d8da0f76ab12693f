//! `amis-webgis upload` against the real server: success, and a refusal that prints the
//! protocol report and exits non-zero.

mod common;

#[test]
fn upload_command_publishes_or_reports_and_fails() {
    let store = std::env::temp_dir().join(format!("amis-cli-upload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    let (_, token) = amis_webgis::auth::TokenStore::open(&store)
        .expect("store")
        .create("Test agency", &["idn-*".into()])
        .expect("token");
    let (mut server, addr) = common::spawn_server(&store);
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let intake = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intake");
    let run = |args: &[&str], file: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_amis-webgis"))
            .args(["upload", "--server", &format!("http://{addr}")])
            .args(args)
            .arg(file)
            .env("AMIS_TOKEN", &token)
            .output()
            .expect("client runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let upload = |layer: &str, kind: &str, file: &str| {
        run(&["--layer", layer, "--kind", kind], &examples.join(file))
    };

    let (ok, out) = upload("idn-occurrences", "occurrences", "occurrences.geojson");
    assert!(ok, "{out}");
    assert!(
        out.contains("published idn-occurrences version 1 as occurrences: 2 features"),
        "{out}"
    );

    let (ok, out) = upload("idn-occurrences", "occurrences", "geology.geojson");
    assert!(!ok, "a refused upload exits non-zero");
    assert!(out.contains("refused (422 ProtocolViolation)"), "{out}");
    assert!(
        out.contains("geometry must be a Point"),
        "the report is printed: {out}"
    );

    let (ok, out) = upload("mineral-occurrences", "other", "other.geojson");
    assert!(!ok && out.contains("403"), "{out}");

    // The format comes from the extension; a dry run publishes nothing and prints the report.
    let (ok, out) = run(
        &["--layer", "idn-thai", "--dry-run"],
        &intake.join("occurrences_thai_cp874.zip"),
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("as occurrences (inferred): it would publish"),
        "{out}"
    );
    assert!(
        out.contains("normalised country: \"Thailand\" -> \"THA\""),
        "{out}"
    );
    let (ok, out) = run(
        &["--layer", "idn-peninsula"],
        &intake.join("occurrences_gdm2000_peninsula_rso.gpkg"),
    );
    assert!(ok && out.contains("reprojected from EPSG:3375"), "{out}");
    // A layer id the server would refuse is explained before anything is sent.
    let (ok, out) = run(
        &["--layer", "IDN Occurrences"],
        &examples.join("other.geojson"),
    );
    assert!(!ok && out.contains("lower-case letters"), "{out}");
    server.kill().expect("stop");
    server.wait().expect("reaped");
    std::fs::remove_dir_all(&store).ok();
}
