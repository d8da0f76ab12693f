#!/usr/bin/env bash
# The whole test suite: unit, integration and property tests over the bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test
