#!/usr/bin/env python3
"""Regenerates the datum transformations the server chooses from, and the PROJ reference
points the tests compare against, from PROJ's own database (Debian's `proj-bin`).

Writes:
  src/crs/transformations.tsv   for each datum of the region's CRSs, every EPSG Helmert
                                transformation to WGS 84: its area of use (a bounding box in
                                the datum's longitude/latitude) and accuracy, in the order PROJ
                                prefers them for the datum's geographic CRS
  src/crs/crs_order.tsv         for each of the region's CRSs, the order PROJ prefers them in
                                for that CRS (those whose area holds the CRS's whole area first)
  tests/fixtures/crs/areas.tsv  for each of the region's CRSs, points spread over its area of
                                use in the CRS's own coordinates, with where PROJ puts them in
                                WGS 84 longitude/latitude (`cs2cs`), or `refused` where no
                                transformation of its datum covers the point though one covers
                                another part of the CRS's area (PROJ falls back to a ballpark
                                offset of several hundred metres there; the server refuses)

Run from the repository root: python3 scripts/gen-datum-transformations.py
Nothing here runs at build or test time; the outputs are committed.
"""

import re
import subprocess
import sys

# The CRSs of the region the intake is tested on (tests/fixtures/crs) and Indian 1960.
CODES = [
    23830, 23867, 23878, 23880, 23882, 23884, 23946, 23947, 23948, 24047, 24048, 29873,
    3121, 3122, 3123, 3124, 3125, 3168, 32646, 32647, 32648, 32649, 32650, 32651, 32652,
    32747, 32748, 32749, 32750, 32751, 32752, 32753, 32754, 3375, 3376, 3405, 3406, 3414,
    4756, 5247, 3148, 3149, 4131, 4240, 4239, 4245, 4298,
]
# CRSs converted without a datum shift, as PROJ does, because no transformation of their
# datum covers any of their area (src/crs/mod.rs NO_TRANSFORMATION_FOR_AREA).
BALLPARK = {23946}
# Points per side of the grid laid over each CRS's area of use.
GRID = 7


def run(*args, stdin=None):
    out = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    return out.stdout


def wkt(code, kind="crs"):
    return run("projinfo", "-k", kind, f"EPSG:{code}", "-o", "WKT2_2019", "-q")


def bbox(text):
    m = re.search(r"BBOX\[([-\d.]+),([-\d.]+),([-\d.]+),([-\d.]+)\]", text)
    return tuple(float(v) for v in m.groups()) if m else None


def base_geographic(code):
    """The EPSG code and WKT1 datum name of a CRS's geographic base."""
    w1 = run("projinfo", f"EPSG:{code}", "-o", "WKT1_GDAL", "-q")
    datum = re.search(r'DATUM\["([^"]+)"', w1).group(1)
    if w1.startswith("GEOGCS"):
        return code, datum
    # PROJCS[..., GEOGCS[..., AUTHORITY["EPSG","4131"]], PROJECTION[...: the authority
    # that closes the GEOGCS.
    m = re.search(r'AUTHORITY\["EPSG","(\d+)"\]\],\s*PROJECTION', w1)
    return (int(m.group(1)) if m else None), datum


def northing_first(code):
    """Whether EPSG orders the CRS's axes latitude (or northing) first, as cs2cs follows."""
    axes = re.findall(r'AXIS\["[^"]*\((\w+)\)"|AXIS\["(\w+)"', wkt(code))
    first = next((a or b for a, b in axes), "")
    return first.lower() in ("lat", "n", "y") or "north" in first.lower()


def helmert(pipeline):
    """The `+towgs84` (position vector) of a pipeline of Helmert steps; None for grids."""
    if "grid" in pipeline or "+proj=helmert" not in pipeline:
        return None
    total = [0.0] * 7
    # A step's parameters may continue on lines of their own (not a new `+step`).
    for step in re.findall(r"\+proj=helmert([^\n]*(?:\n\s+\+(?!step)[^\n]*)*)", pipeline):
        params = dict(re.findall(r"\+(\w+)=([-\d.e]+)", step))
        convention = re.search(r"\+convention=(\w+)", step)
        sign = -1.0 if convention and convention.group(1) == "coordinate_frame" else 1.0
        for i, key in enumerate(["x", "y", "z"]):
            total[i] += float(params.get(key, 0))
        for i, key in enumerate(["rx", "ry", "rz"]):
            total[3 + i] += sign * float(params.get(key, 0))
        total[6] += float(params.get("s", 0))
    return ",".join(f"{v:g}" for v in total)


def transformations(gcode):
    """EPSG Helmert transformations from a geographic CRS to WGS 84, as PROJ lists them."""
    out = run("projinfo", "-s", f"EPSG:{gcode}", "-t", "EPSG:4326", "--spatial-test",
              "intersects", "-o", "PROJ", "--hide-ballpark")
    found = []
    for block in out.split("-------------------------------------"):
        head = re.search(r"(EPSG):(\d+), ([^,]+(?:,[^,\d][^,]*)*), ([\d.]+) m, (.+)", block)
        if not head:
            continue
        code, name, accuracy, area = int(head.group(2)), head.group(3), float(head.group(4)), head.group(5).strip()
        towgs84 = helmert(block)
        if towgs84 is None:
            continue
        box = bbox(wkt(code, "operation"))
        if box is None:
            continue
        found.append((code, name, accuracy, box, area.rstrip("."), towgs84))
    return found


def crs_order(code, candidates):
    """The datum's transformations in the order PROJ prefers them for this CRS (those whose
    area holds the CRS's whole area first, then by accuracy): `projinfo`'s own listing,
    matched to the table by area of use."""
    out = run("projinfo", "-s", f"EPSG:{code}", "-t", "EPSG:4326", "--spatial-test",
              "intersects", "-o", "PROJ", "--hide-ballpark")
    order = []
    for line in out.splitlines():
        m = re.search(r", ([\d.]+) m, (.+)$", line)
        if not m or not (line.startswith("EPSG:") or line.startswith("unknown id")):
            continue
        area = m.group(2).strip().rstrip(".")
        for t in candidates:
            if t[4] == area and t[0] not in order:
                order.append(t[0])
                break
    return order


def main():
    table = {}
    datums = {}
    for code in CODES:
        gcode, datum = base_geographic(code)
        datums[code] = (gcode, datum)
        if datum not in table and gcode is not None:
            table[datum] = transformations(gcode)
    with open("src/crs/transformations.tsv", "w") as f:
        f.write("# datum (WKT)\tEPSG\taccuracy m\tsouth\twest\tnorth\teast\ttowgs84 (position vector)\tname: area\n")
        f.write("# generated by scripts/gen-datum-transformations.py from PROJ's database; do not edit\n")
        for datum in sorted(table):
            for code, name, accuracy, (s, w, n, e), area, towgs84 in table[datum]:
                f.write(f"{datum}\t{code}\t{accuracy:g}\t{s}\t{w}\t{n}\t{e}\t{towgs84}\t{name}: {area}\n")
    with open("src/crs/crs_order.tsv", "w") as f:
        f.write("# EPSG\ttransformations in PROJ's order of preference for this CRS (see transformations.tsv)\n")
        f.write("# generated by scripts/gen-datum-transformations.py from PROJ's database; do not edit\n")
        for code in CODES:
            order = crs_order(code, table.get(datums[code][1], []))
            if order:
                f.write(f"{code}\t{','.join(str(c) for c in order)}\n")
    rows = []
    for code in CODES:
        gcode, datum = datums[code]
        area = bbox(wkt(code))
        s, w, n, e = area
        candidates = table.get(datum, [])
        swapped = northing_first(code)
        for i in range(GRID):
            for j in range(GRID):
                lat = s + (n - s) * (i + 0.5) / GRID
                lon = w + (e - w) * (j + 0.5) / GRID
                # The position in the CRS's own coordinates (its datum, no shift).
                if gcode is None:
                    continue
                xy = run("cs2cs", "-f", "%.9f", f"EPSG:{gcode}", f"EPSG:{code}", stdin=f"{lat} {lon}\n").split()
                if len(xy) < 2 or "*" in xy[0]:
                    continue
                # Files hold x (easting, longitude) first, whatever order EPSG gives.
                x, y = float(xy[0]), float(xy[1])
                if swapped:
                    x, y = y, x
                covered = any(bs <= lat <= bn and bw <= lon <= be for _, _, _, (bs, bw, bn, be), _, _ in candidates)
                if candidates and not covered and code not in BALLPARK:
                    rows.append(f"{code}\t{x!r}\t{y!r}\trefused\t{lon:.6f} {lat:.6f}")
                    continue
                ll = run("cs2cs", "-f", "%.9f", f"EPSG:{code}", "EPSG:4326", stdin=f"{xy[0]} {xy[1]}\n").split()
                if len(ll) < 2 or "*" in ll[0]:
                    continue
                rows.append(f"{code}\t{x!r}\t{y!r}\t{float(ll[1]):.9f} {float(ll[0]):.9f}\t{lon:.6f} {lat:.6f}")
    with open("tests/fixtures/crs/areas.tsv", "w") as f:
        f.write("# EPSG\tx\ty\tPROJ's WGS 84 lon lat, or refused\tsource lon lat\n")
        f.write("# generated by scripts/gen-datum-transformations.py with cs2cs; do not edit\n")
        f.write("\n".join(rows) + "\n")
    print(f"{sum(len(v) for v in table.values())} transformations of {len(table)} datums; {len(rows)} reference points", file=sys.stderr)


if __name__ == "__main__":
    main()
