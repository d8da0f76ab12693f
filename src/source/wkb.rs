//! Well-known binary (ISO, with the Z/M variants and EWKB flags) and the GeoPackage geometry
//! blob around it, decoded with every count checked against the bytes that remain, so a
//! lying count cannot make the reader allocate.

use geo::Coord;

use super::geometry::{Kind, MAX_DEPTH, Raw};

/// Bytes of the smallest WKB geometry: byte order, type and a zero count.
const MIN_GEOMETRY: usize = 9;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("the geometry is truncated")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| "short read")?;
        Ok(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "short read")?;
        Ok(if little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }

    /// A count of items of at least `item_bytes` each, refused if they cannot all fit.
    fn count(&mut self, little: bool, item_bytes: usize) -> Result<usize, String> {
        let n = self.u32(little)? as usize;
        if n.saturating_mul(item_bytes) > self.remaining() {
            return Err(format!(
                "the geometry claims {n} parts or positions but only {} bytes follow",
                self.remaining()
            ));
        }
        Ok(n)
    }
}

/// Decodes one WKB geometry; `Ok(None)` for an empty one.
#[cfg(test)]
fn decode(bytes: &[u8]) -> Result<Option<geo::Geometry>, String> {
    let (kind, raw) = parse(bytes)?;
    super::geometry::assemble(kind, raw)
}

/// Parses one WKB geometry into its positions and parts, to be assembled once its cost is
/// known (see [`super::Collected::assemble`]). The positions take about the bytes they were
/// read from; the parts list of a collection up to five times (40 bytes for a 9-byte part).
pub fn parse(bytes: &[u8]) -> Result<(Kind, Raw), String> {
    let mut cursor = Cursor { bytes, at: 0 };
    geometry(&mut cursor, 0)
}

/// What parsing `len` bytes of WKB may allocate at most (see [`parse`]).
pub fn parsed_bytes_bound(len: usize) -> u64 {
    5 * len as u64
}

fn geometry(c: &mut Cursor, depth: usize) -> Result<(Kind, Raw), String> {
    if depth > MAX_DEPTH {
        return Err(format!("geometry nested deeper than {MAX_DEPTH} levels"));
    }
    let little = match c.take(1)?[0] {
        0 => false,
        1 => true,
        other => return Err(format!("byte order {other} is neither 0 nor 1")),
    };
    let code = c.u32(little)?;
    // EWKB flags, then ISO's thousands.
    let mut dims = 2;
    if code & 0x8000_0000 != 0 {
        dims += 1;
    }
    if code & 0x4000_0000 != 0 {
        dims += 1;
    }
    if code & 0x2000_0000 != 0 {
        c.take(4)?; // an SRID, which the container's CRS already gives
    }
    let iso = code & 0x0fff_ffff;
    let (base, extra) = (iso % 1000, iso / 1000);
    dims += match extra {
        0 => 0,
        1 | 2 => 1,
        3 => 2,
        _ => return Err(format!("unknown geometry type code {code}")),
    };
    let kind =
        Kind::from_code(base).ok_or_else(|| format!("unsupported geometry type code {code}"))?;
    let point_bytes = 8 * dims;
    let positions = |c: &mut Cursor, n: usize| -> Result<Vec<Coord>, String> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let x = c.f64(little)?;
            let y = c.f64(little)?;
            c.take(8 * (dims - 2))?;
            out.push(Coord { x, y });
        }
        Ok(out)
    };
    let raw = match kind {
        Kind::Point => {
            let p = positions(c, 1)?;
            // An empty point is written as NaN coordinates.
            if p[0].x.is_nan() && p[0].y.is_nan() {
                Raw::Coords(Vec::new())
            } else {
                Raw::Coords(p)
            }
        }
        Kind::LineString | Kind::CircularString => {
            let n = c.count(little, point_bytes)?;
            Raw::Coords(positions(c, n)?)
        }
        Kind::Polygon | Kind::Triangle => {
            let rings = c.count(little, 4)?;
            let mut out = Vec::with_capacity(rings);
            for _ in 0..rings {
                let n = c.count(little, point_bytes)?;
                out.push(positions(c, n)?);
            }
            Raw::Rings(out)
        }
        _ => {
            let n = c.count(little, MIN_GEOMETRY)?;
            let mut parts = Vec::with_capacity(n);
            for _ in 0..n {
                parts.push(geometry(c, depth + 1)?);
            }
            Raw::Parts(parts)
        }
    };
    Ok((kind, raw))
}

/// The WKB inside a GeoPackage geometry blob (`GP` header, SRS id, optional envelope), and
/// whether the header flags the geometry as empty.
pub fn gpkg_wkb(blob: &[u8]) -> Result<Option<&[u8]>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry blob (no GP header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometry types are not supported".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("invalid envelope indicator {other}")),
    };
    let start = 8 + envelope;
    if blob.len() < start {
        return Err("the geometry blob is truncated".into());
    }
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    Ok(Some(&blob[start..]))
}

/// The SRS id a GeoPackage geometry blob names for itself (bytes 4–7, in the byte order
/// the header's flags give).
pub fn gpkg_srs_id(blob: &[u8]) -> Option<i64> {
    let bytes: [u8; 4] = blob.get(4..8)?.try_into().ok()?;
    let little = blob.get(3)? & 1 == 1;
    Some(i64::from(if little {
        i32::from_le_bytes(bytes)
    } else {
        i32::from_be_bytes(bytes)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_point(x: f64, y: f64) -> Vec<u8> {
        let mut out = vec![1u8];
        out.extend(1u32.to_le_bytes());
        out.extend(x.to_le_bytes());
        out.extend(y.to_le_bytes());
        out
    }

    #[test]
    fn points_lines_and_lies() {
        let p = decode(&wkb_point(100.5, 13.75))
            .expect("valid")
            .expect("not empty");
        assert_eq!(p, geo::Geometry::Point(geo::point!(x: 100.5, y: 13.75)));
        // A line claiming four billion positions in a few bytes.
        let mut lie = vec![1u8];
        lie.extend(2u32.to_le_bytes());
        lie.extend(u32::MAX.to_le_bytes());
        assert!(decode(&lie).is_err());
        // Big-endian 3D point (ISO 1001).
        let mut z = vec![0u8];
        z.extend(1001u32.to_be_bytes());
        for v in [1.0f64, 2.0, 3.0] {
            z.extend(v.to_be_bytes());
        }
        assert_eq!(
            decode(&z).expect("valid"),
            Some(geo::Geometry::Point(geo::point!(x: 1.0, y: 2.0)))
        );
        assert!(decode(&z[..20]).is_err());
    }

    #[test]
    fn an_unclosed_ring_is_refused_in_a_collection_as_bare() {
        let polygon = |closed: bool| {
            let mut out = vec![1u8];
            out.extend(3u32.to_le_bytes());
            out.extend(1u32.to_le_bytes());
            out.extend(4u32.to_le_bytes());
            let last = if closed { (100.0, 5.0) } else { (100.0, 6.0) };
            for (x, y) in [(100.0f64, 5.0f64), (101.0, 5.0), (101.0, 6.0), last] {
                out.extend(x.to_le_bytes());
                out.extend(y.to_le_bytes());
            }
            out
        };
        let collection = |member: Vec<u8>| {
            let mut out = vec![1u8];
            out.extend(7u32.to_le_bytes());
            out.extend(1u32.to_le_bytes());
            out.extend(member);
            out
        };
        assert!(decode(&polygon(true)).is_ok_and(|g| g.is_some()));
        assert!(decode(&collection(polygon(true))).is_ok_and(|g| g.is_some()));
        for bytes in [polygon(false), collection(polygon(false))] {
            let refused = decode(&bytes).expect_err("unclosed");
            assert!(refused.contains("not closed"), "{refused}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        // A collection of a collection of ... far deeper than any real file.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.push(1u8);
            deep.extend(7u32.to_le_bytes());
            deep.extend(1u32.to_le_bytes());
        }
        deep.extend(wkb_point(1.0, 2.0));
        assert!(decode(&deep).is_err());
    }
}
