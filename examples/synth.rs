//! Generates the SYNTHETIC benchmark data directory (bundled layers + 100k/200k/1M points +
//! 100k parcels): `cargo run --release --example synth -- [OUT_DIR]` (default target/synthetic).

#[path = "../benches/synthetic.rs"]
mod synthetic;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/synthetic".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = std::time::Instant::now();
    let dir = synthetic::data_dir_with_synthetic(&root.join("data"), std::path::Path::new(&out));
    println!(
        "synthetic data in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
}
