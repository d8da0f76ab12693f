//! Reading layer files (FlatGeobuf, GeoJSON, CSV) into validated [`FeatureSet`]s.
//!
//! Every reader works on bytes already in memory, trusts nothing in the file, and runs
//! inside [`std::panic::catch_unwind`]: a parser bug on hostile input becomes an error
//! for that one file, never a crashed server. Uploads go through the same path.

mod csv;
mod fgb;
mod geojson;
mod validate;

use std::path::Path;

use crate::feature::FeatureSet;

/// Files larger than this are refused before being read, so one bad path cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    FlatGeobuf,
    GeoJson,
    Csv,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "fgb" => Some(Format::FlatGeobuf),
            "geojson" | "json" => Some(Format::GeoJson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Why a file could not become a layer. The message is meant for the person who made the file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported file type (expected .fgb, .geojson or .csv)")]
    UnsupportedFormat,
    #[error("file is {0} bytes, larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge(u64),
    #[error("not a valid FlatGeobuf file: {0}")]
    FlatGeobuf(String),
    #[error("not valid GeoJSON: {0}")]
    GeoJson(String),
    #[error("not valid CSV: {0}")]
    Csv(String),
    #[error(
        "unsupported coordinate reference system {0}: only EPSG:4326 / OGC:CRS84 longitude/latitude is accepted"
    )]
    Crs(String),
    #[error("feature {feature}: {reason}")]
    InvalidFeature { feature: u64, reason: String },
    #[error("the reader crashed on this input: {0}")]
    ParserPanic(String),
}

/// A file read from disk: its features and a hash of its bytes (the layer's version).
pub struct FileContents {
    pub features: FeatureSet,
    pub content_hash: u64,
}

/// Reads and validates one layer file; the error does not include the path (the caller adds it).
pub fn read_path(path: &Path) -> Result<FileContents, SourceError> {
    let format = Format::from_path(path).ok_or(SourceError::UnsupportedFormat)?;
    let len = std::fs::metadata(path)?.len();
    if len > MAX_FILE_BYTES {
        return Err(SourceError::TooLarge(len));
    }
    let bytes = std::fs::read(path)?;
    Ok(FileContents {
        features: read_bytes(&bytes, format)?,
        content_hash: xxhash_rust::xxh3::xxh3_64(&bytes),
    })
}

/// Parses bytes of a known format; any feature with an unusable geometry fails the file,
/// naming the first such feature (what start-up wants: a bad file is reported and skipped).
pub fn read_bytes(bytes: &[u8], format: Format) -> Result<FeatureSet, SourceError> {
    let set = read_bytes_lenient(bytes, format)?;
    match set.invalid.first() {
        Some((feature, reason)) => Err(SourceError::InvalidFeature {
            feature: *feature,
            reason: reason.clone(),
        }),
        None => Ok(set),
    }
}

/// Like [`read_bytes`], but features with unusable geometries are left out and listed in
/// `invalid`, so an upload's report can name all of them. Panics inside the third-party
/// parsers are contained.
pub fn read_bytes_lenient(bytes: &[u8], format: Format) -> Result<FeatureSet, SourceError> {
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        Format::FlatGeobuf => fgb::read(bytes),
        Format::GeoJson => geojson::read(bytes),
        Format::Csv => csv::read(bytes),
    }));
    match parsed {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(SourceError::ParserPanic(message))
        }
    }
}
