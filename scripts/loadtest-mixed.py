#!/usr/bin/env python3
"""Mixed load against a running server on 127.0.0.1, bounded in time (stdlib only).

Every class of work at once, each in its own process with its own keep-alive connections,
so one class's client cannot slow another's measurements:

  cached-tiles     tiles requested before the run (cache hits), 2 connections back to back
  uncached-tiles   distinct tiles of the SYNTHETIC 1M-point layer at zooms 6-14 (cache misses)
  items-10k        pages of 10,000 features (GeoJSON) of the SYNTHETIC 100k-point layer
  slow-downloads   2 clients reading f=fgb byte ranges (64 KiB) at 256 KiB/s each, and
                   a whole f=csv download read at the same pace
  upload           PUT of a 100k-point FlatGeobuf, over and over (needs --token)

It prints, per class, requests, requests/s, p50/p99/max latency (to the full body) and any
status outside 2xx/304. It exits 1 if cached-tile p99 is 5 ms or more or any class completed
no request (starved). Used by scripts/loadtest-mixed.sh, which starts the server.
"""

import argparse
import http.client
import json
import math
import multiprocessing as mp
import random
import statistics
import sys
import time
from urllib.parse import urlparse

SEED = 20261126


def connect(base):
    url = urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def timed(conn, method, path, body=None, headers=None, read_pace=None):
    """One request on a keep-alive connection: (status, seconds to the last byte)."""
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    if read_pace is None:
        response.read()
    else:
        chunk, per_second = read_pace
        while response.read(chunk):
            time.sleep(chunk / per_second)
    return response.status, time.perf_counter() - started


def worker(name, base, deadline, plan, out):
    rng = random.Random(f"{SEED}-{name}-{mp.current_process().name}")
    conn = connect(base)
    latencies, bad = [], {}
    while time.time() < deadline:
        method, path, body, headers, pace = plan(rng)
        try:
            status, seconds = timed(conn, method, path, body, headers, pace)
        except (OSError, http.client.HTTPException) as e:
            bad[type(e).__name__] = bad.get(type(e).__name__, 0) + 1
            conn.close()
            conn = connect(base)
            continue
        latencies.append(seconds)
        if not (200 <= status < 300 or status == 304):
            bad[str(status)] = bad.get(str(status), 0) + 1
    out.put((name, latencies, bad))


def tile_paths(base):
    """Tiles to warm and hit: the committed list's real-layer tiles."""
    with open("scripts/loadtest-tiles.txt") as f:
        return [line.strip() for line in f if "synthetic" not in line and line.strip()]


def uncached_tile(rng):
    # Around the region's occurrence districts, zoom 6-14: 1.5 billion distinct tiles.
    z = rng.randint(6, 14)
    n = 2 ** z
    lon, lat = rng.uniform(95, 140), rng.uniform(-10, 20)
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return ("GET", f"/tiles/synthetic-1m/{z}/{x}/{y}.mvt", None, {"Accept-Encoding": "gzip"}, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:18081")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--token", default=None, help="an agency token for the upload class")
    parser.add_argument("--upload-file", default="target/synthetic/synthetic_points_100k.fgb")
    args = parser.parse_args()
    if urlparse(args.base).hostname not in ("127.0.0.1", "localhost"):
        sys.exit("load tests run against 127.0.0.1 only")

    tiles = tile_paths(args.base)
    warm = connect(args.base)
    for path in tiles:
        timed(warm, "GET", path, headers={"Accept-Encoding": "gzip"})
    fgb = "/api/collections/synthetic-100k/items?f=fgb"
    warm.request("HEAD", fgb)
    response = warm.getresponse()
    response.read()
    fgb_length = int(response.getheader("Content-Length", "0"))

    def cached(rng):
        return ("GET", rng.choice(tiles), None, {"Accept-Encoding": "gzip"}, None)

    def items(rng):
        return ("GET", f"/api/collections/synthetic-100k/items?limit=10000&offset={rng.randrange(0, 90000)}",
                None, {"Accept-Encoding": "gzip"}, None)

    def ranges(rng):
        start = rng.randrange(0, max(fgb_length - 65536, 1))
        return ("GET", fgb, None, {"Range": f"bytes={start}-{start + 65535}"}, (16384, 262144))

    def slow_csv(rng):
        return ("GET", "/api/collections/mineral-occurrences/items?f=csv", None, {}, (16384, 262144))

    upload_body = None
    if args.token:
        with open(args.upload_file, "rb") as f:
            upload_body = f.read()

    def upload(rng):
        return ("PUT", "/api/collections/load-upload?kind=other", upload_body,
                {"Authorization": f"Bearer {args.token}", "Content-Type": "application/flatgeobuf"}, None)

    classes = [("cached-tiles", cached, 2), ("uncached-tiles", uncached_tile, 1), ("items-10k", items, 1),
               ("slow-downloads", ranges, 2), ("slow-downloads", slow_csv, 1)]
    if upload_body:
        classes.append(("upload", upload, 1))
    deadline = time.time() + args.duration
    out = mp.Queue()
    procs = [mp.Process(target=worker, args=(name, args.base, deadline, plan, out))
             for name, plan, copies in classes for _ in range(copies)]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        name, latencies, bad = out.get()
        entry = results.setdefault(name, ([], {}))
        entry[0].extend(latencies)
        for k, v in bad.items():
            entry[1][k] = entry[1].get(k, 0) + v
    for p in procs:
        p.join()

    ok = True
    print(f"{'class':16} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  other statuses")
    for name, _, _ in classes:
        if name not in results:
            continue
        latencies, bad = results.pop(name)
        n = len(latencies)
        if n == 0:
            print(f"{name:16} {0:8d}  STARVED")
            ok = False
            continue
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(n - 1, int(n * 0.99))] * 1000
        print(f"{name:16} {n:8d} {n / args.duration:8.1f} {p50:8.2f} {p99:8.2f} {latencies[-1] * 1000:8.1f}  {json.dumps(bad) if bad else ''}")
        if name == "cached-tiles" and p99 >= 5.0:
            ok = False
    print("PASS" if ok else "FAIL: cached-tile p99 must stay under 5 ms and no class may starve")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
