//! Map label glyphs, `GET /fonts/{fontstack}/{start}-{end}.pbf`, rendered as signed distance
//! fields from bundled DejaVu fonts (as martin does, with `pbf_font_tools` and a FreeType built
//! from source), so labels work with no network and no pre-generated glyph files.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pbf_font_tools::prost::Message;
use rust_embed::Embed;

use crate::error::ApiError;
use crate::server::{AppState, reject_query};

#[derive(Embed)]
#[folder = "styles/fonts/"]
#[include = "*.ttf"]
struct FontFiles;

/// Fontstack names (FreeType family + style, as MapLibre styles name them) and their files.
pub const FONTS: [(&str, &str); 2] = [
    ("DejaVu Sans Book", "DejaVuSans.ttf"),
    ("DejaVu Sans Bold", "DejaVuSans-Bold.ttf"),
];
/// Glyph rendering parameters used by MapLibre's own glyph tools.
const GLYPH_SIZE: usize = 24;
const GLYPH_RADIUS: usize = 8;
const GLYPH_CUTOFF: f64 = 0.25;

/// Rendered ranges, cached: every range of every font is small (a few KiB) and finite.
#[derive(Clone)]
pub struct GlyphCache(moka::sync::Cache<(usize, u32), Arc<Vec<u8>>>);

impl Default for GlyphCache {
    fn default() -> Self {
        GlyphCache(moka::sync::Cache::new(2_048))
    }
}

/// Renders one 256-glyph range of font `font` (an index into [`FONTS`]).
pub fn render_range(font: usize, start: u32) -> Result<Vec<u8>, String> {
    let (name, file) = FONTS[font];
    let data = FontFiles::get(file).ok_or_else(|| format!("font {file} is not embedded"))?;
    let library = pbf_font_tools::freetype::Library::init().map_err(|e| e.to_string())?;
    let face = library
        .new_memory_face(data.data.into_owned(), 0)
        .map_err(|e| e.to_string())?;
    let mut stack = pbf_font_tools::glyph_range_for_face(
        &face,
        start,
        start + 255,
        GLYPH_SIZE,
        GLYPH_RADIUS,
        GLYPH_CUTOFF,
    )
    .map_err(|e| e.to_string())?;
    stack.name = name.to_string();
    let glyphs = pbf_font_tools::Glyphs {
        stacks: vec![stack],
    };
    Ok(glyphs.encode_to_vec())
}

fn parse_range(range: &str) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::invalid(
            "range",
            format!("{range:?} is not a glyph range like 0-255.pbf"),
        )
    };
    let (start, end) = range
        .strip_suffix(".pbf")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(bad)?;
    let (start, end): (u32, u32) = (
        start.parse().map_err(|_| bad())?,
        end.parse().map_err(|_| bad())?,
    );
    if start % 256 != 0 || end != start + 255 || end > 0xFFFF {
        return Err(bad());
    }
    Ok(start)
}

pub async fn glyphs(
    State(state): State<AppState>,
    Path((fontstack, range)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let start = parse_range(&range)?;
    // A stack lists fallbacks; the first font this server has wins.
    let font = fontstack
        .split(',')
        .find_map(|name| FONTS.iter().position(|(n, _)| *n == name.trim()))
        .ok_or_else(|| {
            ApiError::NoRoute(format!(
                "/fonts/{fontstack} (fonts here: {})",
                FONTS.map(|f| f.0).join(", ")
            ))
        })?;
    let cache = state.glyphs.clone();
    let bytes = match cache.0.get(&(font, start)) {
        Some(hit) => hit,
        None => {
            let rendered = tokio::task::spawn_blocking(move || render_range(font, start))
                .await
                .map_err(|e| ApiError::Internal(format!("glyph task failed: {e}")))?
                .map_err(ApiError::Internal)?;
            let rendered = Arc::new(rendered);
            cache.0.insert((font, start), rendered.clone());
            rendered
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes.as_ref().clone(),
    )
        .into_response())
}
