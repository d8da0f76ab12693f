//! Dense point layers: thinned tiles stay bounded, account for every point, and are deterministic.

mod common;

use std::sync::Arc;

use amis_webgis::catalog::{Layer, LayerMeta};
use amis_webgis::feature::{Feature, FeatureSet, Field, FieldType, Value};
use amis_webgis::tiles::cut::{MAX_POINTS_PER_TILE, TileGeometry, cut_layer};
use amis_webgis::tiles::{TileId, render};

/// 50,000 synthetic points (a deterministic LCG) around Luzon; never real data.
fn synthetic_layer() -> Arc<Layer> {
    Arc::new(synthetic_points())
}

fn synthetic_points() -> Layer {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let features = (1..=50_000u64)
        .map(|id| Feature {
            id,
            geometry: geo::Point::new(120.0 + next() * 2.0, 15.0 + next() * 2.0).into(),
            properties: vec![Value::Int(id as i64)],
        })
        .collect();
    let set = FeatureSet {
        fields: vec![Field {
            name: "n".into(),
            field_type: FieldType::Integer,
        }],
        features,
        ..FeatureSet::default()
    };
    let meta: LayerMeta =
        toml::from_str("id = \"synthetic\"\ntitle = \"Synthetic points\"").expect("meta");
    Layer::build(meta, set, 1)
}

#[test]
fn dense_tiles_are_thinned_and_count_every_point() {
    let layer = synthetic_layer();
    for tile in [TileId { z: 0, x: 0, y: 0 }, TileId { z: 5, x: 26, y: 14 }] {
        let cut = cut_layer(&layer, tile);
        assert!(
            cut.features.len() <= 66 * 66,
            "{tile:?}: {} features",
            cut.features.len()
        );
        assert!(cut.features.len() < MAX_POINTS_PER_TILE + 300);
        let total: u64 = cut
            .features
            .iter()
            .map(|f| f.point_count.expect("thinned tiles carry point_count"))
            .sum();
        assert_eq!(total, 50_000, "{tile:?}: every point is accounted for");
        assert!(
            cut.features
                .iter()
                .all(|f| matches!(f.geometry, TileGeometry::Points(ref p) if p.len() == 1))
        );
        let bytes = render(std::slice::from_ref(&layer), tile).expect("encodes");
        assert!(bytes.len() < 500 * 1024, "{tile:?}: {} bytes", bytes.len());
        assert_eq!(
            bytes,
            render(std::slice::from_ref(&layer), tile).expect("encodes"),
            "deterministic"
        );
    }
}

#[test]
fn sparse_tiles_keep_every_point() {
    let layer = synthetic_layer();
    // z12 tile inside the cloud: a few dozen points, none merged.
    let (x, y) = common::tile_xy(12, 121.0, 16.0);
    let cut = cut_layer(&layer, TileId { z: 12, x, y });
    assert!(!cut.features.is_empty() && cut.features.len() <= MAX_POINTS_PER_TILE);
    assert!(cut.features.iter().all(|f| f.point_count.is_none()));
}

/// The pyramid changes nothing where no thinning applies: every tile that would not be thinned
/// is byte for byte the tile cut from the points; thinned tiles from it are bounded and
/// account for the points of the buffered tile.
#[test]
fn the_pyramid_changes_no_unthinned_tile() {
    let with = synthetic_layer();
    let mut plain = synthetic_points();
    plain.pyramid = Default::default();
    let without = Arc::new(plain);
    let (mut same, mut thinned) = (0, 0);
    for z in 0..=14u8 {
        // Every tile over the cloud at low zooms, a sample of them deeper.
        let (x0, y0) = common::tile_xy(z, 119.9, 17.1);
        let (x1, y1) = common::tile_xy(z, 122.1, 14.9);
        let step = ((x1 - x0 + 1) / 8).max(1);
        for x in (x0..=x1).step_by(step as usize) {
            for y in (y0..=y1).step_by(step as usize) {
                let tile = TileId { z, x, y };
                let direct = cut_layer(&without, tile);
                if direct.features.iter().any(|f| f.point_count.is_some()) {
                    thinned += 1;
                    let cut = cut_layer(&with, tile);
                    assert!(cut.features.len() <= 66 * 66, "{tile:?}");
                    let counted: u64 = cut.features.iter().filter_map(|f| f.point_count).sum();
                    let points = direct
                        .features
                        .iter()
                        .filter_map(|f| f.point_count)
                        .sum::<u64>();
                    // The pyramid's grid counts the buffer's far edge in the next cell.
                    assert!(
                        counted <= points && points - counted <= 200,
                        "{tile:?}: {counted} of {points}"
                    );
                } else {
                    same += 1;
                    assert_eq!(
                        render(std::slice::from_ref(&with), tile).expect("encodes"),
                        render(std::slice::from_ref(&without), tile).expect("encodes"),
                        "{tile:?}"
                    );
                }
            }
        }
    }
    assert!(
        same > 50 && thinned > 20,
        "{same} unthinned, {thinned} thinned tiles compared"
    );
}

/// A point whose position on the tile grid is on the buffer's edge is in the tile (edges
/// included, as PostGIS decides); half a unit further out, it is not.
#[test]
fn points_on_the_buffer_edge_are_included() {
    let tile = TileId {
        z: 10,
        x: 850,
        y: 480,
    };
    let scale = f64::from(1u32 << 10) * 4096.0;
    // Longitude/latitude of a position in this tile's grid units.
    let at = |gx: f64, gy: f64| {
        let u = (f64::from(tile.x) * 4096.0 + gx) / scale;
        let v = (f64::from(tile.y) * 4096.0 + gy) / scale;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * v))
            .sinh()
            .atan()
            .to_degrees();
        (u * 360.0 - 180.0, lat)
    };
    let inside = [
        (-64.0, 100.0),
        (4160.0, 100.0),
        (100.0, -64.0),
        (100.0, 4160.0),
        (-64.4, 4160.4),
        (4160.4, 0.0),
    ];
    let outside = [
        (-64.6, 100.0),
        (4160.6, 100.0),
        (100.0, -64.6),
        (100.0, 4160.6),
    ];
    let features: Vec<Feature> = inside
        .iter()
        .chain(&outside)
        .enumerate()
        .map(|(i, &(gx, gy))| {
            let (lon, lat) = at(gx, gy);
            Feature {
                id: i as u64 + 1,
                geometry: geo::Point::new(lon, lat).into(),
                properties: vec![],
            }
        })
        .collect();
    let meta: LayerMeta = toml::from_str("id = \"edges\"\ntitle = \"Edge points\"").expect("meta");
    let layer = Layer::build(
        meta,
        FeatureSet {
            features,
            ..FeatureSet::default()
        },
        1,
    );
    let ids: Vec<u64> = cut_layer(&layer, tile)
        .features
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, (1..=inside.len() as u64).collect::<Vec<_>>());
}
