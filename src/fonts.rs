//! Map label glyphs, `GET /fonts/{fontstack}/{start}-{end}.pbf`: the signed-distance-field
//! ranges MapLibre asks for, rendered once from the bundled DejaVu fonts by
//! `scripts/render-glyphs.sh` (FreeType, with MapLibre's own glyph parameters) and embedded,
//! gzipped, in the binary. Labels work with no network, and the server builds no FreeType.

use std::io::Read;

use axum::extract::RawQuery;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;
use crate::params::Path;
use crate::server::{accepts_gzip, reject_query};

#[derive(Embed)]
#[folder = "styles/glyphs/"]
struct GlyphFiles;

/// Fontstack names, as styles name them (FreeType family + style); each has a directory of
/// rendered ranges.
pub const FONTS: [&str; 2] = ["DejaVu Sans Book", "DejaVu Sans Bold"];

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

/// A glyphs message with one fontstack and no glyphs: the answer for a range the font does
/// not cover (MapLibre then draws nothing for those characters rather than failing).
fn empty_range(font: &str, start: u32) -> Vec<u8> {
    // Protobuf by hand, for two strings: glyphs { stacks = 1 { name = 1; range = 2 } }.
    let range = format!("{start}-{}", start + 255);
    let mut stack = vec![0x0a, font.len() as u8];
    stack.extend_from_slice(font.as_bytes());
    stack.extend([0x12, range.len() as u8]);
    stack.extend_from_slice(range.as_bytes());
    let mut message = vec![0x0a, stack.len() as u8];
    message.extend(stack);
    message
}

pub async fn glyphs(
    Path((fontstack, range)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_query(query.as_deref(), &[])?;
    let start = parse_range(&range)?;
    // A stack lists fallbacks; the first font this server has wins.
    let font = fontstack
        .split(',')
        .map(str::trim)
        .find(|name| FONTS.contains(name))
        .ok_or_else(|| {
            ApiError::NoRoute(format!(
                "/fonts/{fontstack} (fonts here: {})",
                FONTS.join(", ")
            ))
        })?;
    let cached = [
        (header::CONTENT_TYPE, "application/x-protobuf"),
        (header::CACHE_CONTROL, "public, max-age=86400"),
    ];
    let Some(file) = GlyphFiles::get(&format!("{font}/{start}-{}.pbf.gz", start + 255)) else {
        return Ok((cached, empty_range(font, start)).into_response());
    };
    if accepts_gzip(&headers) {
        return Ok((
            cached,
            [
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "Accept-Encoding"),
            ],
            file.data.into_owned(),
        )
            .into_response());
    }
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&file.data[..])
        .read_to_end(&mut plain)
        .map_err(|e| ApiError::Internal(format!("glyph range {font} {start}: {e}")))?;
    Ok((cached, [(header::VARY, "Accept-Encoding")], plain).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_font_has_its_latin_range() {
        for font in FONTS {
            assert!(
                GlyphFiles::get(&format!("{font}/0-255.pbf.gz")).is_some(),
                "{font}"
            );
        }
    }

    #[test]
    fn an_empty_range_is_a_valid_glyphs_message() {
        let bytes = empty_range("DejaVu Sans Book", 3584);
        // glyphs.stacks[0] is a length-delimited field 1 holding the whole rest.
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(bytes[1] as usize, bytes.len() - 2);
        assert!(String::from_utf8_lossy(&bytes).contains("DejaVu Sans Book"));
        assert!(String::from_utf8_lossy(&bytes).contains("3584-3839"));
    }
}
