//! Cutting a layer into one tile: select by index, project, clip, simplify, snap to the
//! integer grid, and drop what collapses, so the encoder only ever sees valid MVT geometry.

use geo::{Geometry, LineString, Simplify};

use super::clip::{ClipBox, Pt, clip_line, clip_ring};
use super::{BUFFER, EXTENT, Projector, TileId};
use crate::catalog::Layer;
use crate::feature::Value;

/// Douglas–Peucker tolerance in tile units (1/16 of a pixel on a 256 px tile): removes
/// detail no screen can show without visibly moving any edge.
const SIMPLIFY_TOLERANCE: f64 = 1.0;
/// Above this many points in one tile, points are thinned on a grid (see [`thin_points`]).
pub const MAX_POINTS_PER_TILE: usize = 4096;
/// Grid cell for thinning, in tile units (4 px on a 256 px tile). A power of two that
/// divides [`EXTENT`], so cells line up across neighbouring tiles.
const THIN_CELL: i32 = 64;

pub type IPt = (i32, i32);

#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    Points(Vec<IPt>),
    Lines(Vec<Vec<IPt>>),
    /// Rings without the closing point; each exterior (positive area in tile
    /// coordinates, as MVT 2.1 defines it) is followed by its holes (negative area).
    Polygons(Vec<Vec<IPt>>),
}

#[derive(Debug)]
pub struct TileFeature<'a> {
    pub id: u64,
    pub geometry: TileGeometry,
    pub properties: &'a [Value],
    /// How many source points this feature stands for, when thinning merged several.
    pub point_count: Option<u64>,
}

/// One layer's share of a tile, before encoding.
pub struct TileLayer<'a> {
    pub layer: &'a Layer,
    pub features: Vec<TileFeature<'a>>,
}

/// Cuts `layer` for `tile`. Deterministic: the same data always gives the same features
/// in the same order.
pub fn cut_layer(layer: &Layer, tile: TileId) -> TileLayer<'_> {
    let projector = tile.projector();
    let clip = ClipBox {
        min: -f64::from(BUFFER),
        max: f64::from(EXTENT + BUFFER),
    };
    let mut features = Vec::new();
    let mut single_points: Vec<(usize, IPt)> = Vec::new();

    for pos in layer.index.query(&tile.query_bbox()) {
        let feature = &layer.features[pos as usize];
        let mut parts = Parts::default();
        collect(&feature.geometry, &projector, clip, &mut parts);
        if let (Geometry::Point(_), [p]) = (&feature.geometry, parts.points.as_slice()) {
            single_points.push((pos as usize, *p));
            continue;
        }
        for geometry in parts.into_geometries() {
            features.push(TileFeature {
                id: feature.id,
                geometry,
                properties: &feature.properties,
                point_count: None,
            });
        }
    }

    // Thinned tiles tag every point with `point_count`, so styles can size clusters.
    let thinned = single_points.len() > MAX_POINTS_PER_TILE;
    let points = if thinned {
        thin_points(single_points)
    } else {
        single_points
            .into_iter()
            .map(|(pos, p)| (pos, p, 1))
            .collect()
    };
    features.extend(
        points
            .into_iter()
            .map(|(pos, p, n)| point_feature(layer, pos, p, thinned.then_some(n))),
    );
    features.sort_by_key(|f| f.id);
    TileLayer { layer, features }
}

fn point_feature(layer: &Layer, pos: usize, p: IPt, count: Option<u64>) -> TileFeature<'_> {
    let feature = &layer.features[pos];
    TileFeature {
        id: feature.id,
        geometry: TileGeometry::Points(vec![p]),
        properties: &feature.properties,
        point_count: count,
    }
}

/// Keeps one point per grid cell: the one that comes first in the layer, so the choice
/// does not depend on query order. Returns `(position, point, points merged)`.
fn thin_points(points: Vec<(usize, IPt)>) -> Vec<(usize, IPt, u64)> {
    let mut cells: std::collections::HashMap<IPt, (usize, IPt, u64)> =
        std::collections::HashMap::with_capacity(MAX_POINTS_PER_TILE);
    for (pos, p) in points {
        let key = (p.0.div_euclid(THIN_CELL), p.1.div_euclid(THIN_CELL));
        let cell = cells.entry(key).or_insert((pos, p, 0));
        if pos < cell.0 {
            (cell.0, cell.1) = (pos, p);
        }
        cell.2 += 1;
    }
    let mut kept: Vec<(usize, IPt, u64)> = cells.into_values().collect();
    kept.sort_unstable();
    kept
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
            out.push(TileGeometry::Points(self.points));
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
        Geometry::Point(p) => push_point(projector.project(p.x(), p.y()), clip, parts),
        Geometry::MultiPoint(mp) => {
            for p in mp {
                push_point(projector.project(p.x(), p.y()), clip, parts);
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
            parts,
        ),
        Geometry::LineString(ls) => push_line(&project_all(ls, projector), clip, parts),
        Geometry::MultiLineString(mls) => {
            for ls in mls {
                push_line(&project_all(ls, projector), clip, parts);
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

fn push_point(p: Pt, clip: ClipBox, parts: &mut Parts) {
    if clip.contains_all(&[p]) {
        parts.points.push(snap(p));
    }
}

fn snap(p: Pt) -> IPt {
    (p.0.round() as i32, p.1.round() as i32)
}

fn simplify(pts: Vec<Pt>) -> Vec<Pt> {
    if pts.len() <= 2 {
        return pts;
    }
    LineString::from(pts)
        .simplify(SIMPLIFY_TOLERANCE)
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

fn push_line(pts: &[Pt], clip: ClipBox, parts: &mut Parts) {
    if pts.len() < 2 || clip.misses(pts) {
        return;
    }
    for part in clip_line(pts, clip) {
        let snapped = snap_dedup(&simplify(part));
        if snapped.len() >= 2 {
            parts.lines.push(snapped);
        }
    }
}

fn push_polygon(polygon: &geo::Polygon, projector: &Projector, clip: ClipBox, parts: &mut Parts) {
    let exterior = project_all(polygon.exterior(), projector);
    if exterior.len() < 4 || clip.misses(&exterior) {
        return;
    }
    let Some(exterior) = tile_ring(&exterior, clip, true) else {
        return;
    };
    parts.polygons.push(exterior);
    for hole in polygon.interiors() {
        let hole = project_all(hole, projector);
        if let Some(ring) = tile_ring(&hole, clip, false) {
            parts.polygons.push(ring);
        }
    }
}

/// Clips, simplifies and snaps a ring; `None` if it collapses to nothing. The result is
/// open (no closing point: MVT's ClosePath closes it) and wound as MVT 2.1 requires.
fn tile_ring(ring: &[Pt], clip: ClipBox, exterior: bool) -> Option<Vec<IPt>> {
    let mut clipped = clip_ring(ring, clip);
    if clipped.len() < 3 {
        return None;
    }
    if clipped.first() != clipped.last() {
        clipped.push(clipped[0]);
    }
    let mut snapped = snap_dedup(&simplify(clipped));
    if snapped.len() > 1 && snapped.first() == snapped.last() {
        snapped.pop();
    }
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

/// Drops vertices where the ring doubles back on itself (A, B, A), which snapping creates.
fn remove_spikes(ring: &mut Vec<IPt>) {
    let mut changed = true;
    while changed && ring.len() >= 3 {
        changed = false;
        let n = ring.len();
        for i in 0..n {
            let prev = ring[(i + n - 1) % n];
            let next = ring[(i + 1) % n];
            if prev == next {
                // Remove the spike tip and one copy of the repeated neighbour.
                let (a, b) = (i.min((i + 1) % n), i.max((i + 1) % n));
                ring.remove(b);
                ring.remove(a);
                changed = true;
                break;
            }
        }
    }
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
        assert_eq!(tile_ring(&tiny, clip, true), None);
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
        let ext = tile_ring(&square, clip, true).expect("square survives");
        assert!(signed_area2(&ext) > 0);
        let hole = tile_ring(&square, clip, false).expect("square survives");
        assert!(signed_area2(&hole) < 0);
    }

    #[test]
    fn spikes_are_removed() {
        let mut ring = vec![(0, 0), (10, 0), (20, 0), (10, 0), (10, 10)];
        remove_spikes(&mut ring);
        assert!(!ring.windows(3).any(|w| w[0] == w[2]));
    }
}
