#!/usr/bin/env bash
# Load test against a release build on 127.0.0.1: the committed tile list
# (scripts/loadtest-tiles.txt, zooms 0-14, real layers and the SYNTHETIC 1M-point layer),
# cache on and cache off, with 1 connection (latency) and 4 (throughput; on a 2-core machine
# wrk shares the cores, so latencies then include queueing). Needs wrk (apt-get install wrk). Bounded: DURATION seconds per run.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

cargo build --release --quiet
cargo run --release --quiet --example synth -- target/synthetic
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

start() {
  ./target/release/amis-webgis --data target/synthetic --bind "127.0.0.1:$PORT" --cache-mb "$1" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "$BASE/ready" >/dev/null && break; sleep 0.2; done
  grep -o "elapsed_ms=[0-9]*" "$work/server.log" | sed "s/^/  start-up /" || true
}

stop() {
  kill "$server"; wait "$server" 2>/dev/null || true
}

bands() {
  # band name, layer pattern, zoom range
  for spec in "real z0-5|mineral-occurrences|0-5" "real z6-14|mineral-occurrences|6-14" \
              "1M z0-5|synthetic-1m|0-5" "1M z6-14|synthetic-1m|6-14"; do
    IFS='|' read -r name layer zooms <<<"$spec"
    lo=${zooms%-*}; hi=${zooms#*-}
    awk -F/ -v l="$layer" -v lo="$lo" -v hi="$hi" 'index($3, l) && $4 >= lo && $4 <= hi' \
      scripts/loadtest-tiles.txt >"$work/band.txt"
    for connections in 1 4; do
      printf '  %-12s %4d tiles  c=%d ' "$name" "$(wc -l <"$work/band.txt")" "$connections"
      wrk -t1 -c"$connections" -d"${DURATION}s" -s scripts/bench.lua "$BASE" -- "$work/band.txt" | tail -n 1
    done
  done
}

echo "== cache on (after one warming pass over every tile)"
start 256
while read -r path; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$BASE$path"; done <scripts/loadtest-tiles.txt
bands
echo "  resident memory: $(grep -E 'VmRSS|VmHWM' /proc/$server/status | tr -s ' \t' ' ' | tr '\n' ' ')"
stop

echo "== cache off (--cache-mb 0: every request cuts, encodes and compresses its tile)"
start 0
bands
echo "== largest tiles of the 1M-point layer in the list (uncompressed bytes)"
grep synthetic-1m scripts/loadtest-tiles.txt | while read -r path; do
  printf '%s %s\n' "$(curl -s -o /dev/null -w '%{size_download}' "$BASE$path")" "$path"
done | sort -rn | head -3 | sed 's/^/  /'
stop
