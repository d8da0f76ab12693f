//! A FlatGeobuf reader that does not trust the file.
//!
//! The `flatgeobuf` crate's own reader allocates whatever a header or size prefix
//! claims and accepts truncated files. Here the framing (magic, header size, index
//! size, every feature's size prefix, the feature count) is checked against the
//! actual byte length first, flatbuffers are verified, and property bytes are decoded
//! with bounds checks. Only then are the crate's geometry readers used.

use std::io::Read;

use flatgeobuf::{ColumnType, GeometryType, Header};
use geozero::geo_types::GeoWriter;

use super::validate::check_geometry;
use super::{Budget, SourceError};
use crate::feature::{Feature, FeatureSet, Field, FieldType, StringInterner, Value};

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
pub fn read<R: Read>(
    mut input: R,
    len: u64,
    budget: &mut Budget,
) -> Result<FeatureSet, SourceError> {
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
    // The flatbuffer is size-prefixed, so keep the 4 length bytes in front of it.
    let mut header_bytes = vec![0u8; 4 + header_len as usize];
    header_bytes[..4].copy_from_slice(&prefix[8..12]);
    input
        .read_exact(&mut header_bytes[4..])
        .map_err(|e| truncated(e, "the header"))?;
    let header = flatgeobuf::size_prefixed_root_as_header(&header_bytes)
        .map_err(|e| bad(format!("corrupt header: {e}")))?;
    check_crs(&header)?;
    if !is_supported(header.geometry_type()) {
        return Err(bad(format!(
            "unsupported geometry type {:?}",
            header.geometry_type()
        )));
    }

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
    let geometry_type = header.geometry_type();
    let mut strings = StringInterner::default();
    // The count is only a claim: reserve for at most a modest number up front.
    let mut features = Vec::with_capacity(count.min(1 << 16) as usize);
    let mut position = 0u64;
    let mut invalid_geometries = Vec::new();
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
        let Some(geometry) = feature.geometry() else {
            continue; // a feature without geometry cannot be mapped; its id stays reserved
        };
        let mut writer = GeoWriter::new();
        let geometry = match geometry.process(&mut writer, geometry_type) {
            Ok(()) => writer
                .take_geometry()
                .ok_or_else(|| "empty geometry".to_string()),
            Err(e) => Err(format!("unreadable geometry: {e}")),
        }
        .and_then(|g| check_geometry(&g).map(|()| g));
        let geometry = match geometry {
            Ok(g) => g,
            Err(reason) => {
                invalid_geometries.push((position, reason));
                continue;
            }
        };
        let mut properties = vec![Value::Null; fields.len()];
        if let Some(props) = feature.properties() {
            decode_properties(props.bytes(), &columns, &mut properties, &mut strings)
                .map_err(invalid)?;
        }
        budget.keep(
            &mut features,
            Feature {
                id: position,
                geometry,
                properties,
            },
        )?;
    }
    if count != 0 && position != count {
        return Err(bad(format!(
            "header claims {count} features but the file holds {position} (truncated or corrupt)"
        )));
    }
    Ok(FeatureSet {
        fields,
        features,
        warnings: Vec::new(),
        invalid: invalid_geometries,
    })
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
    let node_size = u64::from(node_size);
    let mut level = count;
    let mut nodes = count;
    while level > 1 {
        level = level.div_ceil(node_size);
        nodes = nodes.checked_add(level)?;
    }
    nodes.checked_mul(INDEX_NODE_BYTES)
}

fn check_crs(header: &Header) -> Result<(), SourceError> {
    let Some(crs) = header.crs() else {
        return Ok(());
    };
    let org = crs.org().unwrap_or("EPSG");
    let code = crs.code();
    let lonlat = (org.eq_ignore_ascii_case("EPSG") && (code == 4326 || code == 0))
        || (org.eq_ignore_ascii_case("OGC") && crs.code_string() == Some("CRS84"));
    if lonlat {
        Ok(())
    } else {
        let name = crs.name().map(|n| format!(" ({n})")).unwrap_or_default();
        Err(SourceError::Crs(format!("{org}:{code}{name}")))
    }
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
        | ColumnType::Long
        | ColumnType::ULong => FieldType::Integer,
        ColumnType::Float | ColumnType::Double => FieldType::Number,
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
            ColumnType::Long | ColumnType::ULong => {
                let b: [u8; 8] = fixed(8, &mut at)?.try_into().map_err(|_| "bad long")?;
                if *ty == ColumnType::Long {
                    Value::Int(i64::from_le_bytes(b))
                } else {
                    i64::try_from(u64::from_le_bytes(b))
                        .map(Value::Int)
                        .unwrap_or(Value::Float(u64::from_le_bytes(b) as f64))
                }
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
                let text = std::str::from_utf8(raw)
                    .map_err(|_| format!("property {name:?} is not valid UTF-8"))?;
                Value::String(strings.intern(text))
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

/// Geometry types a FlatGeobuf header may announce that this server can serve.
fn is_supported(ty: GeometryType) -> bool {
    matches!(
        ty,
        GeometryType::Unknown
            | GeometryType::Point
            | GeometryType::MultiPoint
            | GeometryType::LineString
            | GeometryType::MultiLineString
            | GeometryType::Polygon
            | GeometryType::MultiPolygon
            | GeometryType::GeometryCollection
    )
}
