//! Mapbox Vector Tiles: tile addressing ([`TileId`]), cutting features into tile
//! space ([`cut`]), encoding to MVT 2.1 ([`encode`]) and caching compressed bytes ([`cache`]).

pub mod cache;
pub mod clip;
pub mod cut;
pub mod encode;
pub mod http;
pub mod pyramid;
pub mod shapes;

use crate::index::BBox;

/// Tile coordinate extent, as MVT 2.1 recommends.
pub const EXTENT: u32 = 4096;
/// Pixels (in tile units) of neighbouring data included around each tile, so that
/// lines and symbols do not end at tile edges.
pub const BUFFER: u32 = 64;
pub const MAX_ZOOM: u8 = 22;
/// Web Mercator's latitude limit.
const MAX_LAT: f64 = 85.051_128_779_806_59;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TileIdError {
    #[error("{0} {1:?} is not a non-negative integer")]
    NotInteger(&'static str, String),
    #[error("zoom {0} is beyond the maximum zoom {MAX_ZOOM}")]
    ZoomTooLarge(u64),
    #[error("tile {axis}={value} is outside zoom {z}, where it must be below {limit}")]
    OutOfRange {
        axis: &'static str,
        value: u64,
        z: u8,
        limit: u64,
    },
}

impl TileId {
    pub fn parse(z: &str, x: &str, y: &str) -> Result<TileId, TileIdError> {
        let num = |name: &'static str, s: &str| {
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TileIdError::NotInteger(name, s.to_string()));
            }
            s.parse::<u64>()
                .map_err(|_| TileIdError::NotInteger(name, s.to_string()))
        };
        let z = num("z", z)?;
        if z > u64::from(MAX_ZOOM) {
            return Err(TileIdError::ZoomTooLarge(z));
        }
        let z = z as u8;
        let limit = 1u64 << z;
        let coord = |axis: &'static str, s: &str| {
            let value = num(axis, s)?;
            if value >= limit {
                return Err(TileIdError::OutOfRange {
                    axis,
                    value,
                    z,
                    limit,
                });
            }
            Ok(value as u32)
        };
        Ok(TileId {
            z,
            x: coord("x", x)?,
            y: coord("y", y)?,
        })
    }

    /// The tile at zoom `z` that contains a lon/lat position.
    pub fn containing(z: u8, lon: f64, lat: f64) -> TileId {
        let z = z.min(MAX_ZOOM);
        let n = f64::from(1u32 << z);
        let (u, v) = mercator(lon.clamp(-180.0, 180.0), lat);
        let cell = |t: f64| ((t * n) as u32).min((1u32 << z) - 1);
        TileId {
            z,
            x: cell(u),
            y: cell(v),
        }
    }

    /// Tiles per axis at this zoom.
    fn count(&self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// The lon/lat box covered by this tile plus its buffer, for the index query: one tile
    /// unit wider than the buffer, so that no point on the buffer's edge is lost to rounding
    /// (cutting decides on the tile grid what is in).
    pub fn query_bbox(&self) -> BBox {
        let margin = f64::from(BUFFER + 1) / f64::from(EXTENT);
        let n = self.count();
        let x0 = (f64::from(self.x) - margin) / n;
        let x1 = (f64::from(self.x) + 1.0 + margin) / n;
        let y0 = (f64::from(self.y) - margin) / n;
        let y1 = (f64::from(self.y) + 1.0 + margin) / n;
        // Clamping keeps the query to a plain box; buffers never wrap the antimeridian.
        let lon = |u: f64| u.clamp(0.0, 1.0) * 360.0 - 180.0;
        let lat = |v: f64| {
            if v <= 0.0 {
                90.0
            } else if v >= 1.0 {
                -90.0
            } else {
                (std::f64::consts::PI * (1.0 - 2.0 * v))
                    .sinh()
                    .atan()
                    .to_degrees()
            }
        };
        BBox {
            west: lon(x0),
            south: lat(y1),
            east: lon(x1),
            north: lat(y0),
        }
    }

    /// Converts lon/lat to this tile's coordinate space (y down, 0..EXTENT inside the tile).
    pub fn projector(&self) -> Projector {
        let scale = self.count() * f64::from(EXTENT);
        Projector {
            scale,
            origin_x: f64::from(self.x) * f64::from(EXTENT),
            origin_y: f64::from(self.y) * f64::from(EXTENT),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Projector {
    scale: f64,
    origin_x: f64,
    origin_y: f64,
}

/// Web Mercator position in the unit square (0,0 at the north-west corner); latitudes
/// beyond the projection's limit are clamped to it.
#[inline]
pub(crate) fn mercator(lon: f64, lat: f64) -> (f64, f64) {
    let sin = lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    // Mercator y = ln(tan φ + sec φ) = ½·ln((1 + sin φ) / (1 − sin φ)): one sin, one ln.
    let v = 0.5 - ((1.0 + sin) / (1.0 - sin)).ln() / (4.0 * std::f64::consts::PI);
    ((lon + 180.0) / 360.0, v)
}

impl Projector {
    #[inline]
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (u, v) = mercator(lon, lat);
        (
            u * self.scale - self.origin_x,
            v * self.scale - self.origin_y,
        )
    }
}

/// What a tile will cost to make, known from an R-tree descent before cutting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileCost {
    /// Certainly empty: no layer shown at the tile's zoom has a feature whose envelope
    /// reaches the tile's query box (the tile, its buffer and one unit more; the pyramids'
    /// points and shapes lie within their features' envelopes). Most of a map's ocean.
    Empty,
    /// Point layers only, with at most [`SMALL_TILE_POINTS`] points in the query box: tens
    /// of microseconds to make, less than handing the work to another thread costs.
    Small,
    /// Anything else, which may take milliseconds.
    Large,
}

/// The most points a [`TileCost::Small`] tile may reach.
pub const SMALL_TILE_POINTS: usize = 64;

/// Sizes up `tile` of `layers` before it is cut (see [`TileCost`]).
pub fn tile_cost(layers: &[std::sync::Arc<crate::catalog::Layer>], tile: TileId) -> TileCost {
    let query = tile.query_bbox();
    let mut points = 0;
    for layer in layers.iter().filter(|l| l.meta.shown_at(tile.z)) {
        // For lines and polygons, one feature in reach is enough to know.
        let limit = if layer.points_only {
            SMALL_TILE_POINTS + 1
        } else {
            1
        };
        let found = layer.index.count_in(&query, limit);
        points += found;
        if (found > 0 && !layer.points_only) || points > SMALL_TILE_POINTS {
            return TileCost::Large;
        }
    }
    if points == 0 {
        TileCost::Empty
    } else {
        TileCost::Small
    }
}

/// Cuts and encodes `layers` (one MVT layer each) for `tile`: the whole pure pipeline
/// from in-memory features to tile bytes, before any HTTP or caching.
pub fn render(
    layers: &[std::sync::Arc<crate::catalog::Layer>],
    tile: TileId,
) -> Result<Vec<u8>, mvt::Error> {
    let cuts: Vec<cut::TileLayer> = layers
        .iter()
        .filter(|l| l.meta.shown_at(tile.z))
        .map(|l| cut::cut_layer(l, tile))
        .collect();
    encode::encode_tile(&cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_tile_ids() {
        assert_eq!(
            TileId::parse("0", "0", "0"),
            Ok(TileId { z: 0, x: 0, y: 0 })
        );
        assert_eq!(
            TileId::parse("22", "4194303", "0").map(|t| t.x),
            Ok(4_194_303)
        );
        assert!(matches!(
            TileId::parse("23", "0", "0"),
            Err(TileIdError::ZoomTooLarge(23))
        ));
        assert!(matches!(
            TileId::parse("2", "4", "0"),
            Err(TileIdError::OutOfRange { .. })
        ));
        for bad in ["-1", "1.5", "", "a", "+1", "99999999999"] {
            assert!(TileId::parse(bad, "0", "0").is_err(), "{bad}");
        }
    }

    #[test]
    fn containing_tile_holds_the_point() {
        for (z, lon, lat) in [
            (0, 0.0, 0.0),
            (6, 125.6, 7.9),
            (14, -70.5, -33.4),
            (22, 179.999, 85.0),
        ] {
            let t = TileId::containing(z, lon, lat);
            let b = t.query_bbox();
            assert!(
                b.west <= lon && lon <= b.east && b.south <= lat && lat <= b.north,
                "{t:?}"
            );
        }
        assert_eq!(
            TileId::containing(1, 180.0, -90.0),
            TileId { z: 1, x: 1, y: 1 }
        );
    }

    #[test]
    fn projects_tile_corners() {
        let t = TileId { z: 1, x: 1, y: 0 };
        let p = t.projector();
        let (x, y) = p.project(0.0, 0.0);
        assert!((x - 0.0).abs() < 1e-6 && (y - 4096.0).abs() < 1e-6);
        let (x, y) = p.project(180.0, MAX_LAT);
        assert!((x - 4096.0).abs() < 1e-6 && y.abs() < 1e-6);
        let b = t.query_bbox();
        assert!(b.west < 0.0 && b.east == 180.0 && b.north == 90.0 && b.south < 0.0);
    }
}
