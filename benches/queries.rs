//! Items selection (bbox + filters) on the real layer and the SYNTHETIC 1M-point layer.

mod common;

use amis_webgis::features::query::{PropertyFilter, Selection, parse_bbox, select};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench_queries(c: &mut Criterion) {
    let real = common::load(&common::root().join("data"), &["mineral-occurrences"]);
    let big = common::load(&common::synthetic_dir(), &["synthetic-1m"]);
    let philippines = parse_bbox("116,4.5,127,21.5").expect("bbox");
    let mindanao = parse_bbox("125,7,126,8").expect("bbox");
    let mut group = c.benchmark_group("items");
    group.sample_size(30);
    group.bench_function("occurrences/bbox-philippines", |b| {
        b.iter(|| {
            black_box(select(
                &real[0],
                &Selection {
                    bbox: Some(&philippines),
                    ..Default::default()
                },
            ))
        })
    });
    let field = big[0].field_index("primary_commodity").expect("field");
    let nickel = [PropertyFilter {
        field,
        any_of: vec!["Nickel".into()],
        is_list: false,
    }];
    group.bench_function("synthetic-1m/bbox-1deg", |b| {
        b.iter(|| {
            black_box(select(
                &big[0],
                &Selection {
                    bbox: Some(&mindanao),
                    ..Default::default()
                },
            ))
        })
    });
    group.bench_function("synthetic-1m/bbox-1deg+filter", |b| {
        b.iter(|| {
            black_box(select(
                &big[0],
                &Selection {
                    bbox: Some(&mindanao),
                    filters: &nickel,
                    text: None,
                },
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_queries);
criterion_main!(benches);
