//! Line and polygon layers' zoom pyramid, on the real bundled layers (Natural Earth countries
//! and rivers): a tile drawn from a level holds the same features as the tile cut from the
//! source, covers the same area and length to within what simplification moves, stays in
//! the buffered tile, and encodes to a valid tile.

mod common;

use amis_webgis::tiles::TileId;
use amis_webgis::tiles::cut::{TileGeometry, TileLayer, cut_from_source, cut_layer};
use amis_webgis::tiles::{BUFFER, EXTENT};

/// Every tile of zooms 0–3, and those of zooms 4–5 over South-East Asia (lon 90–145,
/// lat −15–30).
fn tiles_over_asean() -> Vec<TileId> {
    let mut tiles = Vec::new();
    for z in 0..=3u8 {
        for x in 0..1u32 << z {
            for y in 0..1u32 << z {
                tiles.push(TileId { z, x, y });
            }
        }
    }
    for z in 4..=5u8 {
        let n = f64::from(1u32 << z);
        let column = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
        let row = |lat: f64| {
            let r = lat.to_radians();
            ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32
        };
        for x in column(90.0)..=column(145.0) {
            for y in row(30.0)..=row(-15.0) {
                tiles.push(TileId { z, x, y });
            }
        }
    }
    tiles
}

/// Twice the area of polygons (exteriors minus holes) and the length of lines, in tile units.
fn measure(cut: &TileLayer) -> (f64, f64) {
    let (mut area, mut length) = (0.0, 0.0);
    for feature in &cut.features {
        match &feature.geometry {
            TileGeometry::Polygons(rings) => {
                area += rings
                    .iter()
                    .map(|r| amis_webgis::tiles::cut::signed_area2(r) as f64)
                    .sum::<f64>();
            }
            TileGeometry::Lines(lines) => {
                for line in lines {
                    length += line
                        .windows(2)
                        .map(|w| f64::from(w[1].0 - w[0].0).hypot(f64::from(w[1].1 - w[0].1)))
                        .sum::<f64>();
                }
            }
            TileGeometry::Points(_) => {}
        }
    }
    (area, length)
}

fn ids(cut: &TileLayer) -> Vec<u64> {
    let mut ids: Vec<u64> = cut.features.iter().map(|f| f.id).collect();
    ids.dedup();
    ids
}

#[test]
fn level_tiles_match_tiles_cut_from_the_source() {
    let mut compared = 0;
    for id in ["asean-countries", "world-countries-50m", "rivers"] {
        let layer = common::layer(id);
        assert!(
            layer.shapes.level(0).is_some() || layer.meta.minzoom.is_some_and(|m| m > 0),
            "{id} has a pyramid"
        );
        assert!(
            layer.shapes.vertices() < layer.shapes.source_vertices,
            "{id}: the levels hold fewer vertices than the source"
        );
        for tile in tiles_over_asean() {
            if !layer.meta.shown_at(tile.z) || layer.shapes.level(tile.z).is_none() {
                continue;
            }
            compared += 1;
            let (from_level, from_source) =
                (cut_layer(&layer, tile), cut_from_source(&layer, tile));
            let (level_ids, source_ids) = (ids(&from_level), ids(&from_source));
            // A feature at the very edge of the buffer, or one just above collapsing, may
            // come out on one side only; nothing else may.
            let missing = source_ids.iter().filter(|i| !level_ids.contains(i)).count();
            let extra = level_ids.iter().filter(|i| !source_ids.contains(i)).count();
            assert!(
                missing + extra <= 1 + source_ids.len() / 20,
                "{id} {tile:?}: {missing} features missing, {extra} extra of {}",
                source_ids.len()
            );
            let ((area_l, length_l), (area_s, length_s)) =
                (measure(&from_level), measure(&from_source));
            // Simplification moves area by its tolerance per removed vertex: a fraction of
            // a percent on tiles with a few hundred thousand square units, more on slivers.
            let close =
                |a: f64, b: f64, floor: f64| (a - b).abs() <= 0.02 * a.abs().max(b.abs()) + floor;
            assert!(
                close(area_l, area_s, 20_000.0),
                "{id} {tile:?}: area {area_l} from the level, {area_s} from the source"
            );
            assert!(
                close(length_l, length_s, 200.0),
                "{id} {tile:?}: length {length_l} from the level, {length_s} from the source"
            );
            let (min, max) = (-(BUFFER as i32), (EXTENT + BUFFER) as i32);
            for feature in &from_level.features {
                let parts: Vec<&Vec<(i32, i32)>> = match &feature.geometry {
                    TileGeometry::Polygons(p) | TileGeometry::Lines(p) => p.iter().collect(),
                    TileGeometry::Points(_) => panic!("{id}: no points in a shape layer"),
                };
                for part in parts {
                    assert!(
                        part.iter()
                            .all(|&(x, y)| (min..=max).contains(&x) && (min..=max).contains(&y)),
                        "{id} {tile:?}: a vertex outside the buffered tile"
                    );
                }
            }
            let bytes = amis_webgis::tiles::encode::encode_tile(&[from_level]).expect("encodes");
            common::mvt::decode(&bytes).expect("a valid tile");
        }
    }
    assert!(compared > 100, "{compared} tiles compared");
}

/// Deeper than the levels, tiles are cut from the source exactly as before.
#[test]
fn tiles_below_the_levels_are_cut_from_the_source() {
    let layer = common::layer("asean-countries");
    let deepest = (0..=amis_webgis::tiles::shapes::MAX_LEVEL)
        .filter(|&z| layer.shapes.level(z).is_some())
        .max()
        .expect("asean-countries has levels");
    let tile = TileId {
        z: deepest + 1,
        x: 1632 >> (11 - (deepest + 1)),
        y: 960 >> (11 - (deepest + 1)),
    };
    let (a, b) = (cut_layer(&layer, tile), cut_from_source(&layer, tile));
    assert_eq!(a.features.len(), b.features.len());
    for (x, y) in a.features.iter().zip(&b.features) {
        assert_eq!((x.id, &x.geometry), (y.id, &y.geometry));
    }
}

/// Hostile shapes through the pyramid: 300 rings of 80–120 vertices (SYNTHETIC: a seeded
/// generator) that self-intersect, double back, repeat vertices, cross the antimeridian's
/// neighbourhood and reach the Mercator limit, with holes and lines among them. Every level
/// tile cuts without panicking, stays in the buffered tile and decodes.
#[test]
fn hostile_shapes_cut_from_levels_into_valid_tiles() {
    use amis_webgis::catalog::{Layer, LayerMeta};
    use amis_webgis::feature::{Feature, FeatureSet};
    use geo::{Coord, LineString, MultiLineString, Polygon};

    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut features = Vec::new();
    for id in 1..=300u64 {
        let (cx, cy) = (-179.0 + next() * 358.0, -89.0 + next() * 178.0);
        let radius = 10f64.powf(-4.0 + next() * 5.0);
        let n = 80 + (next() * 40.0) as usize;
        let mut ring: Vec<Coord> = (0..n)
            .map(|i| {
                // Jagged, self-crossing, with repeats and spikes.
                let angle = i as f64 * (1.0 + next() * 3.0);
                let r = if i % 7 == 0 {
                    radius * 3.0
                } else {
                    radius * next()
                };
                Coord {
                    x: (cx + r * angle.cos()).clamp(-180.0, 180.0),
                    y: (cy + r * angle.sin()).clamp(-90.0, 90.0),
                }
            })
            .collect();
        if id % 5 == 0 {
            let repeat = ring[3];
            ring.insert(4, repeat);
        }
        let geometry: geo::Geometry = if id % 4 == 0 {
            MultiLineString(vec![LineString(ring)]).into()
        } else {
            let hole: Vec<Coord> = ring
                .iter()
                .step_by(9)
                .map(|c| Coord {
                    x: cx + (c.x - cx) * 0.3,
                    y: cy + (c.y - cy) * 0.3,
                })
                .collect();
            let mut closed = ring.clone();
            closed.push(ring[0]);
            Polygon::new(LineString(closed), vec![LineString(hole)]).into()
        };
        features.push(Feature {
            id,
            geometry,
            properties: Vec::new(),
        });
    }
    let meta: LayerMeta =
        toml::from_str("id = \"hostile\"\ntitle = \"Hostile shapes\"").expect("meta");
    let layer = Layer::build(
        meta,
        FeatureSet {
            features,
            ..FeatureSet::default()
        },
        1,
    );
    assert!(layer.shapes.level(0).is_some(), "the layer has levels");
    let (mut cut, mut drawn) = (0, 0);
    for z in 0..=amis_webgis::tiles::shapes::MAX_LEVEL {
        if layer.shapes.level(z).is_none() {
            continue;
        }
        let n = 1u32 << z;
        for i in 0..40u32 {
            let tile = TileId {
                z,
                x: (i * 7919) % n,
                y: (i * 104_729) % n,
            };
            let from_level = cut_layer(&layer, tile);
            drawn += from_level.features.len();
            let (min, max) = (-(BUFFER as i32), (EXTENT + BUFFER) as i32);
            for feature in &from_level.features {
                if let TileGeometry::Polygons(p) | TileGeometry::Lines(p) = &feature.geometry {
                    assert!(
                        p.iter()
                            .flatten()
                            .all(|&(x, y)| (min..=max).contains(&x) && (min..=max).contains(&y)),
                        "{tile:?}: a vertex outside the buffered tile"
                    );
                }
            }
            let bytes = amis_webgis::tiles::encode::encode_tile(&[from_level]).expect("encodes");
            common::mvt::decode(&bytes).expect("a valid tile");
            cut += 1;
        }
    }
    assert!(cut >= 40, "{cut} tiles cut from levels");
    assert!(drawn >= 100, "{drawn} features drawn from levels");
}
