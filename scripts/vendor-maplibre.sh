#!/usr/bin/env bash
# Refreshes the vendored MapLibre GL JS in web/assets/vendor/maplibre-gl from the npm package.
# The server never needs Node or the network: the files are committed and embedded in the binary.
# Usage: scripts/vendor-maplibre.sh [VERSION]   (default: the pinned version below)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-6.17.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "maplibre-gl@$VERSION" >/dev/null && tar xzf "maplibre-gl-$VERSION.tgz")
dest=web/assets/vendor/maplibre-gl
rm -rf "$dest" && mkdir -p "$dest"
# Recent MapLibre is ESM-only: the entry module imports the shared chunk and starts the worker module.
for f in maplibre-gl.mjs maplibre-gl-shared.mjs maplibre-gl-worker.mjs maplibre-gl.css; do
  cp "$work/package/dist/$f" "$dest/"
done
cp "$work/package/LICENSE.txt" "$dest/LICENSE.txt"
echo "$VERSION" >"$dest/VERSION"
echo "vendored maplibre-gl $VERSION into $dest"
