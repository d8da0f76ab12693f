//! `amis-webgis upload`: the agencies' command-line client for `PUT /api/collections/{id}`.
//! It streams the file with a progress bar, prints the server's report, and exits non-zero
//! when the upload is refused, so it can be scripted.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::source::Format;

#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// Base URL of the server, e.g. https://webgis.example.org
    #[arg(long, env = "AMIS_SERVER")]
    pub server: String,
    /// The agency's token.
    #[arg(long, env = "AMIS_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Layer id to create or update: lower-case letters a-z, digits, '-' and '_' (at most
    /// 64, starting with a letter or digit), within the token's scope, e.g. idn-occurrences.
    #[arg(long, value_parser = parse_layer_id)]
    pub layer: String,
    /// occurrences, geology or other (see docs/data-protocol.md); inferred from the file
    /// when left out.
    #[arg(long)]
    pub kind: Option<String>,
    /// Check the file and print the report without publishing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// The file's CRS as EPSG:<code>, for files that declare none (CSV x/y, a Shapefile
    /// without .prj).
    #[arg(long)]
    pub crs: Option<String>,
    /// The GeoPackage table (or the Shapefile in a zip holding several) to read.
    #[arg(long = "table")]
    pub table: Option<String>,
    /// The .dbf text encoding when the Shapefile names none, e.g. CP874.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Which of the file's columns hold the protocol's properties, e.g.
    /// name:NAMA_LOKASI,commodities:KOMODITAS.
    #[arg(long)]
    pub fields: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub license: Option<String>,
    #[arg(long)]
    pub attribution: Option<String>,
    /// The classifying property.
    #[arg(long)]
    pub classify: Option<String>,
    /// The file: .fgb, .geojson/.json, .csv, .gpkg, or a zipped Shapefile (.zip).
    pub file: PathBuf,
}

fn parse_layer_id(text: &str) -> Result<String, String> {
    if crate::catalog::is_valid_layer_id(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "{text:?} is not a layer id: use 1-64 lower-case letters a-z, digits, '-' and '_', starting with a letter or digit (e.g. idn-occurrences)"
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error(
        "{0}: unknown file type (expected .fgb, .geojson, .json, .csv, .gpkg or a zipped Shapefile .zip)"
    )]
    FileType(PathBuf),
    #[error("request failed: {0}")]
    Http(#[from] ureq::Error),
    #[error("the upload was refused ({0})")]
    Refused(u16),
}

pub fn upload(args: UploadArgs) -> Result<(), ClientError> {
    let content_type = Format::from_path(&args.file)
        .ok_or_else(|| ClientError::FileType(args.file.clone()))?
        .media_type();
    let file =
        std::fs::File::open(&args.file).map_err(|e| ClientError::File(args.file.clone(), e))?;
    let len = file
        .metadata()
        .map_err(|e| ClientError::File(args.file.clone(), e))?
        .len();

    let mut query = form_urlencoded::Serializer::new(String::new());
    if args.dry_run {
        query.append_pair("dry_run", "true");
    }
    for (name, value) in [
        ("kind", &args.kind),
        ("title", &args.title),
        ("description", &args.description),
        ("license", &args.license),
        ("attribution", &args.attribution),
        ("classify", &args.classify),
        ("crs", &args.crs),
        ("layer", &args.table),
        ("encoding", &args.encoding),
        ("fields", &args.fields),
    ] {
        if let Some(v) = value {
            query.append_pair(name, v);
        }
    }
    let url = format!(
        "{}/api/collections/{}?{}",
        args.server.trim_end_matches('/'),
        args.layer,
        query.finish()
    );

    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("uploading {}", args.file.display()));
    let mut reader = bar.wrap_read(file);
    let mut response = ureq::put(&url)
        .header("Authorization", &format!("Bearer {}", args.token))
        .header("Content-Type", content_type)
        .header("Content-Length", &len.to_string())
        .config()
        .http_status_as_error(false)
        .build()
        .send(ureq::SendBody::from_reader(&mut reader as &mut dyn Read))?;
    bar.finish_and_clear();

    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    let report = &body["report"];
    if (200..300).contains(&status) && body["dryRun"] == true {
        let valid = body["valid"] == true;
        println!(
            "checked {} as {}{}: {}",
            args.file.display(),
            report["kind"].as_str().unwrap_or("?"),
            if report["kindInferred"] == true {
                " (inferred)"
            } else {
                ""
            },
            if valid {
                "it would publish"
            } else {
                "it would be refused"
            }
        );
        print_report(report);
        return if valid {
            Ok(())
        } else {
            Err(ClientError::Refused(422))
        };
    }
    if (200..300).contains(&status) {
        println!(
            "published {} version {} as {}{}: {} features, bbox {}, geometry {}{}",
            args.layer,
            body["version"],
            body["kind"].as_str().unwrap_or("?"),
            if body["kindInferred"] == true {
                " (inferred)"
            } else {
                ""
            },
            body["features"],
            body["bbox"],
            body["geometryTypes"],
            body["crs"]
                .as_str()
                .map(|c| format!(", reprojected from {c}"))
                .unwrap_or_default()
        );
        print_report(report);
        return Ok(());
    }
    println!(
        "refused ({status} {}): {}",
        body["code"].as_str().unwrap_or(""),
        body["description"].as_str().unwrap_or(&body.to_string())
    );
    print_report(report);
    Err(ClientError::Refused(status))
}

/// The protocol report as a table an agency can work through: errors, then warnings, each
/// with the feature's position, identifier and name.
fn print_report(report: &serde_json::Value) {
    for n in report["normalised"].as_array().into_iter().flatten() {
        println!(
            "normalised {}: {} -> {} ({} features)",
            n["field"].as_str().unwrap_or(""),
            n["from"],
            n["to"],
            n["features"]
        );
    }
    let Some(problems) = report["problems"].as_array().filter(|p| !p.is_empty()) else {
        return;
    };
    println!(
        "{:<8} {:>8}  {:<16} {:<16}  property  reason",
        "", "feature", "id", "name"
    );
    for p in problems {
        let feature = p["feature"]
            .as_u64()
            .map_or("file".to_string(), |f| f.to_string());
        let cut = |v: &serde_json::Value| {
            let s = v.as_str().unwrap_or("-");
            crate::feature::abbreviate(s, 15)
        };
        println!(
            "{:<8} {feature:>8}  {:<16} {:<16}  {:<8}  {}",
            p["severity"].as_str().unwrap_or(""),
            cut(&p["id"]),
            cut(&p["name"]),
            p["field"].as_str().unwrap_or("-"),
            p["reason"].as_str().unwrap_or("")
        );
    }
    for (severity, total) in [
        ("errors", &report["errors"]),
        ("warnings", &report["warnings"]),
    ] {
        let total = total.as_u64().unwrap_or(0) as usize;
        let listed = problems
            .iter()
            .filter(|p| {
                p["severity"]
                    .as_str()
                    .is_some_and(|s| severity.starts_with(s))
            })
            .count();
        if total > listed {
            println!("... {} more {severity} ({total} in all)", total - listed);
        }
    }
}
