#!/usr/bin/env bash
# Nightly-sized fuzzing: the seeded mutation sweeps of every reader (tests/hostile_files.rs)
# and the tile cutter's hostile-geometry sweep (tests/tiler_fuzz.rs), with SWEEP cases each
# instead of CI's 10,000 (default 200,000). Release build; takes a few minutes per 100,000.
set -euo pipefail
cd "$(dirname "$0")/.."
export AMIS_SWEEP=${SWEEP:-200000}
cargo test --release --test hostile_files --test tiler_fuzz -- --nocapture
