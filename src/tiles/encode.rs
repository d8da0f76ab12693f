//! MVT 2.1 encoding of cut layers with the `mvt` crate.

use mvt::{GeomEncoder, GeomType, Tile};

use super::EXTENT;
use super::cut::{TileFeature, TileGeometry, TileLayer};
use crate::feature::Value;

/// Encodes the layers into one tile; layers with no features are left out, and a
/// tile with no layers encodes to zero bytes.
pub fn encode_tile(layers: &[TileLayer]) -> Result<Vec<u8>, mvt::Error> {
    let mut tile = Tile::new(EXTENT);
    for cut in layers.iter().filter(|l| !l.features.is_empty()) {
        let mut layer = tile.create_layer(&cut.layer.meta.id);
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
    let (kind, parts): (GeomType, &[Vec<(i32, i32)>]) = match geometry {
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
    for part in parts {
        for &(x, y) in part {
            enc.add_point(x, y)?;
        }
        enc.complete_geom()?;
    }
    enc.encode()
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
