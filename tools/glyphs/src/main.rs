//! Renders every 256-codepoint range of each bundled font as the signed-distance-field
//! glyph protobufs MapLibre asks for (`/fonts/{fontstack}/{start}-{end}.pbf`), with the
//! parameters of MapLibre's own glyph tools, gzipped (a third of the size; the server sends
//! them as they are to clients that accept gzip), into
//! `styles/glyphs/{font}/{start}-{end}.pbf.gz`. Ranges a font has no glyph in are not
//! written; the server answers them with an empty range. Run by `scripts/render-glyphs.sh`;
//! the output is committed.

use std::path::PathBuf;

use std::io::Write;

use pbf_font_tools::prost::Message;

/// Fontstack names (FreeType family + style, as styles name them) and their files.
const FONTS: [(&str, &str); 2] = [
    ("DejaVu Sans Book", "DejaVuSans.ttf"),
    ("DejaVu Sans Bold", "DejaVuSans-Bold.ttf"),
];
const GLYPH_SIZE: usize = 24;
const GLYPH_RADIUS: usize = 8;
const GLYPH_CUTOFF: f64 = 0.25;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let fonts = PathBuf::from(args.next().ok_or("usage: amis-glyphs FONT_DIR OUT_DIR")?);
    let out = PathBuf::from(args.next().ok_or("usage: amis-glyphs FONT_DIR OUT_DIR")?);
    let library = pbf_font_tools::freetype::Library::init()?;
    for (name, file) in FONTS {
        let face = library.new_face(fonts.join(file), 0)?;
        let dir = out.join(name);
        std::fs::create_dir_all(&dir)?;
        let (mut written, mut bytes) = (0, 0);
        for start in (0..=0xFFFFu32).step_by(256) {
            let mut stack = pbf_font_tools::glyph_range_for_face(
                &face,
                start,
                start + 255,
                GLYPH_SIZE,
                GLYPH_RADIUS,
                GLYPH_CUTOFF,
            )?;
            if stack.glyphs.is_empty() {
                continue;
            }
            stack.name = name.to_string();
            let encoded = pbf_font_tools::Glyphs {
                stacks: vec![stack],
            }
            .encode_to_vec();
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gzip.write_all(&encoded)?;
            let gzip = gzip.finish()?;
            bytes += gzip.len();
            written += 1;
            std::fs::write(dir.join(format!("{start}-{}.pbf.gz", start + 255)), gzip)?;
        }
        println!("{name}: {written} ranges, {bytes} bytes gzipped");
    }
    Ok(())
}
