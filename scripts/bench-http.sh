#!/usr/bin/env bash
# The side-by-side HTTP benchmark: this server on the bundled data and the SYNTHETIC layers
# (200k and 1M points, 100k parcels), cached and uncached, and the HTTP ceiling (a
# middleware-free axum handler with the same mean body), driven by wrk (2 threads,
# 16 connections, gzip) through seeded URL lists (examples/bench_lists.rs). The ceiling runs
# twice: with one fixed body (the issue's definition) and with one body per distinct URL of
# the list (the memory a cache of those tiles is sent from). Prints req/s, p50,
# p99 and bytes per request per case, then the largest tile per zoom of the 1M-point and
# parcel layers. Needs wrk (apt-get install wrk). Against 127.0.0.1 only; DURATION seconds
# per case (default 10). BASELINE=path/to/an/older/amis-webgis runs the uncached cases on that
# build too, first, on the same lists (to compare with the figures an issue measured on its
# own lists: build the commit it names with `git worktree add`).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
PORT=${PORT:-18082}
CEILING_PORT=${CEILING_PORT:-18083}
BASE="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

cargo build --release --quiet --examples
cargo build --release --quiet
cargo run --release --quiet --example synth -- target/synthetic
lists=target/bench/lists
cargo run --release --quiet --example bench_lists -- target/synthetic "$lists" >/dev/null
work=$(mktemp -d)
server=""
fixed=""
several=""
trap 'kill $server $fixed $several 2>/dev/null; rm -rf "$work"' EXIT

BIN=./target/release/amis-webgis
start() { # cache MiB
  : >"$work/server.log"
  "$BIN" --data target/synthetic --store "$work/store" --bind "127.0.0.1:$PORT" \
    --cache-mb "$1" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do grep -q "; ready" "$work/server.log" && break; sleep 0.1; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
run() { # label, list, [url base]
  printf '  %-34s' "$1"
  wrk -t2 -c16 -d"${DURATION}s" -s scripts/bench.lua "${3:-$BASE}" -- "$lists/$2.txt" | tail -n 1
}
warm() { # list: one pass, so every tile of it is cached
  while read -r path; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$BASE$path"; done <"$lists/$1.txt"
}

uncached() {
  start 0
  run "occurrence tiles z6-14 (200k)" occurrences-z6-14
  run "occurrence tiles z0-10 (200k)" occurrences-z0-10
  run "occurrence tiles z0-14 (200k)" occurrences-z0-14
  run "200k over its extent, z6-14" occurrences-extent-z6-14
  run "200k over its extent, z0-10" occurrences-extent-z0-10
  run "200k over its extent, z0-14" occurrences-extent-z0-14
  run "1M-point tiles z0-5" occurrences-1m-z0-5
  run "country tiles z0-8" countries-z0-8
  run "parcel tiles z0-14 (100k polygons)" parcels-z0-14
  run "items, 300 bboxes, limit 100" items-bbox
  stop
}
if [ -n "${BASELINE:-}" ]; then
  echo "== uncached, baseline build $BASELINE"
  BIN=$BASELINE
  uncached
  BIN=./target/release/amis-webgis
fi
echo "== uncached (--cache-mb 0: every request cuts, encodes and compresses its tile)"
uncached

echo "== cached (after one pass over each list)"
start 1024
for list in occurrences-z6-14 occurrences-z0-10 countries-z0-8; do warm "$list"; done
run "occurrence tiles z6-14 (200k)" occurrences-z6-14
run "occurrence tiles z0-10 (200k)" occurrences-z0-10
run "country tiles z0-8" countries-z0-8
mean=$(wrk -t1 -c1 -d2s -s scripts/bench.lua "$BASE" -- "$lists/occurrences-z6-14.txt" | awk '{for (i = 2; i <= NF; i++) if ($i == "B/req") print int($(i - 1))}')
echo "  resident memory: $(grep -E 'VmRSS|VmHWM' /proc/$server/status | tr -s ' \t' ' ' | tr '\n' ' ')"

# This machine's throughput drifts by a quarter within a minute, so cases run one after the
# other do not compare: the cached server and both ceilings stay up (idle ones cost nothing)
# and take turns, PAIRS rounds of 3 s each, and the ratios are of the same round.
distinct=$(sort -u "$lists/occurrences-z6-14.txt" | wc -l)
echo "== cached z6-14 against the ceiling (${mean}-byte bodies from a middleware-free axum handler: one fixed body, and $distinct distinct ones as the cache holds), taking turns"
./target/release/examples/ceiling "127.0.0.1:$CEILING_PORT" "$mean" 1 >/dev/null 2>&1 &
fixed=$!
./target/release/examples/ceiling "127.0.0.1:$((CEILING_PORT + 1))" "$mean" "$distinct" >/dev/null 2>&1 &
several=$!
sleep 0.5
turn() { wrk -t2 -c16 -d3s -s scripts/bench.lua "$1" -- "$lists/occurrences-z6-14.txt" | tail -n 1 | awk '{print $1}'; }
for _ in $(seq 1 "${PAIRS:-5}"); do
  echo "$(turn "$BASE") $(turn "http://127.0.0.1:$CEILING_PORT") $(turn "http://127.0.0.1:$((CEILING_PORT + 1))")"
done | awk '{
  printf "  server %6d  fixed %6d  distinct %6d req/s: %3.0f%% of fixed, %3.0f%% of distinct\n", $1, $2, $3, 100 * $1 / $2, 100 * $1 / $3
  f[NR] = 100 * $1 / $2; d[NR] = 100 * $1 / $3
}
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
END {
  n = NR; sort(f, n); sort(d, n)
  m = int((n + 1) / 2)
  printf "  median of the rounds: %.0f%% of the fixed body, %.0f%% of the distinct bodies\n", f[m], d[m]
}'
kill $fixed $several
wait $fixed $several 2>/dev/null || true
fixed=""
several=""
stop

echo "== largest tile per zoom (bytes, uncompressed; 500 KiB = 512000)"
start 0
for spec in "synthetic-1m|occurrences-1m-z0-5" "synthetic-parcels-100k|parcels-z0-14" "synthetic-200k|occurrences-z0-14"; do
  IFS='|' read -r layer list <<<"$spec"
  echo "  $layer:"
  while read -r path; do
    printf '%s %s\n' "$(echo "$path" | cut -d/ -f4)" "$(curl -s -o /dev/null -w '%{size_download}' "$BASE$path")"
  done <"$lists/$list.txt" | sort -k1,1n -k2,2nr | awk '!seen[$1]++ {printf "    z%-2s %8d\n", $1, $2}'
done
stop
