#!/usr/bin/env bash
# Peak server memory while publishing uploads of the SYNTHETIC 100k-point layer in each
# format (FlatGeobuf, GeoJSON, CSV). Starts the release binary on 127.0.0.1 with a
# throw-away store, resets the kernel's peak-RSS counter before each upload
# (/proc/PID/clear_refs), and prints RSS before, peak during, and the file size.
# Usage: scripts/upload-memory.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-18093}"
cargo build --release --quiet --bin amis-webgis --example synth
./target/release/examples/synth target/synthetic >/dev/null
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

bin=./target/release/amis-webgis
token="$($bin token create --store "$work/store" --agency "Memory probe" --layers 'mem-*' | grep -oE '[A-Za-z0-9_-]{40,}' | head -1)"
start() {
  $bin serve --bind "127.0.0.1:$port" --store "$work/store" --data data >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; rm -rf "$work/store/layers"; }
start

fgb=target/synthetic/synthetic_points_100k.fgb
# The other formats come from the server itself (CSV download), then CSV -> GeoJSON.
curl -sf -T "$fgb" -H "Authorization: Bearer $token" -H 'Content-Type: application/flatgeobuf' \
  "http://127.0.0.1:$port/api/collections/mem-source" >/dev/null
curl -sf "http://127.0.0.1:$port/api/collections/mem-source/items?f=csv" -o "$work/points.csv"
python3 - "$work/points.csv" "$work/points.geojson" <<'PY'
import csv, json, sys
rows = csv.DictReader(open(sys.argv[1], newline=""))
features = []
for row in rows:
    lon, lat = float(row.pop("longitude")), float(row.pop("latitude"))
    props = {k: v for k, v in row.items() if k not in ("id",)}
    features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props})
json.dump({"type": "FeatureCollection", "features": features}, open(sys.argv[2], "w"))
PY
stop

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# A fresh server per format: the allocator keeps freed pages, so RSS only compares from a cold start.
printf '%-8s %9s %11s %9s %10s %11s %11s %9s\n' format file_MiB before_MiB peak_MiB after_MiB peak-before after-before upload_s
for spec in "fgb:application/flatgeobuf:$fgb" "geojson:application/geo+json:$work/points.geojson" "csv:text/csv:$work/points.csv"; do
  IFS=: read -r name type file <<<"$spec"
  start
  before=$(kib "$server_pid" VmRSS)
  echo 5 >"/proc/$server_pid/clear_refs"
  seconds=$(curl -sf -T "$file" -H "Authorization: Bearer $token" -H "Content-Type: $type" \
    -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/api/collections/mem-$name")
  peak=$(kib "$server_pid" VmHWM)
  after=$(kib "$server_pid" VmRSS)
  size=$(stat -c %s "$file")
  awk -v n="$name" -v s="$size" -v b="$before" -v p="$peak" -v a="$after" -v t="$seconds" 'BEGIN {
    printf "%-8s %9.1f %11.1f %9.1f %10.1f %11.1f %11.1f %9.2f\n", n, s/1048576, b/1024, p/1024, a/1024, (p-b)/1024, (a-b)/1024, t }'
  stop
done
