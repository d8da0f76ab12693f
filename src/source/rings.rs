//! Rings to polygons, for formats that store a polygon as a bag of rings (Shapefile).
//!
//! Exteriors are wound clockwise and holes anticlockwise; a hole belongs to the smallest
//! exterior that contains it. "Contains" is decided as GDAL decides it: by the hole's first
//! vertex that is not on the exterior's boundary, so a hole touching its exterior at its
//! first vertex is still a hole. Exteriors are found through an R-tree of their bounding
//! boxes, and a large exterior answers point tests through an R-tree of its segments, so
//! 100,000 holes in one exterior take O(n log n), not O(n²).

use std::cell::OnceCell;

use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use rstar::primitives::{GeomWithData, Line, Rectangle};
use rstar::{AABB, RTree};

/// Rings with more vertices than this get a segment index for their point tests.
const INDEXED_RING: usize = 64;

/// Groups rings into polygons: clockwise rings are exteriors, anticlockwise ones holes of
/// the smallest exterior that contains them (a hole no exterior contains becomes an
/// exterior, as in GDAL). One polygon is a Polygon, several a MultiPolygon.
///
/// ```
/// use geo::{Geometry, coord};
/// use amis_webgis::source::organise_rings;
/// let square = |x0: f64, y0: f64, s: f64, clockwise: bool| {
///     let mut r = vec![
///         coord! { x: x0, y: y0 },
///         coord! { x: x0 + s, y: y0 },
///         coord! { x: x0 + s, y: y0 + s },
///         coord! { x: x0, y: y0 + s },
///         coord! { x: x0, y: y0 },
///     ];
///     if clockwise {
///         r.reverse();
///     }
///     r
/// };
/// // A hole whose first vertex lies on its exterior's corner is still a hole.
/// let g = organise_rings(vec![square(0.0, 0.0, 10.0, true), square(0.0, 0.0, 2.0, false)]);
/// assert!(matches!(&g, Geometry::Polygon(p) if p.interiors().len() == 1));
/// ```
pub fn organise_rings(rings: Vec<Vec<Coord>>) -> Geometry {
    let (mut outers, mut holes): (Vec<Vec<Coord>>, Vec<Vec<Coord>>) =
        rings.into_iter().partition(|r| signed_area2(r) <= 0.0);
    if outers.is_empty() {
        // Every ring wound the wrong way: take them all as exteriors.
        outers = std::mem::take(&mut holes);
    }
    let exteriors: Vec<Exterior> = outers.into_iter().map(Exterior::new).collect();
    let tree = RTree::bulk_load(
        exteriors
            .iter()
            .enumerate()
            .map(|(i, e)| GeomWithData::new(Rectangle::from_aabb(e.bbox), i))
            .collect(),
    );
    let mut interiors: Vec<Vec<LineString>> = vec![Vec::new(); exteriors.len()];
    let mut islands: Vec<Polygon> = Vec::new();
    let mut candidates: Vec<usize> = Vec::new();
    for hole in holes {
        let bbox = bbox_of(&hole);
        candidates.clear();
        candidates.extend(
            tree.locate_in_envelope_intersecting(&bbox)
                .map(|c| c.data)
                .filter(|&i| rstar::Envelope::contains_envelope(&exteriors[i].bbox, &bbox)),
        );
        candidates.sort_by(|&a, &b| exteriors[a].area.total_cmp(&exteriors[b].area));
        match candidates
            .iter()
            .find(|&&i| exteriors[i].contains_ring(&hole))
        {
            Some(&i) => interiors[i].push(LineString::new(hole)),
            None => islands.push(Polygon::new(LineString::new(hole), Vec::new())),
        }
    }
    let mut polygons: Vec<Polygon> = exteriors
        .into_iter()
        .zip(interiors)
        .map(|(e, holes)| Polygon::new(LineString::new(e.ring), holes))
        .collect();
    polygons.extend(islands);
    if polygons.len() == 1 {
        Geometry::Polygon(polygons.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon::new(polygons))
    }
}

/// Twice the signed area (shoelace): negative for a clockwise ring.
fn signed_area2(ring: &[Coord]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

fn bbox_of(ring: &[Coord]) -> AABB<[f64; 2]> {
    AABB::from_points(ring.iter().map(|c| [c.x, c.y]).collect::<Vec<_>>().iter())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Inside,
    OnBoundary,
    Outside,
}

type Segment = GeomWithData<Line<[f64; 2]>, ()>;

struct Exterior {
    ring: Vec<Coord>,
    bbox: AABB<[f64; 2]>,
    area: f64,
    /// Built on the first point test of a large ring.
    segments: OnceCell<RTree<Segment>>,
}

impl Exterior {
    fn new(ring: Vec<Coord>) -> Exterior {
        Exterior {
            bbox: bbox_of(&ring),
            area: signed_area2(&ring).abs(),
            ring,
            segments: OnceCell::new(),
        }
    }

    /// Whether `hole` lies inside: decided by its first vertex off the boundary, else by the
    /// middle of its first edge; a hole that runs along the boundary throughout is inside.
    fn contains_ring(&self, hole: &[Coord]) -> bool {
        let probes = hole.iter().copied().chain(
            hole.windows(2)
                .map(|w| Coord {
                    x: (w[0].x + w[1].x) / 2.0,
                    y: (w[0].y + w[1].y) / 2.0,
                })
                .take(1),
        );
        for probe in probes {
            match self.position(probe) {
                Position::Inside => return true,
                Position::Outside => return false,
                Position::OnBoundary => {}
            }
        }
        true
    }

    /// Where `p` lies, by the crossing number of a ray from `p` towards +x.
    fn position(&self, p: Coord) -> Position {
        let mut inside = false;
        let mut visit = |a: Coord, b: Coord| -> bool {
            if on_segment(p, a, b) {
                return true;
            }
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
                if p.x < x {
                    inside = !inside;
                }
            }
            false
        };
        let on_boundary = if self.ring.len() > INDEXED_RING {
            let segments = self.segments.get_or_init(|| {
                RTree::bulk_load(
                    self.ring
                        .windows(2)
                        .map(|w| {
                            GeomWithData::new(Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]), ())
                        })
                        .collect(),
                )
            });
            let ray = AABB::from_corners([p.x, p.y], [self.bbox.upper()[0].max(p.x), p.y]);
            segments.locate_in_envelope_intersecting(&ray).any(|s| {
                let (a, b) = (s.geom().from, s.geom().to);
                visit(Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] })
            })
        } else {
            self.ring.windows(2).any(|w| visit(w[0], w[1]))
        };
        if on_boundary {
            Position::OnBoundary
        } else if inside {
            Position::Inside
        } else {
            Position::Outside
        }
    }
}

/// Whether `p` lies on the segment `a`–`b` (exactly: vertices are shared by copy).
fn on_segment(p: Coord, a: Coord, b: Coord) -> bool {
    let cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
    cross == 0.0
        && p.x >= a.x.min(b.x)
        && p.x <= a.x.max(b.x)
        && p.y >= a.y.min(b.y)
        && p.y <= a.y.max(b.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn square(x0: f64, y0: f64, s: f64, clockwise: bool) -> Vec<Coord> {
        let mut r = vec![
            Coord { x: x0, y: y0 },
            Coord { x: x0 + s, y: y0 },
            Coord {
                x: x0 + s,
                y: y0 + s,
            },
            Coord { x: x0, y: y0 + s },
            Coord { x: x0, y: y0 },
        ];
        if clockwise {
            r.reverse();
        }
        r
    }

    #[test]
    fn rings_group_into_polygons_with_holes() {
        let g = organise_rings(vec![
            square(0.0, 0.0, 10.0, true),
            square(2.0, 2.0, 2.0, false),
        ]);
        assert!(matches!(&g, Geometry::Polygon(p) if p.interiors().len() == 1));
        let g = organise_rings(vec![
            square(0.0, 0.0, 1.0, true),
            square(5.0, 5.0, 1.0, true),
        ]);
        assert!(matches!(&g, Geometry::MultiPolygon(mp) if mp.0.len() == 2));
    }

    #[test]
    fn holes_go_to_the_smallest_exterior_that_holds_them() {
        // A big square, an island inside its hole, and a hole in the island.
        let g = organise_rings(vec![
            square(0.0, 0.0, 100.0, true),
            square(10.0, 10.0, 80.0, false),
            square(20.0, 20.0, 60.0, true),
            square(30.0, 30.0, 10.0, false),
            // A hole outside everything becomes its own polygon.
            square(500.0, 500.0, 1.0, false),
        ]);
        let Geometry::MultiPolygon(mp) = g else {
            panic!("expected a MultiPolygon");
        };
        assert_eq!(mp.0.len(), 3);
        assert_eq!(mp.0[0].interiors().len(), 1);
        assert_eq!(mp.0[1].interiors().len(), 1);
        assert_eq!(mp.0[1].interiors()[0].0[0], Coord { x: 30.0, y: 30.0 });
        assert!(mp.0[2].interiors().is_empty());
    }

    #[test]
    fn a_hole_touching_its_exterior_is_a_hole() {
        // The hole's first vertex is on the exterior's edge (not a corner).
        let mut hole = square(0.0, 4.0, 2.0, false);
        hole.rotate_left(3);
        hole[4] = hole[0];
        let g = organise_rings(vec![square(0.0, 0.0, 10.0, true), hole]);
        assert!(
            matches!(&g, Geometry::Polygon(p) if p.interiors().len() == 1),
            "{g:?}"
        );
    }

    proptest! {
        /// The indexed point test agrees with geo's own on a large ring.
        #[test]
        fn indexed_positions_agree_with_geo(
            radii in prop::collection::vec(1.0f64..10.0, 65..200),
            px in -12.0f64..12.0,
            py in -12.0f64..12.0,
        ) {
            use geo::{CoordinatePosition, coordinate_position::CoordPos};
            let n = radii.len();
            let mut ring: Vec<Coord> = radii
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let a = -(i as f64) / n as f64 * std::f64::consts::TAU;
                    Coord { x: r * a.cos(), y: r * a.sin() }
                })
                .collect();
            ring.push(ring[0]);
            let exterior = Exterior::new(ring.clone());
            let polygon = Polygon::new(LineString::new(ring), Vec::new());
            let p = Coord { x: px, y: py };
            let expected = match polygon.coordinate_position(&p) {
                CoordPos::Inside => Position::Inside,
                CoordPos::OnBoundary => Position::OnBoundary,
                CoordPos::Outside => Position::Outside,
            };
            prop_assert_eq!(exterior.position(p), expected);
        }
    }
}
