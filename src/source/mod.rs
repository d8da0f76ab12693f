//! Reading layer files (FlatGeobuf, GeoJSON, CSV, zipped Shapefile, GeoPackage) into
//! validated [`FeatureSet`]s in WGS 84 longitude/latitude.
//!
//! Every reader streams its input a feature at a time, trusts nothing in the file, and runs
//! inside [`std::panic::catch_unwind`]: a parser bug on hostile input becomes an error
//! for that one file, never a crashed server. Uploads go through the same path. Readers
//! decode in the file's own CRS; [`finish`] then reprojects (see [`crate::crs`]) and checks
//! that every position is a longitude/latitude.

mod csv;
mod fgb;
mod geojson;
mod geometry;
mod gpkg;
mod rings;
mod shapefile;
mod validate;
mod wkb;

use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::crs::{self, CrsError, Declared, Reprojector};
use crate::feature::{Feature, FeatureSet, Invalid, StringInterner};
pub use geometry::stroke_circular_string;
pub use rings::organise_rings;

/// Files larger than this are refused before being read, so one bad path cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    FlatGeobuf,
    GeoJson,
    Csv,
    /// A zip holding one Shapefile (`.shp`, `.shx`, `.dbf`, optional `.prj`, `.cpg`), or,
    /// in `data/`, a `.shp` beside its sibling files.
    Shapefile,
    GeoPackage,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "fgb" => Some(Format::FlatGeobuf),
            "geojson" | "json" => Some(Format::GeoJson),
            "csv" => Some(Format::Csv),
            "zip" | "shp" => Some(Format::Shapefile),
            "gpkg" => Some(Format::GeoPackage),
            _ => None,
        }
    }

    /// The media type an upload of this format is sent with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::FlatGeobuf => "application/flatgeobuf",
            Format::GeoJson => "application/geo+json",
            Format::Csv => "text/csv",
            Format::Shapefile => "application/zip",
            Format::GeoPackage => "application/geopackage+sqlite3",
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
            "application/zip" | "application/x-zip-compressed" | "application/x-zip" => {
                Some(Format::Shapefile)
            }
            "application/geopackage+sqlite3"
            | "application/x-sqlite3"
            | "application/vnd.sqlite3" => Some(Format::GeoPackage),
            _ => None,
        }
    }

    /// The file extension a stored file of this format gets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::FlatGeobuf => "fgb",
            Format::GeoJson => "geojson",
            Format::Csv => "csv",
            Format::Shapefile => "zip",
            Format::GeoPackage => "gpkg",
        }
    }

    /// FlatGeobuf, GeoJSON and CSV are read front to back from any stream; a zip and a
    /// GeoPackage need random access to a file.
    fn streams(self) -> bool {
        matches!(self, Format::FlatGeobuf | Format::GeoJson | Format::Csv)
    }
}

/// How to read a file, beyond what the file says itself. Uploads take these as query
/// parameters, and they are stored with each version so it reads the same way again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadOptions {
    /// The EPSG code of the file's CRS, for files that declare none (CSV x/y columns, a
    /// Shapefile without `.prj`). A file that declares another is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<u32>,
    /// The GeoPackage table, or the Shapefile in a zip holding several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The text encoding of a `.dbf` that names none (no `.cpg`, no language byte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
}

/// A CRS as a file declares it, before it is identified.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclaredCrs {
    Epsg(u32),
    Name(String),
    Wkt(String),
}

impl DeclaredCrs {
    fn as_declared(&self) -> Declared<'_> {
        match self {
            DeclaredCrs::Epsg(code) => Declared::Epsg(*code),
            DeclaredCrs::Name(name) => Declared::Name(name),
            DeclaredCrs::Wkt(wkt) => Declared::Wkt(wkt),
        }
    }
}

/// What a reader decoded: features in the file's own CRS, and that CRS.
pub struct Decoded {
    pub set: FeatureSet,
    pub crs: Option<DeclaredCrs>,
}

/// Why a file could not become a layer. The message is meant for the person who made the file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "unsupported file type (expected .fgb, .geojson, .csv, .gpkg, or a Shapefile as .zip or .shp)"
    )]
    UnsupportedFormat,
    #[error("file is {0} bytes, larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge(u64),
    #[error("not a valid FlatGeobuf file: {0}")]
    FlatGeobuf(String),
    #[error("not valid GeoJSON: {0}")]
    GeoJson(String),
    #[error("not valid CSV: {0}")]
    Csv(String),
    #[error("not a usable zipped Shapefile: {0}")]
    Zip(String),
    #[error("not a valid Shapefile: {0}")]
    Shapefile(String),
    #[error("not a usable GeoPackage: {0}")]
    GeoPackage(String),
    #[error("{0}")]
    Crs(#[from] CrsError),
    #[error("{0}")]
    Options(String),
    #[error("feature {feature}: {reason}")]
    InvalidFeature { feature: u64, reason: String },
    #[error(
        "decoded, the features would need more than {} MiB of memory, this file's limit (many properties that most features leave empty?)",
        .0 >> 20
    )]
    OverBudget(u64),
    #[error(
        "reading the file took longer than the {0} s an upload may take (a runaway GeoPackage view, millions of rows?); nothing was changed"
    )]
    DeadlineExceeded(u64),
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
    read_path_with(path, &ReadOptions::default(), Budget::UNLIMITED)
}

/// [`read_path`] with the options an upload was made with, within `budget` (a stored
/// upload is held to the budget it was accepted under, whenever it is read again).
pub fn read_path_with(
    path: &Path,
    options: &ReadOptions,
    budget: Budget,
) -> Result<FileContents, SourceError> {
    let format = Format::from_path(path).ok_or(SourceError::UnsupportedFormat)?;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_FILE_BYTES {
        return Err(SourceError::TooLarge(len));
    }
    let content_hash = content_hash(&mut file)?;
    drop(file);
    let set = read_file(path, format, options, budget)?;
    Ok(FileContents {
        features: first_invalid_fails(set)?,
        content_hash,
    })
}

/// Reads a file of a known format: features with unusable geometries are left out and listed
/// in `invalid` (an upload's report names all of them), and the decoded features must fit in
/// `budget`.
pub fn read_file(
    path: &Path,
    format: Format,
    options: &ReadOptions,
    mut budget: Budget,
) -> Result<FeatureSet, SourceError> {
    let budget = &mut budget;
    let decoded = contain(|| {
        if format.streams() {
            let file = std::fs::File::open(path)?;
            let len = file.metadata()?.len();
            decode_stream(BufReader::with_capacity(1 << 16, file), len, format, budget)
        } else if format == Format::GeoPackage {
            gpkg::read(path, options, budget)
        } else {
            shapefile::read(path, options, budget)
        }
    })?;
    finish(decoded, options)
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
        &ReadOptions::default(),
        Budget::UNLIMITED,
    )
}

/// The reader behind every other for bytes that are not in a file: `input` holds exactly
/// `len` bytes (FlatGeobuf checks its header's claims against it). Memory grows with the
/// features kept, not with the file: features are decoded one at a time. A zip or a
/// GeoPackage, which need random access, is first copied to a scratch file.
pub fn read_stream<R: Read + Seek>(
    mut input: R,
    len: u64,
    format: Format,
    options: &ReadOptions,
    mut budget: Budget,
) -> Result<FeatureSet, SourceError> {
    if !format.streams() {
        let scratch = ScratchDir::new()?;
        let path = scratch.path().join(format!("input.{}", format.extension()));
        std::io::copy(&mut input, &mut std::fs::File::create(&path)?)?;
        return read_file(&path, format, options, budget);
    }
    let budget_ref = &mut budget;
    let decoded = contain(|| decode_stream(input, len, format, budget_ref))?;
    finish(decoded, options)
}

fn decode_stream<R: Read + Seek>(
    input: R,
    len: u64,
    format: Format,
    budget: &mut Budget,
) -> Result<Decoded, SourceError> {
    match format {
        Format::FlatGeobuf => fgb::read(input, len, budget),
        Format::GeoJson => geojson::read(input, budget),
        Format::Csv => csv::read(input, budget),
        Format::Shapefile | Format::GeoPackage => Err(SourceError::UnsupportedFormat),
    }
}

/// Runs a reader with panics contained: a parser bug becomes an error for this file.
fn contain<T>(read: impl FnOnce() -> Result<T, SourceError>) -> Result<T, SourceError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
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

/// Settles the CRS and brings every feature to WGS 84 longitude/latitude: reprojected when
/// the file (or `?crs=`) names another CRS, then checked to be within range. A feature that
/// fails either moves to `invalid`, with the reason.
fn finish(decoded: Decoded, options: &ReadOptions) -> Result<FeatureSet, SourceError> {
    let Decoded { mut set, crs } = decoded;
    let (reprojector, crs_note) = resolve_crs(crs.as_ref(), options)?;
    set.warnings.extend(crs_note);
    let hint = match &reprojector {
        Some(r) => format!(
            "after reprojection from {}: is that the file's CRS?",
            r.label
        ),
        None if crs.is_some() || options.crs.is_some() => {
            "the file is in WGS 84 longitude/latitude".to_string()
        }
        None => "the file declares no coordinate reference system, so longitude/latitude \
                 is assumed; if it is projected, name its CRS with ?crs=EPSG:<code>"
            .to_string(),
    };
    let invalid = &mut set.invalid;
    set.features.retain_mut(|feature: &mut Feature| {
        let checked = match &reprojector {
            Some(r) => r.apply(&mut feature.geometry),
            None => Ok(()),
        }
        .and_then(|()| validate::check_range(&feature.geometry, &hint));
        match checked {
            Ok(()) => true,
            Err(reason) => {
                invalid.push(feature.id, &reason);
                false
            }
        }
    });
    if let Some(note) = reprojector.as_ref().and_then(|r| r.ballpark.clone()) {
        set.warnings.push(note);
    }
    if let Some(note) = reprojector.as_ref().and_then(Reprojector::shifts_used) {
        set.warnings.push(note);
    }
    set.crs = reprojector.map(|r| r.label);
    Ok(set)
}

/// The file's declared CRS, or `?crs=` for a file that declares none, or for one whose
/// declared CRS cannot be identified (with a note naming what it declared). `?crs=` that
/// contradicts a CRS the file declares and the server identifies is refused.
fn resolve_crs(
    declared: Option<&DeclaredCrs>,
    options: &ReadOptions,
) -> Result<(Option<Reprojector>, Option<String>), SourceError> {
    match (declared, options.crs) {
        (None, None) => Ok((None, None)),
        (None, Some(code)) => Ok((crs::by_code(code)?, None)),
        (Some(declared), None) => Ok((crs::identify(declared.as_declared())?, None)),
        (Some(declared), Some(code)) => {
            let from_file = match crs::identify(declared.as_declared()) {
                Ok(from_file) => from_file,
                Err(CrsError::Unidentified(what)) => {
                    let chosen = crs::by_code(code)?;
                    let label = chosen
                        .as_ref()
                        .map_or("WGS 84 longitude/latitude".to_string(), |r| r.label.clone());
                    return Ok((
                        chosen,
                        Some(format!(
                            "the file declares the coordinate reference system {what}, which the server cannot identify; read as {label}, as ?crs= says"
                        )),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            let file_code = from_file.as_ref().map_or(4326, |r| u32::from(r.epsg));
            if file_code == code || (from_file.is_none() && crs::by_code(code)?.is_none()) {
                Ok((from_file, None))
            } else {
                Err(SourceError::Options(format!(
                    "?crs=EPSG:{code} contradicts the file, which declares {}; leave ?crs out",
                    from_file.map_or("WGS 84 longitude/latitude".to_string(), |r| r.label)
                )))
            }
        }
    }
}

/// What a reader collects as it goes: kept features (charged to the budget), features whose
/// geometry is unusable (with the reason), and how many had no geometry at all.
pub(crate) struct Collected<'a> {
    pub features: Vec<Feature>,
    pub invalid: Invalid,
    without_geometry: usize,
    budget: &'a mut Budget,
}

impl<'a> Collected<'a> {
    pub fn new(budget: &'a mut Budget) -> Collected<'a> {
        Collected {
            features: Vec::new(),
            invalid: Invalid::default(),
            without_geometry: 0,
            budget,
        }
    }

    /// Sorts a decoded geometry: `Some` to keep (finite, non-empty), `None` when the feature
    /// has none or an unusable one, which is counted or listed here.
    pub fn geometry(
        &mut self,
        position: u64,
        decoded: Result<Option<geo::Geometry>, String>,
    ) -> Option<geo::Geometry> {
        match decoded.and_then(|g| Ok(g.map(validate::check_decoded).transpose()?.flatten())) {
            Ok(Some(g)) => Some(g),
            Ok(None) => {
                self.without_geometry += 1;
                None
            }
            Err(reason) => {
                self.invalid.push(position, &reason);
                None
            }
        }
    }

    /// Builds a parsed geometry, first reserving what it will take once assembled (curves
    /// are stroked into many positions), then sorts it as [`Collected::geometry`] does.
    pub fn assemble(
        &mut self,
        position: u64,
        parsed: Result<(geometry::Kind, geometry::Raw), String>,
    ) -> Result<Option<geo::Geometry>, SourceError> {
        let assembled = match parsed {
            Ok((kind, raw)) => {
                let positions = geometry::assembled_positions(kind, &raw);
                self.budget
                    .reserve(positions.saturating_mul(2 * size_of::<geo::Coord>() as u64))?;
                geometry::assemble(kind, raw)
            }
            Err(reason) => Err(reason),
        };
        Ok(self.geometry(position, assembled))
    }

    /// See [`Budget::reserve`].
    pub fn reserve(&mut self, bytes: u64) -> Result<(), SourceError> {
        self.budget.reserve(bytes)
    }

    /// Keeps a feature, charged with the text `strings` interned for it, or refuses the file
    /// once the memory budget is spent.
    pub fn keep(&mut self, feature: Feature, strings: &StringInterner) -> Result<(), SourceError> {
        self.budget.keep(&mut self.features, feature, strings)
    }

    pub fn finish(
        self,
        fields: Vec<crate::feature::Field>,
        mut warnings: Vec<String>,
        crs: Option<DeclaredCrs>,
    ) -> Decoded {
        if self.without_geometry > 0 {
            warnings.push(format!(
                "{} feature(s) without geometry (or with an empty one) were skipped",
                self.without_geometry
            ));
        }
        Decoded {
            set: FeatureSet {
                fields,
                features: self.features,
                warnings,
                invalid: self.invalid,
                crs: None,
                decoded_bytes: self.budget.used(),
            },
            crs,
        }
    }
}

/// Names from a file for a message: the first ten, quoted and each cut to 60 characters,
/// then how many more (a zip or a GeoPackage may name thousands).
pub(crate) fn listed<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = names.len();
    let mut out = names
        .take(10)
        .map(|n| format!("{:?}", crate::feature::abbreviate(n, 60)))
        .collect::<Vec<_>>()
        .join(", ");
    if total > 10 {
        out.push_str(&format!(" and {} more", total - 10));
    }
    out
}

/// Binary values as text, as GDAL writes them to text formats: upper-case hex.
pub(crate) fn binary_text(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Where readers unpack zip members and copy streams they need random access to; the
/// system's temporary directory until [`use_scratch_root`] names another.
static SCRATCH_ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Makes readers unpack under `dir` (the server uses its store, so a full disk there is an
/// upload's 507, and what a killed process leaves is removed at the next start: see
/// [`clear_scratch`]). Only the first call has an effect.
pub fn use_scratch_root(dir: PathBuf) {
    let _ = SCRATCH_ROOT.set(dir);
}

/// Removes what readers left under `dir` (a process killed mid-read); returns how many
/// directories were removed.
pub fn clear_scratch(dir: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("amis-read-")
        {
            std::fs::remove_dir_all(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A private directory for files a reader unpacks, removed with everything in it when dropped.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> std::io::Result<ScratchDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let root = SCRATCH_ROOT
            .get()
            .cloned()
            .unwrap_or_else(std::env::temp_dir);
        let path = root.join(format!(
            "amis-read-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// When an upload's time is up. One deadline covers an upload from its first byte to its
/// answer (receiving, reading, checking, indexing), so no file, however built, holds a
/// worker longer than the operator allows.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    allowed: Duration,
}

impl Deadline {
    /// A deadline `allowed` from now.
    pub fn after(allowed: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + allowed,
            allowed,
        }
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The time left, zero once passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The whole allowance in seconds, for messages.
    pub fn allowed_secs(&self) -> u64 {
        self.allowed.as_secs()
    }

    /// `Err` once passed.
    pub fn check(&self) -> Result<(), SourceError> {
        if self.passed() {
            Err(SourceError::DeadlineExceeded(self.allowed_secs()))
        } else {
            Ok(())
        }
    }
}

/// The memory a file's features may take once decoded, and the time reading may take.
/// A file can decode to far more than its size: every feature gets a slot for every column,
/// an arc is stroked into up to 91 positions, a GeoPackage view computes its text. Readers
/// charge what they keep (geometry, property slots, distinct text) as each feature is built,
/// and check what a feature needs while it is built ([`Budget::reserve`]) before allocating
/// it, so the process never holds more than the limit plus one bounded buffer.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limit: u64,
    used: u64,
    /// The reader's distinct text already charged, as its interner counts it.
    text_charged: u64,
    deadline: Option<Deadline>,
    /// Charges and reservations since the clock was last read: it is read every
    /// [`Budget::CLOCK_EVERY`] (a clock read costs as much as the rest of a charge).
    since_clock: u32,
}

impl Budget {
    /// For the operator's own files in `data/` and the store, already accepted once.
    pub const UNLIMITED: Budget = Budget::bytes(u64::MAX);

    pub const fn bytes(limit: u64) -> Budget {
        Budget {
            limit,
            used: 0,
            text_charged: 0,
            deadline: None,
            since_clock: 0,
        }
    }

    /// How many charges pass between reads of the clock: a few hundred features, well
    /// under a millisecond.
    const CLOCK_EVERY: u32 = 256;

    /// Checks the deadline every [`Budget::CLOCK_EVERY`] calls.
    fn tick(&mut self) -> Result<(), SourceError> {
        self.since_clock += 1;
        if self.since_clock >= Self::CLOCK_EVERY {
            self.since_clock = 0;
            self.check_deadline()?;
        }
        Ok(())
    }

    /// The same budget, also refusing once `deadline` has passed.
    pub fn until(mut self, deadline: Deadline) -> Budget {
        self.deadline = Some(deadline);
        self
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// What has been charged so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    pub fn deadline(&self) -> Option<Deadline> {
        self.deadline
    }

    /// `Err` once the deadline has passed.
    pub fn check_deadline(&self) -> Result<(), SourceError> {
        self.deadline.as_ref().map_or(Ok(()), Deadline::check)
    }

    /// Whether a buffer of `bytes` that lives only while one feature is built fits beside
    /// what is kept; called before the buffer is allocated.
    pub(crate) fn reserve(&mut self, bytes: u64) -> Result<(), SourceError> {
        self.tick()?;
        if self.used.saturating_add(bytes) > self.limit {
            Err(SourceError::OverBudget(self.limit))
        } else {
            Ok(())
        }
    }

    /// Charges `feature` and the text `strings` has newly interned for it, and keeps it, or
    /// refuses once the limit is passed.
    pub(crate) fn keep(
        &mut self,
        features: &mut Vec<Feature>,
        feature: Feature,
        strings: &StringInterner,
    ) -> Result<(), SourceError> {
        let text = strings.held_bytes().saturating_sub(self.text_charged);
        self.text_charged = strings.held_bytes();
        self.charge(feature.approx_bytes().saturating_add(text))?;
        features.push(feature);
        Ok(())
    }

    pub(crate) fn charge(&mut self, bytes: u64) -> Result<(), SourceError> {
        self.tick()?;
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            Err(SourceError::OverBudget(self.limit))
        } else {
            Ok(())
        }
    }
}

fn first_invalid_fails(set: FeatureSet) -> Result<FeatureSet, SourceError> {
    match set.invalid.first().first() {
        Some((feature, reason)) => Err(SourceError::InvalidFeature {
            feature: *feature,
            reason: reason.clone(),
        }),
        None => Ok(set),
    }
}
