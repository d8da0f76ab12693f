//! Where an uncached tile's time goes: cutting, encoding and compressing.
//!
//! `cargo run --release --example tile_profile -- DATA_DIR LAYER z/x/y...` for single tiles,
//! or `... DATA_DIR LAYER @LIST` for a benchmark URL list (`/tiles/LAYER/z/x/y.mvt` lines):
//! per stage over the list, and a digest of all its tiles' bytes, so that a change meant to
//! leave tiles as they are (an encoder patch, a faster cut) can be checked to do so.
use std::time::{Duration, Instant};

use amis_webgis::tiles::{TileId, cut, encode};

/// The server's allocator, so that times match the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("data dir");
    let id = args.next().expect("layer id");
    let report = amis_webgis::catalog::load_data_dir(std::path::Path::new(&dir)).expect("loads");
    let layer = report
        .layers
        .iter()
        .find(|l| l.meta.id == id)
        .expect("layer")
        .clone();
    for spec in args {
        if let Some(list) = spec.strip_prefix('@') {
            let text = std::fs::read_to_string(list).expect("list");
            let tiles: Vec<TileId> = text.lines().filter_map(tile_of_url).collect();
            profile_list(&layer, &tiles);
            continue;
        }
        let tile = tile_of_zxy(&spec).expect("z/x/y");
        let started = Instant::now();
        let mut features = 0;
        for _ in 0..20 {
            features = cut::cut_layer(&layer, tile).features.len();
        }
        let cut = started.elapsed() / 20;
        let started = Instant::now();
        let mut bytes = 0;
        for _ in 0..20 {
            bytes = amis_webgis::tiles::render(std::slice::from_ref(&layer), tile)
                .expect("encodes")
                .len();
        }
        let all = started.elapsed() / 20;
        println!("{spec}: {features} features, {bytes} bytes, cut {cut:?}, cut+encode {all:?}");
    }
}

fn tile_of_zxy(zxy: &str) -> Option<TileId> {
    let mut parts = zxy.split('/');
    TileId::parse(parts.next()?, parts.next()?, parts.next()?).ok()
}

fn tile_of_url(url: &str) -> Option<TileId> {
    let path = url.split('?').next()?.strip_suffix(".mvt")?;
    let zxy: Vec<&str> = path.rsplitn(4, '/').take(3).collect();
    tile_of_zxy(&format!("{}/{}/{}", zxy.get(2)?, zxy.get(1)?, zxy.first()?))
}

fn profile_list(layer: &std::sync::Arc<amis_webgis::catalog::Layer>, tiles: &[TileId]) {
    let (mut cut_t, mut encode_t, mut gzip_t) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut features, mut raw, mut packed) = (0usize, 0usize, 0usize);
    let mut digest = xxhash_rust::xxh3::Xxh3::new();
    for &tile in tiles {
        let started = Instant::now();
        let cuts = vec![cut::cut_layer(layer, tile)];
        let cut_done = Instant::now();
        let bytes = encode::encode_tile(&cuts).expect("encodes");
        let encoded = Instant::now();
        let gz = amis_webgis::gzip::compress_fast(&bytes);
        let done = Instant::now();
        cut_t += cut_done - started;
        encode_t += encoded - cut_done;
        gzip_t += done - encoded;
        features += cuts[0].features.len();
        raw += bytes.len();
        digest.update(&(bytes.len() as u64).to_le_bytes());
        digest.update(&bytes);
        packed += gz.len();
    }
    let n = tiles.len().max(1) as u32;
    println!(
        "{} tiles (digest {:016x}): mean {} features, {} B raw, {} B gzip; per tile: cut {:?}, encode {:?}, gzip {:?}, total {:?}",
        tiles.len(),
        digest.digest(),
        features / n as usize,
        raw / n as usize,
        packed / n as usize,
        cut_t / n,
        encode_t / n,
        gzip_t / n,
        (cut_t + encode_t + gzip_t) / n
    );
}
