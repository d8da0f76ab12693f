#!/usr/bin/env bash
# Mixed load (scripts/loadtest-mixed.py): cached and uncached tiles, 10,000-feature pages,
# slow-reading downloads and repeated uploads at once, against a release server on
# 127.0.0.1 with the bundled and SYNTHETIC layers. Bounded: DURATION seconds (default 30).
# Passes when cached-tile p99 stays under 5 ms and no class starves.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
PORT=${PORT:-18081}
cargo build --release --quiet
cargo run --release --quiet --example synth -- target/synthetic
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
token=$(./target/release/amis-webgis token --store "$work/store" create --agency "Load test" --layers 'load-*' \
  | sed -n 's/^token: *//p')
./target/release/amis-webgis --data target/synthetic --store "$work/store" --bind "127.0.0.1:$PORT" \
  >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do grep -q "; ready" "$work/server.log" && break; sleep 0.1; done
python3 scripts/loadtest-mixed.py --base "http://127.0.0.1:$PORT" --duration "$DURATION" --token "$token"
echo "server: $(grep -E 'VmRSS|VmHWM' /proc/$server/status | tr -s ' \t' ' ' | tr '\n' ' ')"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^amis_(overloaded|timeouts)_total|^amis_work_' || true
