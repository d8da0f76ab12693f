//! An independent decoder for what the server encodes: the protobuf wire format, Mapbox
//! Vector Tiles 2.1 and MapLibre glyph ranges, written from the specifications rather than
//! taken from the crates the server encodes with, so an encoder bug cannot hide itself.
//! (geozero 0.15's MVT reader also miscomputes polygon ring winding.)

/// One field of a protobuf message.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// The fields of one message, in order (protobuf wire format, proto2/proto3 alike).
pub fn fields(mut buf: &[u8]) -> Result<Vec<(u32, Field<'_>)>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let number = u32::try_from(key >> 3).map_err(|_| "field number too large")?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut buf)?),
            1 => Field::Fixed64(u64::from_le_bytes(
                take(&mut buf, 8)?.try_into().map_err(|_| "fixed64")?,
            )),
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| "length")?;
                Field::Bytes(take(&mut buf, len)?)
            }
            5 => Field::Fixed32(u32::from_le_bytes(
                take(&mut buf, 4)?.try_into().map_err(|_| "fixed32")?,
            )),
            other => return Err(format!("wire type {other} is not used by these messages")),
        };
        out.push((number, field));
    }
    Ok(out)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if buf.len() < n {
        return Err(format!("{n} bytes wanted, {} left", buf.len()));
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *take(buf, 1)?.first().ok_or("varint")?;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn packed(bytes: &[u8]) -> Result<Vec<u32>, String> {
    let mut buf = bytes;
    let mut out = Vec::new();
    while !buf.is_empty() {
        out.push(u32::try_from(varint(&mut buf)?).map_err(|_| "packed u32")?);
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())
}

pub struct Tile {
    pub layers: Vec<Layer>,
}

pub struct Layer {
    pub version: u32,
    pub name: String,
    pub features: Vec<Feature>,
    pub keys: Vec<String>,
    pub values: Vec<Value>,
    pub extent: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomType {
    Unknown,
    Point,
    Linestring,
    Polygon,
}

pub struct Feature {
    pub id: Option<u64>,
    pub tags: Vec<u32>,
    pub r#type: Option<GeomType>,
    pub geometry: Vec<u32>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Value {
    pub string_value: Option<String>,
    pub float_value: Option<f32>,
    pub double_value: Option<f64>,
    pub int_value: Option<i64>,
    pub uint_value: Option<u64>,
    pub sint_value: Option<i64>,
    pub bool_value: Option<bool>,
}

/// A vector tile (MVT 2.1 `vector_tile.proto`).
pub fn decode(bytes: &[u8]) -> Result<Tile, String> {
    let mut layers = Vec::new();
    for (number, field) in fields(bytes)? {
        if let (3, Field::Bytes(b)) = (number, field) {
            layers.push(layer(b)?);
        }
    }
    Ok(Tile { layers })
}

fn layer(bytes: &[u8]) -> Result<Layer, String> {
    let mut layer = Layer {
        version: 1,
        name: String::new(),
        features: Vec::new(),
        keys: Vec::new(),
        values: Vec::new(),
        extent: None,
    };
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (15, Field::Varint(v)) => layer.version = u32::try_from(v).map_err(|_| "version")?,
            (1, Field::Bytes(b)) => layer.name = text(b)?,
            (2, Field::Bytes(b)) => layer.features.push(feature(b)?),
            (3, Field::Bytes(b)) => layer.keys.push(text(b)?),
            (4, Field::Bytes(b)) => layer.values.push(value(b)?),
            (5, Field::Varint(v)) => layer.extent = Some(u32::try_from(v).map_err(|_| "extent")?),
            (n, f) => return Err(format!("unexpected layer field {n}: {f:?}")),
        }
    }
    Ok(layer)
}

fn feature(bytes: &[u8]) -> Result<Feature, String> {
    let mut feature = Feature {
        id: None,
        tags: Vec::new(),
        r#type: None,
        geometry: Vec::new(),
    };
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (1, Field::Varint(v)) => feature.id = Some(v),
            (2, Field::Bytes(b)) => feature.tags = packed(b)?,
            (3, Field::Varint(v)) => {
                feature.r#type = Some(match v {
                    1 => GeomType::Point,
                    2 => GeomType::Linestring,
                    3 => GeomType::Polygon,
                    _ => GeomType::Unknown,
                })
            }
            (4, Field::Bytes(b)) => feature.geometry = packed(b)?,
            (n, f) => return Err(format!("unexpected feature field {n}: {f:?}")),
        }
    }
    Ok(feature)
}

fn value(bytes: &[u8]) -> Result<Value, String> {
    let mut value = Value::default();
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (1, Field::Bytes(b)) => value.string_value = Some(text(b)?),
            (2, Field::Fixed32(v)) => value.float_value = Some(f32::from_bits(v)),
            (3, Field::Fixed64(v)) => value.double_value = Some(f64::from_bits(v)),
            (4, Field::Varint(v)) => value.int_value = Some(v as i64),
            (5, Field::Varint(v)) => value.uint_value = Some(v),
            (6, Field::Varint(v)) => value.sint_value = Some(((v >> 1) as i64) ^ -((v & 1) as i64)),
            (7, Field::Varint(v)) => value.bool_value = Some(v != 0),
            (n, f) => return Err(format!("unexpected value field {n}: {f:?}")),
        }
    }
    Ok(value)
}

/// The value of property `key` of `feature`.
pub fn tag<'a>(layer: &'a Layer, feature: &Feature, key: &str) -> Option<&'a Value> {
    feature
        .tags
        .chunks(2)
        .find_map(|kv| (layer.keys[kv[0] as usize] == key).then(|| &layer.values[kv[1] as usize]))
}

/// Twice the signed area by the surveyor's formula in tile coordinates (y down).
pub fn area2(ring: &geo::LineString) -> f64 {
    ring.0
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

/// Decodes a feature's geometry commands as MVT 2.1 section 4.3 specifies, checking as it
/// goes what the specification requires (MoveTo first, ClosePath count 1, closed rings,
/// exterior rings of positive area first, no ring of zero area).
pub fn geometry(feature: &Feature) -> geo::Geometry<f64> {
    let zigzag = |v: u32| f64::from(((v >> 1) as i32) ^ -((v & 1) as i32));
    let mut parts: Vec<Vec<geo::Coord>> = Vec::new();
    let (mut x, mut y) = (0.0, 0.0);
    let mut words = feature.geometry.iter().copied();
    while let Some(command) = words.next() {
        let (id, count) = (command & 7, command >> 3);
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += zigzag(words.next().expect("parameter"));
                    y += zigzag(words.next().expect("parameter"));
                    if id == 1 {
                        parts.push(Vec::new());
                    }
                    parts
                        .last_mut()
                        .expect("MoveTo first")
                        .push(geo::coord! { x: x, y: y });
                }
            }
            7 => {
                assert_eq!(count, 1, "ClosePath count");
                let ring = parts.last_mut().expect("ring");
                ring.push(ring[0]);
            }
            other => panic!("unknown command {other}"),
        }
    }
    assert!(!parts.is_empty(), "feature has geometry");
    match feature.r#type {
        Some(GeomType::Point) => {
            let points: Vec<geo::Point> =
                parts.concat().into_iter().map(geo::Point::from).collect();
            if points.len() == 1 {
                points[0].into()
            } else {
                geo::MultiPoint(points).into()
            }
        }
        Some(GeomType::Linestring) => {
            let lines: Vec<geo::LineString> = parts.into_iter().map(geo::LineString).collect();
            if lines.len() == 1 {
                lines[0].clone().into()
            } else {
                geo::MultiLineString(lines).into()
            }
        }
        Some(GeomType::Polygon) => {
            // Spec 4.3.4.4: a ring of positive area starts a new polygon, negative ones are its holes.
            let mut polygons: Vec<(geo::LineString, Vec<geo::LineString>)> = Vec::new();
            for ring in parts.into_iter().map(geo::LineString) {
                assert!(ring.is_closed(), "polygon rings end with ClosePath");
                let area = area2(&ring);
                assert!(area != 0.0, "ring of zero area");
                if area > 0.0 {
                    polygons.push((ring, Vec::new()));
                } else {
                    polygons
                        .last_mut()
                        .expect("first ring is an exterior (positive area)")
                        .1
                        .push(ring);
                }
            }
            let polygons: Vec<geo::Polygon> = polygons
                .into_iter()
                .map(|(e, h)| geo::Polygon::new(e, h))
                .collect();
            if polygons.len() == 1 {
                polygons[0].clone().into()
            } else {
                geo::MultiPolygon(polygons).into()
            }
        }
        other => panic!("unknown geometry type {other:?}"),
    }
}

/// One glyph of a MapLibre glyph range.
pub struct Glyph {
    pub id: u32,
    pub bitmap: Vec<u8>,
    pub advance: u32,
}

/// A glyph range (`glyphs.proto`): its fontstack name, range and glyphs.
pub fn glyph_range(bytes: &[u8]) -> Result<(String, String, Vec<Glyph>), String> {
    let stacks: Vec<&[u8]> = fields(bytes)?
        .into_iter()
        .filter_map(|(n, f)| match (n, f) {
            (1, Field::Bytes(b)) => Some(b),
            _ => None,
        })
        .collect();
    let [stack] = stacks[..] else {
        return Err(format!("{} fontstacks, expected 1", stacks.len()));
    };
    let (mut name, mut range, mut glyphs) = (String::new(), String::new(), Vec::new());
    for (number, field) in fields(stack)? {
        match (number, field) {
            (1, Field::Bytes(b)) => name = text(b)?,
            (2, Field::Bytes(b)) => range = text(b)?,
            (3, Field::Bytes(b)) => {
                let mut glyph = Glyph {
                    id: 0,
                    bitmap: Vec::new(),
                    advance: 0,
                };
                for (number, field) in fields(b)? {
                    match (number, field) {
                        (1, Field::Varint(v)) => glyph.id = v as u32,
                        (2, Field::Bytes(b)) => glyph.bitmap = b.to_vec(),
                        (7, Field::Varint(v)) => glyph.advance = v as u32,
                        _ => {}
                    }
                }
                glyphs.push(glyph);
            }
            _ => {}
        }
    }
    Ok((name, range, glyphs))
}
