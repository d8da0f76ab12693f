//! Seeded URL lists for the HTTP benchmark (`scripts/bench-http.sh`): tiles where the data
//! is (a random feature of the layer, a random zoom in the range, the tile holding it), tiles
//! over the layer's extent (a random zoom, then a random tile of those covering the layer's
//! bounding box at that zoom: what a map panning over the region asks for, empty tiles
//! included) and item bboxes around random features. Same seed, same lists.
//!
//! `cargo run --release --example bench_lists -- DATA_DIR OUT_DIR`

use std::io::Write;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 20_261_126;
const PER_LIST: usize = 2_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let data = args.next().unwrap_or_else(|| "target/synthetic".into());
    let out = args.next().unwrap_or_else(|| "target/bench/lists".into());
    let report = amis_webgis::catalog::load_data_dir(Path::new(&data)).expect("data directory");
    std::fs::create_dir_all(&out).expect("output directory");
    let layer = |id: &str| {
        report
            .layers
            .iter()
            .find(|l| l.meta.id == id)
            .unwrap_or_else(|| panic!("layer {id} in {data}"))
            .clone()
    };
    // (list, layer, tile path prefix, zooms)
    let tiles: [(&str, &str, &str, std::ops::RangeInclusive<u8>); 7] = [
        (
            "occurrences-z6-14",
            "synthetic-200k",
            "synthetic-200k",
            6..=14,
        ),
        (
            "occurrences-z0-10",
            "synthetic-200k",
            "synthetic-200k",
            0..=10,
        ),
        (
            "occurrences-z0-14",
            "synthetic-200k",
            "synthetic-200k",
            0..=14,
        ),
        ("occurrences-1m-z0-5", "synthetic-1m", "synthetic-1m", 0..=5),
        (
            "countries-z0-8",
            "world-countries-50m",
            "world-countries-50m",
            0..=8,
        ),
        (
            "parcels-z0-14",
            "synthetic-parcels-100k",
            "synthetic-parcels-100k",
            0..=14,
        ),
        (
            "real-occurrences-z0-14",
            "mineral-occurrences",
            "mineral-occurrences",
            0..=14,
        ),
    ];
    for (name, id, path, zooms) in tiles {
        let layer = layer(id);
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ fxhash(name));
        let mut file =
            std::fs::File::create(Path::new(&out).join(format!("{name}.txt"))).expect("list");
        for _ in 0..PER_LIST {
            let feature = &layer.features[rng.random_range(0..layer.features.len())];
            let c = geo::CoordsIter::coords_iter(&feature.geometry)
                .next()
                .expect("a position");
            let z = rng.random_range(zooms.clone());
            let tile = amis_webgis::tiles::TileId::containing(z, c.x, c.y);
            writeln!(file, "/tiles/{path}/{}/{}/{}.mvt", tile.z, tile.x, tile.y).expect("write");
        }
    }
    for (name, zooms) in [
        ("occurrences-extent-z6-14", 6..=14u8),
        ("occurrences-extent-z0-10", 0..=10),
        ("occurrences-extent-z0-14", 0..=14),
    ] {
        let layer = layer("synthetic-200k");
        let (mut west, mut south, mut east, mut north) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
        for c in layer
            .features
            .iter()
            .flat_map(|f| geo::CoordsIter::coords_iter(&f.geometry))
        {
            (west, south, east, north) =
                (west.min(c.x), south.min(c.y), east.max(c.x), north.max(c.y));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ fxhash(name));
        let mut file =
            std::fs::File::create(Path::new(&out).join(format!("{name}.txt"))).expect("list");
        for _ in 0..PER_LIST {
            let z = rng.random_range(zooms.clone());
            let top_left = amis_webgis::tiles::TileId::containing(z, west, north);
            let bottom_right = amis_webgis::tiles::TileId::containing(z, east, south);
            let x = rng.random_range(top_left.x..=bottom_right.x);
            let y = rng.random_range(top_left.y..=bottom_right.y);
            writeln!(file, "/tiles/synthetic-200k/{z}/{x}/{y}.mvt").expect("write");
        }
    }
    // 300 bboxes of about 1° × 1° around random features, 100 features a page.
    let layer = layer("synthetic-200k");
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ fxhash("items"));
    let mut file = std::fs::File::create(Path::new(&out).join("items-bbox.txt")).expect("list");
    for _ in 0..300 {
        let feature = &layer.features[rng.random_range(0..layer.features.len())];
        let c = geo::CoordsIter::coords_iter(&feature.geometry)
            .next()
            .expect("a position");
        let (w, s) = (
            c.x - rng.random_range(0.1..0.6),
            c.y - rng.random_range(0.1..0.6),
        );
        let (e, n) = (
            c.x + rng.random_range(0.1..0.6),
            c.y + rng.random_range(0.1..0.6),
        );
        writeln!(
            file,
            "/api/collections/synthetic-200k/items?bbox={w:.4},{s:.4},{e:.4},{n:.4}&limit=100"
        )
        .expect("write");
    }
    println!("lists in {out}");
}

/// A stable hash of a list name, so each list has its own seeded sequence.
fn fxhash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
