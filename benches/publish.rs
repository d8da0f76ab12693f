//! Publishing an upload of 100,000 SYNTHETIC points: receive into the store (64 KiB
//! chunks, hashed as they arrive), stream it through the guarded reader, check the protocol,
//! index, move it into place durably, swap in — the work of `PUT /api/collections/{id}`
//! without the HTTP.

mod common;

use std::io::BufReader;
use std::sync::Arc;

use amis_webgis::catalog::{Catalog, Layer, LayerMeta};
use amis_webgis::config::ServeArgs;
use amis_webgis::protocol::{Kind, check};
use amis_webgis::source::{Format, read_stream};
use amis_webgis::upload::Uploads;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_publish(c: &mut Criterion) {
    let bytes = std::fs::read(common::synthetic_dir().join("synthetic_points_100k.fgb"))
        .expect("synthetic file");
    let store_dir = common::root().join("target/bench-store");
    let uploads = Uploads::new(&ServeArgs {
        store: store_dir.clone(),
        keep_versions: 2,
        ..ServeArgs::default()
    });
    let store = &uploads.store;
    let catalog = Catalog::new(Vec::new());
    let meta: LayerMeta =
        toml::from_str("id = 'idn-synthetic'\ntitle = 'synthetic'\nkind = 'other'").expect("meta");
    let mut group = c.benchmark_group("publish");
    group.sample_size(10);
    group.bench_function("synthetic-100k-points", |b| {
        b.iter(|| {
            let mut incoming = store.incoming().expect("incoming file");
            for chunk in bytes.chunks(1 << 16) {
                incoming.write(chunk).expect("received");
            }
            let file = BufReader::new(incoming.finish().expect("synced"));
            let budget = uploads.memory_budget(incoming.bytes());
            let set =
                read_stream(file, incoming.bytes(), Format::FlatGeobuf, budget).expect("reads");
            assert!(check(&set, Kind::Other).is_valid() && set.invalid.is_empty());
            let features = set.features.len();
            let layer = Layer::build(meta.clone(), set, incoming.content_hash());
            store
                .save(&meta, incoming, "fgb", "bench", features)
                .expect("stored");
            catalog.publish(Arc::new(layer));
        })
    });
    group.finish();
    std::fs::remove_dir_all(&store_dir).ok();
}

criterion_group!(benches, bench_publish);
criterion_main!(benches);
