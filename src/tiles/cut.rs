//! Cutting a layer into one tile: select by index, project, clip, simplify, snap to the
//! integer grid, and drop what collapses, so the encoder only ever sees valid MVT geometry.

use geo::{Geometry, LineString, SimplifyVw};
use smallvec::{SmallVec, smallvec};

use super::clip::{ClipBox, Pt, clip_line, clip_ring};
use super::{BUFFER, EXTENT, Projector, TileId};
use crate::catalog::Layer;
use crate::feature::Value;

/// Visvalingam–Whyatt tolerance: a vertex whose triangle with its neighbours is smaller than
/// this many square tile units goes. A 256 px tile is 4096 units across, so this is 1/32 of
/// a square pixel: nothing any screen shows. (Measured on the basemap's largest tile of the
/// default view, 3/6/3: 0.5 gives 127 KB, 2 gives 102 KB, 8 gives 77 KB.)
///
/// Visvalingam–Whyatt rather than Douglas–Peucker: `geo`'s Douglas–Peucker recurses once per
/// split, so a hostile ring of a few ten thousand vertices overflows a worker's stack (and a
/// stack overflow aborts the process), and its worst case is quadratic; Visvalingam–Whyatt
/// works through a heap, in O(n log n), with no recursion.
const SIMPLIFY_AREA: f64 = 8.0;
/// Above this many small features (points, and lines or polygons no bigger than a grid
/// cell) in one tile, they are thinned to one per cell (see [`Thinning`]).
pub const MAX_POINTS_PER_TILE: usize = 4096;
/// How far past the thinning threshold a tile's cells must count before the tile is drawn
/// from the pyramid (see [`cut_layer`]).
const PYRAMID_MARGIN: usize = 1024;
/// Grid cell for thinning, in tile units (4 px on a 256 px tile). A power of two that
/// divides [`EXTENT`], so cells line up across neighbouring tiles.
const THIN_CELL: i32 = super::pyramid::CELL as i32;
/// Cells per axis over the buffered tile.
const GRID: usize = ((EXTENT + 2 * BUFFER) as i32 / THIN_CELL + 1) as usize;

pub type IPt = (i32, i32);

#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    /// Held inline when there is one (most point features): no allocation per point.
    Points(SmallVec<[IPt; 1]>),
    Lines(Vec<Vec<IPt>>),
    /// Rings without the closing point; each exterior (positive area in tile
    /// coordinates, as MVT 2.1 defines it) is followed by its holes (negative area).
    Polygons(Vec<Vec<IPt>>),
}

impl TileGeometry {
    /// The thinning cell of a feature that fits in one cell; `None` for bigger ones.
    fn small_cell(&self) -> Option<usize> {
        let pts = match self {
            TileGeometry::Points(p) => p.as_slice(),
            TileGeometry::Lines(parts) | TileGeometry::Polygons(parts) if parts.len() == 1 => {
                &parts[0]
            }
            _ => return None,
        };
        let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
        for &(x, y) in pts {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        (x1 - x0 <= THIN_CELL && y1 - y0 <= THIN_CELL)
            .then(|| cell_index(((x0 + x1) / 2, (y0 + y1) / 2)))
    }
}

/// Whether a point on the tile grid lies in the tile or its buffer, edges included.
fn in_buffered_tile((x, y): IPt) -> bool {
    let (min, max) = (-(BUFFER as i32), (EXTENT + BUFFER) as i32);
    (min..=max).contains(&x) && (min..=max).contains(&y)
}

fn cell_index((x, y): IPt) -> usize {
    let cell =
        |v: i32| ((v + BUFFER as i32).div_euclid(THIN_CELL)).clamp(0, GRID as i32 - 1) as usize;
    cell(y) * GRID + cell(x)
}

#[derive(Debug)]
pub struct TileFeature<'a> {
    pub id: u64,
    pub geometry: TileGeometry,
    pub properties: &'a [Value],
    /// How many source points this one stands for, on tiles where points were thinned.
    pub point_count: Option<u64>,
}

/// One layer's share of a tile, before encoding.
pub struct TileLayer<'a> {
    pub layer: &'a Layer,
    pub features: Vec<TileFeature<'a>>,
}

/// A feature small enough to be thinned, kept aside until the tile's count is known.
struct Small {
    pos: u32,
    cell: usize,
    geometry: SmallGeometry,
}

/// Single points stay unboxed: a dense tile has hundreds of thousands of them.
enum SmallGeometry {
    Point(IPt),
    Other(TileGeometry),
}

/// Cuts `layer` for `tile`. Deterministic: the same data always gives the same features
/// in the same order (by feature id).
pub fn cut_layer(layer: &Layer, tile: TileId) -> TileLayer<'_> {
    // The pyramid's cells may count a point or two on the buffer's edge differently from
    // the tile grid: near the threshold, the points decide, so the pyramid never thins a tile
    // the points would not.
    if let Some((cells, total)) = layer.pyramid.cells_for(tile)
        && total > (MAX_POINTS_PER_TILE + PYRAMID_MARGIN) as u64
    {
        return from_pyramid(layer, tile, &cells);
    }
    let mut features = Vec::new();
    let mut small: Vec<Small> = Vec::new();
    if let Some(level) = layer.shapes.level(tile.z) {
        from_shapes(layer, tile, level, &mut small, &mut features);
    } else {
        from_source(layer, tile, &mut small, &mut features);
    }
    finish(layer, small, features)
}

/// Cuts `layer` for `tile` from its features, never from a pyramid: the reference that
/// pyramid tiles are tested against.
pub fn cut_from_source(layer: &Layer, tile: TileId) -> TileLayer<'_> {
    let mut features = Vec::new();
    let mut small: Vec<Small> = Vec::new();
    from_source(layer, tile, &mut small, &mut features);
    finish(layer, small, features)
}

/// The tile's clip box: the tile and its buffer, in tile units.
const CLIP: ClipBox = ClipBox {
    min: -(BUFFER as f64),
    max: (EXTENT + BUFFER) as f64,
};

/// Cuts the tile from the layer's features: each projected, clipped and simplified here.
fn from_source<'a>(
    layer: &'a Layer,
    tile: TileId,
    small: &mut Vec<Small>,
    features: &mut Vec<TileFeature<'a>>,
) {
    let projector = tile.projector();
    layer.index.for_each_in(&tile.query_bbox(), |pos, corner| {
        let feature = || &layer.features[pos as usize];
        if layer.points_only || matches!(feature().geometry, Geometry::Point(_)) {
            // In the tile when its position on the tile's grid is within the buffered tile,
            // edges included, as PostGIS's ST_AsMVTGeom decides.
            let pt = snap(projector.project(corner.x, corner.y));
            if in_buffered_tile(pt) {
                small.push(Small {
                    pos,
                    cell: cell_index(pt),
                    geometry: SmallGeometry::Point(pt),
                });
            }
            return;
        }
        let feature = feature();
        let mut parts = Parts::default();
        collect(&feature.geometry, &projector, CLIP, &mut parts);
        sort_parts(layer, pos, parts, small, features);
    });
}

/// Cuts the tile from a level of the layer's shape pyramid: shapes already projected and
/// simplified for this zoom, translated to the tile, clipped and snapped.
fn from_shapes<'a>(
    layer: &'a Layer,
    tile: TileId,
    level: &super::shapes::Level,
    small: &mut Vec<Small>,
    features: &mut Vec<TileFeature<'a>>,
) {
    let extent = f64::from(EXTENT);
    let (ox, oy) = (f64::from(tile.x) * extent, f64::from(tile.y) * extent);
    let local = |pts: &[Pt]| -> Vec<Pt> { pts.iter().map(|p| (p.0 - ox, p.1 - oy)).collect() };
    for (pos, shape) in level.shapes_near(tile.x, tile.y, f64::from(BUFFER + 1)) {
        let mut parts = Parts::default();
        match shape {
            super::shapes::Shape::Lines(lines) => {
                for line in lines {
                    push_line(&local(line), CLIP, false, &mut parts);
                }
            }
            super::shapes::Shape::Polygons(polygons) => {
                for rings in polygons {
                    push_rings(rings.iter().map(|r| local(r)), CLIP, false, &mut parts);
                }
            }
        }
        sort_parts(layer, *pos, parts, small, features);
    }
}

/// Puts a feature's cut geometries with the small ones (to be thinned if too many) or the
/// others.
fn sort_parts<'a>(
    layer: &'a Layer,
    pos: u32,
    parts: Parts,
    small: &mut Vec<Small>,
    features: &mut Vec<TileFeature<'a>>,
) {
    let feature = &layer.features[pos as usize];
    for geometry in parts.into_geometries() {
        match geometry.small_cell() {
            Some(cell) => small.push(Small {
                pos,
                cell,
                geometry: SmallGeometry::Other(geometry),
            }),
            None => features.push(TileFeature {
                id: feature.id,
                geometry,
                properties: &feature.properties,
                point_count: None,
            }),
        }
    }
}

/// Thins the small features if there are too many, and orders everything by feature id.
fn finish<'a>(
    layer: &'a Layer,
    small: Vec<Small>,
    mut features: Vec<TileFeature<'a>>,
) -> TileLayer<'a> {
    // Thinned tiles tag every point with `point_count`, so styles can size clusters.
    let thinned = small.len() > MAX_POINTS_PER_TILE;
    let kept: Vec<(Small, Option<u64>)> = if thinned {
        thin(small)
    } else {
        small.into_iter().map(|s| (s, None)).collect()
    };
    features.extend(kept.into_iter().map(|(s, merged)| {
        let feature = &layer.features[s.pos as usize];
        let (geometry, point_count) = match s.geometry {
            SmallGeometry::Point(p) => (TileGeometry::Points(smallvec![p]), merged),
            SmallGeometry::Other(g) => (g, None),
        };
        TileFeature {
            id: feature.id,
            geometry,
            properties: &feature.properties,
            point_count,
        }
    }));
    TileLayer {
        layer,
        features: in_id_order(features),
    }
}

/// The features ordered by id, parts of one feature in the order they come (a stable sort).
///
/// Sorted as (id, position) pairs and then moved into place once: sorting the features
/// themselves moved each 72-byte feature some ten times, and was half the cost of cutting a
/// tile of points.
fn in_id_order(features: Vec<TileFeature<'_>>) -> Vec<TileFeature<'_>> {
    if features.is_sorted_by_key(|f| f.id) {
        return features;
    }
    let mut order: Vec<(u64, u32)> = features
        .iter()
        .enumerate()
        .map(|(at, f)| (f.id, at as u32))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<TileFeature>> = features.into_iter().map(Some).collect();
    let mut sorted = Vec::with_capacity(order.len());
    sorted.extend(
        order
            .iter()
            .filter_map(|&(_, at)| slots[at as usize].take()),
    );
    sorted
}

/// A thinned tile drawn from the layer's pyramid: each occupied cell's first point, with
/// how many points the cell holds. (Tiles the pyramid would not thin are cut from the points.)
fn from_pyramid<'a>(
    layer: &'a Layer,
    tile: TileId,
    cells: &[super::pyramid::Cell],
) -> TileLayer<'a> {
    let projector = tile.projector();
    let mut features: Vec<TileFeature> = Vec::with_capacity(cells.len());
    features.extend(cells.iter().filter_map(|cell| {
        let feature = &layer.features[cell.first as usize];
        let Geometry::Point(p) = feature.geometry else {
            return None;
        };
        Some(TileFeature {
            id: feature.id,
            geometry: TileGeometry::Points(smallvec![snap(projector.project(p.x(), p.y()))]),
            properties: &feature.properties,
            point_count: Some(u64::from(cell.count)),
        })
    }));
    TileLayer {
        layer,
        features: in_id_order(features),
    }
}

/// Keeps one feature per grid cell: the one that comes first in the layer, so the choice
/// does not depend on index traversal order. Each kept one comes with how many it stands for.
fn thin(candidates: Vec<Small>) -> Vec<(Small, Option<u64>)> {
    let mut grid: Vec<Option<Small>> = (0..GRID * GRID).map(|_| None).collect();
    let mut counts = vec![0u64; GRID * GRID];
    for candidate in candidates {
        let cell = candidate.cell;
        counts[cell] += 1;
        if grid[cell]
            .as_ref()
            .is_none_or(|kept| candidate.pos < kept.pos)
        {
            grid[cell] = Some(candidate);
        }
    }
    grid.into_iter()
        .zip(counts)
        .filter_map(|(kept, count)| kept.map(|k| (k, Some(count))))
        .collect()
}

#[derive(Default)]
struct Parts {
    points: Vec<IPt>,
    lines: Vec<Vec<IPt>>,
    polygons: Vec<Vec<IPt>>,
}

impl Parts {
    fn into_geometries(self) -> Vec<TileGeometry> {
        let mut out = Vec::new();
        if !self.points.is_empty() {
            out.push(TileGeometry::Points(SmallVec::from_vec(self.points)));
        }
        if !self.lines.is_empty() {
            out.push(TileGeometry::Lines(self.lines));
        }
        if !self.polygons.is_empty() {
            out.push(TileGeometry::Polygons(self.polygons));
        }
        out
    }
}

fn project_all(coords: &LineString, projector: &Projector) -> Vec<Pt> {
    coords
        .0
        .iter()
        .map(|c| projector.project(c.x, c.y))
        .collect()
}

fn collect(geometry: &Geometry, projector: &Projector, clip: ClipBox, parts: &mut Parts) {
    match geometry {
        Geometry::Point(p) => push_point(projector.project(p.x(), p.y()), parts),
        Geometry::MultiPoint(mp) => {
            for p in mp {
                push_point(projector.project(p.x(), p.y()), parts);
            }
            parts.points.sort_unstable();
            parts.points.dedup();
        }
        Geometry::Line(l) => push_line(
            &[
                projector.project(l.start.x, l.start.y),
                projector.project(l.end.x, l.end.y),
            ],
            clip,
            true,
            parts,
        ),
        Geometry::LineString(ls) => push_line(&project_all(ls, projector), clip, true, parts),
        Geometry::MultiLineString(mls) => {
            for ls in mls {
                push_line(&project_all(ls, projector), clip, true, parts);
            }
        }
        Geometry::Polygon(p) => push_polygon(p, projector, clip, parts),
        Geometry::MultiPolygon(mp) => {
            for p in mp {
                push_polygon(p, projector, clip, parts);
            }
        }
        Geometry::Rect(r) => push_polygon(&r.to_polygon(), projector, clip, parts),
        Geometry::Triangle(t) => push_polygon(&t.to_polygon(), projector, clip, parts),
        Geometry::GeometryCollection(gc) => {
            for g in gc {
                collect(g, projector, clip, parts);
            }
        }
    }
}

fn push_point(p: Pt, parts: &mut Parts) {
    let p = snap(p);
    if in_buffered_tile(p) {
        parts.points.push(p);
    }
}

fn snap(p: Pt) -> IPt {
    (p.0.round() as i32, p.1.round() as i32)
}

/// Visvalingam–Whyatt at [`SIMPLIFY_AREA`] square tile units.
pub(crate) fn simplify(pts: Vec<Pt>) -> Vec<Pt> {
    if pts.len() <= 2 {
        return pts;
    }
    LineString::from(pts)
        .simplify_vw(SIMPLIFY_AREA)
        .0
        .into_iter()
        .map(|c| (c.x, c.y))
        .collect()
}

/// Rounds to the grid and removes repeated points (zero-length segments).
fn snap_dedup(pts: &[Pt]) -> Vec<IPt> {
    let mut out: Vec<IPt> = Vec::with_capacity(pts.len());
    for &p in pts {
        let s = snap(p);
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// A closed ring rounded to the grid, without repeated points or its closing point (MVT's
/// ClosePath closes it).
fn snap_ring(pts: &[Pt]) -> Vec<IPt> {
    let mut snapped = snap_dedup(pts);
    if snapped.len() > 1 && snapped.first() == snapped.last() {
        snapped.pop();
    }
    snapped
}

/// Whether a line snaps to a single grid point: what cutting drops.
pub(crate) fn line_collapses(pts: &[Pt]) -> bool {
    snap_dedup(pts).len() < 2
}

/// Whether a closed ring snaps to fewer than three grid points: what cutting drops.
pub(crate) fn ring_collapses(pts: &[Pt]) -> bool {
    snap_ring(pts).len() < 3
}

/// Clips a line (simplifying each piece unless it was simplified already) and snaps it.
fn push_line(pts: &[Pt], clip: ClipBox, simplify: bool, parts: &mut Parts) {
    if pts.len() < 2 || clip.misses(pts) {
        return;
    }
    for part in clip_line(pts, clip) {
        let part = if simplify { self::simplify(part) } else { part };
        let snapped = snap_dedup(&part);
        if snapped.len() >= 2 {
            parts.lines.push(snapped);
        }
    }
}

fn push_polygon(polygon: &geo::Polygon, projector: &Projector, clip: ClipBox, parts: &mut Parts) {
    let rings = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|ring| project_all(ring, projector));
    push_rings(rings, clip, true, parts);
}

/// Cuts one polygon given as projected rings, exterior first (simplifying them unless they
/// were simplified already); nothing if its exterior collapses.
fn push_rings(
    mut rings: impl Iterator<Item = Vec<Pt>>,
    clip: ClipBox,
    simplify: bool,
    parts: &mut Parts,
) {
    let Some(exterior) = rings.next() else {
        return;
    };
    if exterior.len() < 4 || clip.misses(&exterior) {
        return;
    }
    let Some(exterior) = tile_ring(&exterior, clip, true, simplify) else {
        return;
    };
    parts.polygons.push(exterior);
    for hole in rings {
        if let Some(ring) = tile_ring(&hole, clip, false, simplify) {
            parts.polygons.push(ring);
        }
    }
}

/// Clips, simplifies and snaps a ring; `None` if it collapses to nothing. The result is
/// open (no closing point: MVT's ClosePath closes it) and wound as MVT 2.1 requires.
fn tile_ring(ring: &[Pt], clip: ClipBox, exterior: bool, simplify: bool) -> Option<Vec<IPt>> {
    let mut clipped = clip_ring(ring, clip);
    if clipped.len() < 3 {
        return None;
    }
    if clipped.first() != clipped.last() {
        clipped.push(clipped[0]);
    }
    let clipped = if simplify {
        self::simplify(clipped)
    } else {
        clipped
    };
    let mut snapped = snap_ring(&clipped);
    remove_spikes(&mut snapped);
    if snapped.len() < 3 {
        return None;
    }
    let area = signed_area2(&snapped);
    if area == 0 {
        return None;
    }
    if (area > 0) != exterior {
        snapped.reverse();
    }
    Some(snapped)
}

/// Drops vertices where the ring doubles back on itself (A, B, A), which snapping creates,
/// until none is left: the ring's walk with its back-and-forth steps cancelled, which is
/// unique up to where the ring starts. Linear: one pass with a stack, then the seam of the
/// cyclic ring (a spike whose tip is the first or the last vertex). The ring has no repeated
/// consecutive vertices (`snap_dedup` saw to that), and gets none.
fn remove_spikes(ring: &mut Vec<IPt>) {
    let mut kept: std::collections::VecDeque<IPt> =
        std::collections::VecDeque::with_capacity(ring.len());
    for &p in ring.iter() {
        if kept.len() >= 2 && kept[kept.len() - 2] == p {
            // A, B, then A again: drop the tip B; A is kept already.
            kept.pop_back();
        } else {
            kept.push_back(p);
        }
    }
    while kept.len() >= 3 {
        let n = kept.len();
        if kept[n - 1] == kept[1] {
            // The first vertex is a tip: it and the step back go.
            kept.pop_front();
            kept.pop_front();
        } else if kept[n - 2] == kept[0] {
            // The last vertex is a tip.
            kept.pop_back();
            kept.pop_front();
        } else {
            break;
        }
    }
    ring.clear();
    ring.extend(kept);
}

/// Twice the signed area by the surveyor's formula, in tile coordinates (y down);
/// positive means an exterior ring for MVT.
pub fn signed_area2(ring: &[IPt]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (x0, y0) = ring[i];
            let (x1, y1) = ring[(i + 1) % n];
            i64::from(x0) * i64::from(y1) - i64::from(x1) * i64::from(y0)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_that_collapses_after_snapping_is_dropped() {
        let clip = ClipBox {
            min: -64.0,
            max: 4160.0,
        };
        let tiny = [(10.1, 10.1), (10.2, 10.1), (10.2, 10.2), (10.1, 10.1)];
        assert_eq!(tile_ring(&tiny, clip, true, true), None);
    }

    #[test]
    fn rings_are_wound_for_mvt() {
        let clip = ClipBox {
            min: -64.0,
            max: 4160.0,
        };
        let square = [
            (0.0, 0.0),
            (0.0, 100.0),
            (100.0, 100.0),
            (100.0, 0.0),
            (0.0, 0.0),
        ];
        let ext = tile_ring(&square, clip, true, true).expect("square survives");
        assert!(signed_area2(&ext) > 0);
        let hole = tile_ring(&square, clip, false, true).expect("square survives");
        assert!(signed_area2(&hole) < 0);
    }

    #[test]
    fn spikes_are_removed() {
        let mut ring = vec![(0, 0), (10, 0), (20, 0), (10, 0), (10, 10)];
        remove_spikes(&mut ring);
        assert_eq!(ring, vec![(0, 0), (10, 0), (10, 10)]);
    }

    /// The obvious algorithm (find a spike, remove it, start again): quadratic or worse,
    /// but plainly right, as the oracle.
    fn remove_spikes_slowly(ring: &mut Vec<IPt>) {
        let mut changed = true;
        while changed && ring.len() >= 3 {
            changed = false;
            let n = ring.len();
            for i in 0..n {
                if ring[(i + n - 1) % n] == ring[(i + 1) % n] {
                    let (a, b) = (i.min((i + 1) % n), i.max((i + 1) % n));
                    ring.remove(b);
                    ring.remove(a);
                    changed = true;
                    break;
                }
            }
        }
    }

    /// The same cyclic sequence whatever vertex it starts at.
    fn canonical(ring: &[IPt]) -> Vec<IPt> {
        (0..ring.len().max(1))
            .map(|k| {
                let mut r = ring.to_vec();
                r.rotate_left(k.min(ring.len()));
                r
            })
            .min()
            .unwrap_or_default()
    }

    fn has_spike(ring: &[IPt]) -> bool {
        let n = ring.len();
        n >= 3 && (0..n).any(|i| ring[(i + n - 1) % n] == ring[(i + 1) % n])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Few distinct vertices, so spikes (and spikes inside spikes, across the seam) are common.
        #[test]
        fn spike_removal_matches_the_obvious_algorithm(
            walk in proptest::collection::vec((0i32..4, 0i32..3), 0..40)
        ) {
            // As snapping leaves rings: no vertex repeated next to itself, around the ring.
            let mut ring = walk;
            ring.dedup();
            while ring.len() > 1 && ring.first() == ring.last() {
                ring.pop();
            }
            let mut fast = ring.clone();
            remove_spikes(&mut fast);
            let mut slow = ring.clone();
            remove_spikes_slowly(&mut slow);
            proptest::prop_assert!(!has_spike(&fast), "{:?} left a spike: {:?}", ring, fast);
            let n = fast.len();
            proptest::prop_assert!(n < 2 || (0..n).all(|i| fast[i] != fast[(i + 1) % n]));
            // Fewer than three vertices is no ring (dropped), whichever two are left.
            if fast.len() >= 3 || slow.len() >= 3 {
                proptest::prop_assert_eq!(canonical(&fast), canonical(&slow));
            }
        }
    }

    #[test]
    fn deeply_nested_spikes_collapse() {
        // Out along y = 1 and back again: 100,000 spikes, each inside the last, which the
        // restart-after-each-removal algorithm took quadratic time over.
        // The whole ring retraces itself, so nothing but its first vertex is left.
        let mut ring: Vec<IPt> = (0..100_000).map(|i| (i, 0)).collect();
        ring.extend((1..100_000).rev().map(|i| (i, 1)));
        ring.extend((2..100_000).map(|i| (i, 1)));
        ring.extend((0..100_000).rev().map(|i| (i, 0)));
        remove_spikes(&mut ring);
        assert_eq!(ring, vec![(0, 0)]);
    }
}
