//! Publishing an upload of 100,000 SYNTHETIC points: read through the guards, check the
//! protocol, index, store durably, swap in — the work of `PUT /api/collections/{id}` after
//! the body has arrived.

mod common;

use std::sync::Arc;

use amis_webgis::catalog::{Catalog, Layer, LayerMeta};
use amis_webgis::protocol::{Kind, check};
use amis_webgis::source::{Format, read_bytes};
use amis_webgis::store::LayerStore;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_publish(c: &mut Criterion) {
    let bytes = std::fs::read(common::synthetic_dir().join("synthetic_points_100k.fgb"))
        .expect("synthetic file");
    let store_dir = common::root().join("target/bench-store");
    let store = LayerStore::new(&store_dir, 2);
    let catalog = Catalog::new(Vec::new());
    let meta: LayerMeta =
        toml::from_str("id = 'idn-synthetic'\ntitle = 'synthetic'\nkind = 'other'").expect("meta");
    let mut group = c.benchmark_group("publish");
    group.sample_size(10);
    group.bench_function("synthetic-100k-points", |b| {
        b.iter(|| {
            let set = read_bytes(&bytes, Format::FlatGeobuf).expect("reads");
            assert!(check(&set, Kind::Other).is_valid());
            let features = set.features.len();
            let layer = Layer::build(meta.clone(), set, xxhash_rust::xxh3::xxh3_64(&bytes));
            store
                .save(&meta, &bytes, "fgb", "bench", features)
                .expect("stored");
            catalog.publish(Arc::new(layer));
        })
    });
    group.finish();
    std::fs::remove_dir_all(&store_dir).ok();
}

criterion_group!(benches, bench_publish);
criterion_main!(benches);
