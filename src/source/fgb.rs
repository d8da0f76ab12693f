//! A FlatGeobuf reader that does not trust the file.
//!
//! The `flatgeobuf` crate's own reader allocates whatever a header or size prefix
//! claims and accepts truncated files. Here the framing (magic, header size, index
//! size, every feature's size prefix, the feature count) is checked against the
//! actual byte length first, flatbuffers are verified, and property bytes are decoded
//! with bounds checks. Geometries are decoded here too, from the verified flatbuffer, so
//! that every type the specification has (curves, surfaces, collections, Z and M) is read.

use std::io::Read;

use flatgeobuf::{ColumnType, GeometryType, Header};

use super::geometry::{Kind, MAX_DEPTH, Raw};
use super::{Budget, Collected, DeclaredCrs, Decoded, SourceError};
use crate::feature::{Feature, Field, FieldType, StringInterner, Value};

const MAGIC: [u8; 3] = *b"fgb";
/// Size of one packed R-tree node: four f64 and a u64 offset.
const INDEX_NODE_BYTES: u64 = 40;
/// The smallest possible feature: a size prefix plus an almost empty flatbuffer.
const MIN_FEATURE_BYTES: u64 = 12;

fn bad(msg: impl Into<String>) -> SourceError {
    SourceError::FlatGeobuf(msg.into())
}

fn truncated(e: std::io::Error, what: &str) -> SourceError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        bad(format!("the file ends inside {what} (truncated file?)"))
    } else {
        SourceError::Io(e)
    }
}

/// Reads a FlatGeobuf stream of exactly `len` bytes, one feature at a time: only the
/// header and the current feature are ever buffered, and every size the file claims is
/// checked against the bytes that remain before anything is allocated for it.
pub fn read<R: Read>(mut input: R, len: u64, budget: &mut Budget) -> Result<Decoded, SourceError> {
    let mut prefix = [0u8; 12];
    if len < 12 {
        return Err(bad("missing FlatGeobuf magic bytes"));
    }
    input
        .read_exact(&mut prefix)
        .map_err(|e| truncated(e, "the magic bytes"))?;
    if prefix[0..3] != MAGIC || prefix[4..7] != MAGIC {
        return Err(bad("missing FlatGeobuf magic bytes"));
    }
    let header_len = u64::from(u32::from_le_bytes([
        prefix[8], prefix[9], prefix[10], prefix[11],
    ]));
    if 12 + header_len > len {
        return Err(bad(format!(
            "header claims {header_len} bytes, file is shorter"
        )));
    }
    budget.reserve(header_len)?;
    // The flatbuffer is size-prefixed, so keep the 4 length bytes in front of it.
    let mut header_bytes = vec![0u8; 4 + header_len as usize];
    header_bytes[..4].copy_from_slice(&prefix[8..12]);
    input
        .read_exact(&mut header_bytes[4..])
        .map_err(|e| truncated(e, "the header"))?;
    let header = flatgeobuf::size_prefixed_root_as_header(&header_bytes)
        .map_err(|e| bad(format!("corrupt header: {e}")))?;
    let crs = declared_crs(&header);
    let header_kind = match header.geometry_type() {
        GeometryType::Unknown => None,
        ty => Some(kind_of(ty).ok_or_else(|| bad(format!("unsupported geometry type {ty:?}")))?),
    };

    let remaining = len - 12 - header_len;
    let count = header.features_count();
    if count > remaining / MIN_FEATURE_BYTES {
        return Err(bad(format!(
            "header claims {count} features, but only {remaining} bytes follow the header"
        )));
    }
    let index_len = index_size(count, header.index_node_size())
        .filter(|len| *len <= remaining)
        .ok_or_else(|| bad("spatial index is larger than the file"))?;
    // The packed R-tree is not needed: the server builds its own index.
    let skipped = std::io::copy(&mut (&mut input).take(index_len), &mut std::io::sink())?;
    if skipped != index_len {
        return Err(bad(
            "the file ends inside the spatial index (truncated file?)",
        ));
    }
    let mut left = remaining - index_len;

    let columns = columns(&header)?;
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, ty)| Field {
            name: name.clone(),
            field_type: field_type(*ty),
        })
        .collect();
    let mut strings = StringInterner::default();
    let mut collected = Collected::new(budget);
    // The count is only a claim: reserve for at most a modest number up front.
    collected.features.reserve(count.min(1 << 16) as usize);
    let mut position = 0u64;
    let mut buffer = Vec::new();

    while left > 0 {
        position += 1;
        let mut size_prefix = [0u8; 4];
        if left < 4 {
            return Err(bad(format!("feature {position}: truncated size prefix")));
        }
        input
            .read_exact(&mut size_prefix)
            .map_err(|e| truncated(e, "a feature"))?;
        let size = u64::from(u32::from_le_bytes(size_prefix));
        if 4 + size > left {
            return Err(bad(format!(
                "feature {position} claims {size} bytes but the file ends first (truncated file?)"
            )));
        }
        left -= 4 + size;
        // The buffer, and the positions and rings parsed from it (each about its size).
        collected.reserve(3 * size)?;
        buffer.clear();
        buffer.extend_from_slice(&size_prefix);
        buffer.resize(4 + size as usize, 0);
        input
            .read_exact(&mut buffer[4..])
            .map_err(|e| truncated(e, "a feature"))?;
        let feature = flatgeobuf::size_prefixed_root_as_feature(&buffer)
            .map_err(|e| bad(format!("feature {position}: corrupt: {e}")))?;

        let invalid = |reason: String| SourceError::InvalidFeature {
            feature: position,
            reason,
        };
        // A feature without geometry cannot be mapped; its id stays reserved.
        let geometry = match feature.geometry() {
            Some(g) => collected.assemble(position, raw(g, header_kind, 0))?,
            None => collected.geometry(position, Ok(None)),
        };
        let Some(geometry) = geometry else {
            continue;
        };
        let mut properties = vec![Value::Null; fields.len()];
        if let Some(props) = feature.properties() {
            decode_properties(props.bytes(), &columns, &mut properties, &mut strings)
                .map_err(invalid)?;
        }
        collected.keep(
            Feature {
                id: position,
                geometry,
                properties,
            },
            &strings,
        )?;
    }
    if count != 0 && position != count {
        return Err(bad(format!(
            "header claims {count} features but the file holds {position} (truncated or corrupt)"
        )));
    }
    Ok(collected.finish(fields, Vec::new(), crs))
}

/// The positions and parts of one feature's geometry, to be assembled once its cost is
/// known. `inherited` is the header's type, which features of typed files do not repeat.
fn raw(
    geometry: flatgeobuf::Geometry,
    inherited: Option<Kind>,
    depth: usize,
) -> Result<(Kind, Raw), String> {
    if depth > MAX_DEPTH {
        return Err(format!("geometry nested deeper than {MAX_DEPTH} levels"));
    }
    let kind = match geometry.type_() {
        GeometryType::Unknown => inherited.ok_or("a geometry of unknown type")?,
        ty => kind_of(ty).ok_or_else(|| format!("unsupported geometry type {ty:?}"))?,
    };
    if let Some(parts) = geometry.parts() {
        // The parts of a MultiPolygon (or a surface) may leave their type to the parent.
        let part_default = match kind {
            Kind::MultiPolygon | Kind::PolyhedralSurface | Kind::MultiSurface => {
                Some(Kind::Polygon)
            }
            Kind::Tin => Some(Kind::Triangle),
            Kind::MultiLineString => Some(Kind::LineString),
            Kind::MultiPoint => Some(Kind::Point),
            _ => None,
        };
        let parts = parts
            .iter()
            .map(|part| raw(part, part_default, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((kind, Raw::Parts(parts)));
    }
    let coords: Vec<geo::Coord> = match geometry.xy() {
        Some(xy) if xy.len() % 2 != 0 => return Err("odd number of coordinate values".into()),
        Some(xy) => (0..xy.len() / 2)
            .map(|i| geo::Coord {
                x: xy.get(2 * i),
                y: xy.get(2 * i + 1),
            })
            .collect(),
        None => Vec::new(),
    };
    let Some(ends) = geometry.ends().filter(|e| !e.is_empty()) else {
        return Ok((kind, Raw::Coords(coords)));
    };
    let mut rings = Vec::with_capacity(ends.len());
    let mut start = 0usize;
    for end in ends.iter() {
        let end = end as usize;
        if end < start || end > coords.len() {
            return Err(format!(
                "part end {end} is out of order or beyond the {} positions",
                coords.len()
            ));
        }
        rings.push(coords[start..end].to_vec());
        start = end;
    }
    Ok((kind, Raw::Rings(rings)))
}

fn kind_of(ty: GeometryType) -> Option<Kind> {
    Kind::from_code(u32::from(ty.0))
}

/// The packed R-tree size for `count` items, with overflow checked (the crate's own
/// function asserts and can overflow on hostile headers).
fn index_size(count: u64, node_size: u16) -> Option<u64> {
    if node_size == 0 || count == 0 {
        return Some(0);
    }
    if node_size < 2 {
        return None;
    }
    // As the specification's `calcTreeSize`: levels are added until one holds a single
    // node, so even a one-feature file has a root above its leaf.
    let node_size = u64::from(node_size);
    let mut level = count;
    let mut nodes = count;
    loop {
        level = level.div_ceil(node_size);
        nodes = nodes.checked_add(level)?;
        if level == 1 {
            break;
        }
    }
    nodes.checked_mul(INDEX_NODE_BYTES)
}

/// What the header says the CRS is: its code when it has one, else its WKT.
fn declared_crs(header: &Header) -> Option<DeclaredCrs> {
    let crs = header.crs()?;
    let org = crs.org().unwrap_or("EPSG");
    if org.eq_ignore_ascii_case("OGC") && crs.code_string() == Some("CRS84") {
        return None;
    }
    if org.eq_ignore_ascii_case("EPSG") && crs.code() > 0 {
        return Some(DeclaredCrs::Epsg(crs.code() as u32));
    }
    if let Some(wkt) = crs.wkt().filter(|w| !w.trim().is_empty()) {
        return Some(DeclaredCrs::Wkt(wkt.to_string()));
    }
    if let Some(code) = crs.code_string().filter(|c| !c.is_empty()) {
        return Some(DeclaredCrs::Name(format!("{org}:{code}")));
    }
    // An EPSG entry with code 0 and nothing else says nothing: GDAL writes that for an
    // unknown CRS, and such files are taken as longitude/latitude, as GDAL shows them.
    None
}

fn columns(header: &Header) -> Result<Vec<(String, ColumnType)>, SourceError> {
    let Some(columns) = header.columns() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, ColumnType)> = Vec::with_capacity(columns.len());
    for column in columns.iter() {
        let name = column.name().to_string();
        if out.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!("duplicate column name {name:?}")));
        }
        out.push((name, column.type_()));
    }
    Ok(out)
}

fn field_type(ty: ColumnType) -> FieldType {
    match ty {
        ColumnType::Bool => FieldType::Boolean,
        ColumnType::Byte
        | ColumnType::UByte
        | ColumnType::Short
        | ColumnType::UShort
        | ColumnType::Int
        | ColumnType::UInt
        | ColumnType::Long => FieldType::Integer,
        // Above i64::MAX a ULong has no exact integer here; GDAL reads it as Real too.
        ColumnType::ULong | ColumnType::Float | ColumnType::Double => FieldType::Number,
        _ => FieldType::String,
    }
}

/// Decodes FlatGeobuf's `(u16 column, value)*` property encoding with every length checked.
fn decode_properties(
    bytes: &[u8],
    columns: &[(String, ColumnType)],
    out: &mut [Value],
    strings: &mut StringInterner,
) -> Result<(), String> {
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let slice = at
            .checked_add(n)
            .and_then(|end| bytes.get(*at..end))
            .ok_or_else(|| "property data is truncated".to_string())?;
        *at += n;
        Ok(slice)
    };
    // GDAL writes a trailing byte after some binary columns; tolerate a lone trailing byte.
    while at + 1 < bytes.len() {
        let idx = u16::from_le_bytes(take(&mut at, 2)?.try_into().map_err(|_| "bad index")?);
        let (name, ty) = columns
            .get(usize::from(idx))
            .ok_or_else(|| format!("property refers to column {idx}, which the header lacks"))?;
        let fixed = |n: usize, at: &mut usize| take(at, n).map(|s| s.to_vec());
        let value = match *ty {
            ColumnType::Bool => Value::Bool(take(&mut at, 1)?[0] != 0),
            ColumnType::Byte => Value::Int(i64::from(take(&mut at, 1)?[0] as i8)),
            ColumnType::UByte => Value::Int(i64::from(take(&mut at, 1)?[0])),
            ColumnType::Short => {
                let b = fixed(2, &mut at)?;
                Value::Int(i64::from(i16::from_le_bytes([b[0], b[1]])))
            }
            ColumnType::UShort => {
                let b = fixed(2, &mut at)?;
                Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]])))
            }
            ColumnType::Int => {
                let b = fixed(4, &mut at)?;
                Value::Int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            ColumnType::UInt => {
                let b = fixed(4, &mut at)?;
                Value::Int(i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            ColumnType::Long => {
                let b: [u8; 8] = fixed(8, &mut at)?.try_into().map_err(|_| "bad long")?;
                Value::Int(i64::from_le_bytes(b))
            }
            ColumnType::ULong => {
                let b: [u8; 8] = fixed(8, &mut at)?.try_into().map_err(|_| "bad ulong")?;
                Value::Float(u64::from_le_bytes(b) as f64)
            }
            ColumnType::Float => {
                let b = fixed(4, &mut at)?;
                Value::Float(f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            ColumnType::Double => {
                let b: [u8; 8] = fixed(8, &mut at)?.try_into().map_err(|_| "bad double")?;
                Value::Float(f64::from_le_bytes(b))
            }
            ColumnType::String | ColumnType::Json | ColumnType::DateTime | ColumnType::Binary => {
                let b = fixed(4, &mut at)?;
                let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let raw = take(&mut at, len)?;
                if *ty == ColumnType::Binary {
                    // As GDAL writes binary fields to text formats: upper-case hex.
                    Value::String(strings.intern(&super::binary_text(raw)))
                } else {
                    let text = std::str::from_utf8(raw)
                        .map_err(|_| format!("property {name:?} is not valid UTF-8"))?;
                    Value::String(strings.intern(text))
                }
            }
            other => {
                return Err(format!(
                    "property {name:?} has unknown column type {other:?}"
                ));
            }
        };
        out[usize::from(idx)] = value;
    }
    Ok(())
}
