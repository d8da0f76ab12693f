//! The R-tree answers exactly what a brute-force scan of the layer finds.

mod common;

use amis_webgis::features::query::{Selection, geometry_intersects, select};
use amis_webgis::index::{BBox, envelope};
use proptest::prelude::*;

/// Boxes mostly over the region (where the data is), some anywhere, some crossing the antimeridian.
fn bbox() -> impl Strategy<Value = BBox> {
    let regional = (85.0..145.0f64, 0.0..30.0f64, -15.0..32.0f64, 0.0..25.0f64).prop_map(
        |(w, width, s, height)| BBox {
            west: w,
            south: s,
            east: (w + width).min(180.0),
            north: (s + height).min(90.0),
        },
    );
    let anywhere = (
        -180.0..180.0f64,
        -180.0..180.0f64,
        -90.0..90.0f64,
        -90.0..90.0f64,
    )
        .prop_map(|(w, e, a, b)| BBox {
            west: w,
            east: e,
            south: a.min(b),
            north: a.max(b),
        });
    prop_oneof![4 => regional, 1 => anywhere]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn index_query_equals_brute_force(b in bbox(), layer in prop::sample::select(vec!["mineral-occurrences", "active-faults", "world-countries-50m", "asean-countries"])) {
        let layer = common::layer(layer);
        let expected: Vec<u32> = layer.features.iter().enumerate()
            .filter(|(_, f)| b.intersects(&envelope(&f.geometry)))
            .map(|(i, _)| i as u32)
            .collect();
        prop_assert_eq!(layer.index.query(&b), expected.clone());

        // The walk tiles are cut with: every position once, with its envelope's lower corner.
        let mut visited: Vec<(u32, (f64, f64))> = Vec::new();
        layer.index.for_each_in(&b, |pos, corner| visited.push((pos, (corner.x, corner.y))));
        visited.sort_by_key(|(pos, _)| *pos);
        let corners: Vec<(u32, (f64, f64))> = expected
            .iter()
            .map(|&pos| {
                let lower = envelope(&layer.features[pos as usize].geometry).min();
                (pos, (lower.x, lower.y))
            })
            .collect();
        prop_assert_eq!(visited, corners);
        // Counting stops at its limit, and is exact below it.
        for limit in [0, 1, 64, usize::MAX] {
            prop_assert_eq!(layer.index.count_in(&b, limit), expected.len().min(limit));
        }

        let exact: Vec<u32> = layer.features.iter().enumerate()
            .filter(|(_, f)| geometry_intersects(&f.geometry, &b))
            .map(|(i, _)| i as u32)
            .collect();
        prop_assert_eq!(select(&layer, &Selection { bbox: Some(&b), ..Default::default() }), exact);
    }
}
