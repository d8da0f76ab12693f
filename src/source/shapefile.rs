//! ESRI Shapefile, zipped (`.shp`, `.shx`, `.dbf`, optional `.prj` and `.cpg`) or, in the
//! data directory, as sibling files.
//!
//! A zip is checked before anything is unpacked: member names that climb out of the archive
//! (`../`, absolute paths) and encrypted members are refused, and each needed member is
//! unpacked with a hard cap on its real (not declared) size, so a zip bomb stops at the cap.
//! The `.shp` and `.dbf` are then read a record at a time with every count checked against
//! the record's length. `.dbf` text is decoded in the code page the `.cpg` or the DBF
//! language byte names (Thai CP874/TIS-620, Vietnamese CP1258, UTF-8, …) and normalised to
//! composed UTF-8.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use encoding_rs::Encoding;
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint};

use super::{Budget, Collected, DeclaredCrs, Decoded, ReadOptions, ScratchDir, SourceError};
use crate::feature::{Feature, Field, FieldType, StringInterner, Value};

/// The most one zip member may unpack to.
const MAX_MEMBER_BYTES: u64 = 4 << 30;
/// Members that unpack to more than this many times the whole zip, beyond [`RATIO_FLOOR`]
/// bytes, are taken for a zip bomb: real Shapefiles compress 3–20 times, a `.dbf` of
/// mostly blank wide text columns up to about 100.
const MAX_RATIO: u64 = 100;
const RATIO_FLOOR: u64 = 256 << 20;

/// A zip's refusal; member names come from the file, so the message is cut short.
fn bad_zip(message: impl Into<String>) -> SourceError {
    SourceError::Zip(crate::feature::abbreviate(&message.into(), 600))
}

fn bad(message: impl Into<String>) -> SourceError {
    SourceError::Shapefile(message.into())
}

/// The files of one Shapefile on disk.
struct Parts {
    shp: PathBuf,
    dbf: Option<PathBuf>,
    prj: Option<PathBuf>,
    cpg: Option<PathBuf>,
}

pub fn read(
    path: &Path,
    options: &ReadOptions,
    budget: &mut Budget,
) -> Result<Decoded, SourceError> {
    let is_shp = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
    if is_shp {
        let sibling = |ext: &str| {
            [ext.to_string(), ext.to_ascii_uppercase()]
                .iter()
                .map(|e| path.with_extension(e))
                .find(|p| p.exists())
        };
        let parts = Parts {
            shp: path.to_path_buf(),
            dbf: sibling("dbf"),
            prj: sibling("prj"),
            cpg: sibling("cpg"),
        };
        return read_parts(&parts, options, budget);
    }
    let scratch = ScratchDir::new()?;
    let parts = unzip(path, options, scratch.path())?;
    read_parts(&parts, options, budget)
}

/// Unpacks the Shapefile's members from the zip into `dir`, checking names and sizes.
fn unzip(path: &Path, options: &ReadOptions, dir: &Path) -> Result<Parts, SourceError> {
    let zip_bytes = std::fs::metadata(path)?.len().max(1);
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?))
        .map_err(|e| bad_zip(format!("not a readable zip archive: {e}")))?;
    let mut names: Vec<String> = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| bad_zip(format!("member {i}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| bad_zip(format!("member {i} has an unreadable name: {e}")))?
            .to_string();
        if escapes(&name) || entry.enclosed_name().is_none() {
            return Err(bad_zip(format!(
                "member {name:?} points outside the archive (absolute path or ../)"
            )));
        }
        if entry.encrypted() {
            return Err(bad_zip(format!("member {name:?} is encrypted")));
        }
        names.push(name);
    }
    let visible = |n: &&String| {
        !n.starts_with("__MACOSX/") && !n.rsplit('/').next().unwrap_or_default().starts_with('.')
    };
    let shps: Vec<&String> = names
        .iter()
        .filter(visible)
        .filter(|n| n.to_ascii_lowercase().ends_with(".shp"))
        .collect();
    let stem = |n: &str| n[..n.len() - 4].to_string();
    let chosen = match (&options.layer, shps.as_slice()) {
        (_, []) => return Err(bad_zip("the zip holds no .shp file")),
        (Some(layer), all) => all
            .iter()
            .find(|n| {
                let s = stem(n);
                s == *layer || s.rsplit('/').next() == Some(layer.as_str())
            })
            .map(|n| stem(n))
            .ok_or_else(|| {
                SourceError::Options(format!(
                    "the zip has no Shapefile {:?}; it has {}",
                    crate::feature::abbreviate(layer, 60),
                    super::listed(all.iter().map(|n| &n[..n.len() - 4]))
                ))
            })?,
        (None, [only]) => stem(only),
        (None, all) => {
            return Err(SourceError::Options(format!(
                "the zip holds {} Shapefiles ({}); name one with ?layer=",
                all.len(),
                super::listed(all.iter().map(|n| &n[..n.len() - 4]))
            )));
        }
    };
    let member = |ext: &str| {
        names
            .iter()
            .find(|n| {
                n.len() == chosen.len() + 4
                    && n.starts_with(&chosen)
                    && n[chosen.len()..].eq_ignore_ascii_case(ext)
            })
            .cloned()
    };
    let mut unpack = |name: Option<String>, ext: &str| -> Result<Option<PathBuf>, SourceError> {
        let Some(name) = name else { return Ok(None) };
        let mut entry = archive
            .by_name(&name)
            .map_err(|e| bad_zip(format!("member {name:?}: {e}")))?;
        let limit = MAX_MEMBER_BYTES.min(RATIO_FLOOR.max(zip_bytes.saturating_mul(MAX_RATIO)));
        if entry.size() > limit {
            return Err(bad_zip(format!(
                "member {name:?} declares {} bytes unpacked from a {zip_bytes}-byte zip: refused as a zip bomb",
                entry.size()
            )));
        }
        let target = dir.join(format!("layer{ext}"));
        let mut out = std::io::BufWriter::new(File::create(&target)?);
        // An error of the operating system is the disk's (full: 507); any other, the zip's.
        let copied = std::io::copy(&mut (&mut entry).take(limit + 1), &mut out).map_err(|e| {
            if e.raw_os_error().is_some() {
                SourceError::Io(e)
            } else {
                bad_zip(format!("member {name:?} cannot be unpacked: {e}"))
            }
        })?;
        if copied > limit {
            return Err(bad_zip(format!(
                "member {name:?} unpacks to more than {limit} bytes from a {zip_bytes}-byte zip: refused as a zip bomb"
            )));
        }
        std::io::Write::flush(&mut out)?;
        Ok(Some(target))
    };
    let shp = unpack(member(".shp"), ".shp")?.ok_or_else(|| bad_zip("the .shp member vanished"))?;
    Ok(Parts {
        shp,
        dbf: unpack(member(".dbf"), ".dbf")?,
        prj: unpack(member(".prj"), ".prj")?,
        cpg: unpack(member(".cpg"), ".cpg")?,
    })
}

/// Whether a member name points outside the archive: absolute, a drive, or a `..` step,
/// whichever separator it uses.
fn escapes(name: &str) -> bool {
    let mut parts = name.split(['/', '\\']);
    name.starts_with(['/', '\\'])
        || parts.next().is_some_and(|first| first.contains(':'))
        || name.split(['/', '\\']).any(|part| part == "..")
}

fn read_parts(
    parts: &Parts,
    options: &ReadOptions,
    budget: &mut Budget,
) -> Result<Decoded, SourceError> {
    let mut warnings = Vec::new();
    let crs = match &parts.prj {
        Some(prj) => {
            let text = read_small(prj, "the .prj")?;
            let text = text.trim();
            (!text.is_empty()).then(|| DeclaredCrs::Wkt(text.to_string()))
        }
        None => None,
    };
    let mut shp = ShpReader::open(&parts.shp)?;
    let (mut dbf, encoding_note) = match &parts.dbf {
        Some(path) => {
            let cpg = match &parts.cpg {
                Some(p) => Some(read_small(p, "the .cpg")?),
                None => None,
            };
            let (reader, note) =
                DbfReader::open(path, cpg.as_deref(), options.encoding.as_deref())?;
            (Some(reader), note)
        }
        None => {
            warnings.push("the Shapefile has no .dbf: features have no properties".into());
            (None, None)
        }
    };
    warnings.extend(encoding_note);
    let fields: Vec<Field> = dbf.as_ref().map_or_else(Vec::new, |d| d.fields());
    let mut strings = StringInterner::default();
    let mut collected = Collected::new(budget);
    let mut position = 0u64;
    let mut fallback_decoded = 0usize;
    while let Some(shape) = shp.next(&mut collected)? {
        position += 1;
        // The n-th record of the .dbf belongs to the n-th shape; a deleted one takes its
        // shape with it, as in GDAL.
        let record = match dbf
            .as_mut()
            .map(|d| d.next(&mut strings))
            .transpose()?
            .flatten()
        {
            Some(Record::Deleted) => continue,
            Some(Record::Values(values, fell_back)) => {
                fallback_decoded += usize::from(fell_back);
                Some(values)
            }
            None => None,
        };
        // A record whose shape cannot be read is that feature's error, not the file's.
        let Some(geometry) = collected.geometry(position, shape) else {
            continue;
        };
        let properties = record.unwrap_or_else(|| vec![Value::Null; fields.len()]);
        collected.keep(
            Feature {
                id: position,
                geometry,
                properties,
            },
            &strings,
        )?;
    }
    if fallback_decoded > 0 {
        warnings.push(format!(
            "{fallback_decoded} record(s) had text that is not UTF-8 and the file names no code page: read as Windows-1252; add a .cpg file or ?encoding= if that is wrong"
        ));
    }
    Ok(collected.finish(fields, warnings, crs))
}

/// A sidecar file that is a few bytes of text; a huge one is refused, not read.
fn read_small(path: &Path, what: &str) -> Result<String, SourceError> {
    let len = std::fs::metadata(path)?.len();
    if len > 64 << 10 {
        return Err(bad(format!(
            "{what} file is {len} bytes; expected a short text"
        )));
    }
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads `.shp` records in order.
struct ShpReader {
    input: BufReader<File>,
    /// Bytes left after the header, from the file's real size.
    left: u64,
}

impl ShpReader {
    fn open(path: &Path) -> Result<ShpReader, SourceError> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut header = [0u8; 100];
        input
            .read_exact(&mut header)
            .map_err(|_| bad("the .shp is shorter than its 100-byte header"))?;
        if i32::from_be_bytes([header[0], header[1], header[2], header[3]]) != 9994 {
            return Err(bad(
                "the .shp does not start with the Shapefile file code 9994",
            ));
        }
        Ok(ShpReader {
            input,
            left: len - 100,
        })
    }

    /// The next record's shape: `Ok(Some(Ok(None)))` for a null shape, `Ok(Some(Err(…)))`
    /// for one that cannot be read, `Ok(None)` at the end. A record's length is a claim:
    /// it is checked against the bytes left in the file and against the memory budget
    /// before any buffer is made for it.
    fn next(
        &mut self,
        budget: &mut Collected,
    ) -> Result<Option<Result<Option<Geometry>, String>>, SourceError> {
        if self.left == 0 {
            return Ok(None);
        }
        if self.left < 8 {
            return Err(bad(
                "the .shp ends inside a record header (truncated file?)",
            ));
        }
        let mut header = [0u8; 8];
        self.input.read_exact(&mut header)?;
        let words = i32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let bytes = u64::try_from(words).map_err(|_| bad("a record has a negative length"))? * 2;
        if 8 + bytes > self.left {
            return Err(bad(format!(
                "a record claims {bytes} bytes but the .shp ends first (truncated file?)"
            )));
        }
        self.left -= 8 + bytes;
        // The record, its positions and its rings: each about the record's size.
        budget.reserve(3 * bytes)?;
        let mut content = vec![0u8; bytes as usize];
        self.input.read_exact(&mut content)?;
        Ok(Some(shape(&content)))
    }
}

struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn i32(&mut self) -> Result<i32, String> {
        let b = self
            .data
            .get(self.at..self.at + 4)
            .ok_or("a shape record is truncated")?;
        self.at += 4;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, String> {
        let b = self
            .data
            .get(self.at..self.at + 8)
            .ok_or("a shape record is truncated")?;
        self.at += 8;
        Ok(f64::from_le_bytes(b.try_into().map_err(|_| "short read")?))
    }

    /// A count of items of `item` bytes each, refused if they cannot fit in the record.
    fn count(&mut self, item: usize) -> Result<usize, String> {
        let n = usize::try_from(self.i32()?).map_err(|_| "a negative count")?;
        if n.saturating_mul(item) > self.data.len().saturating_sub(self.at) {
            return Err(format!(
                "a shape claims {n} parts or points that its record cannot hold"
            ));
        }
        Ok(n)
    }
}

/// One shape record's geometry (Z, M and MultiPatch extras are past the XY part and ignored).
fn shape(content: &[u8]) -> Result<Option<Geometry>, String> {
    let mut b = Bytes {
        data: content,
        at: 0,
    };
    let kind = b.i32()?;
    match kind {
        0 => Ok(None),
        1 | 11 | 21 => {
            let (x, y) = (b.f64()?, b.f64()?);
            Ok(Some(Geometry::Point(geo::point!(x: x, y: y))))
        }
        8 | 18 | 28 => {
            b.at += 32; // bounding box
            let n = b.count(16)?;
            let points: Vec<geo::Point> = (0..n)
                .map(|_| Ok(geo::point!(x: b.f64()?, y: b.f64()?)))
                .collect::<Result<_, String>>()?;
            Ok((!points.is_empty()).then(|| Geometry::MultiPoint(MultiPoint::new(points))))
        }
        3 | 13 | 23 | 5 | 15 | 25 => {
            b.at += 32;
            let parts = b.count(4)?;
            let points = b.count(16)?;
            let starts: Vec<usize> = (0..parts)
                .map(|_| b.i32().map(|s| s.max(0) as usize))
                .collect::<Result<_, _>>()?;
            let coords: Vec<Coord> = (0..points)
                .map(|_| {
                    Ok(Coord {
                        x: b.f64()?,
                        y: b.f64()?,
                    })
                })
                .collect::<Result<_, String>>()?;
            let mut rings = Vec::with_capacity(parts);
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(points);
                if start > end || end > points {
                    return Err("a part index is out of order or beyond the points".into());
                }
                if end > start {
                    rings.push(coords[start..end].to_vec());
                }
            }
            if rings.is_empty() {
                return Ok(None);
            }
            if matches!(kind, 3 | 13 | 23) {
                let mut lines: Vec<LineString> = rings.into_iter().map(LineString::new).collect();
                return Ok(Some(if lines.len() == 1 {
                    Geometry::LineString(lines.remove(0))
                } else {
                    Geometry::MultiLineString(MultiLineString::new(lines))
                }));
            }
            if let Some(why) = super::validate::unclosed_ring(rings.iter().map(Vec::as_slice)) {
                return Err(format!("a polygon's {why}"));
            }
            Ok(Some(super::rings::organise_rings(rings)))
        }
        31 => Err("MultiPatch shapes are not supported".into()),
        other => Err(format!("unknown shape type {other}")),
    }
}

enum Record {
    Deleted,
    /// The values, and whether text had to be decoded with the Windows-1252 fallback.
    Values(Vec<Value>, bool),
}

struct DbfField {
    /// The name's bytes, in the file's code page.
    name: Vec<u8>,
    kind: u8,
    length: usize,
    decimals: u8,
    field_type: FieldType,
}

/// Reads `.dbf` records in order.
struct DbfReader {
    input: BufReader<File>,
    fields: Vec<DbfField>,
    record_length: usize,
    records_left: u64,
    /// `None`: no code page named; UTF-8 if valid, else Windows-1252.
    encoding: Option<&'static Encoding>,
    buffer: Vec<u8>,
}

impl DbfReader {
    fn open(
        path: &Path,
        cpg: Option<&str>,
        override_encoding: Option<&str>,
    ) -> Result<(DbfReader, Option<String>), SourceError> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut header = [0u8; 32];
        input
            .read_exact(&mut header)
            .map_err(|_| bad("the .dbf is shorter than its 32-byte header"))?;
        let records = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        let header_length = usize::from(u16::from_le_bytes([header[8], header[9]]));
        let record_length = usize::from(u16::from_le_bytes([header[10], header[11]]));
        let language = header[29];
        if header_length < 33 || header_length as u64 > len {
            return Err(bad(format!(
                "the .dbf header claims {header_length} bytes; the file has {len}"
            )));
        }
        let descriptors = (header_length - 32) / 32;
        let mut rest = vec![0u8; header_length - 32];
        input.read_exact(&mut rest)?;
        let mut fields = Vec::new();
        let mut total = 1usize; // the deletion flag
        for i in 0..descriptors {
            let d = &rest[i * 32..i * 32 + 32];
            if d[0] == 0x0d {
                break;
            }
            // Kept as bytes: decoded once, in the file's code page, by `fields`.
            let raw_name = &d[..11];
            let name_end = raw_name.iter().position(|b| *b == 0).unwrap_or(11);
            let name = trim(&raw_name[..name_end]).to_vec();
            let kind = d[11].to_ascii_uppercase();
            let length = usize::from(d[16]);
            let decimals = d[17];
            let field_type = match kind {
                b'N' | b'F' if decimals == 0 && length < 19 => FieldType::Integer,
                b'N' | b'F' | b'O' => FieldType::Number,
                b'L' => FieldType::Boolean,
                _ => FieldType::String,
            };
            total += length;
            fields.push(DbfField {
                name,
                kind,
                length,
                decimals,
                field_type,
            });
        }
        if total != record_length {
            return Err(bad(format!(
                "the .dbf fields add up to {total} bytes a record, but the header says {record_length}"
            )));
        }
        let available = (len - header_length as u64) / record_length.max(1) as u64;
        let mut note = None;
        let records_left = if records > available {
            note = Some(format!(
                "the .dbf header claims {records} records but the file holds {available}; read those"
            ));
            available
        } else {
            records
        };
        let (encoding, encoding_note) = encoding(cpg, language, override_encoding)?;
        Ok((
            DbfReader {
                input,
                fields,
                record_length,
                records_left,
                encoding,
                buffer: vec![0u8; record_length],
            },
            note.or(encoding_note),
        ))
    }

    fn fields(&self) -> Vec<Field> {
        let mut names: Vec<String> = Vec::with_capacity(self.fields.len());
        self.fields
            .iter()
            .map(|f| {
                // Duplicate names (possible after truncation to 10 characters) get a suffix.
                let mut name = self.text(&f.name).0;
                if names.contains(&name) {
                    let mut n = 2;
                    while names.contains(&format!("{name}_{n}")) {
                        n += 1;
                    }
                    name = format!("{name}_{n}");
                }
                names.push(name.clone());
                Field {
                    name,
                    field_type: f.field_type,
                }
            })
            .collect()
    }

    /// Decoded, NFC-normalised text, and whether the Windows-1252 fallback was used.
    fn text(&self, raw: &[u8]) -> (String, bool) {
        use unicode_normalization::UnicodeNormalization;
        let (decoded, fell_back) = match self.encoding {
            Some(enc) => (enc.decode_without_bom_handling(raw).0.into_owned(), false),
            None => match std::str::from_utf8(raw) {
                Ok(s) => (s.to_string(), false),
                Err(_) => (
                    encoding_rs::WINDOWS_1252
                        .decode_without_bom_handling(raw)
                        .0
                        .into_owned(),
                    true,
                ),
            },
        };
        (decoded.nfc().collect(), fell_back)
    }

    fn next(&mut self, strings: &mut StringInterner) -> Result<Option<Record>, SourceError> {
        if self.records_left == 0 {
            return Ok(None);
        }
        self.records_left -= 1;
        if self.input.read_exact(&mut self.buffer).is_err() {
            return Ok(None);
        }
        if self.buffer[0] == b'*' {
            return Ok(Some(Record::Deleted));
        }
        if self.buffer[0] == 0x1a {
            return Ok(None);
        }
        let mut at = 1;
        let mut values = Vec::with_capacity(self.fields.len());
        let mut fell_back = false;
        for field in &self.fields {
            let raw = &self.buffer[at..at + field.length];
            at += field.length;
            let trimmed = trim(raw);
            let value = match field.kind {
                b'N' | b'F' | b'O' => {
                    let text = String::from_utf8_lossy(trimmed);
                    let text = text.trim();
                    if text.is_empty() || text.starts_with('*') {
                        Value::Null
                    } else if field.field_type == FieldType::Integer {
                        text.parse::<i64>()
                            .map(Value::Int)
                            .or_else(|_| text.parse::<f64>().map(|f| Value::Int(f as i64)))
                            .unwrap_or(Value::Null)
                    } else {
                        text.replace(',', ".")
                            .parse::<f64>()
                            .map(Value::Float)
                            .unwrap_or(Value::Null)
                    }
                }
                b'L' => match trimmed.first() {
                    Some(b'T' | b't' | b'Y' | b'y') => Value::Bool(true),
                    Some(b'F' | b'f' | b'N' | b'n') => Value::Bool(false),
                    _ => Value::Null,
                },
                b'D' if trimmed.len() == 8 && trimmed.iter().all(u8::is_ascii_digit) => {
                    let d = String::from_utf8_lossy(trimmed);
                    Value::String(strings.intern(&format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])))
                }
                b'D' => Value::Null,
                _ if trimmed.is_empty() => Value::Null,
                _ => {
                    let (text, fallback) = self.text(trimmed);
                    fell_back |= fallback;
                    Value::String(strings.intern(&text))
                }
            };
            let _ = field.decimals;
            values.push(value);
        }
        debug_assert_eq!(at, self.record_length);
        Ok(Some(Record::Values(values, fell_back)))
    }
}

/// Without the padding DBF puts around values (spaces, and NULs some writers use).
fn trim(raw: &[u8]) -> &[u8] {
    let pad = |b: &u8| *b == b' ' || *b == 0;
    let start = raw.iter().position(|b| !pad(b)).unwrap_or(raw.len());
    let end = raw.iter().rposition(|b| !pad(b)).map_or(start, |e| e + 1);
    &raw[start..end]
}

/// The code page of the text: `?encoding=` when given (it wins, as GDAL's `ENCODING` open
/// option does, with a warning when the file names another), else the `.cpg`, else the DBF
/// language byte; `None` when nothing names one. Names no decoder knows are refused, naming
/// them.
fn encoding(
    cpg: Option<&str>,
    language: u8,
    override_encoding: Option<&str>,
) -> Result<(Option<&'static Encoding>, Option<String>), SourceError> {
    let from_cpg = match cpg.map(str::trim).filter(|c| !c.is_empty()) {
        Some(cpg) => Some((
            code_page(cpg).ok_or_else(|| {
                bad(format!(
                    "the .cpg names code page {:?}, which this server cannot decode",
                    crate::feature::abbreviate(cpg, 40)
                ))
            }),
            format!("the .cpg names {:?}", crate::feature::abbreviate(cpg, 40)),
        )),
        None => language_driver(language).map(|enc| {
            (
                Ok(enc),
                format!(
                    "the .dbf language byte 0x{language:02x} names {}",
                    enc.name()
                ),
            )
        }),
    };
    if let Some(name) = override_encoding {
        let chosen = code_page(name).ok_or_else(|| {
            SourceError::Options(format!(
                "?encoding={:?} is not a code page this server can decode",
                crate::feature::abbreviate(name, 40)
            ))
        })?;
        let note = match from_cpg {
            Some((Ok(declared), said)) if declared != chosen => Some(format!(
                "{said}, but ?encoding= names {}: read as {}",
                chosen.name(),
                chosen.name()
            )),
            Some((Err(_), said)) => Some(format!(
                "{said}, which this server cannot decode; read as {} as ?encoding= says",
                chosen.name()
            )),
            _ => None,
        };
        return Ok((Some(chosen), note));
    }
    match from_cpg {
        Some((declared, _)) => declared.map(|e| (Some(e), None)),
        None => Ok((None, None)),
    }
}

/// A code page as `.cpg` files and people write it: `UTF-8`, `CP874`, `874`, `TIS-620`,
/// `ANSI 1252`, `windows-1258`, `88591`, …
pub fn code_page(name: &str) -> Option<&'static Encoding> {
    let lower = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    let digits: String = lower.chars().filter(char::is_ascii_digit).collect();
    let label = match lower.as_str() {
        "utf8" | "utf-8" | "65001" => "utf-8",
        "tis-620" | "tis620" | "iso-8859-11" | "iso8859-11" | "874" | "cp874" | "cp-874"
        | "windows-874" | "ansi-874" => "windows-874",
        "88591" | "8859-1" | "iso88591" | "latin1" => "windows-1252",
        _ if lower.starts_with("cp")
            || lower.starts_with("ansi-")
            || lower.chars().all(|c| c.is_ascii_digit()) =>
        {
            match digits.as_str() {
                "1250" | "1251" | "1252" | "1253" | "1254" | "1255" | "1256" | "1257" | "1258" => {
                    return Encoding::for_label(format!("windows-{digits}").as_bytes());
                }
                "936" => "gbk",
                "950" => "big5",
                "932" => "shift_jis",
                "949" => "euc-kr",
                "866" => "ibm866",
                _ => return None,
            }
        }
        other => other,
    };
    Encoding::for_label(label.as_bytes())
}

/// The code page a DBF language driver id names (the ids GDAL and ArcGIS write).
fn language_driver(id: u8) -> Option<&'static Encoding> {
    let label: &str = match id {
        0x03 | 0x57 | 0x58 | 0x59 => "windows-1252",
        0x4d | 0x7a => "gbk",
        0x4e | 0x79 => "euc-kr",
        0x4f | 0x78 => "big5",
        0x7b | 0x13 => "shift_jis",
        0x7c => "windows-874",
        0x7d => "windows-1255",
        0x7e => "windows-1256",
        0x65 | 0x26 => "ibm866",
        0xc8 => "windows-1250",
        0xc9 => "windows-1251",
        0xca => "windows-1254",
        0xcb => "windows-1253",
        0xcc => "windows-1257",
        _ => return None,
    };
    Encoding::for_label(label.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_pages_as_files_name_them() {
        assert_eq!(code_page("UTF-8"), Some(encoding_rs::UTF_8));
        assert_eq!(code_page("CP874"), Some(encoding_rs::WINDOWS_874));
        assert_eq!(code_page("TIS-620"), Some(encoding_rs::WINDOWS_874));
        assert_eq!(code_page("1258"), Some(encoding_rs::WINDOWS_1258));
        assert_eq!(code_page("ANSI 1252"), Some(encoding_rs::WINDOWS_1252));
        assert_eq!(code_page("klingon"), None);
    }
}
