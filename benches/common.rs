//! Shared bench fixtures: the bundled layers and the SYNTHETIC large layers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use amis_webgis::catalog::{Layer, load_data_dir};
use amis_webgis::tiles::TileId;

#[path = "synthetic.rs"]
pub mod synthetic;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The synthetic data directory (generated once, then reused from target/).
pub fn synthetic_dir() -> PathBuf {
    synthetic::data_dir_with_synthetic(&root().join("data"), &root().join("target/synthetic"))
}

pub fn load(dir: &Path, ids: &[&str]) -> Vec<Arc<Layer>> {
    let report = load_data_dir(dir).expect("manifest");
    ids.iter()
        .map(|id| {
            report
                .layers
                .iter()
                .find(|l| l.meta.id == *id)
                .cloned()
                .expect("layer present")
        })
        .collect()
}

/// The tile at zoom `z` containing lon/lat.
pub fn tile_at(z: u8, lon: f64, lat: f64) -> TileId {
    TileId::containing(z, lon, lat)
}

/// Benchmark sites: Mindanao (the densest occurrence area) and central Sumatra.
pub const MINDANAO: (f64, f64) = (125.6, 7.9);
