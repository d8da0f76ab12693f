//! Reading layer files (FlatGeobuf, GeoJSON, CSV) into validated [`FeatureSet`]s.
//!
//! Every reader streams its input a feature at a time, trusts nothing in the file, and runs
//! inside [`std::panic::catch_unwind`]: a parser bug on hostile input becomes an error
//! for that one file, never a crashed server. Uploads go through the same path.

mod csv;
mod fgb;
mod geojson;
mod validate;

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use crate::feature::{Feature, FeatureSet};

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

    /// The media type an upload of this format is sent with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::FlatGeobuf => "application/flatgeobuf",
            Format::GeoJson => "application/geo+json",
            Format::Csv => "text/csv",
        }
    }

    /// The format of a `Content-Type` (parameters and case ignored), accepting the older
    /// names clients still send.
    pub fn from_media_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/flatgeobuf" | "application/x-flatgeobuf" => Some(Format::FlatGeobuf),
            "application/geo+json" | "application/json" => Some(Format::GeoJson),
            "text/csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The file extension a stored file of this format gets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::FlatGeobuf => "fgb",
            Format::GeoJson => "geojson",
            Format::Csv => "csv",
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
    #[error(
        "decoded, the features would need more than {} MiB of memory, this file's limit (many properties that most features leave empty?)",
        .0 >> 20
    )]
    OverBudget(u64),
    #[error("the reader crashed on this input: {0}")]
    ParserPanic(String),
}

/// A file read from disk: its features and a hash of its bytes (the layer's version).
pub struct FileContents {
    pub features: FeatureSet,
    pub content_hash: u64,
}

/// Reads and validates one layer file; the error does not include the path (the caller adds it).
/// The file is streamed, never held in memory whole: one pass hashes it, one parses it.
pub fn read_path(path: &Path) -> Result<FileContents, SourceError> {
    let format = Format::from_path(path).ok_or(SourceError::UnsupportedFormat)?;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(SourceError::TooLarge(len));
    }
    let content_hash = content_hash(&mut file)?;
    file.seek(SeekFrom::Start(0))?;
    let input = BufReader::with_capacity(1 << 16, file);
    let set = read_stream(input, len, format, Budget::UNLIMITED)?;
    Ok(FileContents {
        features: first_invalid_fails(set)?,
        content_hash,
    })
}

/// The xxh3 hash of everything `input` yields: a layer's version, and so its tiles' ETags.
pub fn content_hash(mut input: impl Read) -> std::io::Result<u64> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        match input.read(&mut buffer) {
            Ok(0) => return Ok(hasher.digest()),
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Parses bytes of a known format; any feature with an unusable geometry fails the file,
/// naming the first such feature (what start-up wants: a bad file is reported and skipped).
pub fn read_bytes(bytes: &[u8], format: Format) -> Result<FeatureSet, SourceError> {
    first_invalid_fails(read_bytes_lenient(bytes, format)?)
}

/// Like [`read_bytes`], but features with unusable geometries are left out and listed in
/// `invalid`, so an upload's report can name all of them.
pub fn read_bytes_lenient(bytes: &[u8], format: Format) -> Result<FeatureSet, SourceError> {
    read_stream(
        Cursor::new(bytes),
        bytes.len() as u64,
        format,
        Budget::UNLIMITED,
    )
}

/// The streaming reader behind every other: `input` holds exactly `len` bytes (FlatGeobuf
/// checks its header's claims against it). Memory grows with the features kept, not with
/// the file: features are decoded one at a time. Features with unusable geometries are
/// listed in `invalid`, as in [`read_bytes_lenient`]. Panics inside the third-party parsers
/// are contained, and the decoded features must fit in `budget`.
pub fn read_stream<R: Read + Seek>(
    input: R,
    len: u64,
    format: Format,
    mut budget: Budget,
) -> Result<FeatureSet, SourceError> {
    let budget = &mut budget;
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        Format::FlatGeobuf => fgb::read(input, len, budget),
        Format::GeoJson => geojson::read(input, budget),
        Format::Csv => csv::read(input, budget),
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

/// The memory a file's features may take once decoded. A file can decode to far more than
/// its size: every feature gets a slot for every column, so one feature with thousands of
/// properties followed by many with none is a small file and a huge layer. Readers charge
/// each feature as it is built and stop at the limit, long before the machine runs out.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limit: u64,
    used: u64,
}

impl Budget {
    /// For the operator's own files in `data/` and the store, already accepted once.
    pub const UNLIMITED: Budget = Budget::bytes(u64::MAX);

    pub const fn bytes(limit: u64) -> Budget {
        Budget { limit, used: 0 }
    }

    /// Charges `feature` and keeps it, or refuses once the limit is passed.
    fn keep(&mut self, features: &mut Vec<Feature>, feature: Feature) -> Result<(), SourceError> {
        self.charge(feature.approx_bytes())?;
        features.push(feature);
        Ok(())
    }

    fn charge(&mut self, bytes: u64) -> Result<(), SourceError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            Err(SourceError::OverBudget(self.limit))
        } else {
            Ok(())
        }
    }
}

fn first_invalid_fails(set: FeatureSet) -> Result<FeatureSet, SourceError> {
    match set.invalid.first() {
        Some((feature, reason)) => Err(SourceError::InvalidFeature {
            feature: *feature,
            reason: reason.clone(),
        }),
        None => Ok(set),
    }
}
