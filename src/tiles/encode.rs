//! MVT 2.1 encoding of cut layers with the `mvt` crate.

use mvt::{GeomEncoder, GeomType, Tile};

use super::EXTENT;
use super::cut::{IPt, TileFeature, TileGeometry, TileLayer};
use crate::feature::Value;

/// Encodes the layers into one tile; layers with no features are left out, and a
/// tile with no layers encodes to zero bytes.
pub fn encode_tile(layers: &[TileLayer]) -> Result<Vec<u8>, mvt::Error> {
    let mut tile = Tile::new(EXTENT);
    for cut in layers.iter().filter(|l| !l.features.is_empty()) {
        let mut layer = tile.create_layer(&cut.layer.meta.id);
        layer.reserve(cut.features.len());
        for feature in &cut.features {
            let mut encoded = layer.into_feature(encode_geometry(&feature.geometry)?);
            encoded.set_id(feature.id);
            add_tags(&mut encoded, cut, feature);
            layer = encoded.into_layer();
        }
        tile.add_layer(layer)?;
    }
    if tile.num_layers() == 0 {
        return Ok(Vec::new());
    }
    tile.to_bytes()
}

fn encode_geometry(geometry: &TileGeometry) -> Result<mvt::GeomData, mvt::Error> {
    let (kind, parts): (GeomType, &[Vec<IPt>]) = match geometry {
        TileGeometry::Points(points) => {
            let mut enc = GeomEncoder::<i32>::new(GeomType::Point);
            for &(x, y) in points {
                enc.add_point(x, y)?;
            }
            return enc.encode();
        }
        TileGeometry::Lines(lines) => (GeomType::Linestring, lines),
        TileGeometry::Polygons(rings) => (GeomType::Polygon, rings),
    };
    let mut enc = GeomEncoder::<i32>::new(kind);
    let mut previous_end = None;
    for part in parts {
        let part = not_starting_at(part, previous_end, kind == GeomType::Polygon);
        for &(x, y) in part.iter() {
            enc.add_point(x, y)?;
        }
        enc.complete_geom()?;
        previous_end = part.last().copied();
    }
    enc.encode()
}

/// The part, started elsewhere if it would start where the previous one ended.
///
/// The `mvt` encoder treats a part whose first point is the previous part's last as the
/// continuation of that part: it writes no MoveTo, so a hole that touches its exterior's
/// last vertex (common along the clip edge) would be decoded as more of the exterior, and
/// two lines meeting end to start as one. A ring is started at its next vertex instead (the
/// same ring: rings have no repeated consecutive vertices); a line is reversed, or, if it is
/// a closed loop, started at its next vertex.
fn not_starting_at(part: &[IPt], end: Option<IPt>, ring: bool) -> std::borrow::Cow<'_, [IPt]> {
    use std::borrow::Cow;
    if part.len() < 2 || part.first().copied() != end {
        return Cow::Borrowed(part);
    }
    if ring {
        let mut rotated = part.to_vec();
        rotated.rotate_left(1);
        return Cow::Owned(rotated);
    }
    if part.last().copied() != end {
        return Cow::Owned(part.iter().rev().copied().collect());
    }
    // A closed loop: [P, a, ..., P] becomes [a, ..., P, a].
    let mut looped: Vec<IPt> = part[1..].to_vec();
    looped.push(part[1]);
    Cow::Owned(looped)
}

fn add_tags(encoded: &mut mvt::Feature, cut: &TileLayer, feature: &TileFeature) {
    for (field, value) in cut.layer.fields.iter().zip(feature.properties) {
        let key = field.name.as_str();
        match value {
            Value::Null => {}
            Value::Bool(b) => encoded.add_tag_bool(key, *b),
            Value::Int(i) if *i < 0 => encoded.add_tag_sint(key, *i),
            Value::Int(i) => encoded.add_tag_uint(key, *i as u64),
            Value::Float(f) => encoded.add_tag_double(key, *f),
            Value::String(s) => encoded.add_tag_string(key, s),
        }
    }
    if let Some(n) = feature.point_count {
        encoded.add_tag_uint("point_count", n);
    }
}
