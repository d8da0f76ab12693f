#!/usr/bin/env bash
# Browser tests: builds the release server, starts it on a free 127.0.0.1 port, runs the
# Node tests in tests/browser against it with headless chromium, and stops it.
# Screenshots go to artifacts/. Needs /usr/bin/chromium (apt-get install chromium) and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "chromium missing: apt-get install chromium"; exit 1; }
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --release --quiet
log=$(mktemp)
store=$(mktemp -d)
# A throwaway store with one token, for the upload page test.
export UPLOAD_TOKEN=$(./target/release/amis-webgis token --store "$store" create --agency "Browser test" --layers 'test-*' \
  | sed -n 's/^token: *//p')
AMIS_BIND=127.0.0.1:0 ./target/release/amis-webgis --store "$store" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$log" "$store"' EXIT
for _ in $(seq 1 300); do grep -q "; ready" "$log" && break; sleep 0.1; done
export BASE_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
export ARTIFACTS="$PWD/artifacts"
(cd tests/browser && node --test --test-concurrency=1)
