#!/usr/bin/env bash
# Conformance of the running server to its own OpenAPI document, checked by an independent
# tool: Schemathesis (pinned in tests/schemathesis/requirements.txt, installed into
# target/schemathesis-venv the first time) runs every check it has against a release server
# on a free 127.0.0.1 port, with a fixed seed and example budget. Any failure fails.
# EXAMPLES (default 50) sets the examples per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/schemathesis-venv
requirements=tests/schemathesis/requirements.txt
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
  echo "installing Schemathesis into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
cargo build --release --quiet
log=$(mktemp)
store=$(mktemp -d)
AMIS_BIND=127.0.0.1:0 ./target/release/amis-webgis --store "$store" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$log" "$store"' EXIT
for _ in $(seq 1 300); do grep -q "; ready" "$log" && break; sleep 0.1; done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
SCHEMATHESIS_HOOKS=tests/schemathesis/hooks.py "$venv/bin/st" run "$base/api/openapi.json" \
  --checks all \
  --seed 20261126 \
  --max-examples "${EXAMPLES:-50}" \
  --workers 1 \
  --no-color \
  --report junit --report-dir target/schemathesis-report
