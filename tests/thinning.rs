//! Dense point layers: thinned tiles stay bounded, account for every point, and are deterministic.

mod common;

use std::sync::Arc;

use amis_webgis::catalog::{Layer, LayerMeta};
use amis_webgis::feature::{Feature, FeatureSet, Field, FieldType, Value};
use amis_webgis::tiles::cut::{MAX_POINTS_PER_TILE, TileGeometry, cut_layer};
use amis_webgis::tiles::{TileId, render};

/// 50,000 synthetic points (a deterministic LCG) around Luzon; never real data.
fn synthetic_layer() -> Arc<Layer> {
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
    Arc::new(Layer::build(meta, set, 1))
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
