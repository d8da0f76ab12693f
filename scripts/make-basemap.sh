#!/usr/bin/env bash
# Rebuilds data/basemap/ from the shared Natural Earth files (../shared/data, or SHARED=dir):
# world countries, unclipped, at 1:50m (drawn at zoom 0-5) and 1:10m (zoom 6 and up), and the
# 1:10m context layers (places, rivers, lakes, peaks, ports, airports, physical region labels).
# Needs GDAL (Debian gdal-bin); the server only reads the committed FlatGeobuf files.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
out=data/basemap
mkdir -p "$out"
asean="CASE WHEN id IN ('096','116','360','418','458','104','608','702','764','704','626') THEN 1 ELSE 0 END"
# The 1:10m outlines are needed only where the map can go at zoom 6 and up (the web map's
# bounds, 60°E-180°E, 35°S-45°N): every country touching 50°E-180°E, 45°S-55°N, whole.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for scale in 50m 10m; do
  rm -f "$out/world_countries_ne$scale.fgb"
  spat=(); [ "$scale" = 10m ] && spat=(-spat 50 -45 180 55)
  ogr2ogr -q -f GeoJSON "$tmp/countries.geojson" "$SHARED/boundaries/world-atlas_countries-$scale.topojson" \
    -dialect SQLite -sql "SELECT name, id AS iso_n3, CAST($asean AS INTEGER) AS asean, ST_CollectionExtract(ST_MakeValid(geometry), 3) AS geometry FROM countries WHERE geometry IS NOT NULL" \
    -nlt PROMOTE_TO_MULTI "${spat[@]}"
  # TopoJSON keeps the few rings that cross the antimeridian (Fiji, Chukotka) whole, from +180
  # to -180; drawn, each would be a line round the world. They are left out (none is within
  # the web map's bounds).
  python3 - "$tmp/countries.geojson" <<'PY'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
for f in doc["features"]:
    g = f["geometry"]
    g["coordinates"] = [p for p in g["coordinates"]
                        if max(c[0] for c in p[0]) - min(c[0] for c in p[0]) <= 180]
doc["features"] = [f for f in doc["features"] if f["geometry"]["coordinates"]]
json.dump(doc, open(path, "w"))
PY
  ogr2ogr -q -f FlatGeobuf "$out/world_countries_ne$scale.fgb" "$tmp/countries.geojson" -nln world_countries \
    -nlt MULTIPOLYGON -a_srs EPSG:4326
done
convert() { # name, source, SQL
  rm -f "$out/$1.fgb"
  ogr2ogr -q -f FlatGeobuf "$out/$1.fgb" "$SHARED/basemap/$2" -dialect SQLite -sql "$3" -nln "$1"
}
convert populated_places populated_places.geojson \
  "SELECT NAME AS name, ADM0NAME AS country, ADM0_A3 AS iso_a3, FEATURECLA AS class, SCALERANK AS scalerank, LABELRANK AS labelrank, POP_MAX AS population, CAST(ADM0CAP AS INTEGER) AS capital, geometry FROM ne_10m_populated_places"
convert rivers rivers.geojson "SELECT name, featurecla AS class, scalerank, geometry FROM ne_10m_rivers_lake_centerlines_scale_rank"
convert lakes lakes.geojson "SELECT name, featurecla AS class, scalerank, geometry FROM ne_10m_lakes"
convert peaks elevation_points.geojson "SELECT name, featurecla AS class, elevation, scalerank, geometry FROM ne_10m_geography_regions_elevation_points"
convert ports ports.geojson "SELECT name, scalerank, geometry FROM ne_10m_ports"
convert airports airports.geojson "SELECT name, abbrev, type, iata_code, scalerank, geometry FROM ne_10m_airports"
# Physical regions are shown as names: one label point inside each region.
convert physical_regions geography_regions.geojson \
  "SELECT name, featurecla AS class, scalerank, region, subregion, ST_PointOnSurface(geometry) AS geometry FROM ne_10m_geography_regions_polys"
ls -la "$out"
