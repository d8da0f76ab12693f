//! Where an uncached tile's time goes: cutting vs encoding, for a few tiles of a layer.
//! `cargo run --release --example tile_profile -- DATA_DIR LAYER z/x/y...`
use std::time::Instant;

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
        let parts: Vec<&str> = spec.split('/').collect();
        let tile = amis_webgis::tiles::TileId::parse(parts[0], parts[1], parts[2]).expect("tile");
        let started = Instant::now();
        let mut features = 0;
        for _ in 0..20 {
            features = amis_webgis::tiles::cut::cut_layer(&layer, tile)
                .features
                .len();
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
