//! How long the bundled data takes to load and what the pyramids hold:
//! `cargo run --release --example load_time -- [DATA_DIR]`
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data".into());
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let report =
            amis_webgis::catalog::load_data_dir(std::path::Path::new(&dir)).expect("loads");
        println!(
            "loaded {} layers in {:?}",
            report.layers.len(),
            started.elapsed()
        );
        for layer in &report.layers {
            let s = &layer.shapes;
            if s.vertices() > 0 || layer.pyramid.cells() > 0 {
                println!(
                    "  {}: shape levels {} of {} source vertices ({:.0}%), point cells {} of {} features",
                    layer.meta.id,
                    s.vertices(),
                    s.source_vertices,
                    100.0 * s.vertices() as f64 / s.source_vertices.max(1) as f64,
                    layer.pyramid.cells(),
                    layer.features.len()
                );
                let zooms: Vec<u8> = (0..=20).filter(|&z| s.level(z).is_some()).collect();
                println!("    levels at zooms {zooms:?}");
            }
        }
    }
}
