#!/usr/bin/env bash
# Renders the label glyphs of the bundled fonts (styles/fonts/) into styles/glyphs/, which is
# committed: the server embeds the files and needs no FreeType. Rerun after changing a font.
# Builds tools/glyphs (pbf_font_tools with FreeType compiled from source) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf styles/glyphs
cargo run --release --quiet --manifest-path tools/glyphs/Cargo.toml -- styles/fonts styles/glyphs
