//! Tile cutting + encoding (uncached) at z0, z4, z8, z12 on the real layers and on the
//! SYNTHETIC 1M-point and 100k-parcel layers.

mod common;

use amis_webgis::tiles::cache::EncodedTile;
use amis_webgis::tiles::render;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_tiles(c: &mut Criterion) {
    let real = common::load(
        &common::root().join("data"),
        &[
            "world-countries-50m",
            "asean-countries",
            "active-faults",
            "mineral-occurrences",
        ],
    );
    let synthetic = common::synthetic_dir();
    let big = common::load(
        &synthetic,
        &["synthetic-1m", "synthetic-parcels-100k", "synthetic-100k"],
    );
    let (lon, lat) = common::MINDANAO;

    let mut group = c.benchmark_group("tile");
    group.sample_size(30);
    for z in [0u8, 4, 6, 8, 12] {
        let tile = common::tile_at(z, lon, lat);
        group.bench_with_input(BenchmarkId::new("real-composite", z), &tile, |b, t| {
            b.iter(|| black_box(render(&real, *t).expect("encodes")))
        });
        group.bench_with_input(BenchmarkId::new("occurrences", z), &tile, |b, t| {
            b.iter(|| black_box(render(&real[3..], *t).expect("encodes")))
        });
        group.bench_with_input(BenchmarkId::new("synthetic-1m", z), &tile, |b, t| {
            b.iter(|| black_box(render(&big[..1], *t).expect("encodes")))
        });
        group.bench_with_input(BenchmarkId::new("synthetic-100k", z), &tile, |b, t| {
            b.iter(|| black_box(render(&big[2..], *t).expect("encodes")))
        });
        group.bench_with_input(
            BenchmarkId::new("synthetic-parcels-100k", z),
            &tile,
            |b, t| b.iter(|| black_box(render(&big[1..2], *t).expect("encodes"))),
        );
    }
    let tile = common::tile_at(6, lon, lat);
    let bytes = render(&big[..1], tile).expect("encodes");
    group.bench_function("gzip-once/synthetic-1m/6", |b| {
        b.iter(|| black_box(EncodedTile::new(bytes.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench_tiles);
criterion_main!(benches);
