#!/usr/bin/env bash
# The whole test suite: unit, integration, property and fuzz tests over the bundled data,
# then the web map in a real headless browser, then the API against its own OpenAPI
# definition with Schemathesis. Installs chromium (Debian) if it is missing, and the pinned
# Schemathesis (tests/schemathesis/requirements.txt, from PyPI) into target/. The vendored,
# patched `mvt` (vendor/mvt/PATCHES.md) runs its own tests too.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test
cargo test --quiet --manifest-path vendor/mvt/Cargo.toml --target-dir target/vendor-tests
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium for the browser tests"
  (apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; })
fi
scripts/browser-tests.sh
scripts/schemathesis.sh
