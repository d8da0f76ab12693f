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
    /// Layer id to create or update, e.g. idn-occurrences.
    #[arg(long)]
    pub layer: String,
    /// occurrences, geology or other (see docs/data-protocol.md).
    #[arg(long, default_value = "other")]
    pub kind: String,
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
    /// The file: .fgb, .geojson/.json or .csv.
    pub file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0}: unknown file type (expected .fgb, .geojson, .json or .csv)")]
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
    query.append_pair("kind", &args.kind);
    for (name, value) in [
        ("title", &args.title),
        ("description", &args.description),
        ("license", &args.license),
        ("attribution", &args.attribution),
        ("classify", &args.classify),
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
    if (200..300).contains(&status) {
        println!(
            "published {} version {}: {} features, bbox {}, geometry {}",
            args.layer, body["version"], body["features"], body["bbox"], body["geometryTypes"]
        );
        for warning in body["warnings"].as_array().into_iter().flatten() {
            println!("warning: {}", warning.as_str().unwrap_or_default());
        }
        return Ok(());
    }
    println!(
        "refused ({status} {}): {}",
        body["code"].as_str().unwrap_or(""),
        body["description"].as_str().unwrap_or(&body.to_string())
    );
    if let Some(problems) = body["report"]["problems"].as_array() {
        println!("{:>8}  {:<16}  reason", "feature", "property");
        for p in problems {
            let feature = p["feature"]
                .as_u64()
                .map_or("file".to_string(), |f| f.to_string());
            println!(
                "{feature:>8}  {:<16}  {}",
                p["field"].as_str().unwrap_or("-"),
                p["reason"].as_str().unwrap_or("")
            );
        }
        let total = body["report"]["total"].as_u64().unwrap_or(0);
        if total as usize > problems.len() {
            println!(
                "... and {} more ({} problems in all)",
                total as usize - problems.len(),
                total
            );
        }
    }
    Err(ClientError::Refused(status))
}
