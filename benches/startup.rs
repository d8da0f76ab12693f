//! Start-up: loading (read, validate, index) the bundled data and the SYNTHETIC 1M-point layer.

mod common;

use amis_webgis::catalog::{Layer, LayerMeta, load_data_dir};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_startup(c: &mut Criterion) {
    let data = common::root().join("data");
    let synthetic = common::synthetic_dir();
    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    group.bench_function("bundled-data", |b| {
        b.iter(|| black_box(load_data_dir(&data).expect("loads")))
    });
    let meta: LayerMeta = toml::from_str("id = 'synthetic'\ntitle = 'synthetic'").expect("meta");
    for (name, file) in [
        ("synthetic-100k-layer", "synthetic_points_100k.fgb"),
        ("synthetic-1m-layer", "synthetic_points_1m.fgb"),
    ] {
        let path = synthetic.join(file);
        group.bench_function(name, |b| {
            b.iter(|| {
                let contents = amis_webgis::source::read_path(&path).expect("reads");
                black_box(Layer::build(
                    meta.clone(),
                    contents.features,
                    contents.content_hash,
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_startup);
criterion_main!(benches);
