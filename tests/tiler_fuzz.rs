//! The tile cutter fed hostile geometry: a seeded sweep of random and degenerate shapes
//! (spikes, bow-ties, repeated and collinear vertices, rings of zero area, slivers thinner
//! than a tile pixel, huge vertex counts, shapes spanning the world or a few centimetres),
//! each cut at zooms where it is a dot, fills the tile, or crosses tile edges. Every tile
//! must be produced without a panic and decode, by the tests' own MVT decoder, into valid
//! geometry: MoveTo first, closed rings of non-zero area wound as MVT 2.1 requires, no
//! repeated consecutive points, every coordinate inside the buffered tile.

mod common;

use std::sync::Arc;

use amis_webgis::catalog::{Layer, LayerMeta};
use amis_webgis::feature::{Feature, FeatureSet};
use amis_webgis::tiles::{BUFFER, EXTENT, TileId, render};
use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon, coord};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 20_261_126;

/// A point near `centre`, `scale` degrees away at most, inside the valid lon/lat range.
fn near(rng: &mut ChaCha8Rng, centre: Coord, scale: f64) -> Coord {
    coord! {
        x: (centre.x + rng.random_range(-scale..=scale)).clamp(-180.0, 180.0),
        y: (centre.y + rng.random_range(-scale..=scale)).clamp(-85.0, 85.0),
    }
}

/// A ring of random vertices (often self-intersecting), with some vertices repeated,
/// spikes (A, B, A) and collinear runs thrown in.
fn wild_ring(rng: &mut ChaCha8Rng, centre: Coord, scale: f64) -> LineString {
    let n = match rng.random_range(0..10) {
        0 => rng.random_range(2_000..20_000),
        _ => rng.random_range(3..40),
    };
    let mut pts: Vec<Coord> = Vec::with_capacity(n + 8);
    for _ in 0..n {
        let p = near(rng, centre, scale);
        match rng.random_range(0..12) {
            0 => {
                pts.push(p);
                pts.push(p);
            }
            1 if !pts.is_empty() => {
                let back = pts[pts.len() - 1];
                pts.push(p);
                pts.push(back);
            }
            2 if !pts.is_empty() => {
                let a = pts[pts.len() - 1];
                pts.push(coord! { x: (a.x + p.x) / 2.0, y: (a.y + p.y) / 2.0 });
                pts.push(p);
            }
            _ => pts.push(p),
        }
    }
    let mut ring = LineString::new(pts);
    ring.close();
    ring
}

fn random_geometry(rng: &mut ChaCha8Rng) -> Geometry {
    let centre = coord! { x: rng.random_range(-179.0..179.0), y: rng.random_range(-80.0..80.0) };
    // From a few centimetres to most of the world.
    let scale = 10f64.powf(rng.random_range(-7.0..2.3));
    match rng.random_range(0..8) {
        0 => Geometry::Point(near(rng, centre, scale).into()),
        1 => Geometry::MultiPoint(
            (0..rng.random_range(1..50))
                .map(|_| geo::Point::from(near(rng, centre, scale)))
                .collect(),
        ),
        2 => {
            let ring = wild_ring(rng, centre, scale);
            Geometry::LineString(LineString::new(ring.0[..ring.0.len() - 1].to_vec()))
        }
        3 => Geometry::MultiLineString(
            (0..rng.random_range(1..5))
                .map(|_| {
                    let n = rng.random_range(1..30);
                    LineString::new((0..n).map(|_| near(rng, centre, scale)).collect())
                })
                .collect(),
        ),
        4 | 5 => {
            let holes = (0..rng.random_range(0..3))
                .map(|_| wild_ring(rng, centre, scale / 3.0))
                .collect();
            Geometry::Polygon(Polygon::new(wild_ring(rng, centre, scale), holes))
        }
        6 => Geometry::MultiPolygon(MultiPolygon(
            (0..rng.random_range(1..4))
                .map(|_| {
                    Polygon::new(
                        {
                            let c = near(rng, centre, scale);
                            wild_ring(rng, c, scale / 2.0)
                        },
                        vec![],
                    )
                })
                .collect(),
        )),
        // A sliver: a rectangle far thinner than a pixel at most zooms.
        _ => {
            let a = near(rng, centre, scale);
            let w = scale * 1e-6;
            Geometry::Polygon(Polygon::new(
                LineString::from(vec![
                    (a.x, a.y),
                    (a.x + scale, a.y),
                    (a.x + scale, a.y + w),
                    (a.x, a.y + w),
                    (a.x, a.y),
                ]),
                vec![],
            ))
        }
    }
}

fn layer_of(geometry: Geometry, i: usize) -> Arc<Layer> {
    let meta: LayerMeta =
        toml::from_str(&format!("id = 'fuzz-{i}'\ntitle = 'fuzz'")).expect("meta");
    let set = FeatureSet {
        fields: Vec::new(),
        features: vec![Feature {
            id: 1,
            geometry,
            properties: Vec::new(),
        }],
        ..FeatureSet::default()
    };
    Arc::new(Layer::build(meta, set, i as u64))
}

/// A tile the geometry touches (one of its vertices), at a random zoom, or any tile.
fn some_tile(rng: &mut ChaCha8Rng, geometry: &Geometry) -> TileId {
    use geo::CoordsIter;
    let z = rng.random_range(0..=16u8);
    let vertices = geometry.coords_count();
    if vertices > 0 && rng.random_range(0..8) > 0 {
        let c = geometry
            .coords_iter()
            .nth(rng.random_range(0..vertices))
            .expect("vertex");
        TileId::containing(z, c.x, c.y)
    } else {
        let n = 1u32 << z;
        TileId {
            z,
            x: rng.random_range(0..n),
            y: rng.random_range(0..n),
        }
    }
}

fn check_tile(bytes: &[u8]) -> Result<usize, String> {
    let tile = common::mvt::decode(bytes)?;
    let (lo, hi) = (-(BUFFER as f64), f64::from(EXTENT + BUFFER));
    let mut features = 0;
    for layer in &tile.layers {
        if layer.version != 2 || layer.extent != Some(EXTENT) {
            return Err(format!(
                "layer {} version {} extent {:?}",
                layer.name, layer.version, layer.extent
            ));
        }
        for feature in &layer.features {
            features += 1;
            // Panics (asserted inside) on invalid command streams, winding or zero-area rings.
            let geometry = std::panic::catch_unwind(|| common::mvt::geometry(feature))
                .map_err(|_| format!("invalid geometry in layer {}", layer.name))?;
            use geo::CoordsIter;
            if let Some(c) = geometry
                .coords_iter()
                .find(|c| c.x < lo || c.x > hi || c.y < lo || c.y > hi)
            {
                return Err(format!("coordinate {c:?} outside the buffered tile"));
            }
            let parts: Vec<Vec<Coord>> = match &geometry {
                Geometry::LineString(l) => vec![l.0.clone()],
                Geometry::MultiLineString(m) => m.0.iter().map(|l| l.0.clone()).collect(),
                Geometry::Polygon(p) => std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.clone())
                    .collect(),
                Geometry::MultiPolygon(m) => {
                    m.0.iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .map(|r| r.0.clone())
                        .collect()
                }
                _ => Vec::new(),
            };
            for part in parts {
                if part.len() < 2 {
                    return Err("a line or ring of fewer than two points".into());
                }
                if part.windows(2).any(|w| w[0] == w[1]) {
                    return Err(format!("repeated consecutive point in {part:?}"));
                }
            }
        }
    }
    Ok(features)
}

#[test]
fn hostile_geometry_always_cuts_into_valid_tiles() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let cases = common::sweep_size();
    let (mut drawn, mut empty) = (0, 0);
    let mut case = 0;
    while case < cases {
        let geometry = random_geometry(&mut rng);
        let layer = layer_of(geometry.clone(), case);
        // Several tiles of each shape: where it is a dot, fills the tile, or is cut.
        for _ in 0..4 {
            let tile = some_tile(&mut rng, &geometry);
            let layers = [layer.clone()];
            let bytes = std::panic::catch_unwind(|| render(&layers, tile))
                .unwrap_or_else(|_| {
                    panic!("case {case}: cutting {tile:?} panicked on {geometry:?}")
                })
                .unwrap_or_else(|e| panic!("case {case}: encoding {tile:?} failed: {e}"));
            match check_tile(&bytes) {
                Ok(0) => empty += 1,
                Ok(_) => drawn += 1,
                Err(e) => panic!("case {case}: tile {tile:?}: {e}\ngeometry: {geometry:?}"),
            }
            case += 1;
        }
    }
    println!("{cases} tiles cut: {drawn} with features, {empty} empty");
    // The sweep is only worth its time if most tiles hold something to check.
    assert!(drawn > cases / 2, "{drawn} of {cases} tiles held features");
}
