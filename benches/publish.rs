//! Publishing uploads of 100,000 SYNTHETIC points through the same service function the
//! `PUT /api/collections/{id}` handler calls (`publish::publish`): receive into the store in
//! 64 KiB chunks, read (reprojecting where the file is projected), normalise and check the
//! protocol, index, move into place durably, swap in. Also the cost of reprojection alone.

mod common;

use amis_webgis::auth::Quota;
use amis_webgis::catalog::{Catalog, LayerMeta};
use amis_webgis::config::ServeArgs;
use amis_webgis::protocol::Kind;
use amis_webgis::publish::{self, Intake, Outcome, UploadRequest, Uploads};
use amis_webgis::source::{Deadline, Format};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_publish(c: &mut Criterion) {
    let dir = common::synthetic_dir();
    let fgb = std::fs::read(dir.join("synthetic_points_100k.fgb")).expect("synthetic file");
    let shapefile_path = dir.join("synthetic_points_100k_utm48n.zip");
    if !shapefile_path.exists() {
        common::synthetic::write_points_shapefile(
            &common::root().join("data"),
            100_000,
            32648,
            &shapefile_path,
        );
    }
    let shapefile = std::fs::read(&shapefile_path).expect("synthetic shapefile");
    let store_dir = common::root().join("target/bench-store");
    let uploads = Uploads::new(&ServeArgs {
        store: store_dir.clone(),
        keep_versions: 2,
        ..ServeArgs::default()
    });
    let catalog = Catalog::new(Vec::new());
    let meta: LayerMeta =
        toml::from_str("id = 'idn-synthetic'\ntitle = 'synthetic'").expect("meta");
    let mut group = c.benchmark_group("publish");
    group.sample_size(10);
    for (name, bytes, format, kind) in [
        (
            "synthetic-100k-points-fgb",
            &fgb,
            Format::FlatGeobuf,
            Kind::Other,
        ),
        (
            "synthetic-100k-points-shapefile-utm48n",
            &shapefile,
            Format::Shapefile,
            Kind::Occurrences,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut incoming = uploads.store.incoming().expect("incoming file");
                for chunk in bytes.chunks(1 << 16) {
                    incoming.write(chunk).expect("received");
                }
                let request = UploadRequest {
                    meta: meta.clone(),
                    kind: Some(kind),
                    intake: Intake::default(),
                    dry_run: false,
                    deadline: Deadline::after(std::time::Duration::from_secs(600)),
                    quota: Quota::UNLIMITED,
                };
                match publish::publish(&uploads, &catalog, incoming, format, request, "bench") {
                    Ok(Outcome::Published { layer, .. }) => {
                        assert_eq!(layer.features.len(), 100_000)
                    }
                    Ok(Outcome::Checked(_)) => panic!("not a dry run"),
                    Err(e) => panic!("{name}: {e}"),
                }
            })
        });
    }
    group.finish();
    std::fs::remove_dir_all(&store_dir).ok();

    // Reprojection alone: a million UTM 48N positions to WGS 84 longitude/latitude.
    let utm = amis_webgis::crs::by_code(32648)
        .expect("known")
        .expect("projected");
    let positions: Vec<geo::Coord> = (0..1_000_000)
        .map(|i| geo::coord! { x: 200_000.0 + (i % 1000) as f64 * 600.0, y: 100_000.0 + (i / 1000) as f64 * 2_000.0 })
        .collect();
    let mut group = c.benchmark_group("reproject");
    group.sample_size(10);
    group.bench_function("1m-positions-utm48n-to-wgs84", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for p in &positions {
                sum += utm.project(*p).expect("in range").x;
            }
            sum
        })
    });
    group.finish();
}

/// Assigning 100,000 SYNTHETIC holes to their polygon: one clockwise exterior of 10° with a
/// grid of small anticlockwise squares in it, as a Shapefile record stores them.
fn bench_holes(c: &mut Criterion) {
    const SIDE: usize = 317;
    let square = |x0: f64, y0: f64, s: f64, clockwise: bool| {
        let mut r = vec![
            geo::coord! { x: x0, y: y0 },
            geo::coord! { x: x0 + s, y: y0 },
            geo::coord! { x: x0 + s, y: y0 + s },
            geo::coord! { x: x0, y: y0 + s },
            geo::coord! { x: x0, y: y0 },
        ];
        if clockwise {
            r.reverse();
        }
        r
    };
    let cell = 10.0 / SIDE as f64;
    let mut rings = vec![square(100.0, 0.0, 10.0, true)];
    rings.extend((0..100_000).map(|i| {
        let (cx, cy) = ((i % SIDE) as f64, (i / SIDE) as f64);
        square(
            100.0 + cx * cell,
            cy * cell + cell * 0.25,
            cell * 0.5,
            false,
        )
    }));
    let mut group = c.benchmark_group("rings");
    group.sample_size(10);
    group.bench_function("100k-holes-in-one-exterior", |b| {
        b.iter_batched(
            || rings.clone(),
            |rings| match amis_webgis::source::organise_rings(rings) {
                geo::Geometry::Polygon(p) => assert_eq!(p.interiors().len(), 100_000),
                other => panic!("not one polygon: {other:?}"),
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_publish, bench_holes);
criterion_main!(benches);
